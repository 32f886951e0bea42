/**
 * `dnssd resolve` against a real BIND `named` started here on a loopback
 * ephemeral port with a generated named.conf. The zone comes from
 * `dnssd join` (through the built CLI) plus generated bulk records.
 */
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import dnsPacket from 'dns-packet'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import net from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {FrameReader} from '../../src/dns/tcp.js'
import {encodeQuery} from '../../src/dns/wire.js'
import {freePort} from '../../src/dns/workers.js'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {type Running, joinMany, startNamed, startServe} from '../helpers/dns.js'
import {tcpExchange} from '../helpers/serve.js'
import {requireTool} from '../helpers/tools.js'

const skip = requireTool('named') ?? requireTool('dig')

const calls = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes(': call '))

describe('dnssd resolve against BIND named', {skip}, () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let named: Running
  let listener: net.Server
  let livePort: number
  let silent: dgram.Socket
  let silentPort: number

  before(async () => {
    dir = await tempDir()
    // Only 127.0.0.23 accepts connections on the pool's port (for --check tcp).
    listener = net.createServer((s) => s.destroy())
    await new Promise<void>((r) => listener.listen(0, '127.0.0.23', r))
    livePort = (listener.address() as net.AddressInfo).port
    // A server that never answers (timeouts, fail-over).
    silent = dgram.createSocket('udp4')
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r))
    silentPort = silent.address().port

    const data = join(dir.path, 'data')
    await joinMany(data, [
      ...[21, 22, 23].map((i) => ({service: '_v1._api._tcp', ip: `127.0.0.${i}`, port: livePort, extra: ['--priority', i === 23 ? '1' : '0', '--weight', '50']})),
      ...[11, 12, 13].map((i) => ({service: '_web._tcp', ip: `127.0.0.${i}`, extra: ['--txt', 'path=/x', '--txt', 'secure']})),
    ])
    let zone = await readFile(join(data, 'example.com.zone'), 'utf8')
    // 300 targets in one SRV set: too big for UDP, BIND sets TC.
    for (let i = 0; i < 300; i++) {
      zone += `_v1._huge._tcp.example.com. 60 IN SRV 0 1 7000 h${i}.example.com.\nh${i}.example.com. 60 IN A 127.0.2.${i % 250}\n`
    }
    // A plain RFC 2782 name: the SRV set at _ldap._tcp itself, no PTR.
    zone += '_ldap._tcp.example.com. 60 IN SRV 0 0 389 ldap1.example.com.\nldap1.example.com. 60 IN A 127.0.0.31\n'
    // 40 targets: BIND sends no addresses with this SRV answer.
    for (let i = 0; i < 40; i++) zone += `_v1._big._tcp.example.com. 60 IN SRV 0 1 7100 b${i}.example.com.\nb${i}.example.com. 60 IN A 127.0.3.${i + 1}\n`
    zone += '_v1._gone._tcp.example.com. 60 IN SRV 0 0 0 .\n'
    zone += '_v1._nohost._tcp.example.com. 60 IN SRV 0 0 80 missing.example.com.\n'
    named = await startNamed(dir.path, {'example.com': zone, 'broken.test': 'this is not a zone file\n'})
  })

  after(async () => {
    await named?.stop()
    listener?.close()
    silent?.close()
    await dir?.cleanup()
  })

  const resolve = (args: string[]) => runCli(['resolve', ...args, '--server', `127.0.0.1:${named.port}`])

  it('instance name: the SRV set, then the addresses of the first target in RFC 2782 order only', async () => {
    const r = await resolve(['_v1._api._tcp.example.com', '-v'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout.trim(), /^127-0-0-2[12]\.example\.com:\d+$/, 'priority 0 targets come first')
    const target = r.stdout.trim().split(':')[0]
    assert.deepEqual(
      calls(r.stderr).map((l) => l.split(' ').slice(4, 6).join(' ')),
      ['_v1._api._tcp.example.com SRV', `${target} A`, `${target} AAAA`],
      r.stderr,
    )
    const j = await resolve(['_v1._api._tcp.example.com', '--json'])
    const out = JSON.parse(j.stdout)
    assert.equal(out.rounds, 2, 'SRV, then the addresses of every target in parallel')
    assert.deepEqual(out.transport, ['udp/tcp'])
    assert.deepEqual(out.order.map((e: {priority: number}) => e.priority), [0, 0, 1])
    assert.equal(out.order[2].target, '127-0-0-23.example.com')
  })

  it('browse: PTR, then SRV and TXT of every instance in parallel; TXT read per RFC 6763 §6', async () => {
    const r = await resolve(['_web._tcp.example.com', '--json', '-v'])
    assert.equal(r.exitCode, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.kind, 'browse')
    assert.equal(out.instances.length, 3)
    for (const i of out.instances) assert.deepEqual(i.txt.attributes, {path: '/x', secure: true})
    assert.equal(out.order.length, 3)
    assert.equal(out.rounds, 3, 'PTR and SRV at the name; SRV and TXT of each instance; the addresses of each target')
    assert.equal(calls(r.stderr).length, 2 + 3 + 3 + 3 * 2, r.stderr)
    const all = await resolve(['_web._tcp.example.com', '--all'])
    assert.deepEqual(all.stdout.trim().split('\n').sort(), ['127-0-0-11.example.com:8080', '127-0-0-12.example.com:8080', '127-0-0-13.example.com:8080'])
  })

  it('a plain RFC 2782 name (SRV at _ldap._tcp itself, no PTR): asked with the PTR, so two rounds', async () => {
    const r = await resolve(['_ldap._tcp.example.com', '-v'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.equal(r.stdout, 'ldap1.example.com:389\n')
    assert.match(r.stderr, /4 queries in 2 round\(s\)/)
    const j = await resolve(['_ldap._tcp.example.com', '--json'])
    assert.equal(j.exitCode, 0, j.stderr)
    const out = JSON.parse(j.stdout)
    assert.equal(out.kind, 'instance')
    assert.deepEqual(out.order[0].addresses, ['127.0.0.31'])
  })

  it('a 40-target pool: a plain resolve looks up only the target it prints (queries counted by a relay)', async (t) => {
    const relay = await countingRelay(named.port)
    try {
      const run = (extra: string[]) => runCli(['resolve', '_v1._big._tcp.example.com', '--server', `127.0.0.1:${relay.port}`, ...extra])
      const plain = await run([])
      assert.equal(plain.exitCode, 0, plain.stderr)
      assert.match(plain.stdout, /^b\d+\.example\.com:7100\n$/)
      // SRV over UDP (truncated: 40 targets do not fit 512 bytes) and again over TCP, then A and AAAA of one target.
      assert.ok(relay.count() <= 4, `a plain resolve sent ${relay.count()} queries`)
      t.diagnostic(`40-target pool against BIND: plain resolve ${relay.count()} queries`)
      relay.reset()
      const all = await run(['--all'])
      assert.equal(all.exitCode, 0, all.stderr)
      assert.equal(all.stdout.trim().split('\n').length, 40)
      assert.ok(relay.count() <= 2 + 2 * 40, `--all sent ${relay.count()} queries`)
      t.diagnostic(`40-target pool against BIND: --all ${relay.count()} queries`)
    } finally {
      relay.close()
    }
  })

  it('a closed port: says no server answered, which address and port, exit 5', async () => {
    const port = await freePort('127.0.0.1')
    const r = await runCli(['resolve', '_web._tcp.example.com', '--server', `127.0.0.1:${port}`])
    assert.equal(r.exitCode, 5, r.stderr)
    assert.equal(r.stderr.split('\n').length, 2, r.stderr)
    assert.match(r.stderr, new RegExp(`no DNS server answered _web\\._tcp\\.example\\.com (PTR|SRV): 127\\.0\\.0\\.1:${port} did not answer: port closed`))
    const j = await runCli(['resolve', '_web._tcp.example.com', '--server', `127.0.0.1:${port}`, '--json'])
    assert.equal(j.exitCode, 5)
    assert.equal(JSON.parse(j.stdout).error.exitCode, 5)
  })

  it('300-target SRV set: TC over UDP, then the whole set over TCP (seen by a relay)', async () => {
    const relay = await countingRelay(named.port)
    try {
      const r = await runCli(['resolve', '_v1._huge._tcp.example.com', '--server', `127.0.0.1:${relay.port}`, '--timeout', '20'])
      assert.equal(r.exitCode, 0, r.stderr)
      assert.match(r.stdout, /^h\d+\.example\.com:7000\n$/)
      assert.equal(relay.tcp(), 1, 'the SRV set once over TCP')
      assert.ok(relay.count() - relay.tcp() >= 3, 'the SRV query over UDP first, then A and AAAA over UDP')
      relay.reset()
      const all = await runCli(['resolve', '_v1._huge._tcp.example.com', '--server', `127.0.0.1:${relay.port}`, '--all', '--timeout', '20'])
      assert.equal(all.exitCode, 0, all.stderr)
      const lines = all.stdout.trim().split('\n')
      assert.equal(lines.length, 300)
      assert.equal(new Set(lines).size, 300)
    } finally {
      relay.close()
    }
  })

  it('--zone/--service/--pool, --format url --scheme', async () => {
    const r = await resolve(['--zone', 'example.com', '--service', '_api._tcp', '--pool', 'v1', '--format', 'url', '--scheme', 'https'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout.trim(), new RegExp(`^https://127-0-0-2[12]\\.example\\.com:${livePort}/$`))
  })

  it('the server can come from DNSSD_SERVER; --zone/--service/--pool names the same pool', async () => {
    const env = cleanEnv({DNSSD_SERVER: `127.0.0.1:${named.port}`})
    const viaEnv = await runCli(['resolve', '_v1._api._tcp.example.com', '--all'], {env})
    assert.equal(viaEnv.exitCode, 0, viaEnv.stderr)
    const viaPool = await runCli(['resolve', '--zone', 'example.com', '--service', '_api._tcp', '--pool', 'v1', '--all'], {env})
    assert.equal(viaPool.exitCode, 0, viaPool.stderr)
    assert.deepEqual(viaEnv.stdout.trim().split('\n').sort(), viaPool.stdout.trim().split('\n').sort())
    assert.equal(viaEnv.stdout.trim().split('\n').length, 3)
  })

  it('--check tcp connects down the order and prints the first that accepts', async () => {
    const r = await resolve(['_v1._api._tcp.example.com', '--check', 'tcp', '--check-timeout', '0.5'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.equal(r.stdout.trim(), `127-0-0-23.example.com:${livePort}`)
  })

  it('a lone "." target means not available: exit 3', async () => {
    const r = await resolve(['_v1._gone._tcp.example.com'])
    assert.equal(r.exitCode, 3)
    assert.match(r.stderr, /not available/)
  })

  it('NXDOMAIN, NODATA and a target without addresses: exit 3, told apart', async () => {
    const nx = await resolve(['_nope._tcp.example.com'])
    assert.equal(nx.exitCode, 3)
    assert.match(nx.stderr, /NXDOMAIN/)
    const nxJson = await resolve(['_nope._tcp.example.com', '--json'])
    assert.equal(nxJson.exitCode, 3)
    assert.equal(JSON.parse(nxJson.stdout).error.kind, 'no-instance')
    const nodata = await resolve(['127-0-0-11.example.com'])
    assert.equal(nodata.exitCode, 3)
    assert.match(nodata.stderr, /NODATA/)
    const nohost = await resolve(['_v1._nohost._tcp.example.com'])
    assert.equal(nohost.exitCode, 3)
    assert.match(nohost.stderr, /missing\.example\.com/)
  })

  it('SERVFAIL (a zone BIND could not load): exit 4', async () => {
    const r = await resolve(['_web._tcp.broken.test', '--retries', '0'])
    assert.equal(r.exitCode, 4, r.stderr)
    assert.match(r.stderr, /SERVFAIL/)
  })

  it('a silent server: timeout exit 5; with a second server it fails over', async () => {
    const t0 = Date.now()
    const dead = await runCli(['resolve', '_web._tcp.example.com', '--server', `127.0.0.1:${silentPort}`, '--timeout', '1', '--try-timeout', '0.3'])
    assert.equal(dead.exitCode, 5, dead.stderr)
    assert.ok(Date.now() - t0 < 4000)
    const over = await runCli(['resolve', '_web._tcp.example.com', '--server', `127.0.0.1:${silentPort}`, '--server', `127.0.0.1:${named.port}`, '--try-timeout', '0.3'])
    assert.equal(over.exitCode, 0, over.stderr)
  })

  it('bad input: exit 2 with one line naming it', async () => {
    for (const args of [['_web._tcp.example.com', '--server', '[::1'], ['--zone', 'example.com', '--service', 'web'], ['_web._tcp.example.com', '--timeout', 'soon']]) {
      const r = await runCli(['resolve', ...args])
      assert.equal(r.exitCode, 2, args.join(' '))
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })

  it('serve answers a 30-instance PTR and a 8-target SRV in no more bytes than BIND', async () => {
    const data = join(dir.path, 'size')
    await mkdir(data, {recursive: true})
    const zone = sizeZone()
    await writeFile(join(data, 'size.test.zone'), zone)
    const bindDir = join(dir.path, 'bind-size')
    await mkdir(bindDir)
    const bind = await startNamed(bindDir, {'size.test': zone})
    const serve = await startServe(data)
    try {
      // PTR: BIND sends no additional records for PTR, we add RFC 6763 §12 ones; compare through the answer section.
      const ptr = encodeQuery('_web._tcp.size.test', 'PTR', {id: 1, rd: true, ednsSize: 1232})
      const [ours, theirs] = [await tcpExchange(serve.port, ptr), await tcpExchange(bind.port, ptr)]
      assert.equal(sections(ours).answers, 30)
      assert.equal(sections(theirs).answers, 30)
      assert.ok(sections(ours).answerEnd <= sections(theirs).answerEnd, `PTR answer ${sections(ours).answerEnd} > BIND ${sections(theirs).answerEnd}`)
      // SRV: both add the 8 target addresses; compare whole messages.
      const srv = encodeQuery('_v1._pool._tcp.size.test', 'SRV', {id: 2, rd: true, ednsSize: 1232})
      const [o2, t2] = [await tcpExchange(serve.port, srv), await tcpExchange(bind.port, srv)]
      assert.equal(sections(o2).additionals, sections(t2).additionals)
      assert.ok(o2.length <= t2.length, `SRV response ${o2.length} > BIND ${t2.length}`)
    } finally {
      await serve.stop()
      await bind.stop()
    }
  })
})

function sizeZone(): string {
  let zone = '$ORIGIN size.test.\nsize.test. 3600 IN SOA localhost. hostmaster.size.test. 1 3600 600 1209600 60\nsize.test. 3600 IN NS localhost.\n'
  for (let i = 1; i <= 30; i++) {
    zone += `_web._tcp.size.test. 60 IN PTR 10-0-0-${i}._web._tcp.size.test.\n10-0-0-${i}._web._tcp.size.test. 60 IN SRV 0 0 8080 10-0-0-${i}.size.test.\n`
    zone += `10-0-0-${i}._web._tcp.size.test. 60 IN TXT "path=/"\n10-0-0-${i}.size.test. 60 IN A 10.0.0.${i}\n`
    // BIND adds target addresses to an SRV answer only for small sets; 8 targets get them.
    if (i <= 8) zone += `_v1._pool._tcp.size.test. 60 IN SRV 0 0 9000 10-0-0-${i}.size.test.\n`
  }
  return zone
}

/** Where the answer section ends, and the section counts. */
function sections(buf: Buffer): {answers: number; additionals: number; answerEnd: number} {
  let offset = 12
  const qd = buf.readUInt16BE(4)
  const an = buf.readUInt16BE(6)
  for (let i = 0; i < qd; i++) {
    dnsPacket.question.decode(buf, offset)
    offset += dnsPacket.question.decode.bytes
  }
  for (let i = 0; i < an; i++) {
    dnsPacket.answer.decode(buf, offset)
    offset += dnsPacket.answer.decode.bytes
  }
  return {answers: an, additionals: buf.readUInt16BE(10), answerEnd: offset}
}

/**
 * A relay on loopback (UDP and TCP, one port) in front of `upstream` that
 * counts the DNS queries passing through, whatever the client says it sent.
 */
async function countingRelay(upstream: number): Promise<{port: number; count: () => number; tcp: () => number; reset: () => void; close: () => void}> {
  const port = await freePort('127.0.0.1')
  const front = dgram.createSocket('udp4')
  const open = new Set<dgram.Socket | net.Socket>()
  let n = 0
  let overTcp = 0
  front.on('message', (msg, from) => {
    n++
    const back = dgram.createSocket('udp4')
    open.add(back)
    back.on('message', (answer) => {
      front.send(answer, from.port, from.address)
      back.close()
      open.delete(back)
    })
    back.send(msg, upstream, '127.0.0.1')
  })
  const tcp = net.createServer((client) => {
    const server = net.connect({host: '127.0.0.1', port: upstream})
    open.add(client).add(server)
    const frames = new FrameReader()
    client.on('data', (d: Buffer) => {
      frames.push(d)
      while (frames.next()) {
        n++
        overTcp++
      }
      server.write(d)
    })
    server.on('data', (d: Buffer) => client.write(d))
    const end = (): void => {
      client.destroy()
      server.destroy()
    }
    client.on('close', end).on('error', end)
    server.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => front.bind(port, '127.0.0.1', r))
  await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r))
  return {
    port,
    count: () => n,
    tcp: () => overTcp,
    reset: () => {
      n = 0
      overTcp = 0
    },
    close: () => {
      for (const s of open) 'destroy' in s ? s.destroy() : s.close()
      front.close()
      tcp.close()
    },
  }
}
