/**
 * `dnssd serve` next to a real BIND `named` answering the same zone (the
 * zone file `dnssd join` wrote, plus hand-made records), asked the same
 * questions with `dig` or, where dig cannot send the message, by hand: the
 * protocol details of issue 14 must agree with BIND.
 */
import assert from 'node:assert/strict'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {tempDir} from '../helpers/cli.js'
import {type Running, dig, digSection, digStatus, joinMany, startNamed, startServe} from '../helpers/dns.js'
import {rawQuery, summarize, udpExchange} from '../helpers/serve.js'
import {requireTool} from '../helpers/tools.js'

const skip = requireTool('named') ?? requireTool('dig')

/** The EDNS flags dig printed ("do" or nothing), or undefined without an OPT. */
const ednsFlags = (out: string): string | undefined => /; EDNS: version: \d+, flags:([^;]*);/.exec(out)?.[1]?.trim()

function handRecords(): string {
  let zone = ''
  zone += 'loop1.example.com. 60 IN CNAME loop2.example.com.\nloop2.example.com. 60 IN CNAME loop1.example.com.\n'
  zone += 'alias.example.com. 60 IN CNAME 127-0-0-11.example.com.\n'
  zone += 'dangling.example.com. 60 IN CNAME nowhere.example.com.\n'
  // c1 -> c2 -> ... -> c12 -> end: c1 needs 12 CNAMEs, one more than BIND follows; c2 needs 11.
  for (let i = 1; i <= 12; i++) zone += `c${i}.example.com. 60 IN CNAME ${i === 12 ? 'end' : `c${i + 1}`}.example.com.\n`
  zone += 'end.example.com. 60 IN A 10.9.9.9\n'
  for (let i = 1; i <= 4; i++) zone += `rr.example.com. 60 IN A 10.0.0.${i}\n`
  zone += '_rr._tcp.example.com. 60 IN SRV 0 0 80 rr.example.com.\n'
  // A browse where one instance's SRV set (40 targets) cannot fit a 1232-byte answer.
  zone += '_wide._tcp.example.com. 60 IN PTR small1._wide._tcp.example.com.\n'
  zone += '_wide._tcp.example.com. 60 IN PTR huge._wide._tcp.example.com.\n'
  zone += '_wide._tcp.example.com. 60 IN PTR small2._wide._tcp.example.com.\n'
  zone += 'small1._wide._tcp.example.com. 60 IN SRV 0 0 80 127-0-0-11.example.com.\n'
  zone += 'small2._wide._tcp.example.com. 60 IN SRV 0 0 80 127-0-0-12.example.com.\n'
  zone += 'huge._wide._tcp.example.com. 60 IN SRV 0 0 80 127-0-0-11.example.com.\n'
  for (let i = 1; i <= 40; i++) {
    zone += `huge._wide._tcp.example.com. 60 IN SRV 0 0 80 w${i}.example.com.\n`
    zone += `w${i}.example.com. 60 IN A 10.1.0.${i}\nw${i}.example.com. 60 IN AAAA 2001:db8::${i}\n`
  }
  return zone
}

