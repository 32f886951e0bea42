/**
 * The Cloudflare provider through the BUILT CLI, against the local
 * Cloudflare-API-compatible endpoint (test/fakes/cloudflare.ts) that the real
 * SDK reaches through CLOUDFLARE_BASE_URL.
 */
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {FAKE_TOKEN, FakeCloudflare, withFakeCloudflare} from '../fakes/cloudflare.js'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {deadlineBoundMs, waitFor} from '../helpers/wait.js'

const ZONE = 'example.com'

const withFake = withFakeCloudflare

function env(fake: FakeCloudflare, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({CLOUDFLARE_API_TOKEN: FAKE_TOKEN, CLOUDFLARE_BASE_URL: fake.url, ...extra})
}

const cf = (fake: FakeCloudflare, args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runCli([...args, '--provider', 'cloudflare', '--zone', ZONE], {env: env(fake, extra)})

const calls = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes(': call '))
const marked = (fake: FakeCloudflare) => fake.records().filter((r) => r.comment?.startsWith('dnssd:'))

describe('cloudflare provider (e2e)', {concurrency: true}, () => {
  it('pool form: join, list and leave with a round-robin A; hand-made records survive', async () => {
    await withFake({}, async (fake) => {
      const handMade = fake.seed(ZONE, {type: 'A', name: 'www', content: '203.0.113.99', ttl: 300})
      const handTxt = fake.seed(ZONE, {type: 'TXT', name: '_dnssd.10-0-0-1', content: '"written by ops"'})
      for (const ip of ['10.0.0.1', '10.0.0.2']) {
        const r = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip, '--a-record', 'www'])
        assert.equal(r.exitCode, 0, r.stderr)
      }
      const values = fake.values()
      assert.deepEqual(checkInvariants(ZONE, values), [])
      assert.deepEqual(
        values.filter((v) => v.type === 'SRV').map((v) => v.value).sort(),
        ['0 0 8080 10-0-0-1.example.com.', '0 0 8080 10-0-0-2.example.com.'],
      )
      // SRV written through `data`, answered with content "weight port target".
      const srv = fake.records().find((r) => r.type === 'SRV')!
      assert.deepEqual(srv.data, {priority: 0, weight: 0, port: 8080, target: srv.data!.target})
      assert.equal(srv.content, `0 8080 ${srv.data!.target}`)
      assert.deepEqual(values.filter((v) => v.name === 'www.example.com').map((v) => v.value).sort(), ['10.0.0.1', '10.0.0.2', '203.0.113.99'])
      assert.equal(values.filter((v) => v.type === 'PTR' && v.name === '_web._tcp.example.com').length, 1)
      assert.equal(values.filter((v) => v.type === 'TXT' && v.name === '_v1._web._tcp.example.com').length, 1)

      const list = await cf(fake, ['list', '--json'])
      assert.equal(list.exitCode, 0, list.stderr)
      const inv = JSON.parse(list.stdout) as {services: {type: string; instances: {name: string; targets: {target: string; addresses: string[]}[]}[]}[]}
      assert.equal(inv.services[0]!.type, '_web._tcp.example.com')
      assert.deepEqual(inv.services[0]!.instances[0]!.targets.map((t) => t.addresses[0]).sort(), ['10.0.0.1', '10.0.0.2'])

      // Running join again changes nothing.
      const again = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '--a-record', 'www', '--json'])
      assert.equal(again.exitCode, 0, again.stderr)
      assert.equal((JSON.parse(again.stdout) as {changes: unknown[]}).changes.length, 0)

      for (const ip of ['10.0.0.2', '10.0.0.1']) {
        const r = await cf(fake, ['leave', '-s', '_v1._web._tcp', '--ip', ip, '--a-record', 'www'])
        assert.equal(r.exitCode, 0, r.stderr)
        assert.deepEqual(checkInvariants(ZONE, fake.values()), [])
      }
      assert.deepEqual(marked(fake), [])
      assert.deepEqual(fake.records().map((r) => r.id).sort(), [handMade.id, handTxt.id].sort())
    })
  })

  it('plain form with TXT and IPv6: join, list, leave; --verbose logs one line per request', async () => {
    await withFake({}, async (fake) => {
      const j = await cf(fake, ['join', '-s', '_http._tcp', '-p', '80', '--ip', '2001:DB8:0::7', '--txt', 'path=/', '--txt', 'tls', '-v'])
      assert.equal(j.exitCode, 0, j.stderr)
      assert.equal(calls(j.stderr).length, fake.log.length, 'one --verbose line per API request')
      assert.match(calls(j.stderr)[0]!, /^dnssd: cloudflare: call GET \/zones\?name=example\.com$/)
      const txt = fake.records().find((r) => r.type === 'TXT' && r.name === '2001-db8--7._http._tcp.example.com')!
      assert.equal(txt.content, '"path=/" "tls"', 'TXT is sent in the quoted multi-string form')
      const aaaa = fake.records().find((r) => r.type === 'AAAA')!
      assert.equal(aaaa.content, '2001:db8::7')
      assert.deepEqual(checkInvariants(ZONE, fake.values()), [])

      const list = await cf(fake, ['list', '--service', '_http._tcp'])
      assert.equal(list.exitCode, 0, list.stderr)
      assert.match(list.stdout, /2001-db8--7\._http\._tcp\s+2001-db8--7\.example\.com\s+0\s+0\s+80\s+2001:db8::7\s+path=\/ tls/)

      const before = fake.log.length
      const l = await cf(fake, ['leave', '-s', '_http._tcp', '--ip', '2001:db8::7', '-v'])
      assert.equal(l.exitCode, 0, l.stderr)
      assert.equal(calls(l.stderr).length, fake.log.length - before)
      assert.deepEqual(fake.records(), [])
    })
  })

  it('never deletes a record without the dnssd mark, even one dnssd once wrote', async () => {
    await withFake({}, async (fake) => {
      const otherPtr = fake.seed(ZONE, {type: 'PTR', name: '_web._tcp', content: 'printer._web._tcp.example.com'})
      const poolTxt = fake.seed(ZONE, {type: 'TXT', name: '_v1._web._tcp', content: '"owner=ops"', comment: 'managed by hand'})
      const j = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1'])
      assert.equal(j.exitCode, 0, j.stderr)
      // The pool's hand-made TXT is its metadata: join adds no second TXT.
      assert.equal(fake.records().filter((r) => r.type === 'TXT' && r.name === '_v1._web._tcp.example.com').length, 1)
      // Someone replaces dnssd's address record by an identical hand-made one.
      const mine = fake.records().find((r) => r.type === 'A')!
      const del = await fetch(`${fake.url}/zones/${fake.zoneId(ZONE)}/dns_records/${mine.id}`, {method: 'DELETE', headers: {authorization: `Bearer ${FAKE_TOKEN}`}})
      assert.equal(del.status, 200)
      const handA = fake.seed(ZONE, {type: 'A', name: '10-0-0-1', content: '10.0.0.1'})

      const l = await cf(fake, ['leave', '-s', '_v1._web._tcp', '--ip', '10.0.0.1'])
      assert.equal(l.exitCode, 0, l.stderr)
      assert.match(l.stdout, /note: kept 10-0-0-1\.example\.com A 10\.0\.0\.1: it has no dnssd: comment/)
      // The hand-made printer instance still needs the service-type entry, so dnssd keeps it.
      const left = fake.records().filter((r) => ![otherPtr.id, poolTxt.id, handA.id].includes(r.id))
      // Its compare-and-swap guard stays with it.
      assert.deepEqual(left.map((r) => `${r.name} ${r.type} ${r.content}`), [
        '_services._dns-sd._udp.example.com PTR _web._tcp.example.com',
        '_dnssd-cas._services._dns-sd._udp.example.com TXT "dnssd compare-and-swap guard"',
      ])
      assert.deepEqual(checkInvariants(ZONE, fake.values()).filter((p) => !p.includes('printer')), [])
    })
  })

  it('--dry-run reads but writes nothing and shows the requests', async () => {
    await withFake({}, async (fake) => {
      const r = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '--dry-run', '--json'])
      assert.equal(r.exitCode, 0, r.stderr)
      const out = JSON.parse(r.stdout) as {dryRun: boolean; changes: unknown[]; request: Record<string, {deletes: unknown[]; posts: {type: string; data?: unknown}[]}>}
      assert.equal(out.dryRun, true)
      assert.equal(out.changes.length, 7)
      const [label, body] = Object.entries(out.request)[0]!
      assert.match(label, /^POST \/zones\/[0-9a-f]{32}\/dns_records\/batch \(0 deletes, 11 posts\)$/)
      assert.deepEqual(body.posts.find((p) => p.type === 'SRV')!.data, {priority: 0, weight: 0, port: 8080, target: '10-0-0-1.example.com'})
      assert.deepEqual(fake.log.filter((e) => e.method !== 'GET'), [])
      assert.deepEqual(fake.records(), [])
    })
  })

  it('request budget: a join or leave is 3 requests (2 with --zone-id), a no-op re-join with --zone-id 1', async () => {
    await withFake({}, async (fake) => {
      const id = ['--zone-id', fake.zoneId(ZONE)]
      const count = async (args: string[]): Promise<number> => {
        const before = fake.log.length
        const r = await cf(fake, args)
        assert.equal(r.exitCode, 0, r.stderr)
        return fake.log.length - before
      }
      assert.equal(await count(['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '--a-record', 'www']), 3)
      assert.equal(await count(['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.2', '--a-record', 'www', ...id]), 2)
      assert.equal(await count(['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.2', '--a-record', 'www', ...id]), 1, 'no-op re-join')
      assert.equal(await count(['leave', '-s', '_v1._web._tcp', '--ip', '10.0.0.2', '--a-record', 'www']), 3)
      assert.equal(await count(['leave', '-s', '_v1._web._tcp', '--ip', '10.0.0.1', '--a-record', 'www', ...id]), 2)
      assert.deepEqual(fake.records(), [])
    })
  })

  it('--batch-size 5: one join goes as several batches in phase order, each within 5 operations; --dry-run shows them all', async () => {
    await withFake({maxBatch: 5}, async (fake) => {
      const args = ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '--a-record', 'www', '--batch-size', '5']
      const dry = await cf(fake, [...args, '--dry-run', '--json'])
      assert.equal(dry.exitCode, 0, dry.stderr)
      const request = (JSON.parse(dry.stdout) as {request: Record<string, {deletes: {id: string}[]; posts: {type: string; name: string}[]}>}).request
      const labels = Object.keys(request)
      assert.ok(labels.length > 2, labels.join('\n'))
      labels.forEach((label, k) => assert.match(label, new RegExp(`^POST /zones/[0-9a-f]{32}/dns_records/batch ${k + 1}/${labels.length} \\(\\d+ deletes, \\d+ posts\\)$`)))
      assert.ok(Object.values(request).every((b) => b.deletes.length + b.posts.length <= 5))
      assert.ok(Object.values(request).slice(1).some((b) => b.deletes.some((d) => /^\(the guard batch \d+ writes\)$/.test(d.id))), 'later batches consume the guards earlier ones write')
      assert.deepEqual(fake.records(), [])

      const r = await cf(fake, [...args, '-v'])
      assert.equal(r.exitCode, 0, r.stderr)
      assert.deepEqual(fake.batchSizes.length, labels.length)
      assert.ok(fake.batchSizes.every((n) => n <= 5))
      assert.deepEqual(checkInvariants(ZONE, fake.values()), [])
      // Phase order on the wire: the marker claim and the address before the SRV, the SRV before the PTRs.
      const order = r.stderr.split('\n').filter((l) => l.includes('/batch '))
      assert.equal(order.length, labels.length)
      const posted = Object.values(request).flatMap((b) => b.posts.filter((p) => !p.name.startsWith('_dnssd-cas.')).map((p) => `${p.type} ${p.name}`))
      const at = (what: string): number => posted.findIndex((p) => p === what)
      assert.ok(at('A 10-0-0-1.example.com') < at('SRV _v1._web._tcp.example.com'))
      assert.ok(at('TXT _dnssd.10-0-0-1.example.com') < at('A 10-0-0-1.example.com'))
      assert.ok(at('SRV _v1._web._tcp.example.com') < at('PTR _web._tcp.example.com'))

      const left = await cf(fake, ['leave', '-s', '_v1._web._tcp', '--ip', '10.0.0.1', '--a-record', 'www', '--batch-size', '5'])
      assert.equal(left.exitCode, 0, left.stderr)
      assert.deepEqual(fake.records(), [])
      assert.ok(fake.batchSizes.every((n) => n <= 5))
    })
  })

  it('list pages through many records (also when result_info carries no totals)', async () => {
    for (const minimalResultInfo of [false, true]) {
      await withFake({maxPerPage: 4, minimalResultInfo}, async (fake) => {
        for (let i = 1; i <= 3; i++) {
          const r = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', `10.0.0.${i}`])
          assert.equal(r.exitCode, 0, r.stderr)
        }
        // 3 x (A, 2 marker TXT, SRV) + TXT + 2 PTR = 15, and the guards of the 3 markers, the pool, the type and the enumeration.
        assert.equal(fake.records().filter((r) => !r.name.startsWith('_dnssd-cas.')).length, 15)
        assert.equal(fake.records().length, 21)
        const list = await cf(fake, ['list', '-v'])
        assert.equal(list.exitCode, 0, list.stderr)
        assert.match(list.stdout, /1 service type\(s\), 1 instance\(s\), 3 target\(s\)/)
        const pages = calls(list.stderr).filter((l) => l.includes('dns_records?page='))
        // 21 records by 4: 6 pages, plus the empty page when totals are not given.
        assert.equal(pages.length, minimalResultInfo ? 7 : 6)
      })
    }
  })

  it('--ttl auto becomes 1; --proxied only on the round-robin name at a public address', async () => {
    await withFake({}, async (fake) => {
      const r = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '443', '--ip', '93.184.216.34', '--a-record', 'www', '--proxied', '--ttl', 'auto'])
      assert.equal(r.exitCode, 0, r.stderr)
      const recs = fake.records()
      assert.ok(recs.every((x) => x.ttl === 1))
      assert.equal(recs.find((x) => x.type === 'A' && x.name === 'www.example.com')!.proxied, true)
      assert.equal(recs.find((x) => x.type === 'A' && x.name === '93-184-216-34.example.com')!.proxied, false)

      const priv = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '443', '--ip', '10.1.1.1', '--a-record', 'www', '--proxied'])
      assert.equal(priv.exitCode, 2)
      assert.match(priv.stderr, /--proxied: 10\.1\.1\.1 is not a public address/)
      // A documentation address (RFC 5737) is not on the internet either.
      const doc = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '443', '--ip', '192.0.2.10', '--a-record', 'www', '--proxied'])
      assert.equal(doc.exitCode, 2)
      assert.match(doc.stderr, /--proxied: 192\.0\.2\.10 is not a public address/)
      const badTtl = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '443', '--ip', '10.1.1.1', '--ttl', '5'])
      assert.equal(badTtl.exitCode, 2)
      assert.match(badTtl.stderr, /--ttl: 5 is not a Cloudflare TTL/)
      assert.equal(fake.records().length, recs.length, 'refused input changed nothing')
    })
  })

  it('--ttl auto is refused by the file provider; --jitter works for every provider', async () => {
    const dir = await tempDir()
    try {
      const base = ['join', '--provider', 'file', '--data-dir', dir.path, '-z', ZONE, '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.0.0.9']
      const auto = await runCli([...base, '--ttl', 'auto'])
      assert.equal(auto.exitCode, 2)
      assert.match(auto.stderr, /--ttl/)
      const badJitter = await runCli([...base, '--jitter', 'soon'])
      assert.equal(badJitter.exitCode, 2)
      assert.match(badJitter.stderr, /--jitter/)
      const started = Date.now()
      const r = await runCli([...base, '--jitter', '0.4', '-v'], {env: cleanEnv()})
      assert.equal(r.exitCode, 0, r.stderr)
      const m = /jitter: waiting (\d+) ms before the first API call/.exec(r.stderr)
      assert.ok(m, r.stderr)
      assert.ok(Number(m[1]) < 400)
      assert.ok(Date.now() - started >= Number(m[1]))
    } finally {
      await dir.cleanup()
    }
  })
})

