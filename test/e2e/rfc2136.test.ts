/**
 * `--provider rfc2136` through the built CLI against a REAL BIND primary and
 * a REAL Knot primary, each started here on 127.0.0.1 with an ephemeral port:
 * 20 concurrent joins then 20 leaves lose nothing and keep the invariants,
 * the transferred zone passes named-checkzone / kzonecheck, and a key with
 * the wrong secret is refused (exit 4) without the secret in any output.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import net from 'node:net'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {parseZoneFile} from '../../src/core/zonefile.js'
import {nameWire, valueToRdata} from '../../src/dns/update.js'
import {bindZonePolicy, knotAcl} from '../../src/providers/rfc2136-policy.js'
import {cleanEnv, runCli} from '../helpers/cli.js'
import {type Running, dig, freePort} from '../helpers/dns.js'
import {type Key, makeKey, startBindPrimary, startKnotPrimary, wrongKey} from '../helpers/primaries.js'
import {requireTool} from '../helpers/tools.js'

const Z = 'example.com'
const HOSTS = 10

/** The zone as a TSIG-signed AXFR from `port` shows it, TSIG lines and the closing SOA dropped. */
function transfer(port: number, key: Key): string {
  const out = dig(port, ['-y', `hmac-sha256:${key.name}:${key.secret}`, '+onesoa', '+nocomments', '+nostats', Z, 'AXFR'])
  const lines = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\sTSIG\s/.test(l))
  assert.ok(lines.some((l) => /\sSOA\s/.test(l)), `no transfer: ${out}`)
  return `${lines.join('\n')}\n`
}

function srvValues(text: string): string[] {
  return parseZoneFile(text, Z)
    .records.filter((r) => r.type === 'SRV')
    .map((r) => `${r.name} ${r.value}`)
    .sort()
}