describe('dnssd serve and BIND named agree (same zone, same queries)', {skip}, () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let serve: Running
  let named: Running

  before(async () => {
    dir = await tempDir()
    const data = join(dir.path, 'data')
    await joinMany(data, [11, 12, 13].map((i) => ({service: '_web._tcp', ip: `127.0.0.${i}`})))
    const file = join(data, 'example.com.zone')
    const zone = (await readFile(file, 'utf8')) + handRecords()
    await writeFile(file, zone)
    await mkdir(join(dir.path, 'bind'))
    named = await startNamed(join(dir.path, 'bind'), {'example.com': zone})
    // The cookie-less UDP bound and the rate limit are not under test here (serve-limits.test.ts).
    serve = await startServe(data, ['--udp-size-without-cookie', '1232', '--rrl', '0'])
  })

  after(async () => {
    await serve?.stop()
    await named?.stop()
    await dir?.cleanup()
  })

  const both = (args: string[]): {ours: string; bind: string} => ({ours: dig(serve.port, args), bind: dig(named.port, args)})

  it('copies the DO bit into the reply OPT (RFC 3225 §3)', () => {
    const on = both(['+dnssec', '+norec', '127-0-0-11.example.com', 'A'])
    assert.equal(ednsFlags(on.bind), 'do')
    assert.equal(ednsFlags(on.ours), 'do', on.ours)
    const off = both(['+nodnssec', '+norec', '127-0-0-11.example.com', 'A'])
    assert.equal(ednsFlags(off.bind), '')
    assert.equal(ednsFlags(off.ours), '', off.ours)
  })

  it('an EDNS option that overruns the OPT data: FORMERR, no OPT (RFC 6891 §7)', async () => {
    // A COOKIE claiming 16 octets with 8 present; an option header cut after its code.
    for (const rdata of ['000a0010aabbccddeeff0011', '000a', '000a0008aabbccddeeff0011000b']) {
      const q = rawQuery(rdata)
      const [ours, bind] = [await udpExchange(serve.port, q), await udpExchange(named.port, q)]
      assert.ok(ours && bind, rdata)
      assert.deepEqual(summarize(ours), summarize(bind), rdata)
      assert.equal(summarize(ours).rcode, 1, rdata)
      assert.equal(summarize(ours).opt, undefined, rdata)
    }
  })

  it('FORMERR carries an OPT when the query had a valid one', async () => {
    // A COOKIE option of 4 octets (RFC 7873: 8, or 16-40): the OPT is sound, the option is not.
    const bad = both(['+nocookie', '+ednsopt=10:00112233', 'example.com', 'SOA'])
    for (const out of [bad.bind, bad.ours]) {
      assert.equal(digStatus(out), 'FORMERR', out)
      assert.equal(ednsFlags(out), '', out)
    }
    // No question (and no cookie to ask for): FORMERR, with the OPT.
    const empty = both(['+nocookie', '+header-only'])
    for (const out of [empty.bind, empty.ours]) {
      assert.equal(digStatus(out), 'FORMERR', out)
      assert.notEqual(ednsFlags(out), undefined, out)
    }
    for (const q of [rawQuery('', {qd: 0}), rawQuery('', {qd: 0, dnssecOk: true})]) {
      const [ours, bind] = [await udpExchange(serve.port, q), await udpExchange(named.port, q)]
      assert.deepEqual(summarize(ours!), summarize(bind!))
      assert.ok(summarize(ours!).opt)
    }
  })

  it('a CNAME to no data has the SOA in the authority section (RFC 2308 §2.2)', () => {
    const {ours, bind} = both(['+norec', 'alias.example.com', 'AAAA'])
    for (const out of [bind, ours]) {
      assert.equal(digStatus(out), 'NOERROR')
      assert.deepEqual(digSection(out, 'ANSWER'), ['alias.example.com. 60 IN CNAME 127-0-0-11.example.com.'])
      assert.match(digSection(out, 'AUTHORITY')[0] ?? '', /^example\.com\. 60 IN SOA /, out)
    }
    const nx = both(['+norec', 'dangling.example.com', 'A'])
    assert.equal(digStatus(nx.ours), digStatus(nx.bind))
    assert.deepEqual(digSection(nx.ours, 'AUTHORITY'), digSection(nx.bind, 'AUTHORITY'))
  })

  it('a CNAME loop, or a chain longer than BIND follows: SERVFAIL with the chain once', () => {
    for (const name of ['loop1.example.com', 'c1.example.com']) {
      const {ours, bind} = both(['+norec', name, 'A'])
      assert.equal(digStatus(bind), 'SERVFAIL', bind)
      assert.equal(digStatus(ours), 'SERVFAIL', ours)
      assert.deepEqual(digSection(ours, 'ANSWER').sort(), digSection(bind, 'ANSWER').sort())
    }
    // Eleven CNAMEs are followed to the data by both.
    const {ours, bind} = both(['+norec', 'c2.example.com', 'A'])
    assert.equal(digStatus(ours), 'NOERROR')
    assert.deepEqual(digSection(ours, 'ANSWER'), digSection(bind, 'ANSWER'))
    assert.equal(digSection(ours, 'ANSWER').at(-1), 'end.example.com. 60 IN A 10.9.9.9')
  })

  it('an unknown opcode without a question: NOTIMP', () => {
    for (const opcode of ['3', '15']) {
      const {ours, bind} = both(['+header-only', `+opcode=${opcode}`])
      assert.equal(digStatus(bind), 'NOTIMP', bind)
      assert.equal(digStatus(ours), 'NOTIMP', ours)
      assert.notEqual(ednsFlags(ours), undefined, 'with the OPT, like BIND')
    }
  })

  it('an SRV set that does not fit a PTR answer brings none of its targets addresses', () => {
    const out = dig(serve.port, ['+bufsize=1232', '+ignore', '_wide._tcp.example.com', 'PTR'])
    assert.equal(digSection(out, 'ANSWER').length, 3)
    const additional = digSection(out, 'ADDITIONAL')
    assert.ok(!additional.some((r) => r.startsWith('huge._wide._tcp.example.com.')), 'the 41-record SRV set does not fit')
    assert.deepEqual(additional.filter((r) => /^w\d+\.example\.com\./.test(r)), [], 'so no address of its targets')
    // The instances that fit come with their targets' addresses, a shared target included.
    for (const r of [
      'small1._wide._tcp.example.com. 60 IN SRV 0 0 80 127-0-0-11.example.com.',
      'small2._wide._tcp.example.com. 60 IN SRV 0 0 80 127-0-0-12.example.com.',
      '127-0-0-11.example.com. 60 IN A 127.0.0.11',
      '127-0-0-12.example.com. 60 IN A 127.0.0.12',
    ]) {
      assert.ok(additional.includes(r), `${r}\n${out}`)
    }
    // Over TCP everything fits: the set and all its targets' addresses.
    const tcp = digSection(dig(serve.port, ['+tcp', '_wide._tcp.example.com', 'PTR']), 'ADDITIONAL')
    assert.equal(tcp.filter((r) => r.startsWith('huge._wide._tcp.example.com. 60 IN SRV')).length, 41)
    assert.equal(tcp.filter((r) => /^w\d+\.example\.com\./.test(r)).length, 80)
  })

  it('round-robin: an A set turns one step per answer, in the answer and the additional section', () => {
    const firsts = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const answer = digSection(dig(serve.port, ['+norec', 'rr.example.com', 'A']), 'ANSWER').map((r) => r.split(' ').at(-1)!)
      assert.deepEqual([...answer].sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])
      firsts.add(answer[0]!)
    }
    assert.equal(firsts.size, 4, 'each address came first once in four answers')
    const extra = new Set<string>()
    for (let i = 0; i < 4; i++) extra.add(digSection(dig(serve.port, ['+norec', '_rr._tcp.example.com', 'SRV']), 'ADDITIONAL')[0]!)
    assert.equal(extra.size, 4, [...extra].join('\n'))
    // BIND changes the order too (its default order is random, not cyclic).
    const bindOrders = new Set<string>()
    for (let i = 0; i < 8; i++) bindOrders.add(digSection(dig(named.port, ['+norec', 'rr.example.com', 'A']), 'ANSWER').join('|'))
    assert.ok(bindOrders.size > 1)
  })
})
