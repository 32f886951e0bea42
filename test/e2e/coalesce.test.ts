/**
 * The coalesced apply through the built CLI (issue 13): join and leave with
 * --registry record an intent, one member at a time applies every pending
 * intent, sync applies them as a loop. Invariants are checked after every
 * case; "lost" is a member whose intent was written but is not in DNS after
 * the apply that follows.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {BIN, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {ZONE, invariants, srvTargets} from '../helpers/leases.js'
import {callsIn, nonApex, startEndpoint} from '../helpers/route53.js'
import {seededRandom} from '../helpers/seed.js'
import {waitFor} from '../helpers/wait.js'

const ipOf = (i: number): string => `10.30.${Math.floor(i / 200)}.${(i % 200) + 1}`
const hostOf = (ip: string): string => `${ip.replaceAll('.', '-')}.${ZONE}`
const POOL = '_v1._web._tcp'

let root: {path: string; cleanup: () => Promise<void>}
before(async () => {
  root = await tempDir('dnssd-coalesce-')
})
after(async () => {
  await root.cleanup()
})

async function setup(name: string): Promise<{dir: string; registry: string; regDir: string; dataDir: string; env: NodeJS.ProcessEnv}> {
  const dir = join(root.path, name)
  await mkdir(dir, {recursive: true, mode: 0o700})
  const regDir = join(dir, 'leases')
  const dataDir = join(dir, 'data')
  return {dir, regDir, dataDir, registry: `file://${regDir}`, env: cleanEnv({DNSSD_DATA_DIR: dataDir})}
}

const joinArgs = (ip: string, registry: string, extra: string[] = []): string[] =>
  ['join', '--zone', ZONE, '-s', POOL, '-p', '8080', '--ip', ip, '--registry', registry, '--lease', '600', '--json', ...extra]
const leaveArgs = (ip: string, registry: string, extra: string[] = []): string[] =>
  ['leave', '--zone', ZONE, '-s', POOL, '--ip', ip, '--registry', registry, '--json', ...extra]

async function leaseFiles(regDir: string): Promise<{name: string; lease: Record<string, unknown>}[]> {
  const dir = join(regDir, ZONE, POOL)
  const names = await readdir(dir).catch(() => [] as string[])
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (name) => ({name, lease: JSON.parse(await readFile(join(dir, name), 'utf8'))})))
}

/** Another applier's lease on the zone, as a member mid-apply (or a dead one) leaves it. */
async function holdApplyLease(regDir: string, expiresInMs: number): Promise<string> {
  const path = join(regDir, ZONE, '.apply.json')
  await mkdir(join(regDir, ZONE), {recursive: true})
  const now = Date.now()
  await writeFile(path, JSON.stringify({holder: 'another member', acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + expiresInMs).toISOString()}))
  return path
}

