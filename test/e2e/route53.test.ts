/**
 * The Route 53 provider through the BUILT CLI and the REAL SDK, against the
 * local Route 53-compatible endpoint (AWS_ENDPOINT_URL_ROUTE_53).
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {runCli} from '../helpers/cli.js'
import {type Endpoint, callsIn, nonApex, startEndpoint} from '../helpers/route53.js'

const R53 = ['--provider', 'route53', '--zone', 'example.com']

describe('route53 provider', () => {
  let ep: Endpoint
  before(async () => {
    ep = await startEndpoint()
  })
  after(async () => ep.stop())

  const run = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => runCli([cmd, ...R53, ...args], {env: ep.env(extra)})
  const invariants = () => checkInvariants('example.com', ep.fake.records(ep.zoneId))

  it('joins, lists and leaves a pool (_v1._web._tcp) within the call budget', async () => {
    const j1 = await run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '--txt', 'path=/', '--verbose'])
    assert.equal(j1.exitCode, 0, j1.stderr)
    assert.ok(callsIn(j1.stderr) <= 2, `join with --zone-id made ${callsIn(j1.stderr)} calls:\n${j1.stderr}`)
    const j2 = await run('join', ['-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.2', '--verbose'])
    assert.equal(j2.exitCode, 0, j2.stderr)
    assert.ok(callsIn(j2.stderr) <= 3, `join by zone name made ${callsIn(j2.stderr)} calls:\n${j2.stderr}`)
    assert.match(j2.stderr, /route53: call ListHostedZonesByName/)
    const srv = ep.fake.records(ep.zoneId).filter((r) => r.type === 'SRV').map((r) => r.value).sort()
    assert.deepEqual(srv, ['0 0 8080 10-0-0-1.example.com.', '0 0 8080 10-0-0-2.example.com.'])
    assert.deepEqual(invariants(), [])

    const list = await run('list', ['--zone-id', ep.zoneId, '--json'])
    assert.equal(list.exitCode, 0, list.stderr)
    const inv = JSON.parse(list.stdout)
    assert.equal(inv.services[0].type, '_web._tcp.example.com')
    assert.deepEqual(inv.services[0].instances[0].targets.map((t: any) => t.addresses[0]).sort(), ['10.0.0.1', '10.0.0.2'])
    assert.deepEqual(inv.services[0].instances[0].txt, {path: '/'})

    for (const ip of ['10.0.0.1', '10.0.0.2']) {
      const l = await run('leave', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', ip, '--verbose'])
      assert.equal(l.exitCode, 0, l.stderr)
      assert.ok(callsIn(l.stderr) <= 2, l.stderr)
    }
    assert.deepEqual(nonApex(ep), [])
  })

  it('joins and leaves the plain RFC 6763 form (_http._tcp) with a round-robin A record', async () => {
    for (const ip of ['10.0.1.1', '10.0.1.2']) {
      const j = await run('join', ['--zone-id', ep.zoneId, '-s', '_http._tcp', '-p', '80', '--ip', ip, '--a-record', 'www', '--txt', 'note=say "hi" \\o/'])
      assert.equal(j.exitCode, 0, j.stderr)
    }
    const recs = ep.fake.records(ep.zoneId)
    assert.deepEqual(recs.filter((r) => r.name === 'www.example.com').map((r) => r.value).sort(), ['10.0.1.1', '10.0.1.2'])
    assert.deepEqual(recs.filter((r) => r.name === '_http._tcp.example.com').map((r) => r.value).sort(), [
      '10-0-1-1._http._tcp.example.com.',
      '10-0-1-2._http._tcp.example.com.',
    ])
    // TXT on the wire: quoted, with \" and \\ escapes.
    assert.deepEqual(recs.filter((r) => r.name === '10-0-1-1._http._tcp.example.com' && r.type === 'TXT').map((r) => r.value), ['"note=say \\"hi\\" \\\\o/"'])
    assert.deepEqual(invariants(), [])
    const list = await run('list', ['--zone-id', ep.zoneId, '--service', '_http._tcp', '--json'])
    assert.deepEqual(JSON.parse(list.stdout).services[0].instances[0].txt, {note: 'say "hi" \\o/'})

    const l1 = await run('leave', ['--zone-id', ep.zoneId, '-s', '_http._tcp', '--ip', '10.0.1.1'])
    assert.equal(l1.exitCode, 0, l1.stderr)
    assert.deepEqual(ep.fake.records(ep.zoneId).filter((r) => r.name === 'www.example.com').map((r) => r.value), ['10.0.1.2'])
    const l2 = await run('leave', ['--zone-id', ep.zoneId, '-s', '_http._tcp', '--ip', '10.0.1.2'])
    assert.equal(l2.exitCode, 0, l2.stderr)
    assert.deepEqual(nonApex(ep), [])

    // IPv6: AAAA at the address-derived host; Route 53 may return AAAA in another spelling.
    const j6 = await run('join', ['--zone-id', ep.zoneId, '-s', '_http._tcp', '-p', '80', '--ip', '2001:DB8::7'])
    assert.equal(j6.exitCode, 0, j6.stderr)
    assert.deepEqual(ep.fake.records(ep.zoneId).filter((r) => r.type === 'AAAA').map((r) => `${r.name} ${r.value}`), ['2001-db8--7.example.com 2001:db8::7'])
    const l6 = await run('leave', ['--zone-id', ep.zoneId, '-s', '_http._tcp', '--ip', '2001:db8::7'])
    assert.equal(l6.exitCode, 0, l6.stderr)
    assert.deepEqual(nonApex(ep), [])
  })

  it('is idempotent and never touches values it did not write', async () => {
    // Someone else's values at names dnssd shares, in forms Route 53 returns verbatim.
    ep.fake.seed(ep.zoneId, 'www.example.com', 'A', 300, ['192.0.2.10'])
    ep.fake.seed(ep.zoneId, '_services._dns-sd._udp.example.com', 'PTR', 60, ['_printer._tcp.example.com'])
    ep.fake.seed(ep.zoneId, '_printer._tcp.example.com', 'TXT', 60, ['"hand \\"made\\"" "x"'])
    const args = ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.2.1', '--a-record', 'www', '--verbose']
    const first = await run('join', args)
    assert.equal(first.exitCode, 0, first.stderr)
    const snapshot = JSON.stringify(ep.fake.records(ep.zoneId))
    const again = await run('join', args)
    assert.equal(again.exitCode, 0, again.stderr)
    assert.equal(callsIn(again.stderr), 1, 'a repeated join only reads')
    assert.match(again.stdout, /already a member/)
    assert.equal(JSON.stringify(ep.fake.records(ep.zoneId)), snapshot)
    const www = ep.fake.records(ep.zoneId).filter((r) => r.name === 'www.example.com')
    assert.deepEqual(www.map((r) => [r.value, r.ttl]).sort(), [['10.0.2.1', 300], ['192.0.2.10', 300]])

    for (let i = 0; i < 2; i++) {
      const l = await run('leave', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', '10.0.2.1'])
      assert.equal(l.exitCode, 0, l.stderr)
    }
    const left = nonApex(ep).map((r) => `${r.name} ${r.type} ${r.value}`).sort()
    assert.deepEqual(left, [
      '_printer._tcp.example.com TXT "hand \\"made\\"" "x"',
      '_services._dns-sd._udp.example.com PTR _printer._tcp.example.com',
      'www.example.com A 192.0.2.10',
    ])
    ep.fake.zones.get(ep.zoneId)!.rrsets.splice(2)
  })

  it('--dry-run prints the ChangeBatch and sends nothing', async () => {
    const before = ep.fake.count('ChangeResourceRecordSets')
    const r = await run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.3.1', '--dry-run'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /"Action": "CREATE"/)
    assert.match(r.stdout, /"Name": "_v1\._web\._tcp\.example\.com\."/)
    assert.doesNotMatch(r.stdout, /UPSERT/)
    const json = await run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.3.1', '--dry-run', '--json'])
    assert.ok(JSON.parse(json.stdout).request.ChangeBatch.Changes.length >= 5)
    assert.equal(ep.fake.count('ChangeResourceRecordSets'), before)
    assert.deepEqual(nonApex(ep), [])
  })

  it('--wait polls GetChange until INSYNC and reports the time', async () => {
    ep.fake.options.insyncAfterMs = 800
    const r = await run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.4.1', '--wait', '--verbose'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /INSYNC on every name server after \d+\.\d s/)
    assert.match(r.stderr, /route53: call GetChange/)
    assert.doesNotMatch(r.stderr, /waiting for/, 'no spinner without a TTY')
    const l = await run('leave', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', '10.0.4.1', '--wait', '--json'])
    assert.equal(l.exitCode, 0, l.stderr)
    assert.ok(JSON.parse(l.stdout).inSyncMs >= 500)
    ep.fake.options.insyncAfterMs = 300
  })

  it('recovers from a response lost after commit, and from throttling, without duplicating', async () => {
    ep.fake.forced.push({kind: 'drop', op: 'ChangeResourceRecordSets'}, {kind: 'throttle'}, {kind: 'server', op: 'ListResourceRecordSets'})
    const r = await run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.5.1', '--verbose'])
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /fresh read shows it was applied/)
    assert.deepEqual(invariants(), [])
    ep.fake.forced.push({kind: 'prior', op: 'ChangeResourceRecordSets'})
    const l = await run('leave', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', '10.0.5.1', '--verbose'])
    assert.equal(l.exitCode, 0, l.stderr)
    assert.match(l.stderr, /PriorRequestNotComplete/)
    assert.deepEqual(nonApex(ep), [])
  })

  it('a read whose page ends between the SRV and the TXT of one instance keeps the SRV (the next page starts at that name again)', async () => {
    const join = (host: string, ip: string) => run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip, '--host', host])
    assert.equal((await join('zz1', '10.0.7.1')).exitCode, 0)
    // In Route 53's order: _web._tcp PTR, then these 298, then _v1._web._tcp SRV as the page's 300th set, its TXT on the next page.
    for (let i = 0; i < 298; i++) ep.fake.seed(ep.zoneId, `${1000 + i}._web._tcp.example.com`, 'A', 60, ['192.0.2.1'])
    const j = await join('zz2', '10.0.7.2')
    assert.equal(j.exitCode, 0, j.stderr)
    const srv = () => ep.fake.records(ep.zoneId).filter((r) => r.type === 'SRV').map((r) => r.value).sort()
    assert.deepEqual(srv(), ['0 0 8080 zz1.example.com.', '0 0 8080 zz2.example.com.'])
    for (const host of ['zz1', 'zz2']) {
      const l = await run('leave', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--host', host])
      assert.equal(l.exitCode, 0, l.stderr)
    }
    assert.deepEqual(invariants(), [])
    assert.deepEqual(nonApex(ep).filter((r) => !/^\d+\._web/.test(r.name)), [])
    ep.fake.zones.get(ep.zoneId)!.rrsets.splice(2)
  })

  it('reads a zone of more than one page (300 RRsets) for list', async () => {
    for (let i = 0; i < 320; i++) ep.fake.seed(ep.zoneId, `filler${i}.example.com`, 'A', 60, [`192.0.2.${i % 250}`])
    const j = await run('join', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.6.1', '--a-record', 'zz', '--verbose'])
    assert.equal(j.exitCode, 0, j.stderr)
    const list = await run('list', ['--zone-id', ep.zoneId, '--json', '--verbose'])
    assert.equal(list.exitCode, 0, list.stderr)
    assert.equal((list.stderr.match(/call ListResourceRecordSets/g) ?? []).length, 2)
    assert.equal(JSON.parse(list.stdout).services[0].instances[0].targets[0].addresses[0], '10.0.6.1')
    const l = await run('leave', ['--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', '10.0.6.1'])
    assert.equal(l.exitCode, 0, l.stderr)
    assert.equal(nonApex(ep).filter((r) => !r.name.startsWith('filler')).length, 0)
    ep.fake.zones.get(ep.zoneId)!.rrsets.splice(2)
  })
})
