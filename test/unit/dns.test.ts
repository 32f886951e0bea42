import assert from 'node:assert/strict'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import dnsPacket from 'dns-packet'
import {Resolver} from 'node:dns'
import {toRecords, useServers} from '../../src/dns/ares.js'
import {parseServer} from '../../src/dns/client.js'
import {NameError, nameToLabels, readName} from '../../src/dns/names.js'
import {AuthoritativeServer} from '../../src/dns/server.js'
import {FrameReader, frame} from '../../src/dns/tcp.js'
import {decodeResponse, encodeQuery} from '../../src/dns/wire.js'
import {ipv6Bytes} from '../../src/dns/authority.js'

describe('DNS over TCP framing (RFC 7766 §8)', () => {
  it('reads the same messages however the stream is cut', () => {
    const messages = [Buffer.from('first message'), Buffer.alloc(0), Buffer.alloc(300, 7)]
    const stream = Buffer.concat(messages.map(frame))
    assert.equal(stream.readUInt16BE(0), messages[0]!.length)
    for (const size of [1, 2, 3, 15, stream.length]) {
      const frames = new FrameReader()
      const got: Buffer[] = []
      for (let at = 0; at < stream.length; at += size) {
        frames.push(stream.subarray(at, at + size))
        for (let m = frames.next(); m; m = frames.next()) got.push(Buffer.from(m))
      }
      assert.deepEqual(got, messages, `chunks of ${size}`)
    }
  })
  it('tells the announced length before the frame has arrived', () => {
    const frames = new FrameReader()
    frames.push(Buffer.from([0x01]))
    assert.equal(frames.nextLength(), undefined)
    frames.push(Buffer.from([0x00, 0xaa]))
    assert.equal(frames.nextLength(), 256)
    assert.equal(frames.next(), undefined)
  })
})

describe('--server', () => {
  it('parses HOST, HOST:PORT, [v6]:port and bare IPv6', () => {
    assert.deepEqual(parseServer('127.0.0.1'), {host: '127.0.0.1', port: 53})
    assert.deepEqual(parseServer('127.0.0.1:5353'), {host: '127.0.0.1', port: 5353})
    assert.deepEqual(parseServer('[::1]:5353'), {host: '::1', port: 5353})
    assert.deepEqual(parseServer('[2001:db8::1]'), {host: '2001:db8::1', port: 53})
    assert.deepEqual(parseServer('2001:db8::53'), {host: '2001:db8::53', port: 53})
    assert.deepEqual(parseServer('ns1.example.com:53'), {host: 'ns1.example.com', port: 53})
    for (const bad of ['[::1', '127.0.0.1:0', '127.0.0.1:99999', 'a b', '1.2.3.4:x']) assert.throws(() => parseServer(bad), /--server/, bad)
  })

})

describe("node's resolver's records as the client's (src/dns/ares.ts)", () => {
  it('keeps what wire.ts would keep and drops the rest', () => {
    assert.deepEqual(toRecords('a.example', 'A', ['10.0.0.1', '::1', 'x']), [{name: 'a.example', type: 'A', ttl: 0, data: '10.0.0.1'}])
    assert.deepEqual(toRecords('a.example', 'AAAA', ['10.0.0.1', '2001:db8::1']), [{name: 'a.example', type: 'AAAA', ttl: 0, data: '2001:db8::1'}])
    assert.deepEqual(toRecords('_s._tcp.example', 'PTR', ['I1._s._tcp.Example.', '']), [{name: '_s._tcp.example', type: 'PTR', ttl: 0, data: 'i1._s._tcp.example'}])
  })

  it('SRV: a root target is "." (no service), names lower-case, numbers in range', () => {
    const srv = toRecords('_v1._s._tcp.example', 'SRV', [
      {name: 'Host.Example', port: 80, priority: 1, weight: 5},
      {name: '', port: 0, priority: 0, weight: 0},
      {name: 'bad.example', port: 70_000, priority: 0, weight: 0},
    ] as never)
    assert.deepEqual(
      srv.map((r) => r.data),
      [
        {priority: 1, weight: 5, port: 80, target: 'host.example'},
        {priority: 0, weight: 0, port: 0, target: '.'},
      ],
    )
  })

  it('useServers: the resolver asks exactly the servers given, whichever way they were set', () => {
    const servers = [
      {host: '127.0.0.1', port: 5353},
      {host: '10.0.0.2', port: 53},
      {host: '::1', port: 5300},
    ]
    const listed = ['127.0.0.1:5353', '10.0.0.2', '[::1]:5300']
    const direct = new Resolver()
    useServers(direct, servers)
    assert.deepEqual(direct.getServers(), listed)
    // A channel that takes the list but keeps none of it, or throws: the public setServers.
    for (const channel of [{setServers: () => 0}, {setServers: () => { throw new Error('changed') }}, {}]) {
      const other = new Resolver()
      const handle = (other as unknown as {_handle: Record<string, unknown>})._handle
      const real = handle.setServers
      handle.setServers = (channel as {setServers?: unknown}).setServers
      const publicSet = other.setServers.bind(other)
      other.setServers = (list: readonly string[]) => {
        handle.setServers = real
        publicSet(list)
      }
      useServers(other, servers)
      assert.deepEqual(other.getServers(), listed)
    }
  })

  it('TXT: every string of a record, byte for byte (node gives them as Latin-1)', () => {
    const [txt, ...rest] = toRecords('i._s._tcp.example', 'TXT', [['path=/x', 'k=\u00c3\u00a9']])
    assert.equal(rest.length, 0)
    assert.equal(txt?.type, 'TXT')
    assert.deepEqual(txt?.data, [Buffer.from('path=/x'), Buffer.from('k=é', 'utf8')])
  })
})

