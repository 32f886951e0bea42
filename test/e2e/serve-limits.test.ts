/**
 * What keeps `dnssd serve` from being an amplifier or an easy target when
 * exposed (issue 14): DNS cookies (RFC 7873), the UDP size bound for clients
 * without a valid server cookie, the per-prefix UDP rate limit, TCP
 * backpressure, idle timeouts and eviction. All through the built CLI.
 */
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import {mkdir, writeFile} from 'node:fs/promises'
import net from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {frame} from '../../src/dns/tcp.js'
import {encodeQuery} from '../../src/dns/wire.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {type Running, dig, digFlags, digSection, digSize, startNamed, startServe} from '../helpers/dns.js'
import {digCookieOf, fetchCookie, rssMb, summarize} from '../helpers/serve.js'
import {requireTool} from '../helpers/tools.js'

const skip = requireTool('dig') ?? requireTool('named')

function zoneText(): string {
  let zone = '$ORIGIN example.com.\nexample.com. 3600 IN SOA localhost. hostmaster.example.com. 1 3600 600 1209600 60\nexample.com. 3600 IN NS localhost.\n'
  for (let i = 1; i <= 30; i++) {
    zone += `_big._tcp 60 IN PTR 10-0-0-${i}._big._tcp\n10-0-0-${i}._big._tcp 60 IN SRV 0 0 7000 10-0-0-${i}\n`
    zone += `10-0-0-${i}._big._tcp 60 IN TXT "path=/"\n10-0-0-${i} 60 IN A 10.0.0.${i}\n`
  }
  return zone
}

/** A query for example.com SOA with a COOKIE option (client + server cookie, hex) or none. */
function soaQuery(id: number, cookieHex?: string): Buffer {
  const q = encodeQuery('example.com', 'SOA', {id, rd: false})
  if (!cookieHex) return q
  const cookie = Buffer.from(cookieHex, 'hex')
  const opt = Buffer.alloc(15)
  opt.writeUInt16BE(41, 1)
  opt.writeUInt16BE(1232, 3)
  opt.writeUInt16BE(4 + cookie.length, 9)
  opt.writeUInt16BE(10, 11)
  opt.writeUInt16BE(cookie.length, 13)
  const out = Buffer.concat([q, opt, cookie])
  out.writeUInt16BE(1, 10)
  return out
}

/**
 * Send `count` queries from one socket, then a marker query with a valid
 * cookie (never rate-limited): replies come back in order on loopback, so
 * once the marker's reply is in, every reply the server sent is in. Small
 * bursts only: the point is the server's limit, not the kernel's buffers.
 */
async function burst(port: number, count: number, cookieHex: string | undefined, marker: string): Promise<{full: number; truncated: number}> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
  let full = 0
  let truncated = 0
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the marker reply never came')), 15_000)
      // The marker is never limited; sent again now and then in case a busy kernel dropped it.
      const again = setInterval(() => socket.send(soaQuery(0xffff, marker), port, '127.0.0.1'), 2000)
      socket.on('message', (m) => {
        if (m.readUInt16BE(0) === 0xffff) return void (clearTimeout(timer), clearInterval(again), resolve())
        if (summarize(m).tc) truncated++
        else full++
      })
      for (let i = 0; i < count; i++) socket.send(soaQuery(i, cookieHex), port, '127.0.0.1')
      socket.send(soaQuery(0xffff, marker), port, '127.0.0.1')
    })
  } finally {
    socket.close()
  }
  return {full, truncated}
}

