/**
 * DoH (RFC 8484): a local HTTP endpoint that forwards each POSTed
 * application/dns-message to `dnssd serve` over UDP, and `dnssd resolve --doh`.
 */
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import http from 'node:http'
import {after, before, describe, it} from 'node:test'
import {runCli, tempDir} from '../helpers/cli.js'
import {type Running, joinMany, startServe} from '../helpers/dns.js'

function forward(port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4')
    const t = setTimeout(() => (s.close(), reject(new Error('no answer from serve'))), 10_000)
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m)))
    s.send(query, port, '127.0.0.1')
  })
}

describe('dnssd resolve --doh', () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let serve: Running
  let server: http.Server
  let url: string
  const seen: {method: string; type: string; id: number}[] = []

  before(async () => {
    dir = await tempDir()
    await joinMany(dir.path, [11, 12].map((i) => ({service: '_web._tcp', ip: `127.0.0.${i}`, extra: ['--txt', 'path=/']})))
    serve = await startServe(dir.path)
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', async () => {
        const body = Buffer.concat(chunks)
        seen.push({method: req.method ?? '', type: req.headers['content-type'] ?? '', id: body.length >= 2 ? body.readUInt16BE(0) : -1})
        if (req.method !== 'POST' || req.headers['content-type'] !== 'application/dns-message') {
          res.writeHead(415).end()
          return
        }
        if (req.url === '/broken') {
          res.writeHead(200, {'content-type': 'text/html'}).end('<html>')
          return
        }
        const answer = await forward(serve.port, body)
        res.writeHead(200, {'content-type': 'application/dns-message', 'content-length': answer.length}).end(answer)
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as {port: number}).port}/dns-query`
  })

  after(async () => {
    server?.close()
    await serve?.stop()
    await dir?.cleanup()
  })

  it('browses over DoH in one round trip (PTR and SRV at the name in parallel), POSTing application/dns-message with id 0', async () => {
    seen.length = 0
    const r = await runCli(['resolve', '_web._tcp.example.com', '--doh', url, '--json'])
    assert.equal(r.exitCode, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.deepEqual(out.transport, ['doh'])
    assert.equal(out.order.length, 2)
    assert.deepEqual(out.instances[0].txt.attributes, {path: '/'})
    assert.equal(out.rounds, 1)
    assert.deepEqual(seen, [0, 1].map(() => ({method: 'POST', type: 'application/dns-message', id: 0})))
  })

  it('a DoH endpoint that does not speak DNS: exit 4, not a crash', async () => {
    const r = await runCli(['resolve', '_web._tcp.example.com', '--doh', url.replace('/dns-query', '/broken'), '--retries', '0'])
    assert.equal(r.exitCode, 4, r.stderr)
    assert.match(r.stderr, /application\/dns-message/)
  })
})
