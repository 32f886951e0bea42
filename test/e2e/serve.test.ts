/**
 * `dnssd serve` queried by a real client, `dig`, on zones populated through
 * the built CLI (`dnssd join`).
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {spawn} from 'node:child_process'
import {BIN, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {type Running, dig, digFlags, digSection, digStatus, joinMany, startServe} from '../helpers/dns.js'
import {fetchCookie} from '../helpers/serve.js'
import {requireTool} from '../helpers/tools.js'
import {waitFor} from '../helpers/wait.js'

const skip = requireTool('dig')

describe('dnssd serve answers dig', {skip}, () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let serve: Running

  before(async () => {
    dir = await tempDir()
    await joinMany(dir.path, [
      ...[11, 12, 13].map((i) => ({service: '_web._tcp', ip: `127.0.0.${i}`, extra: ['--txt', 'path=/', '--txt', 'txtvers=1']})),
      ...[21, 22].map((i) => ({service: '_v1._api._tcp', ip: `127.0.0.${i}`, port: 9000})),
      ...Array.from({length: 30}, (_, i) => ({service: '_big._tcp', ip: `127.0.1.${i + 1}`, port: 7000})),
    ])
    serve = await startServe(dir.path)
  })

  after(async () => {
    await serve?.stop()
    await dir?.cleanup()
  })

  it('SRV: authoritative, with the targets addresses in the additional section', () => {
    const out = dig(serve.port, ['_v1._api._tcp.example.com', 'SRV'])
    assert.equal(digStatus(out), 'NOERROR')
    assert.ok(digFlags(out).includes('aa'), out)
    const answers = digSection(out, 'ANSWER')
    assert.deepEqual(answers.sort(), [
      '_v1._api._tcp.example.com. 60 IN SRV 0 0 9000 127-0-0-21.example.com.',
      '_v1._api._tcp.example.com. 60 IN SRV 0 0 9000 127-0-0-22.example.com.',
    ])
    const additional = digSection(out, 'ADDITIONAL')
    assert.ok(additional.includes('127-0-0-21.example.com. 60 IN A 127.0.0.21'), out)
    assert.ok(additional.includes('127-0-0-22.example.com. 60 IN A 127.0.0.22'), out)
  })

  it('PTR browse: instances, plus their SRV, TXT and addresses (RFC 6763 §12)', () => {
    const out = dig(serve.port, ['_web._tcp.example.com', 'PTR'])
    assert.equal(digStatus(out), 'NOERROR')
    assert.equal(digSection(out, 'ANSWER').length, 3)
    const additional = digSection(out, 'ADDITIONAL')
    for (const i of [11, 12, 13]) {
      assert.ok(additional.includes(`127-0-0-${i}._web._tcp.example.com. 60 IN SRV 0 0 8080 127-0-0-${i}.example.com.`), out)
      assert.ok(additional.includes(`127-0-0-${i}._web._tcp.example.com. 60 IN TXT "path=/" "txtvers=1"`), out)
      assert.ok(additional.includes(`127-0-0-${i}.example.com. 60 IN A 127.0.0.${i}`), out)
    }
  })

  it('answers over TCP (+tcp) and echoes the question case as sent', () => {
    const out = dig(serve.port, ['+tcp', '_WEB._tcp.Example.COM', 'PTR'])
    assert.match(out, /\(TCP\)/)
    assert.equal(digStatus(out), 'NOERROR')
    assert.match(out, /;_WEB\._tcp\.Example\.COM\.\s+IN\s+PTR/)
    assert.equal(digSection(out, 'ANSWER').length, 3)
  })

  it('SOA and NS at the apex', () => {
    assert.match(digSection(dig(serve.port, ['example.com', 'SOA']), 'ANSWER')[0] ?? '', /^example\.com\. 3600 IN SOA localhost\. hostmaster\.example\.com\. \d+ /)
    assert.deepEqual(digSection(dig(serve.port, ['example.com', 'NS']), 'ANSWER'), ['example.com. 3600 IN NS localhost.'])
  })

  it('NXDOMAIN with the SOA in the authority section', () => {
    const out = dig(serve.port, ['nothing-here.example.com', 'A'])
    assert.equal(digStatus(out), 'NXDOMAIN')
    assert.ok(digFlags(out).includes('aa'))
    assert.match(digSection(out, 'AUTHORITY')[0] ?? '', /^example\.com\. 60 IN SOA /)
  })

  it('NODATA (and empty non-terminals) with the SOA in the authority section', () => {
    for (const [name, type] of [['127-0-0-11.example.com', 'AAAA'], ['_tcp.example.com', 'A'], ['_dnssd.127-0-0-11.example.com', 'SRV']]) {
      const out = dig(serve.port, [name!, type!])
      assert.equal(digStatus(out), 'NOERROR', `${name} ${type}`)
      assert.equal(digSection(out, 'ANSWER').length, 0)
      assert.match(digSection(out, 'AUTHORITY')[0] ?? '', /^example\.com\. 60 IN SOA /)
    }
  })

  it('serves the marker TXT records at _dnssd.<host> like any TXT', () => {
    const out = dig(serve.port, ['_dnssd.127-0-0-21.example.com', 'TXT'])
    assert.equal(digStatus(out), 'NOERROR')
    assert.ok(digSection(out, 'ANSWER').length >= 1)
  })

  it('REFUSED outside its zones, without AA', () => {
    const out = dig(serve.port, ['www.example.org', 'A'])
    assert.equal(digStatus(out), 'REFUSED')
    assert.ok(!digFlags(out).includes('aa'))
  })

  it('an answer too big for UDP comes back TC, then whole over TCP', () => {
    const udp = dig(serve.port, ['+noedns', '+ignore', '_big._tcp.example.com', 'PTR'])
    assert.ok(digFlags(udp).includes('tc'), udp)
    assert.equal(digSection(udp, 'ANSWER').length, 0, 'no partial RRset')
    const tcp = dig(serve.port, ['+tcp', '_big._tcp.example.com', 'PTR'])
    assert.equal(digSection(tcp, 'ANSWER').length, 30)
    // dig's default: UDP, falls back to TCP by itself on TC.
    const auto = dig(serve.port, ['+noedns', '_big._tcp.example.com', 'PTR'])
    assert.equal(digSection(auto, 'ANSWER').length, 30)
  })

  it('a 30-instance PTR fits the 1232-byte EDNS buffer thanks to name compression', () => {
    // With a valid server cookie: without one, UDP answers stop at 512 bytes (serve-limits.test.ts).
    const out = dig(serve.port, [`+cookie=${fetchCookie(serve.port)}`, '+ignore', '_big._tcp.example.com', 'PTR'])
    assert.ok(!digFlags(out).includes('tc'))
    assert.equal(digSection(out, 'ANSWER').length, 30)
    const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1])
    assert.ok(size <= 1232, `${size} bytes`)
  })

  it('picks up a join without a restart', async () => {
    const joined = await runCli(['join', '--data-dir', dir.path, '--zone', 'example.com', '--service', '_web._tcp', '--ip', '127.0.0.14', '--port', '8080'])
    assert.equal(joined.exitCode, 0, joined.stderr)
    // It checks the zone files every second; how soon it answers on a loaded machine is not asserted.
    await waitFor(() => digSection(dig(serve.port, ['_web._tcp.example.com', 'PTR']), 'ANSWER').some((l) => l.includes('127-0-0-14')), 'the new instance in the PTR answer')
  })

  it('stops cleanly on SIGINT and on SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dir.path, '--port', '0'], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(out)), 10_000)
        child.stdout.on('data', () => out.includes('listening') && (clearTimeout(t), resolve()))
      })
      const code = await new Promise<number | null>((resolve) => {
        child.once('exit', (c) => resolve(c))
        child.kill(signal)
      })
      assert.equal(code, 0, `${signal}: ${out}`)
      assert.match(out, /stopped after/)
    }
  })

  it('listens on IPv6 loopback; resolve reaches it as --server [::1]:PORT', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dir.path, '--port', '0', '--address', '::1'], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    try {
      let out = ''
      const port = await new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(out)), 10_000)
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          const m = /listening on \[::1\]:(\d+)/.exec(out)
          if (m) (clearTimeout(t), resolve(Number(m[1])))
        })
      })
      const r = await runCli(['resolve', '_v1._api._tcp.example.com', '--all', '--server', `[::1]:${port}`])
      assert.equal(r.exitCode, 0, r.stderr)
      assert.deepEqual(r.stdout.trim().split('\n').sort(), ['127-0-0-21.example.com:9000', '127-0-0-22.example.com:9000'])
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('--workers 2: both processes answer on one port, reload, and stop on SIGTERM', async () => {
    const workers = await startServe(dir.path, ['--workers', '2'])
    try {
      assert.match(workers.output(), /\(2 workers\)/)
      for (let i = 0; i < 20; i++) {
        const out = dig(workers.port, [i % 2 ? '+tcp' : '+notcp', '_v1._api._tcp.example.com', 'SRV'])
        assert.equal(digSection(out, 'ANSWER').length, 2, out)
      }
      const joined = await runCli(['join', '--data-dir', dir.path, '--zone', 'example.com', '--service', '_v1._api._tcp', '--ip', '127.0.0.23', '--port', '9000'])
      assert.equal(joined.exitCode, 0, joined.stderr)
      const answers = (): number => digSection(dig(workers.port, ['_v1._api._tcp.example.com', 'SRV']), 'ANSWER').length
      await waitFor(() => Array.from({length: 10}, answers).every((n) => n === 3), 'ten answers in a row with the new member')
      for (let i = 0; i < 10; i++) assert.equal(digSection(dig(workers.port, ['_v1._api._tcp.example.com', 'SRV']), 'ANSWER').length, 3, 'every worker reloaded')
    } finally {
      const code = await workers.stop()
      assert.equal(code, 0, workers.output())
      assert.match(workers.output(), /stopped after (\d+) queries/)
      assert.ok(Number(/stopped after (\d+)/.exec(workers.output())![1]) >= 30)
    }
  })

  it('rejects a bad --port and --address with exit 2', async () => {
    const r = await runCli(['serve', '--data-dir', dir.path, '--port', 'http'])
    assert.equal(r.exitCode, 2)
    assert.match(r.stderr, /--port/)
    const a = await runCli(['serve', '--data-dir', dir.path, '--address', 'localhost.example'])
    assert.equal(a.exitCode, 2)
    assert.match(a.stderr, /--address/)
  })
})