describe('coalesced apply through the registry', () => {
  it('20 joins at once against Route 53 at 5 req/s: none lost, few calls; 20 leaves --timeout 5 all exit 0; sync --once leaves DNS clean', async () => {
    const s = await setup('route53')
    const ep = await startEndpoint({rate: 5})
    try {
      const ips = Array.from({length: 20}, (_, i) => ipOf(i))
      const common = ['--provider', 'route53', '--zone-id', ep.zoneId, '--verbose']
      const joins = await Promise.all(ips.map((ip) => runCli(joinArgs(ip, s.registry, [...common, '--timeout', '120']), {env: ep.env(), timeoutMs: 150_000})))
      joins.forEach((j, i) => assert.equal(j.exitCode, 0, `join ${ips[i]}: ${j.stderr}`))
      const by = joins.map((j) => JSON.parse(j.stdout).coalesced.appliedBy as string)
      assert.ok(by.every((b) => b === 'self' || b === 'other'), by.join(' '))
      const srv = ep.fake.records(ep.zoneId).filter((r) => r.type === 'SRV').map((r) => r.value).sort()
      assert.deepEqual(srv, ips.map((ip) => `0 0 8080 ${hostOf(ip)}.`).sort(), 'every registration is present')
      assert.deepEqual(checkInvariants(ZONE, ep.fake.records(ep.zoneId)), [])
      const joinCalls = ep.fake.log.length
      console.log(`# 20 coalesced joins: ${joinCalls} Route 53 requests (${by.filter((b) => b === 'self').length} members applied)`)

      const leaves = await Promise.all(ips.map((ip) => runCli(leaveArgs(ip, s.registry, [...common, '--timeout', '5']), {env: ep.env(), timeoutMs: 60_000})))
      leaves.forEach((l, i) => assert.equal(l.exitCode, 0, `leave ${ips[i]}: ${l.stderr}`))
      for (const l of leaves) {
        const out = JSON.parse(l.stdout)
        if (out.coalesced.appliedBy === 'pending') assert.match(out.notes.join(' '), /tombstone is written/)
      }
      assert.deepEqual(checkInvariants(ZONE, ep.fake.records(ep.zoneId)), [])
      const sync = await runCli(['sync', '--zone', ZONE, '--registry', s.registry, '--provider', 'route53', '--zone-id', ep.zoneId, '--once', '--json', '--verbose'], {env: ep.env()})
      assert.equal(sync.exitCode, 0, sync.stderr)
      assert.deepEqual(nonApex(ep), [], 'only SOA and NS remain')
      assert.deepEqual(await leaseFiles(s.regDir), [], 'every tombstone was consumed')
      console.log(`# 20 coalesced leaves + sync: ${ep.fake.log.length - joinCalls} Route 53 requests (sync ${callsIn(sync.stderr)} calls incl. registry)`)
    } finally {
      await ep.stop()
    }
  })

  it('two sync --once at once (two appliers) apply 30 pending intents exactly once', async () => {
    const s = await setup('race')
    // 30 pending join intents, as 30 members that wrote theirs and died before applying.
    const now = Date.now()
    const dir = join(s.regDir, ZONE, POOL)
    await mkdir(dir, {recursive: true, mode: 0o700})
    const ips = Array.from({length: 30}, (_, i) => ipOf(200 + i))
    for (const ip of ips) {
      const lease = {
        zone: ZONE, service: POOL, host: hostOf(ip), address: ip, port: 8080, priority: 0, weight: 0, provider: 'file', intent: 'join',
        joinedAt: new Date(now).toISOString(), renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString(), ttl: 60, leaseSeconds: 600,
      }
      await writeFile(join(dir, `${hostOf(ip)}.json`), JSON.stringify(lease))
    }
    const syncArgs = ['sync', '--zone', ZONE, '--registry', s.registry, '--once', '--json']
    const [a, b] = await Promise.all([runCli(syncArgs, {env: s.env}), runCli(syncArgs, {env: s.env})])
    assert.equal(a.exitCode, 0, a.stderr)
    assert.equal(b.exitCode, 0, b.stderr)
    const joined = [a, b].flatMap((r) => (JSON.parse(r.stdout).providers as {report: {joined: string[]}}[]).flatMap((p) => p.report.joined))
    assert.deepEqual(joined.sort(), ips.map(hostOf).sort(), 'each intent is marked applied by exactly one of the two')
    assert.deepEqual(await srvTargets(s.dataDir), ips.map(hostOf).sort())
    assert.deepEqual(await invariants(s.dataDir), [])
    for (const f of await leaseFiles(s.regDir)) assert.ok(f.lease.appliedAt, `${f.name} is marked applied`)
  })

  it('a leave while another member holds the apply lease: its tombstone makes it exit 0 at its deadline; the next apply removes it', async () => {
    const s = await setup('tombstone')
    const [x, y] = [ipOf(300), ipOf(301)]
    for (const ip of [x, y]) assert.equal((await runCli(joinArgs(ip, s.registry), {env: s.env})).exitCode, 0)
    await holdApplyLease(s.regDir, 600_000)
    const left = await runCli(leaveArgs(x, s.registry, ['--timeout', '2']), {env: s.env})
    assert.equal(left.exitCode, 0, left.stderr)
    const out = JSON.parse(left.stdout)
    assert.equal(out.coalesced.appliedBy, 'pending')
    assert.equal(out.lease.action, 'tombstone written')
    assert.match(out.notes.join(' '), /DNS removal is pending/)
    assert.deepEqual(await srvTargets(s.dataDir), [hostOf(x), hostOf(y)].sort(), 'still in DNS: the holder has not applied yet')
    const tomb = (await leaseFiles(s.regDir)).find((f) => f.name === `${hostOf(x)}.json`)
    assert.equal(tomb?.lease.intent, 'leave')

    // A join while the lease is held is recorded, and says so when its deadline passes (exit 5).
    const z = ipOf(302)
    const late = await runCli(joinArgs(z, s.registry, ['--timeout', '2']), {env: s.env})
    assert.equal(late.exitCode, 5, late.stdout)
    assert.match(JSON.parse(late.stdout).error.message, /is recorded in file:\/\/.*the next apply/)

    // The holder goes away (its lease expires); the next sync applies both intents.
    await holdApplyLease(s.regDir, -1)
    const sync = await runCli(['sync', '--zone', ZONE, '--registry', s.registry, '--once', '--verbose'], {env: s.env})
    assert.equal(sync.exitCode, 0, sync.stderr)
    assert.match(sync.stderr, /took over the apply lease of another member/)
    assert.match(sync.stdout, /1 joined, 1 left/)
    assert.deepEqual(await srvTargets(s.dataDir), [hostOf(y), hostOf(z)].sort())
    assert.deepEqual(await invariants(s.dataDir), [])
  })

  it('an applier that died holding the apply lease: waiting joins read only their own intent, and one takes the lease over once it expires and applies all', async () => {
    const s = await setup('takeover')
    await holdApplyLease(s.regDir, 2500)
    const ips = Array.from({length: 5}, (_, i) => ipOf(400 + i))
    const joins = await Promise.all(ips.map((ip) => runCli(joinArgs(ip, s.registry, ['--timeout', '30', '--verbose']), {env: s.env, timeoutMs: 60_000})))
    joins.forEach((j, i) => assert.equal(j.exitCode, 0, `join ${ips[i]}: ${j.stderr}`))
    assert.ok(joins.some((j) => /took over the apply lease of another member/.test(j.stderr)), 'one member took the dead holder\'s lease over')
    assert.deepEqual(await srvTargets(s.dataDir), ips.map(hostOf).sort(), 'nothing lost')
    assert.deepEqual(await invariants(s.dataDir), [])
    for (const j of joins.filter((j) => JSON.parse(j.stdout).coalesced.appliedBy === 'other')) {
      // A waiter never lists the zone: one read of its own lease per round (backing off to 2.5 s), and the apply lease.
      assert.equal((j.stderr.match(/file: call ListLeases/g) ?? []).length, 0, j.stderr)
      assert.ok((j.stderr.match(/file: call GetLease /g) ?? []).length <= 30, j.stderr)
    }
    for (const f of await leaseFiles(s.regDir)) assert.ok(f.lease.appliedAt, `${f.name} is marked applied`)
  })

  it('members killed at random moments of join, leave and apply (SIGKILL, seeded) leave no dangling SRV once sync has run', async () => {
    const random = seededRandom('coalesce kills')
    const s = await setup('kills')
    const ips = Array.from({length: 10}, (_, i) => ipOf(400 + i))
    const killedAfter = (argv: string[], ms: number): Promise<number | null> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...argv], {env: s.env, stdio: 'ignore'})
        const timer = setTimeout(() => child.kill('SIGKILL'), ms)
        child.on('close', (code) => {
          clearTimeout(timer)
          resolve(code)
        })
      })
    const sync = async (): Promise<void> => {
      const r = await runCli(['sync', '--zone', ZONE, '--registry', s.registry, '--once', '--timeout', '60'], {env: s.env, timeoutMs: 90_000})
      assert.equal(r.exitCode, 0, r.stderr)
    }
    for (let round = 0; round < 3; round++) {
      // Every member joins; some are killed at a random moment (process start, intent, apply).
      await Promise.all(ips.map((ip) => killedAfter(joinArgs(ip, s.registry, ['--timeout', '30']), random() < 0.4 ? 100 + random.int(1500) : 60_000)))
      await sync()
      const present = await srvTargets(s.dataDir)
      const withIntent = (await leaseFiles(s.regDir)).filter((f) => f.lease.intent === 'join').map((f) => f.lease.host as string)
      assert.deepEqual(present, [...withIntent].sort(), `round ${round}: every member whose intent was written is in DNS after sync (seed ${random.seed})`)
      assert.deepEqual(await invariants(s.dataDir), [], `round ${round} joins (seed ${random.seed})`)
      await Promise.all(ips.map((ip) => killedAfter(leaveArgs(ip, s.registry, ['--timeout', '5']), random() < 0.4 ? 100 + random.int(1500) : 60_000)))
      await sync()
      const records = await srvTargets(s.dataDir)
      const remaining = (await leaseFiles(s.regDir)).map((f) => f.lease.host as string)
      assert.deepEqual(records, [...remaining].sort(), `round ${round}: DNS holds exactly the members whose leave never wrote its tombstone (seed ${random.seed})`)
      assert.deepEqual(await invariants(s.dataDir), [], `round ${round} leaves (seed ${random.seed})`)
      // The survivors leave for good before the next round.
      for (const host of remaining) assert.equal((await runCli(leaveArgs(host.split('.')[0]!.replaceAll('-', '.'), s.registry), {env: s.env})).exitCode, 0)
    }
    assert.deepEqual(await srvTargets(s.dataDir), [])
  })

  it('a pool past Route 53\'s size limit is refused (exit 2, the number) without blocking the other pools of the same apply', async () => {
    const s = await setup('pool-limit')
    const ep = await startEndpoint()
    try {
      ep.fake.seed(ep.zoneId, '_v1._big._tcp.example.com.', 'SRV', 60, Array.from({length: 400}, (_, i) => `0 0 8080 m${i}.big.example.com.`))
      // Two pending intents, as two members that wrote theirs while another held the apply lease.
      await holdApplyLease(s.regDir, 600_000)
      const r53 = ['--provider', 'route53', '--zone-id', ep.zoneId]
      const big = runCli(['join', '--zone', ZONE, '-s', '_v1._big._tcp', '-p', '8080', '--ip', ipOf(500), '--registry', s.registry, '--lease', '600', '--timeout', '60', ...r53], {env: ep.env()})
      const web = runCli(joinArgs(ipOf(501), s.registry, [...r53, '--timeout', '60']), {env: ep.env()})
      await waitFor(async () => (await readdir(join(s.regDir, ZONE)).catch(() => [])).filter((d) => d.startsWith('_v1')).length === 2, 'both intents written')
      await holdApplyLease(s.regDir, -1)
      const [b, w] = await Promise.all([big, web])
      assert.equal(w.exitCode, 0, w.stderr)
      assert.equal(b.exitCode, 2, b.stderr)
      assert.match(b.stderr, /^dnssd: --service: _v1\._big\._tcp\.example\.com\. SRV would hold 401 values; Route 53 allows at most 400 in one record set/)
      assert.equal(b.stderr.trim().split('\n').length, 1)
      const srv = ep.fake.records(ep.zoneId).filter((r) => r.type === 'SRV')
      assert.ok(srv.some((r) => r.value === `0 0 8080 ${hostOf(ipOf(501))}.`), 'the other pool joined')
      assert.ok(!srv.some((r) => r.value.includes(hostOf(ipOf(500)))), 'nothing of the refused join was written')
      assert.deepEqual(checkInvariants(ZONE, ep.fake.records(ep.zoneId).filter((r) => !r.name.includes('big'))), [])
    } finally {
      await ep.stop()
    }
  })

  it('sync: bad input exits 2 naming the flag; the loop prints one JSON line per cycle and stops on SIGTERM with exit 0', async () => {
    const s = await setup('sync-cli')
    const noRegistry = await runCli(['sync', '--zone', ZONE, '--once'], {env: s.env})
    assert.equal(noRegistry.exitCode, 2)
    assert.match(noRegistry.stderr, /^dnssd: --registry: sync needs the lease registry/)
    const zeroInterval = await runCli(['sync', '--zone', ZONE, '--registry', s.registry, '--interval', '0'], {env: s.env})
    assert.equal(zeroInterval.exitCode, 2)
    assert.match(zeroInterval.stderr, /^dnssd: --interval: 0 is out of range/)
    assert.equal((await runCli(joinArgs(ipOf(600), s.registry), {env: s.env})).exitCode, 0)
    const child = spawn(process.execPath, [BIN, 'sync', '--zone', ZONE, '--registry', s.registry, '--interval', '0.2', '--json'], {env: s.env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    await waitFor(() => out.split('\n').filter((l) => l.trim() !== '').length >= 2, 'two cycles')
    child.kill('SIGTERM')
    assert.equal(await closed, 0)
    const cycles = out.trim().split('\n').map((l) => JSON.parse(l) as {cycle: number; leases: number})
    assert.deepEqual(cycles.slice(0, 2).map((c) => [c.cycle, c.leases]), [[1, 1], [2, 1]])
  })
})

