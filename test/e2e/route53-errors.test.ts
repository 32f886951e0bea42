/**
 * Route 53 refusals (exit 4 with the next action), zone choice and the
 * deadline (exit 5), through the BUILT CLI against the local endpoint.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {type Endpoint, nonApex, startEndpoint} from '../helpers/route53.js'
import {deadlineBoundMs} from '../helpers/wait.js'

const R53 = ['--provider', 'route53', '--zone', 'example.com']

describe('route53 refusals', () => {
  let ep: Endpoint
  before(async () => {
    ep = await startEndpoint()
  })
  after(async () => ep.stop())

  const run = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => runCli([cmd, ...R53, ...args], {env: ep.env(extra)})

  it('a pool past what one change batch can swap is refused whole with exit 2 and the numbers; nothing changes', async () => {
    // Its own endpoint: the 400 seeded values must not reach the other tests' zone.
    const own = await startEndpoint()
    try {
      // 400 members already: a 401st SRV value would exceed Route 53's 400 values per record set.
      const srv = Array.from({length: 400}, (_, i) => `0 0 8080 m${i}.big.example.com.`)
      own.fake.seed(own.zoneId, '_v1._big._tcp.example.com.', 'SRV', 60, srv)
      const before = own.fake.records(own.zoneId)
      const changesBefore = own.fake.count('ChangeResourceRecordSets')
      const r = await runCli(['join', ...R53, '--zone-id', own.zoneId, '-s', '_v1._big._tcp', '-p', '8080', '--ip', '10.0.9.1'], {env: own.env()})
      assert.equal(r.exitCode, 2, r.stderr)
      assert.match(r.stderr, /^dnssd: --service: _v1\._big\._tcp\.example\.com\. SRV would hold 401 values; Route 53 allows at most 400 in one record set; nothing was changed/)
      assert.equal(r.stderr.trim().split('\n').length, 1)
      assert.equal(own.fake.count('ChangeResourceRecordSets'), changesBefore)
      assert.deepEqual(own.fake.records(own.zoneId), before)
    } finally {
      await own.stop()
    }
  })

  it('refuses with exit 4 and the next action: credentials, AccessDenied, NoSuchHostedZone, no zone', async () => {
    const join = ['-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.7.1']
    const noCreds = await run('join', ['--zone-id', ep.zoneId, ...join], {AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: ''})
    assert.equal(noCreds.exitCode, 4, noCreds.stderr)
    assert.match(noCreds.stderr, /no AWS credentials found: set AWS_ACCESS_KEY_ID/)

    ep.fake.options.deniedKeys.add('AKIADENIED')
    const denied = await run('join', ['--zone-id', ep.zoneId, ...join], {AWS_ACCESS_KEY_ID: 'AKIADENIED'})
    assert.equal(denied.exitCode, 4, denied.stderr)
    assert.match(denied.stderr, /denied ListResourceRecordSets.*dnssd policy route53 --zone-id/)
    assert.doesNotMatch(denied.stderr + denied.stdout, /test-secret-not-real/)

    const missing = await run('join', ['--zone-id', 'ZNOSUCHZONE1', ...join, '--json'])
    assert.equal(missing.exitCode, 4, missing.stdout)
    assert.match(JSON.parse(missing.stdout).error.message, /no hosted zone with id ZNOSUCHZONE1: check --zone-id/)

    const byName = await runCli(['join', '--provider', 'route53', '--zone', 'nothere.example', ...join], {env: ep.env()})
    assert.equal(byName.exitCode, 4, byName.stderr)
    assert.match(byName.stderr, /no hosted zone named nothere.example.*pass --zone-id/)

    const badId = await run('join', ['--zone-id', 'not-an-id', ...join])
    assert.equal(badId.exitCode, 2)
    assert.deepEqual(nonApex(ep), [])
  })

  it('tells a public and a private zone of one name apart', async () => {
    const priv = ep.fake.createZone('twins.example', {private: true})
    const pub = ep.fake.createZone('twins.example')
    ep.fake.createZone('twins.example.org')
    const args = ['--provider', 'route53', '--zone', 'twins.example', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.8.1']
    const both = await runCli(['join', ...args], {env: ep.env()})
    assert.equal(both.exitCode, 2, both.stderr)
    assert.ok(both.stderr.includes(priv.id) && both.stderr.includes(pub.id), both.stderr)
    assert.match(both.stderr, /--private or --public/)
    const onlyPrivate = await runCli(['join', ...args, '--private'], {env: ep.env()})
    assert.equal(onlyPrivate.exitCode, 0, onlyPrivate.stderr)
    assert.equal(ep.fake.records(priv.id).filter((r) => r.type === 'SRV').length, 1)
    assert.equal(ep.fake.records(pub.id).filter((r) => r.type === 'SRV').length, 0)
  })

  it('dnssd policy route53 prints the least-privilege policy', async () => {
    const r = await runCli(['policy', 'route53', '--zone-id', 'Z0123456789ABCDEFGHIJ', '--zone', 'example.com', '--service', '_v1._web._tcp'])
    assert.equal(r.exitCode, 0, r.stderr)
    const policy = JSON.parse(r.stdout)
    assert.equal(policy.Version, '2012-10-17')
    assert.ok(policy.Statement.every((s: any) => s.Resource !== '*'))
    const missing = await runCli(['policy', 'route53'])
    assert.equal(missing.exitCode, 2)
  })
})

describe('route53 deadline', () => {
  it('leave against an endpoint that never answers exits 5 by --timeout + 1 s and says what is left', async () => {
    const ep = await startEndpoint()
    try {
      ep.fake.hang = true
      const bound = await deadlineBoundMs(2)
      const started = Date.now()
      const r = await runCli(['leave', ...R53, '--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', '10.0.9.1', '--timeout', '2'], {env: ep.env()})
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 5, r.stderr)
      assert.ok(elapsed <= bound, `took ${elapsed} ms (bound ${bound} ms)`)
      assert.match(r.stderr, /deadline.*nothing was changed.*run the same command again/)

      // Hanging on the change itself: the batch may or may not have landed.
      ep.fake.hang = false
      const j = await runCli(['join', ...R53, '--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '1', '--ip', '10.0.9.1'], {env: ep.env()})
      assert.equal(j.exitCode, 0, j.stderr)
      ep.fake.hangOps.add('ChangeResourceRecordSets')
      const t1 = Date.now()
      const l = await runCli(['leave', ...R53, '--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--ip', '10.0.9.1', '--timeout', '2'], {env: ep.env()})
      assert.equal(l.exitCode, 5, l.stderr)
      assert.ok(Date.now() - t1 <= bound, `took ${Date.now() - t1} ms (bound ${bound} ms)`)
      assert.match(l.stderr, /remove SRV 0 0 1 10-0-9-1\.example\.com\..*may or may not have been applied/)
    } finally {
      await ep.stop()
    }
  })
})