for (const kind of ['bind', 'knot'] as const) {
  const tools = kind === 'bind' ? ['named', 'named-checkzone', 'dig', 'tsig-keygen'] : ['knotd', 'kzonecheck', 'dig', 'tsig-keygen']
  const skip = tools.map((t) => requireTool(t)).find(Boolean)

  describe(`rfc2136 provider against a real ${kind === 'bind' ? 'BIND' : 'Knot'} primary`, {skip}, () => {
    let dir: string
    let server: Running
    let key: Key
    let base: string[]

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `dnssd-rfc2136-${kind}-`))
      key = await makeKey(dir)
      server = kind === 'bind' ? await startBindPrimary(dir, Z, key) : await startKnotPrimary(dir, Z, key)
      base = ['--provider', 'rfc2136', '--server', `127.0.0.1:${server.port}`, '--tsig-key-file', key.file, '--zone', Z]
    })

    after(async () => {
      await server?.stop()
      if (dir) await rm(dir, {recursive: true, force: true})
    })

    const members = Array.from({length: HOSTS}, (_, i) => [
      {service: '_v1._web._tcp', ip: `10.0.1.${i + 1}`, port: '8080'},
      {service: '_api._tcp', ip: `10.0.1.${i + 1}`, port: '9000'},
    ]).flat()

    const each = (verb: 'join' | 'leave') =>
      Promise.all(members.map((m) => runCli([verb, ...base, '--service', m.service, '--ip', m.ip, '--port', m.port, '--json', '--timeout', '60'], {timeoutMs: 90_000})))

    it('20 concurrent joins, then 20 concurrent leaves: nothing lost, invariants hold, the zone checks', async () => {
      const before = transfer(server.port, key)
      const joined = await each('join')
      for (const r of joined) assert.equal(r.exitCode, 0, r.stderr)
      const attempts = joined.map((r) => JSON.parse(r.stdout).attempts as number)
      console.log(`# ${kind}: 20 concurrent joins took ${attempts.reduce((a, b) => a + b, 0)} read-update rounds (max ${Math.max(...attempts)})`)

      const zone = transfer(server.port, key)
      const expected = [
        ...Array.from({length: HOSTS}, (_, i) => `_v1._web._tcp.${Z} 0 0 8080 10-0-1-${i + 1}.${Z}.`),
        ...Array.from({length: HOSTS}, (_, i) => `10-0-1-${i + 1}._api._tcp.${Z} 0 0 9000 10-0-1-${i + 1}.${Z}.`),
      ].sort()
      assert.deepEqual(srvValues(zone), expected)
      assert.deepEqual(checkInvariants(Z, parseZoneFile(zone, Z).records), [])
      const file = join(dir, 'transferred.zone')
      await writeFile(file, zone)
      const check =
        kind === 'bind' ? spawnSync('named-checkzone', ['-i', 'full', Z, file], {encoding: 'utf8'}) : spawnSync('kzonecheck', ['-o', Z, file], {encoding: 'utf8'})
      assert.equal(check.status, 0, check.stdout + check.stderr)

      const left = await each('leave')
      for (const r of left) assert.equal(r.exitCode, 0, r.stderr)
      const after = transfer(server.port, key)
      const withoutSoa = (t: string): string[] => parseZoneFile(t, Z).records.filter((r) => r.type !== 'SOA').map((r) => `${r.name} ${r.type} ${r.value}`).sort()
      assert.deepEqual(withoutSoa(after), withoutSoa(before), 'leave removed exactly what join added')
    })

    it('a zone larger than one transfer message is read whole (every message\'s TSIG checked)', async () => {
      const big = await mkdtemp(join(tmpdir(), `dnssd-rfc2136-${kind}-big-`))
      let records = ''
      for (let i = 0; i < 3000; i++) records += `hand${i}.${Z}. 300 IN TXT "${'x'.repeat(40)}"\n`
      const bigKey = await makeKey(big)
      const primary = kind === 'bind' ? await startBindPrimary(big, Z, bigKey, records) : await startKnotPrimary(big, Z, bigKey, records)
      try {
        const args = ['--provider', 'rfc2136', '--server', `127.0.0.1:${primary.port}`, '--tsig-key-file', bigKey.file, '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.4.1', '--port', '80', '--verbose']
        const r = await runCli(['join', ...args])
        assert.equal(r.exitCode, 0, r.stderr)
        assert.match(r.stderr, /AXFR example\.com: 30\d\d records/)
        const zone = transfer(primary.port, bigKey)
        assert.equal(parseZoneFile(zone, Z).records.filter((x) => x.name.startsWith('hand')).length, 3000, 'hand-made records untouched')
        assert.deepEqual(checkInvariants(Z, parseZoneFile(zone, Z).records), [])
      } finally {
        await primary.stop()
        await rm(big, {recursive: true, force: true})
      }
    })

    it('join twice changes nothing the second time (one read, no update), TXT escapes and IPv6 included', async () => {
      const before = transfer(server.port, key)
      for (const [service, ip] of [
        ['_v1._web._tcp', '10.0.2.1'],
        ['_http._tcp', '2001:db8::5'],
      ]) {
        const args = [...base, '--service', service, '--ip', ip, '--port', '80', '--txt', 'path=/a b"c\\d', '--txt', 'note=größe', '--txt', 'tls', '--json', '--verbose']
        const first = await runCli(['join', ...args])
        assert.equal(first.exitCode, 0, first.stderr)
        assert.equal((first.stderr.match(/rfc2136: call UPDATE/g) ?? []).length, 1, 'one UPDATE uncontended')
        const again = await runCli(['join', ...args])
        assert.equal(again.exitCode, 0, again.stderr)
        assert.deepEqual(JSON.parse(again.stdout).changes, [], 'the values read back equal the values written')
        assert.equal((again.stderr.match(/rfc2136: call AXFR/g) ?? []).length, 1)
        assert.equal((again.stderr.match(/rfc2136: call UPDATE/g) ?? []).length, 0)
        const left = await runCli(['leave', ...args])
        assert.equal(left.exitCode, 0, left.stderr)
      }
      const after = transfer(server.port, key)
      const withoutSoa = (t: string): string[] => parseZoneFile(t, Z).records.filter((r) => r.type !== 'SOA').map((r) => `${r.name} ${r.type} ${r.value}`).sort()
      assert.deepEqual(withoutSoa(after), withoutSoa(before))
    })

    it('a key with the wrong secret is refused: exit 4, what to fix, no secret in the output', async () => {
      const wrong = await wrongKey(dir, key)
      const r = await runCli(['join', ...base.slice(0, 4), '--tsig-key-file', wrong.file, '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.3.1', '--port', '80'])
      assert.equal(r.exitCode, 4, r.stderr)
      assert.match(r.stderr, /BADSIG|BADKEY|NOTAUTH/)
      assert.match(r.stderr, new RegExp(key.name))
      for (const secret of [wrong.secret, key.secret]) assert.ok(!(r.stdout + r.stderr).includes(secret), 'secret in output')
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    })

    it('the grant `dnssd policy rfc2136` prints (and this server runs) refuses what dnssd never writes', async (t) => {
      const skipNsupdate = requireTool('nsupdate')
      if (skipNsupdate) return t.skip(skipNsupdate)
      const printed = await runCli(['policy', 'rfc2136', '--zone', Z, '--tsig-key-file', key.file, '--server-type', kind])
      assert.equal(printed.exitCode, 0, printed.stderr)
      const policy = {zone: Z, keyName: key.name, algorithm: 'hmac-sha256'}
      assert.ok(printed.stdout.includes(kind === 'bind' ? bindZonePolicy(policy) : knotAcl(policy)), printed.stdout)
      assert.ok(!printed.stdout.includes(key.secret))
      const nsupdate = (line: string) =>
        spawnSync('nsupdate', ['-y', `hmac-sha256:${key.name}:${key.secret}`], {input: `server 127.0.0.1 ${server.port}\nzone ${Z}\n${line}\nsend\n`, encoding: 'utf8'})
      const ns = nsupdate(`update add ${Z}. 60 NS evil.${Z}.`)
      assert.notEqual(ns.status, 0)
      // BIND answers REFUSED; Knot answers NOTAUTH with TSIG error BADKEY when its ACL denies.
      assert.match(ns.stdout + ns.stderr, /REFUSED|NOTAUTH/)
      const srv = nsupdate(`update add x._tcp.${Z}. 60 SRV 0 0 1 h.${Z}.`)
      assert.equal(srv.status, 0, srv.stdout + srv.stderr)
      assert.equal(nsupdate(`update delete x._tcp.${Z}. SRV`).status, 0)
    })

    it('--dry-run reads and shows the guarded UPDATE without sending it; list reads by one transfer', async () => {
      const before = transfer(server.port, key)
      const dry = await runCli(['join', ...base, '--service', '_v1._web._tcp', '--ip', '10.0.5.1', '--port', '80', '--dry-run', '--json', '--verbose'])
      assert.equal(dry.exitCode, 0, dry.stderr)
      const out = JSON.parse(dry.stdout)
      assert.equal(out.changes.length, 7)
      assert.equal((dry.stderr.match(/rfc2136: call UPDATE/g) ?? []).length, 0)
      assert.equal(transfer(server.port, key), before, 'nothing was sent')
      assert.equal((await runCli(['join', ...base, '--service', '_v1._web._tcp', '--ip', '10.0.5.1', '--port', '80'])).exitCode, 0)
      const list = await runCli(['list', ...base, '--json', '--verbose'])
      assert.equal(list.exitCode, 0, list.stderr)
      assert.equal((list.stderr.match(/rfc2136: call AXFR/g) ?? []).length, 1)
      const services = JSON.parse(list.stdout).services as {type: string; instances: {name: string}[]}[]
      assert.ok(services.some((s) => s.instances.some((i) => i.name.startsWith('_v1._web._tcp'))), list.stdout)
      assert.equal((await runCli(['leave', ...base, '--service', '_v1._web._tcp', '--ip', '10.0.5.1', '--port', '80'])).exitCode, 0)
    })

    it('a zone the server is not primary for: exit 4 naming --zone', async () => {
      const r = await runCli(['join', ...base.slice(0, 6), '--zone', 'not-here.test', '--service', '_v1._web._tcp', '--ip', '10.0.3.3', '--port', '80'])
      assert.equal(r.exitCode, 4, r.stderr)
      assert.match(r.stderr, /not-here\.test.*--zone/)
    })

    it('an unsigned update is refused with exit 4', async () => {
      const r = await runCli(['join', '--provider', 'rfc2136', '--server', `127.0.0.1:${server.port}`, '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.3.2', '--port', '80'])
      assert.equal(r.exitCode, 4, r.stderr)
      assert.match(r.stderr, /refused/i)
    })
  })
}

