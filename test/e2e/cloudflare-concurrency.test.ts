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
    fake = await new FakeCloudflare({rateLimitEvery: 10, retryAfter: 1}).start()
    handMade = fake.seed(ZONE, {type: 'A', name: 'www', content: '203.0.113.99', ttl: 300}).id
  })
  after(() => fake.close())

  const run = (action: 'join' | 'leave', ip: string) =>
    runCli(
      [action, '--provider', 'cloudflare', '-z', ZONE, '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip, '--a-record', 'www', '--timeout', '150', '-v'],
      {env: cleanEnv({CLOUDFLARE_API_TOKEN: FAKE_TOKEN, CLOUDFLARE_BASE_URL: fake.url}), timeoutMs: 170_000},
    )

  it('joins: 50 SRV values, no duplicates, one PTR and one TXT, every target has an address', async () => {
    const results = await Promise.all(ips.map((ip) => run('join', ip)))
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
    const results = await Promise.all(ips.map((ip) => run('leave', ip)))
    for (const r of results) assert.equal(r.exitCode, 0, r.stderr.split('\n').slice(-5).join('\n'))
    assert.deepEqual(fake.records().filter((r) => r.comment?.startsWith('dnssd:')).map((r) => `${r.name} ${r.type} ${r.content}`), [])
    assert.deepEqual(fake.records().map((r) => r.id), [handMade])
    assert.deepEqual(checkInvariants(ZONE, fake.values()), [])
  })

  it('the whole pool leaves while two new members join: the newcomers stay browsable', async () => {
    const old = ips.slice(0, 10)
    const newcomers = ['10.9.0.1', '10.9.0.2']
    for (const r of await Promise.all(old.map((ip) => run('join', ip)))) assert.equal(r.exitCode, 0, r.stderr)
    const results = await Promise.all([...old.map((ip) => run('leave', ip)), ...newcomers.map((ip) => run('join', ip))])
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