describe('cloudflare provider: forced races (the guards make each batch a compare-and-swap)', {concurrency: true}, () => {
  const pool = (action: string, ip: string) => [action, '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip, '--timeout', '120', '-v']
  const BATCH = /^POST \/zones\/[0-9a-f]+\/dns_records\/batch$/
  const batches = (fake: FakeCloudflare) => fake.log.filter((e) => e.method === 'POST' && e.path.endsWith('/batch')).length

  it('the last member leaves while a new one joins: the newcomer keeps its PTR and TXT', async () => {
    await withFake({}, async (fake) => {
      assert.equal((await cf(fake, pool('join', '10.0.0.1'))).exitCode, 0)
      // The leave read a pool of one and sends "remove SRV, TXT, PTR"; its batch lands only after the join is done.
      const release = fake.hold(BATCH, {count: 1})
      const before = batches(fake)
      const leaving = cf(fake, pool('leave', '10.0.0.1'))
      await waitFor(() => batches(fake) === before + 1, 'the leave batch', 60_000)
      const joined = await cf(fake, pool('join', '10.0.0.2'))
      assert.equal(joined.exitCode, 0, joined.stderr)
      release()
      const left = await leaving
      assert.equal(left.exitCode, 0, left.stderr)
      assert.match(left.stderr, /the batch lost to a concurrent writer \(404 81044/)
      const values = fake.values()
      assert.deepEqual(checkInvariants(ZONE, values), [])
      assert.deepEqual(values.filter((v) => v.type === 'SRV').map((v) => v.value), ['0 0 8080 10-0-0-2.example.com.'])
      assert.deepEqual(values.filter((v) => v.type === 'PTR').map((v) => `${v.name} ${v.value}`).sort(), [
        '_services._dns-sd._udp.example.com _web._tcp.example.com.',
        '_web._tcp.example.com _v1._web._tcp.example.com.',
      ])
      assert.deepEqual(values.filter((v) => v.type === 'TXT' && v.name === '_v1._web._tcp.example.com').map((v) => v.value), ['""'])
    })
  })

  it('two last members leave at once, each seeing the other: the pool is still cleaned up', async () => {
    await withFake({}, async (fake) => {
      for (const ip of ['10.0.0.1', '10.0.0.2']) assert.equal((await cf(fake, pool('join', ip))).exitCode, 0)
      // Both leaves read the pool (two SRVs) before either batch lands.
      const release = fake.hold(BATCH, {count: 2})
      const before = batches(fake)
      const leaving = ['10.0.0.1', '10.0.0.2'].map((ip) => cf(fake, pool('leave', ip)))
      await waitFor(() => batches(fake) === before + 2, 'both leave batches', 60_000)
      release()
      const results = await Promise.all(leaving)
      for (const r of results) assert.equal(r.exitCode, 0, r.stderr)
      assert.ok(results.some((r) => /the batch lost to a concurrent writer/.test(r.stderr)), 'one batch was refused and planned again')
      assert.deepEqual(fake.records(), [])
    })
  })
})

describe('cloudflare provider: credentials, refusals, throttling, deadline', {concurrency: true}, () => {
  let fake: FakeCloudflare
  const other = 'otherTokenOnlyForAnotherZone_0123456789'.padEnd(40, 'x')
  const readOnly = 'readOnlyToken_0123456789_abcdefghijklmno'.padEnd(40, 'y')
  before(async () => {
    fake = await new FakeCloudflare({
      zones: [ZONE, 'other.org'],
      tokens: {[FAKE_TOKEN]: {zones: 'all'}, [other]: {zones: ['other.org']}, [readOnly]: {zones: 'all', dns: 'none'}},
    }).start()
  })
  after(() => fake.close())
  const joinArgs = ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1']

  it('token from --api-token-file; leftover CLOUDFLARE_API_KEY/CLOUDFLARE_EMAIL are not sent', async () => {
    const dir = await tempDir()
    try {
      const file = join(dir.path, 'token')
      await writeFile(file, `${FAKE_TOKEN}\n`, {mode: 0o600})
      const r = await runCli([...joinArgs, '--provider', 'cloudflare', '--zone', ZONE, '--api-token-file', file, '-v'], {
        env: cleanEnv({CLOUDFLARE_BASE_URL: fake.url, CLOUDFLARE_API_KEY: 'leftover-global-key', CLOUDFLARE_EMAIL: 'ops@example.com'}),
      })
      assert.equal(r.exitCode, 0, r.stderr)
      assert.ok(fake.log.every((e) => e.auth.join() === 'authorization'), 'only the bearer token is sent')
      assert.ok(!(r.stdout + r.stderr).includes(FAKE_TOKEN))
      const missing = await runCli([...joinArgs, '--provider', 'cloudflare', '--zone', ZONE, '--api-token-file', join(dir.path, 'nope')], {env: cleanEnv({CLOUDFLARE_BASE_URL: fake.url})})
      assert.equal(missing.exitCode, 2)
      assert.match(missing.stderr, /--api-token-file: no such file \(the value is not shown/)
    } finally {
      await dir.cleanup()
    }
  })

  const refusals: [string, NodeJS.ProcessEnv, string[], RegExp][] = [
    ['no token', {CLOUDFLARE_API_TOKEN: ''}, [], /no Cloudflare API token: set CLOUDFLARE_API_TOKEN or pass --api-token-file/],
    ['a malformed token (400 6003/6111)', {CLOUDFLARE_API_TOKEN: 'not-a-token!'}, [], /rejected the API token \(400 6003 Invalid request headers\).*Zone:Read and DNS:Edit/],
    ['an unknown token (403 10000)', {CLOUDFLARE_API_TOKEN: 'x'.repeat(40)}, [], /may not list zones in example\.com \(403 10000 Authentication error\).*Zone:Read and DNS:Edit/],
    ['a token without DNS permission (403 10000)', {CLOUDFLARE_API_TOKEN: readOnly}, [], /may not read DNS records in example\.com \(403 10000/],
    ['a zone the token cannot see', {CLOUDFLARE_API_TOKEN: other}, [], /zone example\.com was not found with this Cloudflare API token.*Zone:Read and DNS:Edit/],
    ['an unknown --zone-id', {}, ['--zone-id', 'f'.repeat(32)], /may not read DNS records in example\.com \(403 10000/],
  ]
  for (const [what, extra, args, message] of refusals) {
    it(`${what} -> exit 4 with the fix, nothing written, no secret shown`, async () => {
      const r = await runCli([...joinArgs, '--host', 'refused', '--provider', 'cloudflare', '--zone', ZONE, ...args], {env: env(fake, extra)})
      assert.equal(r.exitCode, 4, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1)
      assert.ok(!(r.stdout + r.stderr).includes(FAKE_TOKEN) && !(r.stdout + r.stderr).includes(readOnly) && !(r.stdout + r.stderr).includes(other))
      assert.ok(!fake.records().some((x) => x.name.includes('refused')))
    })
  }

  it('a malformed --zone-id is bad input (exit 2)', async () => {
    const r = await runCli([...joinArgs, '--provider', 'cloudflare', '--zone', ZONE, '--zone-id', 'example.com'], {env: env(fake)})
    assert.equal(r.exitCode, 2)
    assert.match(r.stderr, /--zone-id: "example.com" is not a Cloudflare zone id/)
  })

  it('--zone-id skips the zone lookup', async () => {
    const r = await runCli(['list', '--provider', 'cloudflare', '--zone', 'other.org', '--zone-id', fake.zoneId('other.org'), '-v'], {env: env(fake)})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.ok(!r.stderr.includes('GET /zones?name='))
    assert.match(r.stdout, /no services in other\.org/)
  })
})

describe('cloudflare provider: throttling and deadlines', () => {
  it('retries 429 (971) honouring retry-after, and 5xx, then succeeds', async () => {
    await withFake({rateLimitEvery: 2, retryAfter: 1}, async (fake) => {
      fake.injectFault({match: /^POST /, status: 503, code: 10001, message: 'Service temporarily unavailable'})
      const started = Date.now()
      const r = await cf(fake, ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '-v'])
      assert.equal(r.exitCode, 0, r.stderr)
      const throttled = fake.log.filter((e) => e.status === 429).length
      assert.ok(throttled >= 2, `saw ${throttled} 429s`)
      assert.ok(Date.now() - started >= 1000, 'waited retry-after')
      assert.match(r.stderr, /\(attempt 2 after 429 971\)/)
      assert.match(r.stderr, /\(attempt \d after 503 10001\)/)
      assert.equal(calls(r.stderr).length, fake.log.length)
      assert.deepEqual(checkInvariants(ZONE, fake.values()), [])
      assert.equal(fake.records().filter((x) => x.type === 'SRV').length, 1)
    })
  })

  it('a retry-after longer than the deadline gives up at once with exit 5', async () => {
    await withFake({rateLimitEvery: 1, retryAfter: 300}, async (fake) => {
      // "At once": well before the 20 s --timeout, let alone the 300 s retry-after.
      const bound = (await deadlineBoundMs(0)) + 5000
      const started = Date.now()
      const r = await cf(fake, ['leave', '-s', '_v1._web._tcp', '--ip', '10.0.0.1', '--timeout', '20'])
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /waiting 30\d s more would pass the deadline/)
      assert.ok(Date.now() - started < bound, `took ${Date.now() - started} ms (bound ${bound} ms)`)
    })
  })

  it('a hanging endpoint: leave returns by --timeout + 1 s with exit 5', async () => {
    await withFake({hang: true}, async (fake) => {
      const bound = await deadlineBoundMs(2)
      const started = Date.now()
      const r = await cf(fake, ['leave', '-s', '_v1._web._tcp', '--ip', '10.0.0.1', '--timeout', '2'])
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /did not answer GET \/zones\?name=example\.com before the deadline/)
      assert.ok(elapsed < bound, `took ${elapsed} ms (bound ${bound} ms)`)
    })
  })
})
