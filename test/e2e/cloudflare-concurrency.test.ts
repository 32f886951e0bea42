/**
 * DESIGN §1 invariant 5 on Cloudflare, which has no compare-and-swap: 50
 * members join one pool at once (every 10th request throttled with 429 971),
 * then all 50 leave at once, through the BUILT CLI and the real SDK.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {FAKE_TOKEN, FakeCloudflare} from '../fakes/cloudflare.js'
import {cleanEnv, runCli} from '../helpers/cli.js'

const ZONE = 'example.com'
const N = 50
const ips = Array.from({length: N}, (_, i) => `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`)

describe('cloudflare: 50 concurrent joins, then 50 concurrent leaves', () => {
  let fake: FakeCloudflare
  let handMade: string
  before(async () => {
    // The account quota (1,200 requests per 5 minutes) is off here: this file is about contention, and
    // 50 members writing one pool at once cost 8-10 requests each (the losers of every round read and
    // resend), so its three phases, within one window, used 960-1,060 requests on a 2-core machine, more
    // as load grows (slower members overlap more, so more of them lose each round). Past 1,200 the
    // endpoint blocks every request for 5 minutes (retry-after 300), beyond --timeout: exit 5, a failure
    // that says nothing about correctness. The quota itself is what the coalesced apply answers
    // (cloudflare-fleet.test.ts, README "Cloudflare limits for fleets").
    fake = await new FakeCloudflare({rateLimitEvery: 10, retryAfter: 1, rateLimit: false}).start()
    handMade = fake.seed(ZONE, {type: 'A', name: 'www', content: '203.0.113.99', ttl: 300}).id
  })
  after(() => fake.close())

  const run = async (action: 'join' | 'leave', ip: string) => {
    const started = Date.now()
    const r = await runCli(
      [action, '--provider', 'cloudflare', '-z', ZONE, '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip, '--a-record', 'www', '--timeout', '150', '-v'],
      {env: cleanEnv({CLOUDFLARE_API_TOKEN: FAKE_TOKEN, CLOUDFLARE_BASE_URL: fake.url}), timeoutMs: 170_000},
    )
    return {...r, ms: Date.now() - started}
  }

  /** What a phase cost, printed so a slow or failed run shows where its time and requests went. */
  const report = (phase: string, from: number, results: {stderr: string; ms: number; exitCode: number}[]): void => {
    const log = fake.log.slice(from)
    const conflicts = results.map((r) => (r.stderr.match(/the batch lost to a concurrent writer/g) ?? []).length)
    console.log(
      `# ${phase}: ${log.length} requests (${log.filter((e) => e.status === 429).length} throttled), ${conflicts.reduce((a, b) => a + b, 0)} conflicts (at most ${Math.max(...conflicts)} for one member), ` +
        `${fake.log.length} since the start; slowest member ${(Math.max(...results.map((r) => r.ms)) / 1000).toFixed(1)} s; exit codes ${[...new Set(results.map((r) => r.exitCode))].join(',')}`,
    )
  }

  it('joins: 50 SRV values, no duplicates, one PTR and one TXT, every target has an address', async () => {
    const from = fake.log.length
    const results = await Promise.all(ips.map((ip) => run('join', ip)))
    report('50 joins', from, results)
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr.split('\n').slice(-5).join('\n'))
    assert.ok(fake.log.some((e) => e.status === 429), 'throttling was injected')
    const values = fake.values()
    assert.deepEqual(checkInvariants(ZONE, values), [])
    const srv = values.filter((v) => v.type === 'SRV' && v.name === '_v1._web._tcp.example.com')
    assert.equal(srv.length, N)
    assert.deepEqual(srv.map((v) => v.value).sort(), ips.map((ip) => `0 0 8080 ${ip.replaceAll('.', '-')}.example.com.`).sort())
    const keys = fake.records().map((r) => `${r.type} ${r.name} ${r.content} ${r.priority ?? ''}`)
    assert.equal(new Set(keys).size, keys.length, 'no duplicate records')
    assert.equal(values.filter((v) => v.type === 'PTR' && v.name === '_web._tcp.example.com').length, 1)
    assert.equal(values.filter((v) => v.type === 'PTR' && v.name === '_services._dns-sd._udp.example.com').length, 1)
    assert.equal(values.filter((v) => v.type === 'TXT' && v.name === '_v1._web._tcp.example.com').length, 1)
    assert.equal(values.filter((v) => v.type === 'A' && v.name === 'www.example.com').length, N + 1)
    assert.ok(fake.records().some((r) => r.id === handMade))
  })

  it('leaves: nothing dnssd wrote remains, the hand-made A survives', async () => {
    const from = fake.log.length
    const results = await Promise.all(ips.map((ip) => run('leave', ip)))
    report('50 leaves', from, results)
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr.split('\n').slice(-5).join('\n'))
    assert.deepEqual(fake.records().filter((r) => r.comment?.startsWith('dnssd:')).map((r) => `${r.name} ${r.type} ${r.content}`), [])
    assert.deepEqual(fake.records().map((r) => r.id), [handMade])
    assert.deepEqual(checkInvariants(ZONE, fake.values()), [])
  })

  it('the whole pool leaves while two new members join: the newcomers stay browsable', async () => {
    const old = ips.slice(0, 10)
    const newcomers = ['10.9.0.1', '10.9.0.2']
    for (const r of await Promise.all(old.map((ip) => run('join', ip)))) assert.equal(r.exitCode, 0, r.stderr)
    const from = fake.log.length
    const results = await Promise.all([...old.map((ip) => run('leave', ip)), ...newcomers.map((ip) => run('join', ip))])
    report('10 leaves + 2 joins', from, results)
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr.split('\n').slice(-5).join('\n'))
    const values = fake.values()
    assert.deepEqual(checkInvariants(ZONE, values), [])
    assert.deepEqual(values.filter((v) => v.type === 'SRV').map((v) => v.value).sort(), ['0 0 8080 10-9-0-1.example.com.', '0 0 8080 10-9-0-2.example.com.'])
    assert.deepEqual(values.filter((v) => v.type === 'PTR').map((v) => `${v.name} ${v.value}`).sort(), [
      '_services._dns-sd._udp.example.com _web._tcp.example.com.',
      '_web._tcp.example.com _v1._web._tcp.example.com.',
    ])
    assert.equal(values.filter((v) => v.type === 'TXT' && v.name === '_v1._web._tcp.example.com').length, 1)
  })
})
