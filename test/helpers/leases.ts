/**
 * Shared pieces of the lease/reap e2e tests: a member's CLI flags, a
 * streaming spawn (to act when the CLI reaches a step), the zone's records
 * and the registry's leases as seen from outside.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {checkInvariants} from '../../src/core/invariants.js'
import {parseZoneFile} from '../../src/core/zonefile.js'
import {FileLock} from '../../src/platform/filelock.js'
import {BIN, type RunResult, runCli} from './cli.js'
import {assertNoSecret} from './secrets.js'
import {leaseExpiry, untilPast, waitFor} from './wait.js'

export const ZONE = 'example.com'

export interface TestMember {
  n: number
  ip: string
  host: string
  service: string
}

/** Members 1-8 share the pool _v1._web._tcp; 9 and 10 are plain _api._tcp instances. */
export function members(count = 10): TestMember[] {
  return Array.from({length: count}, (_, i) => {
    const n = i + 1
    const ip = `10.0.7.${n}`
    return {n, ip, host: `10-0-7-${n}.${ZONE}`, service: n <= 8 ? '_v1._web._tcp' : '_api._tcp'}
  })
}

export const joinArgs = (m: TestMember, registry: string, lease: number | string): string[] => [
  'join', '--zone', ZONE, '--service', m.service, '--port', String(8000 + m.n), '--ip', m.ip, '--txt', `n=${m.n}`,
  '--registry', registry, '--lease', String(lease), '--json',
]