/** `count` cookie-less queries, 20 in flight at a time (so no kernel buffer overflows under load); the answers, all expected. */
async function windowed(port: number, count: number): Promise<{full: number; truncated: number}> {
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
  let full = 0
  let truncated = 0
  let waiting: (() => void) | undefined
  socket.on('message', (m) => {
    if (summarize(m).tc) truncated++
    else full++
    waiting?.()
  })
  try {
    for (let sent = 0; sent < count; ) {
      const window = Math.min(20, count - sent)
      const target = sent + window
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${full + truncated} of ${target} answers came back`)), 10_000)
        waiting = () => full + truncated >= target && (clearTimeout(timer), resolve())
      })
      for (let i = 0; i < window; i++) socket.send(soaQuery(sent + i), port, '127.0.0.1')
      sent = target
      await done
    }
  } finally {
    socket.close()
  }
  return {full, truncated}
}

describe('dnssd serve limits: cookies, UDP bound and rate limit, TCP', {skip}, () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let data: string
  let serve: Running
  let named: Running

  before(async () => {
    dir = await tempDir()
    data = join(dir.path, 'data')
    await mkdir(data)
    await writeFile(join(data, 'example.com.zone'), zoneText())
    await mkdir(join(dir.path, 'bind'))
    named = await startNamed(join(dir.path, 'bind'), {'example.com': zoneText()})
    serve = await startServe(data, ['--rrl', '0'])
  })

  after(async () => {
    await serve?.stop()
    await named?.stop()
    await dir?.cleanup()
  })

  it('server cookies in the RFC 9018 layout, like BIND: echoed client cookie, version 1, timestamp', () => {
    const ours = dig(serve.port, ['+cookie=0102030405060708', 'example.com', 'SOA'])
    const bind = dig(named.port, ['+cookie=0102030405060708', 'example.com', 'SOA'])
    const now = Math.floor(Date.now() / 1000)
    for (const out of [ours, bind]) {
      const cookie = digCookieOf(out)
      assert.ok(cookie, out)
      assert.equal(cookie.length, 48, out)
      assert.equal(cookie.slice(0, 16), '0102030405060708')
      assert.equal(cookie.slice(16, 24), '01000000', 'version 1, reserved zero')
      assert.ok(Math.abs(Number.parseInt(cookie.slice(24, 32), 16) - now) < 600)
      assert.match(out, /COOKIE: [0-9a-f]+ \(good\)/)
    }
    // The cookie it gave back is valid: the same one comes back (fresh for half an hour).
    const cookie = digCookieOf(ours)!
    assert.equal(digCookieOf(dig(serve.port, [`+cookie=${cookie}`, 'example.com', 'SOA'])), cookie)
    // A query for a server cookie alone (no question, RFC 7873 §5.4): NOERROR with a cookie, as BIND.
    for (const port of [serve.port, named.port]) {
      const out = dig(port, ['+header-only', '+cookie=0102030405060708'])
      assert.match(out, /status: NOERROR/, out)
      assert.equal(digCookieOf(out)?.length, 48)
    }
  })

  it('UDP answers to a client without a valid server cookie stop at 512 bytes (TC=1); with one, up to 1232', () => {
    const question = ['+ignore', '+bufsize=1232', '_big._tcp.example.com', 'PTR']
    const cookie = fetchCookie(serve.port)
    const forged = cookie.slice(0, -2) + (cookie.endsWith('00') ? '01' : '00')
    for (const [what, flag] of [['no cookie', '+nocookie'], ['a client cookie only', '+cookie'], ['a forged server cookie', `+cookie=${forged}`]]) {
      const out = dig(serve.port, [flag!, ...question])
      assert.ok(digFlags(out).includes('tc'), `${what}: ${out}`)
      assert.equal(digSection(out, 'ANSWER').length, 0)
      assert.ok(digSize(out) < 100, `${what}: ${digSize(out)} bytes`)
    }
    const out = dig(serve.port, [`+cookie=${cookie}`, ...question])
    assert.ok(!digFlags(out).includes('tc'), out)
    assert.equal(digSection(out, 'ANSWER').length, 30)
    assert.ok(digSize(out) > 512 && digSize(out) <= 1232, `${digSize(out)} bytes`)
    // Small answers need no cookie; without EDNS the limit was 512 anyway; TCP is not bounded.
    assert.equal(digSection(dig(serve.port, ['+nocookie', 'example.com', 'SOA']), 'ANSWER').length, 1)
    assert.equal(digSection(dig(serve.port, ['+tcp', '+nocookie', '_big._tcp.example.com', 'PTR']), 'ANSWER').length, 30)
    // dig falls back to TCP on TC by itself: a cookie-less client still gets everything.
    assert.equal(digSection(dig(serve.port, ['+nocookie', '_big._tcp.example.com', 'PTR']), 'ANSWER').length, 30)
  })

  it('--cookie-secret: servers sharing it accept each other\'s cookies; --workers share one', async () => {
    const secret = ['--cookie-secret', '00112233445566778899aabbccddeeff']
    const a = await startServe(data, [...secret, '--rrl', '0'])
    const b = await startServe(data, [...secret, '--rrl', '0'])
    const workers = await startServe(data, ['--workers', '2', '--rrl', '0'])
    try {
      const question = ['+ignore', '_big._tcp.example.com', 'PTR']
      const fromA = fetchCookie(a.port)
      assert.ok(!digFlags(dig(b.port, [`+cookie=${fromA}`, ...question])).includes('tc'), 'B accepts A\'s cookie')
      assert.ok(digFlags(dig(serve.port, [`+cookie=${fromA}`, ...question])).includes('tc'), 'another secret does not')
      const fromWorkers = fetchCookie(workers.port)
      for (let i = 0; i < 12; i++) assert.ok(!digFlags(dig(workers.port, [`+cookie=${fromWorkers}`, ...question])).includes('tc'), `query ${i}`)
    } finally {
      await Promise.all([a.stop(), b.stop(), workers.stop()])
    }
  })

  it('--rrl: over the rate, cookie-less UDP answers are dropped or slipped as TC=1; valid cookies are exempt', async () => {
    const limited = await startServe(data, ['--rrl', '5'])
    try {
      const marker = fetchCookie(limited.port)
      const start = performance.now()
      const cookieless = await burst(limited.port, 40, undefined, marker)
      const seconds = (performance.now() - start) / 1000
      // A bucket of 5 plus what refilled meanwhile: a bound, not a timing assertion.
      assert.ok(cookieless.full <= 5 + Math.ceil(5 * seconds) + 1, `${cookieless.full} full answers in ${seconds.toFixed(2)} s`)
      assert.ok(cookieless.truncated >= 1, 'every second answer over the limit is a TC=1 slip')
      assert.ok(cookieless.full + cookieless.truncated < 40, 'the rest are dropped')
      const withCookie = await burst(limited.port, 40, marker, marker)
      assert.deepEqual(withCookie, {full: 40, truncated: 0})
    } finally {
      await limited.stop()
    }
    // --rrl 0 (this file's main server): no limit.
    const unlimited = await windowed(serve.port, 300)
    assert.deepEqual(unlimited, {full: 300, truncated: 0})
  })

  it('a TCP client that never reads: the server stops reading it, stays small, keeps answering others, closes it when idle', async () => {
    const idle = await startServe(data, ['--tcp-idle', '2'])
    try {
      const baseline = rssMb(idle.child.pid!)
      let peak = baseline
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(idle.child.pid!))), 100)
      const q = encodeQuery('_big._tcp.example.com', 'PTR', {id: 1, rd: false})
      const batch = Buffer.concat(Array<Buffer>(1600).fill(frame(q)))
      const planned = 40 * 1024 * 1024
      let sent = 0
      const client = net.connect({host: '127.0.0.1', port: idle.port})
      client.pause()
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()))
      client.on('error', () => undefined)
      await new Promise<void>((resolve) => client.once('connect', () => resolve()))
      const writer = (async () => {
        while (sent < planned && !client.destroyed) {
          sent += batch.length
          if (!client.write(batch)) await Promise.race([new Promise((r) => client.once('drain', r)), closed])
        }
      })()
      try {
        // Others are answered meanwhile, over TCP and UDP.
        assert.equal(digSection(dig(idle.port, ['+tcp', 'example.com', 'SOA']), 'ANSWER').length, 1)
        assert.equal(digSection(dig(idle.port, ['example.com', 'SOA']), 'ANSWER').length, 1)
        await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`not closed; sent ${sent}`)), 90_000))])
        await writer
      } finally {
        clearInterval(sampler)
        client.destroy()
      }
      assert.ok(sent < planned, `the server read all ${sent} bytes of queries`)
      // Before backpressure this grew by hundreds of MB (issue 14: 77 -> 490 MB).
      assert.ok(peak - baseline < 100, `RSS grew from ${baseline.toFixed(0)} to ${peak.toFixed(0)} MB`)
      assert.equal(idle.child.exitCode, null)
      // An idle connection that sends nothing is closed too.
      const silent = net.connect({host: '127.0.0.1', port: idle.port})
      silent.on('error', () => undefined)
      await new Promise<void>((resolve) => silent.on('close', () => resolve()))
    } finally {
      await idle.stop()
    }
  })

  it('--tcp-clients: when full, a new connection closes the longest-idle one instead of waiting', async () => {
    const small = await startServe(data, ['--tcp-clients', '8', '--tcp-idle', '600'])
    try {
      const q = encodeQuery('example.com', 'SOA', {id: 2, rd: false})
      const framed = frame(q)
      const slow: {socket: net.Socket; closed: Promise<void>}[] = []
      for (let i = 0; i < 8; i++) {
        const socket = net.connect({host: '127.0.0.1', port: small.port})
        socket.on('error', () => undefined)
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
        // One answered query (so the server holds the connection), then half a frame, then silence.
        await new Promise<void>((resolve) => {
          socket.once('data', () => resolve())
          socket.write(framed)
        })
        socket.write(framed.subarray(0, 5))
        slow.push({socket, closed})
      }
      const out = dig(small.port, ['+tcp', 'example.com', 'SOA'])
      assert.equal(digSection(out, 'ANSWER').length, 1, out)
      await slow[0]!.closed
      assert.ok(slow.slice(1).every((s) => !s.socket.destroyed), 'only the longest-idle one was closed')
      for (const s of slow) s.socket.destroy()
    } finally {
      await small.stop()
    }
  })

  it('rejects bad limits with exit 2 and one line; never prints the cookie secret', async () => {
    for (const [flag, value] of [
      ['--rrl', '-1'],
      ['--rrl', 'fast'],
      ['--udp-size-without-cookie', '100'],
      ['--udp-size-without-cookie', '4096'],
      ['--tcp-clients', '0'],
      ['--tcp-idle', '0'],
      ['--cookie-secret', 'not-hex-but-secret-value-1234567'],
      ['--cookie-secret', '0011'],
    ]) {
      const r = await runCli(['serve', '--data-dir', data, '--port', '0', flag!, value!])
      assert.equal(r.exitCode, 2, `${flag} ${value}: ${r.stderr}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.ok(r.stderr.includes(flag!), r.stderr)
      if (flag === '--cookie-secret') assert.ok(!r.stderr.includes(value!) && !r.stdout.includes(value!), 'the secret is not echoed')
    }
  })
})