describe('names and the dns-packet wrapper (reference/dns.md D.4)', () => {
  it('rejects labels over 63 octets and names over 255; keeps escaped dots inside a label', () => {
    assert.throws(() => nameToLabels(`${'a'.repeat(64)}.example.com`), NameError)
    assert.throws(() => nameToLabels(Array.from({length: 60}, () => 'abcd').join('.')), NameError)
    assert.deepEqual(nameToLabels('My\\.Printer._ipp._tcp.example.com').map(String), ['My.Printer', '_ipp', '_tcp', 'example', 'com'])
    assert.deepEqual(nameToLabels('\\065b\\\\.caf\u00e9.example.com.').map(String), ['Ab\\', 'caf\u00e9', 'example', 'com'])
    assert.throws(() => encodeQuery('My\\.Printer._ipp._tcp.example.com', 'SRV', {id: 1, rd: true}), NameError)
  })

  it('does not trust a truncated body; rejects a cut message instead of decoding garbage', () => {
    const full = dnsPacket.encode({
      type: 'response',
      id: 9,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{type: 'A', name: 'h.example.com'}],
      answers: [{type: 'A', name: 'h.example.com', ttl: 60, data: '1.2.3.4'}],
    })
    assert.deepEqual(decodeResponse(full).answers, [{name: 'h.example.com', type: 'A', ttl: 60, data: '1.2.3.4'}])
    for (let cut = 12; cut < full.length; cut++) {
      try {
        const m = decodeResponse(full.subarray(0, cut))
        for (const a of m.answers) assert.equal(a.data, '1.2.3.4', `cut at ${cut} decoded ${JSON.stringify(a)}`)
      } catch (error) {
        assert.match((error as Error).message, /undecodable|shorter/)
      }
    }
    const tc = Buffer.from(full)
    tc.writeUInt16BE(tc.readUInt16BE(2) | 0x0200, 2)
    const m = decodeResponse(tc.subarray(0, 40))
    assert.equal(m.tc, true)
    assert.equal(m.answers.length, 0)
  })

  it('refuses compression loops and forward pointers', () => {
    const loop = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
    assert.throws(() => readName(loop, 12), NameError)
  })

  it('IPv6 text to bytes', () => {
    assert.equal(ipv6Bytes('2001:db8::1').toString('hex'), '20010db8000000000000000000000001')
    assert.equal(ipv6Bytes('::ffff:1.2.3.4').toString('hex'), '00000000000000000000ffff01020304')
    assert.equal(ipv6Bytes('fe80::').toString('hex'), 'fe800000000000000000000000000000')
  })
})

