/**
 * Fleet events on Route 53 (issue 13) through the BUILT CLI: a thousand
 * pending join intents in a file registry (written directly, as members that
 * recorded theirs while another held the apply lease), one `sync --once`
 * against the local endpoint, which refuses any request past 1,000 values or
 * 32,000 characters as Route 53 does. Then a tombstone for each, and sync
 * again. The same with seeded faults, and with another writer changing an
 * RRset between two batches of one apply.
 */
import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {type FakeOptions, BATCH_MAX_CHARACTERS, BATCH_MAX_RECORDS} from '../fakes/route53.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {type Endpoint, callsIn, nonApex, startEndpoint} from '../helpers/route53.js'
import {seededRandom} from '../helpers/seed.js'
import {waitFor} from '../helpers/wait.js'

const ZONE = 'example.com'
const ipOf = (i: number): string => `10.40.${Math.floor(i / 250)}.${(i % 250) + 1}`
const hostOf = (ip: string): string => `${ip.replaceAll('.', '-')}.${ZONE}`
const poolOf = (i: number, pools: number): string => `_v${i % pools}._web._tcp`
/** Records someone else made: dnssd must never touch them. */
const FOREIGN = [
  {name: `www.${ZONE}`, type: 'A', ttl: 300, values: ['192.0.2.10']},
  {name: `_dnssd-notes.${ZONE}`, type: 'TXT', ttl: 300, values: ['"made by hand"']},
]

let root: {path: string; cleanup: () => Promise<void>}
before(async () => {
  root = await tempDir('dnssd-r53-fleet-')
})
after(async () => {
  await root.cleanup()
})

interface Fleet {
  ep: Endpoint
  regDir: string
  registry: string
  members: {ip: string; host: string; service: string}[]
}

async function fleet(name: string, count: number, pools: number, options: FakeOptions): Promise<Fleet> {
  const regDir = join(root.path, name)
  const ep = await startEndpoint(options)
  for (const f of FOREIGN) ep.fake.seed(ep.zoneId, f.name, f.type, f.ttl, f.values)
  const members = Array.from({length: count}, (_, i) => ({ip: ipOf(i), host: hostOf(ipOf(i)), service: poolOf(i, pools)}))
  const now = Date.now()
  for (let p = 0; p < pools; p++) await mkdir(join(regDir, ZONE, poolOf(p, pools)), {recursive: true, mode: 0o700})
  await Promise.all(
    members.map((m) =>
      writeFile(
        join(regDir, ZONE, m.service, `${m.host}.json`),
        JSON.stringify({
          zone: ZONE, service: m.service, host: m.host, address: m.ip, port: 8080, priority: 0, weight: 0, provider: 'route53', intent: 'join',
          joinedAt: new Date(now).toISOString(), renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString(), ttl: 60, leaseSeconds: 3600,
        }),
      ),
    ),
  )
  return {ep, regDir, registry: `file://${regDir}`, members}
}

async function leases(f: Fleet): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = []
  for (const service of await readdir(join(f.regDir, ZONE)).catch(() => [] as string[])) {
    if (!service.startsWith('_')) continue
    for (const file of await readdir(join(f.regDir, ZONE, service))) {
      if (file.endsWith('.json')) out.push(JSON.parse(await readFile(join(f.regDir, ZONE, service, file), 'utf8')))
    }
  }
  return out
}

/** A tombstone for every member: the durable half of each leave. */
async function tombstones(f: Fleet): Promise<void> {
  await Promise.all(
    f.members.map(async (m) => {
      const path = join(f.regDir, ZONE, m.service, `${m.host}.json`)
      const {appliedAt: _, appliedChange: __, ...lease} = JSON.parse(await readFile(path, 'utf8'))
      await writeFile(path, JSON.stringify({...lease, intent: 'leave'}))
    }),
  )
}