describe('rfc2136 settings are checked before anything is sent', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnssd-rfc2136-input-'))
  })
  after(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  const join_ = (extra: string[], env?: NodeJS.ProcessEnv) =>
    runCli(['join', '--provider', 'rfc2136', '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.0.1', '--port', '80', ...extra], {env: cleanEnv(env)})

  it('no --server, two servers, a bad port: exit 2 naming --server', async () => {
    for (const [extra, env] of [[[], {}], [[], {DNSSD_SERVER: '127.0.0.1:1 127.0.0.1:2'}], [['--server', '127.0.0.1:70000'], {}]] as const) {
      const r = await join_([...extra], {...env})
      assert.equal(r.exitCode, 2, r.stderr)
      assert.match(r.stderr, /--server/)
    }
  })

  it('a malformed or missing key file: exit 2, the secret never echoed', async () => {
    const secret = 'c2VjcmV0LXRoYXQtbXVzdC1ub3QtYmUtcHJpbnRlZA=='
    const bad = join(dir, 'bad.key')
    await writeFile(bad, `key "k" { algorithm hmac-md5; secret "${secret}"; };\n`)
    const broken = join(dir, 'broken.key')
    await writeFile(broken, `key "k" { algorithm hmac-sha256; secret "${secret}!"; };\n`)
    for (const file of [bad, broken, join(dir, 'missing.key')]) {
      const r = await join_(['--server', '127.0.0.1:53', '--tsig-key-file', file])
      assert.equal(r.exitCode, 2, r.stderr)
      assert.match(r.stderr, /--tsig-key-file/)
      assert.ok(!r.stderr.includes(secret.slice(0, 12)), r.stderr)
    }
  })

  it('a primary that refuses connections or never answers: retried until --timeout, then exit 5', async () => {
    const closed = await freePort()
    const refused = await join_(['--server', `127.0.0.1:${closed}`, '--timeout', '1'])
    assert.equal(refused.exitCode, 5, refused.stderr)
    assert.match(refused.stderr, /ECONNREFUSED.*nothing was changed/)
    const silent = net.createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as net.AddressInfo).port
      const r = await join_(['--server', `127.0.0.1:${port}`, '--timeout', '1'])
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /deadline/)
    } finally {
      silent.close()
    }
  })

  it('an update that keeps conflicting (YXRRSET) is re-read and retried until --timeout, then exit 5', async () => {
    // A local stand-in primary: a one-SOA zone by AXFR, and YXRRSET to every UPDATE.
    const soa = `ns1.${Z}. hostmaster.${Z}. 1 3600 600 86400 60`
    let updates = 0
    let transfers = 0
    const stand = net.createServer((socket) => {
      let buf = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk])
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0))
          buf = buf.subarray(2 + msg.length)
          const opcode = (msg.readUInt16BE(2) >> 11) & 0xf
          const questionEnd = 12 + nameWire(Z).length + 4
          const header = Buffer.from(msg.subarray(0, 12))
          let reply: Buffer
          if (opcode === 5) {
            updates++
            header.writeUInt16BE((5 << 11) | 0x8000 | 7, 2) // YXRRSET
            header.writeUInt16BE(0, 6)
            header.writeUInt16BE(0, 8)
            header.writeUInt16BE(0, 10)
            reply = Buffer.concat([header, msg.subarray(12, questionEnd)])
          } else {
            transfers++
            const rr = Buffer.concat([nameWire(Z), Buffer.from([0, 6, 0, 1, 0, 0, 0, 60]), Buffer.alloc(2)])
            const rdata = valueToRdata('SOA', soa)
            rr.writeUInt16BE(rdata.length, rr.length - 2)
            header.writeUInt16BE(0x8400, 2)
            header.writeUInt16BE(2, 6)
            reply = Buffer.concat([header, msg.subarray(12, questionEnd), rr, rdata, rr, rdata])
          }
          const framed = Buffer.alloc(2)
          framed.writeUInt16BE(reply.length)
          socket.write(Buffer.concat([framed, reply]))
        }
      })
      socket.on('error', () => socket.destroy())
    })
    await new Promise<void>((resolve) => stand.listen(0, '127.0.0.1', resolve))
    try {
      const port = (stand.address() as net.AddressInfo).port
      const r = await join_(['--server', `127.0.0.1:${port}`, '--timeout', '2', '--verbose'])
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /YXRRSET/)
      assert.match(r.stderr.trim().split('\n').at(-1)!, /deadline.*conflicting.*nothing was changed/)
      assert.ok(updates >= 2 && transfers === updates, `each attempt reads again before updating (${transfers} transfers, ${updates} updates)`)
    } finally {
      stand.close()
    }
  })

  it('templates carry --server and --tsig-key-file to join and leave; rfc2136 without --server is exit 2', async () => {
    const args = ['template', 'systemd', '--zone', Z, '--service', '_v1._web._tcp', '--port', '80', '--provider', 'rfc2136']
    const r = await runCli([...args, '--server', '10.0.0.53', '--tsig-key-file', '/etc/dnssd/dnssd.key'])
    assert.equal(r.exitCode, 0, r.stderr)
    for (const verb of ['join', 'leave']) {
      assert.match(r.stdout, new RegExp(`dnssd ${verb} .*--provider=rfc2136 --server=10\\.0\\.0\\.53:53 --tsig-key-file=/etc/dnssd/dnssd\\.key`))
    }
    const missing = await runCli(args)
    assert.equal(missing.exitCode, 2)
    assert.match(missing.stderr, /--server/)
    const relative = await runCli([...args, '--server', '10.0.0.53', '--tsig-key-file', 'dnssd.key'])
    assert.equal(relative.exitCode, 2)
    assert.match(relative.stderr, /--tsig-key-file.*absolute/)
  })
})