describe('AuthoritativeServer.respond (in process)', () => {
  it('keeps answering from the last good copy when a zone file stops parsing, and reloads when fixed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnssd-unit-'))
    try {
      const head = '$ORIGIN r.test.\nr.test. 3600 IN SOA localhost. h.r.test. 1 3600 600 1209600 60\n'
      await writeFile(join(dir, 'r.test.zone'), `${head}a 60 IN A 10.0.0.1\n`)
      const logs: string[] = []
      const server = new AuthoritativeServer({address: '127.0.0.1', port: 0, dataDir: dir, log: (l) => logs.push(l)})
      await server.checkFiles()
      const ask = (): string[] => dnsPacket.decode(server.respond(encodeQuery('a.r.test', 'A', {id: 9, rd: false}), 'udp')!).answers!.map((a) => String(a.data))
      assert.deepEqual(ask(), ['10.0.0.1'])
      await writeFile(join(dir, 'r.test.zone'), `${head}a 60 IN A 10.0.0.1\nb 60 IN BOGUS ( unbalanced\n`)
      await server.checkFiles()
      assert.deepEqual(ask(), ['10.0.0.1'])
      assert.ok(logs.some((l) => /keeping the previous data/.test(l)), logs.join('\n'))
      await writeFile(join(dir, 'r.test.zone'), `${head.replace(' 1 3600', ' 2 3600')}a 60 IN A 10.0.0.2\n`)
      await server.checkFiles()
      assert.deepEqual(ask(), ['10.0.0.2'])
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('answers every mutated query with a well-formed response or nothing, never throwing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnssd-unit-'))
    try {
      let zone = '$ORIGIN example.com.\nexample.com. 3600 IN SOA localhost. hostmaster.example.com. 1 3600 600 1209600 60\nexample.com. 3600 IN NS localhost.\n'
      for (let i = 1; i <= 40; i++) {
        zone += `_web._tcp 60 IN PTR i${i}._web._tcp\ni${i}._web._tcp 60 IN SRV 0 0 80 h${i}\ni${i}._web._tcp 60 IN TXT "k=v"\nh${i} 60 IN A 10.0.0.${i}\nh${i} 60 IN AAAA 2001:db8::${i}\n`
      }
      await writeFile(join(dir, 'example.com.zone'), zone)
      // In process there is no client address, so no cookie: lift the cookie-less UDP bound to test packing at 1232.
      const server = new AuthoritativeServer({address: '127.0.0.1', port: 0, dataDir: dir, log: () => {}, udpSizeWithoutCookie: 1232})
      await server.checkFiles()
      const seeds = [
        encodeQuery('_web._tcp.example.com', 'PTR', {id: 1, rd: true, ednsSize: 1232}),
        encodeQuery('i1._web._tcp.example.com', 'SRV', {id: 2, rd: false}),
        encodeQuery('h1.example.com', 'AAAA', {id: 3, rd: false, ednsSize: 512}),
      ]
      let seed = 12345
      const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n)
      let answered = 0
      for (let k = 0; k < 20_000; k++) {
        const b = Buffer.from(seeds[rand(3)]!)
        for (let e = 0; e <= rand(3); e++) b[rand(b.length)] = rand(256)
        const msg = rand(5) === 0 ? b.subarray(0, rand(b.length)) : b
        const reply = server.respond(msg, rand(2) ? 'udp' : 'tcp')
        if (!reply) continue
        answered++
        assert.equal(reply.readUInt16BE(0), msg.readUInt16BE(0), 'id echoed')
        assert.ok(reply.readUInt16BE(2) & 0x8000, 'QR set')
        const decoded = dnsPacket.decode(reply)
        // A garbled query gets an error code a server may send for it, and never a made-up answer.
        const {rcode} = decoded as {rcode?: string}
        assert.ok(['NOERROR', 'FORMERR', 'NXDOMAIN', 'NOTIMP', 'REFUSED'].includes(rcode ?? ''), `rcode ${rcode}`)
        if (decoded.answers!.length > 0) assert.equal(rcode, 'NOERROR')
      }
      assert.ok(answered > 10_000)
      // Sizes: the PTR answer with 40 instances, UDP 1232 vs 512 without EDNS.
      const big = server.respond(seeds[0]!, 'udp')!
      assert.ok(big.length <= 1232)
      const decoded = dnsPacket.decode(big)
      assert.equal(decoded.answers!.length, 40)
      assert.ok(!decoded.flag_tc)
      const small = server.respond(encodeQuery('_web._tcp.example.com', 'PTR', {id: 4, rd: false}), 'udp')!
      assert.ok(small.length <= 512)
      assert.equal(dnsPacket.decode(small).flag_tc, true)
      // Additional RRsets are whole: every SRV in the additional section has its TXT alongside or neither fits.
      const names = decoded.additionals!.filter((r) => r.type === 'AAAA').map((r) => r.name)
      for (const n of names) assert.equal(decoded.additionals!.filter((r) => r.type === 'A' && r.name === n).length, 1)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