async function sync(f: Fleet): Promise<{stderr: string; calls: number; changes: number; wallMs: number}> {
  const firstRequest = f.ep.fake.log.length
  const started = Date.now()
  const r = await runCli(['sync', '--zone', ZONE, '--registry', f.registry, '--provider', 'route53', '--zone-id', f.ep.zoneId, '--once', '--json', '--verbose', '--timeout', '400'], {
    env: f.ep.env(),
    timeoutMs: 500_000,
  })
  assert.equal(r.exitCode, 0, `${r.stderr.slice(-3000)}\n${r.stdout}`)
  const log = f.ep.fake.log.slice(firstRequest)
  return {stderr: r.stderr, calls: log.length, changes: log.filter((e) => e.op === 'ChangeResourceRecordSets').length, wallMs: Date.now() - started}
}

/** The SRV values Route 53 holds, and those the members should have. */
const srvOf = (f: Fleet): string[] => f.ep.fake.records(f.ep.zoneId).filter((r) => r.type === 'SRV').map((r) => `${r.name} ${r.value}`).sort()
const wanted = (f: Fleet): string[] => f.members.map((m) => `${m.service}.${ZONE} 0 0 8080 ${m.host}.`).sort()

function assertForeignUntouched(f: Fleet): void {
  const records = f.ep.fake.records(f.ep.zoneId)
  for (const x of FOREIGN) {
    assert.deepEqual(records.filter((r) => r.name === x.name && r.type === x.type).map((r) => `${r.ttl} ${r.value}`), x.values.map((v) => `${x.ttl} ${v}`), `${x.name} ${x.type} is as its owner left it`)
  }
}

/** Every accepted or refused batch was within the limits (the fake refuses larger ones; none was even tried). */
function assertBatchesWithinLimits(f: Fleet): void {
  for (const b of f.ep.fake.batchSizes) assert.ok(b.records <= BATCH_MAX_RECORDS && b.characters <= BATCH_MAX_CHARACTERS, JSON.stringify(b))
}