export async function zoneRecords(dataDir: string): Promise<{name: string; type: string; value: string}[]> {
  try {
    return parseZoneFile(await readFile(join(dataDir, `${ZONE}.zone`), 'utf8'), ZONE).records
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

/** Hosts whose SRV is in the zone, per service instance name. */
export async function srvTargets(dataDir: string): Promise<string[]> {
  return (await zoneRecords(dataDir))
    .filter((r) => r.type === 'SRV')
    .map((r) => r.value.split(' ')[3]!.replace(/\.$/, ''))
    .sort()
}

export async function invariants(dataDir: string): Promise<string[]> {
  return checkInvariants(ZONE, await zoneRecords(dataDir))
}

export interface Streaming {
  /** Resolves when stderr has matched. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>
  done: Promise<RunResult>
  pid: number
}

/** Spawn the built CLI and watch its stderr while it runs. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): Streaming {
  const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const watchers: {re: RegExp; resolve: () => void}[] = []
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    for (const w of [...watchers]) if (w.re.test(stderr)) (watchers.splice(watchers.indexOf(w), 1), w.resolve())
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      try {
        assertNoSecret(stdout + stderr, env, `dnssd ${args.join(' ')}`)
      } catch (error) {
        return reject(error)
      }
      resolve({exitCode: code ?? (signal ? 128 : 1), stdout, stderr})
    })
  })
  return {
    done,
    pid: child.pid!,
    waitFor(re, timeoutMs = 20_000) {
      if (re.test(stderr)) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in stderr:\n${stderr}`)), timeoutMs)
        watchers.push({re, resolve: () => (clearTimeout(t), resolve())})
        void done.then(() => reject(new Error(`process ended before ${re} appeared:\n${stderr}\n${stdout}`)))
      })
    },
  }
}


export interface ScenarioOptions {
  registry: string
  env: NodeJS.ProcessEnv
  dataDir: string
  /** Lease keys (`<zone>/<service>/<host>.json`, without the store's prefix) now in the store. */
  leaseKeys: () => Promise<string[]>
  log: (line: string) => void
}

/**
 * Reapers' --grace in the 10-member run. A keeper renews as fast as one CLI
 * run allows (about 1 s idle), but on a loaded 2-core machine one run has
 * taken 8 s; the grace keeps such a keeper from looking dead.
 */
const GRACE_S = Number(process.env.DNSSD_TEST_REAP_GRACE ?? 10)

export const keyOf = (m: TestMember): string => `${ZONE}/${m.service}/${m.host}.json`
const calls = (stderr: string): number => stderr.split('\n').filter((l) => l.includes(': call ')).length

/**
 * 10 members join with a 3 s lease; 4 keep renewing (re-running join), 6 stop.
 * Two reapers run at once once the 6 have expired: exactly the 6 are removed
 * from DNS and from the registry, the 4 are untouched, the invariants hold.
 */
export async function tenMembersTwoReapers(o: ScenarioOptions): Promise<void> {
  const all = members(10)
  const keepers = all.filter((m) => [1, 4, 7, 9].includes(m.n))
  const stoppers = all.filter((m) => !keepers.includes(m))
  let stop = false
  const renewals = new Map<number, number>()
  // Each keeper re-runs join back to back from its first join on, as a renew timer would.
  const gaps: number[] = []
  const keep = async (m: TestMember): Promise<void> => {
    renewals.set(m.n, 0)
    let last = Date.now()
    while (!stop) {
      const r = await runCli(joinArgs(m, o.registry, 3), {env: o.env})
      gaps.push(Date.now() - last)
      last = Date.now()
      assert.equal(r.exitCode, 0, r.stderr || r.stdout)
      assert.equal(JSON.parse(r.stdout).lease.action, 'renewed', `keeper ${m.host} lost its lease: ${r.stdout}`)
      renewals.set(m.n, renewals.get(m.n)! + 1)
    }
  }
  const renewers: Promise<void>[] = []
  try {
    const joined = await Promise.all(
      all.map(async (m) => {
        const r = await runCli(joinArgs(m, o.registry, 3), {env: o.env})
        assert.equal(r.exitCode, 0, r.stderr || r.stdout)
        if (keepers.includes(m)) renewers.push(keep(m))
        return JSON.parse(r.stdout) as {lease: {expiresAt: string}}
      }),
    )
    // Reap once every stopped member's lease has been expired for longer than the reapers' grace
    // (the grace covers a keeper's gap between renewals on a loaded machine).
    const latest = Math.max(...joined.filter((_, i) => stoppers.includes(all[i]!)).map((j) => Date.parse(j.lease.expiresAt)))
    await untilPast(latest + GRACE_S * 1000)
    const started = Date.now()
    const reapArgs = ['reap', '--zone', ZONE, '--registry', o.registry, '--grace', String(GRACE_S), '--json', '--verbose']
    const [a, b] = await Promise.all([runCli(reapArgs, {env: o.env}), runCli(reapArgs, {env: o.env})])
    const wall = Date.now() - started
    assert.equal(a.exitCode, 0, `${a.stderr}\n${a.stdout}`)
    assert.equal(b.exitCode, 0, `${b.stderr}\n${b.stdout}`)
    const items = [...JSON.parse(a.stdout).items, ...JSON.parse(b.stdout).items] as {host: string; status: string; changes: unknown[]}[]
    assert.deepEqual(items.filter((i) => i.status === 'failed'), [])
    const removed = items.filter((i) => i.status === 'removed').map((i) => i.host).sort()
    assert.deepEqual(removed, stoppers.map((m) => m.host).sort(), `each stopped member is removed exactly once across both reapers; longest renewal ${Math.max(...gaps)} ms; items ${JSON.stringify(items.map((i) => [i.host, i.status, (i as {expiresAt?: string}).expiresAt]))}; reap started ${new Date(started).toISOString()}`)
    for (const i of items) assert.ok(!keepers.some((k) => k.host === i.host && i.status === 'removed'), `keeper ${i.host} was reaped`)
    o.log(
      `two reapers, ${stoppers.length} expired of ${all.length}: wall ${wall} ms (both processes), ` +
        `reaper A ${JSON.parse(a.stdout).elapsedMs} ms / ${calls(a.stderr)} calls, reaper B ${JSON.parse(b.stdout).elapsedMs} ms / ${calls(b.stderr)} calls`,
    )
  } finally {
    stop = true
    await Promise.allSettled(renewers)
  }
  await Promise.all(renewers)
  o.log(`renewals per keeper during the run: ${[...renewals.values()].join(', ')}; longest renewal ${Math.max(...gaps)} ms`)
  assert.deepEqual(await srvTargets(o.dataDir), keepers.map((m) => m.host).sort())
  assert.deepEqual(await o.leaseKeys(), keepers.map(keyOf).sort())
  assert.deepEqual(await invariants(o.dataDir), [])
  const records = await zoneRecords(o.dataDir)
  for (const m of stoppers) assert.ok(!records.some((r) => r.name === m.host || r.value.includes(m.host)), `${m.host} left a record behind`)

  // list --registry: every member in DNS has a live lease, no drift.
  const list = await runCli(['list', '--zone', ZONE, '--registry', o.registry, '--json'], {env: o.env})
  assert.equal(list.exitCode, 0, list.stderr)
  const drift = JSON.parse(list.stdout).leases
  assert.deepEqual(drift.members.map((m: {host: string}) => m.host).sort(), keepers.map((m) => m.host).sort())
  assert.deepEqual(drift.dnsWithoutLease, [])
  assert.deepEqual(drift.leasesWithoutDns, [])

  // A third reap finds nothing left to do (the keepers stopped renewing at the end of the run: grace covers them).
  const again = await runCli(['reap', '--zone', ZONE, '--registry', o.registry, '--grace', '60', '--json'], {env: o.env})
  assert.equal(again.exitCode, 0, again.stderr)
  assert.equal(JSON.parse(again.stdout).expired, 0)
}

/**
 * The race: a member renews while a reaper is between reading its expired
 * lease and deleting it. Both processes are held on the zone file's lock (the
 * reaper after reading the lease, the member after reading its own lease),
 * then let go together. Whichever wins the lock, the member must end up in DNS
 * with a live lease (the reaper puts back what it removed when its
 * conditional delete finds the lease renewed; the member re-applies its join
 * when its conditional renewal finds the lease deleted).
 */
export async function renewDuringReap(o: ScenarioOptions): Promise<{reaper: string; member: unknown}> {
  const [m] = members(1) as [TestMember]
  const first = await runCli(joinArgs(m, o.registry, 1), {env: o.env})
  assert.equal(first.exitCode, 0, first.stderr)
  await untilPast(leaseExpiry(first.stdout))
  const zonePath = join(o.dataDir, `${ZONE}.zone`)
  const lock = await FileLock.acquire(zonePath, {deadline: Date.now() + 60_000, log: () => undefined})
  const release = () => lock.release()
  let reaper: Streaming | undefined
  let member: Streaming | undefined
  try {
    reaper = spawnCli(['reap', '--zone', ZONE, '--registry', o.registry, '--json', '--verbose'], o.env)
    await reaper.waitFor(/reap: 1 lease\(s\) in .* 1 expired/)
    member = spawnCli([...joinArgs(m, o.registry, 30), '--verbose'], o.env)
    await member.waitFor(/: call Get(Lease|Object) /)
    // The member waits on the zone lock once its claim file sits beside it.
    const claim = `${ZONE}.zone.lock.tmp-${member.pid}-`
    await waitFor(async () => (await readdir(o.dataDir)).some((f) => f.startsWith(claim)), `join (pid ${member.pid}) to wait on the zone lock`)
  } finally {
    await release()
  }
  const [r, j] = await Promise.all([reaper.done, member.done])
  assert.equal(r.exitCode, 0, r.stderr || r.stdout)
  assert.equal(j.exitCode, 0, j.stderr)
  const item = JSON.parse(r.stdout).items[0] as {status: string}
  assert.ok(['renewed', 'removed'].includes(item.status), item.status)
  assert.deepEqual(await srvTargets(o.dataDir), [m.host], 'the renewing member is in DNS')
  assert.deepEqual(await o.leaseKeys(), [keyOf(m)], 'and keeps its lease')
  assert.deepEqual(await invariants(o.dataDir), [])
  const list = await runCli(['list', '--zone', ZONE, '--registry', o.registry, '--json'], {env: o.env})
  const drift = JSON.parse(list.stdout).leases
  assert.equal(drift.members[0].lease.state, 'active')
  assert.deepEqual([drift.dnsWithoutLease, drift.leasesWithoutDns], [[], []])
  return {reaper: item.status, member: JSON.parse(j.stdout).lease}
}

/**
 * The other order of the race, made deterministic: the member's renewal lands
 * in the registry after the reaper read the lease but before it removes the
 * DNS values (the reaper is held on the zone lock meanwhile). The reaper's
 * conditional delete must fail, and the reaper must put back what it removed,
 * from the renewed lease.
 */
export async function renewedAfterRead(o: ScenarioOptions & {writeLease: (key: string, text: string) => Promise<void>}): Promise<void> {
  const [m] = members(1) as [TestMember]
  const first = await runCli(joinArgs(m, o.registry, 1), {env: o.env})
  assert.equal(first.exitCode, 0, first.stderr)
  await untilPast(leaseExpiry(first.stdout))
  const zoneBefore = await zoneRecords(o.dataDir)
  const zonePath = join(o.dataDir, `${ZONE}.zone`)
  const lock = await FileLock.acquire(zonePath, {deadline: Date.now() + 60_000, log: () => undefined})
  const release = () => lock.release()
  let reaper: Streaming | undefined
  try {
    reaper = spawnCli(['reap', '--zone', ZONE, '--registry', o.registry, '--json', '--verbose'], o.env)
    await reaper.waitFor(/reap: 1 lease\(s\) in .* 1 expired/)
    const now = Date.now()
    const lease = {
      zone: ZONE, service: m.service, host: m.host, address: m.ip, port: 8000 + m.n, priority: 0, weight: 0, provider: 'file',
      joinedAt: new Date(now - 2000).toISOString(), renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + 30_000).toISOString(),
      ttl: 60, txt: [`n=${m.n}`], leaseSeconds: 30,
    }
    await o.writeLease(keyOf(m), `${JSON.stringify(lease, null, 2)}\n`)
  } finally {
    await release()
  }
  const r = await reaper.done
  assert.equal(r.exitCode, 0, r.stderr || r.stdout)
  const item = JSON.parse(r.stdout).items[0] as {status: string; changes: unknown[]; restored: unknown[]; lease: string}
  assert.equal(item.status, 'renewed')
  assert.equal(item.lease, 'kept')
  assert.ok(item.changes.length > 0 && item.restored.length === item.changes.length, JSON.stringify(item))
  assert.match(r.stderr, /renewed its lease during the reap; putting its values back/)
  const sort = (rs: {name: string; type: string; value: string}[]) => rs.filter((x) => x.type !== 'SOA').map((x) => `${x.name} ${x.type} ${x.value}`).sort()
  assert.deepEqual(sort(await zoneRecords(o.dataDir)), sort(zoneBefore), 'the member is back exactly as it joined')
  assert.deepEqual(await o.leaseKeys(), [keyOf(m)])
  assert.deepEqual(await invariants(o.dataDir), [])
}