describe('route53 fleet events (coalesced, 1,000 members)', () => {
  it('1,000 pending joins in 10 pools: one sync writes them all in few batches; 1,000 tombstones: one sync leaves only SOA and NS and the records dnssd does not own', async () => {
    const f = await fleet('plain', 1000, 10, {rate: 5})
    try {
      const joined = await sync(f)
      assert.deepEqual(srvOf(f), wanted(f), 'every member is in its pool')
      assert.deepEqual(checkInvariants(ZONE, f.ep.fake.records(f.ep.zoneId)), [])
      assertForeignUntouched(f)
      assertBatchesWithinLimits(f)
      // 2,000 marker values, 1,000 A, 1,000 SRV, 10 pool TXT, 10 + 1 PTR: each sent once, in batches of <= 1,000 values.
      const values = f.ep.fake.batchSizes.reduce((n, b) => n + b.records, 0)
      assert.equal(values, 4021)
      const budget = Math.ceil(values / BATCH_MAX_RECORDS) + 2
      assert.ok(joined.changes <= budget, `${joined.changes} ChangeResourceRecordSets calls, budget ${budget}`)
      assert.equal(f.ep.fake.log.filter((e) => e.status !== 200).length, 0, 'nothing refused, nothing throttled: calls are paced to 5 per second')
      assert.ok((await leases(f)).every((l) => typeof l.appliedAt === 'string'), 'every intent is marked applied')
      console.log(`# 1,000 joins: ${joined.calls} Route 53 calls (${joined.changes} change batches, ${values} values) in ${(joined.wallMs / 1000).toFixed(1)} s; CLI counted ${callsIn(joined.stderr)} calls incl. registry`)

      await tombstones(f)
      f.ep.fake.batchSizes.length = 0
      const left = await sync(f)
      assert.deepEqual(nonApex(f.ep).map((r) => r.name).sort(), FOREIGN.map((x) => x.name).sort(), 'only SOA, NS and the foreign records remain')
      assertForeignUntouched(f)
      assertBatchesWithinLimits(f)
      const removed = f.ep.fake.batchSizes.reduce((n, b) => n + b.records, 0)
      assert.equal(removed, 4021)
      assert.ok(left.changes <= Math.ceil(removed / BATCH_MAX_RECORDS) + 2, `${left.changes} ChangeResourceRecordSets calls`)
      assert.deepEqual(await leases(f), [], 'every tombstone was consumed')
      console.log(`# 1,000 leaves: ${left.calls} Route 53 calls (${left.changes} change batches) in ${(left.wallMs / 1000).toFixed(1)} s`)
    } finally {
      await f.ep.stop()
      await rm(f.regDir, {recursive: true, force: true})
    }
  })

  it('with 15% faults (throttling, 5xx, PriorRequestNotComplete, answers lost after commit; seeded): none lost, the invariants hold, then all leave', async () => {
    const random = seededRandom('route53 fleet faults')
    const f = await fleet('faults', 1000, 10, {rate: 5, faultRate: 0.15, random})
    try {
      // Beside the random faults, always one answer lost after commit in the middle of each apply, and a failed page.
      f.ep.fake.forced.push({kind: 'drop', op: 'ChangeResourceRecordSets', skip: 2}, {kind: 'server', op: 'ListResourceRecordSets', skip: 1})
      const joined = await sync(f)
      assert.match(joined.stderr, /the answer to change batch \d+ of \d+ was lost and it may have landed; re-reading to find out/)
      const faults = f.ep.fake.log.filter((e) => e.fault && e.fault !== 'throttled-by-bucket').map((e) => `${e.op}:${e.fault}`)
      assert.deepEqual(srvOf(f), wanted(f), `every member is in its pool (seed ${random.seed})`)
      assert.deepEqual(checkInvariants(ZONE, f.ep.fake.records(f.ep.zoneId)), [], `seed ${random.seed}`)
      assertForeignUntouched(f)
      assertBatchesWithinLimits(f)
      console.log(`# 1,000 joins with faults: ${joined.calls} calls, ${joined.changes} change requests; faults ${faults.join(' ') || 'none'}`)

      await tombstones(f)
      const before = f.ep.fake.log.length
      f.ep.fake.forced.push({kind: 'drop', op: 'ChangeResourceRecordSets', skip: 1}, {kind: 'server', op: 'ListResourceRecordSets', skip: 3})
      const left = await sync(f)
      assert.match(left.stderr, /the answer to change batch \d+ of \d+ was lost/)
      const more = f.ep.fake.log.slice(before).filter((e) => e.fault && e.fault !== 'throttled-by-bucket').map((e) => `${e.op}:${e.fault}`)
      assert.deepEqual(nonApex(f.ep).map((r) => r.name).sort(), FOREIGN.map((x) => x.name).sort(), `seed ${random.seed}`)
      assertForeignUntouched(f)
      assertBatchesWithinLimits(f)
      assert.deepEqual(await leases(f), [])
      assert.ok(faults.length + more.length > 0, 'faults were injected')
      console.log(`# 1,000 leaves with faults: ${left.calls} calls, ${left.changes} change requests; faults ${more.join(' ') || 'none'}`)
    } finally {
      await f.ep.stop()
      await rm(f.regDir, {recursive: true, force: true})
    }
  })

  it('join --wait whose apply takes 999 pending intents with it waits until every batch of that apply is INSYNC, polling the last and confirming the rest once each', async () => {
    // Changes stay PENDING until the test settles them, once the member has polled twice.
    const f = await fleet('wait', 999, 10, {insyncAfterMs: 3_600_000})
    try {
      const ip = ipOf(999)
      const running = runCli(
        ['join', '--zone', ZONE, '-s', poolOf(999, 10), '-p', '8080', '--ip', ip, '--registry', f.registry, '--lease', '3600', '--provider', 'route53', '--zone-id', f.ep.zoneId, '--wait', '--json', '--verbose', '--timeout', '300'],
        {env: f.ep.env(), timeoutMs: 400_000},
      )
      await waitFor(() => f.ep.fake.count('GetChange') >= 2, 'the member to poll GetChange twice', 300_000)
      f.ep.fake.settleChanges()
      const r = await running
      assert.equal(r.exitCode, 0, r.stderr.slice(-3000))
      const out = JSON.parse(r.stdout) as {changeId: string; inSyncMs: number; coalesced: {appliedBy: string}}
      assert.equal(out.coalesced.appliedBy, 'self')
      const ids = out.changeId.split(',').map((id) => id.replace(/^\/change\//, ''))
      const accepted = f.ep.fake.log.filter((e) => e.op === 'ChangeResourceRecordSets' && e.status === 200).length
      assert.ok(ids.length >= 2 && ids.length === accepted, `${ids.length} change ids for ${accepted} batches`)
      const polled = [...r.stderr.matchAll(/route53: call GetChange (\S+)/g)].map((m) => m[1]!)
      assert.equal(polled[0], ids.at(-1), 'the last batch is polled first')
      assert.deepEqual([...new Set(polled)].sort(), [...ids].sort(), 'every batch is confirmed INSYNC')
      assert.ok(polled.filter((p) => p === ids.at(-1)).length >= 2, 'the last batch was polled while PENDING')
      for (const id of ids.slice(0, -1)) assert.equal(polled.filter((p) => p === id).length, 1, `${id} is confirmed with one GetChange`)
      assert.equal(polled.length, f.ep.fake.count('GetChange'))
      assert.ok(out.inSyncMs > 0)
      f.members.push({ip, host: hostOf(ip), service: poolOf(999, 10)})
      assert.deepEqual(srvOf(f), wanted(f))
      assert.deepEqual(checkInvariants(ZONE, f.ep.fake.records(f.ep.zoneId)), [])
    } finally {
      await f.ep.stop()
      await rm(f.regDir, {recursive: true, force: true})
    }
  })

  it('another writer changes an RRset between two batches of one apply: the next batch conflicts, the rest is re-planned, the first stays applied, the writer keeps its value', async () => {
    const f = await fleet('conflict', 300, 3, {})
    try {
      const other = {host: `other.${ZONE}`, srv: `0 0 9999 other.${ZONE}.`}
      let committed = 0
      f.ep.fake.afterCommit = (zone) => {
        committed++
        // Another member of _v0 (not dnssd's doing: no marker) arrives right after the first batch landed.
        zone.rrsets.push({name: `${other.host}.`, type: 'A', ttl: 60, values: ['192.0.2.99']})
        zone.rrsets.push({name: `_v0._web._tcp.${ZONE}.`, type: 'SRV', ttl: 60, values: [other.srv]})
      }
      const r = await sync(f)
      assert.equal(committed, 1)
      assert.match(r.stderr, /route53: \d+ changes in [2-9] change batches/)
      assert.match(r.stderr, /conflict on change batch [2-9] of \d+ \(Tried to create resource record set \[name='_v0\._web\._tcp\.example\.com\.', type='SRV'\] but it already exists\); re-reading and planning what is left/)
      const conflicts = f.ep.fake.log.filter((e) => e.op === 'ChangeResourceRecordSets' && e.status === 400 && !e.fault)
      assert.equal(conflicts.length, 1)
      assert.deepEqual(srvOf(f), [...wanted(f), `_v0._web._tcp.${ZONE} ${other.srv}`].sort(), 'every member, and the other writer\'s value')
      assert.deepEqual(checkInvariants(ZONE, f.ep.fake.records(f.ep.zoneId)), [])
      assertForeignUntouched(f)
      assertBatchesWithinLimits(f)
      assert.ok((await leases(f)).every((l) => typeof l.appliedAt === 'string'))
    } finally {
      await f.ep.stop()
      await rm(f.regDir, {recursive: true, force: true})
    }
  })
})
