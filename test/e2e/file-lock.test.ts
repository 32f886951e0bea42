/**
 * The file backend's lock (issue 10) through the built CLI: a holder that
 * stalls keeps its lock and loses no update, an acknowledged join or leave is
 * durable under heavy load, and a holder killed inside the lock is taken over
 * at once with its leftovers removed.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {cpus, hostname} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {parseZoneFile} from '../../src/core/zonefile.js'
import {BIN, ROOT, type RunResult, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {seededRandom} from '../helpers/seed.js'

const Z = 'lock.example'
const SVC = '_v1._web._tcp'
const random = seededRandom('file-lock')
const {seed} = random

const hostOf = (ip: string): string => `${ip.replaceAll('.', '-')}.${Z}`
const joinArgs = (dir: string, ip: string, timeout: number): string[] =>
  ['join', '-z', Z, '-s', SVC, '-p', '80', '--ip', ip, '--data-dir', dir, '--timeout', String(timeout), '-v']
const leaveArgs = (dir: string, ip: string, timeout: number): string[] =>
  ['leave', '-z', Z, '-s', SVC, '--ip', ip, '--data-dir', dir, '--timeout', String(timeout), '-v']

function start(args: string[]): {child: ChildProcess; done: Promise<RunResult>} {
  const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<RunResult>((resolve) =>
    child.on('close', (code, signal) => resolve({exitCode: code ?? (signal ? 128 : 1), stdout, stderr})),
  )
  return {child, done}
}

async function records(dir: string) {
  return parseZoneFile(await readFile(join(dir, `${Z}.zone`), 'utf8'), Z).records
}

/** Owner names of every record that mentions a member's host. */
async function traces(dir: string, ip: string): Promise<string[]> {
  const host = hostOf(ip)
  return (await records(dir)).filter((r) => r.name.includes(host) || r.value.includes(host)).map((r) => `${r.name} ${r.type} ${r.value}`)
}

async function srvTargets(dir: string): Promise<Set<string>> {
  return new Set((await records(dir)).filter((r) => r.type === 'SRV').map((r) => r.value.split(' ')[3]!.replace(/\.$/, '')))
}

/** Bulk, so a join holds the lock for long enough to be caught holding it. */
async function prefill(dir: string): Promise<void> {
  const lines = [`$ORIGIN ${Z}.`, `${Z}. 3600 IN SOA localhost. hostmaster.${Z}. 1 3600 600 1209600 60`, `${Z}. 3600 IN NS localhost.`]
  for (let i = 0; i < 8000; i++) lines.push(`filler-${i}.${Z}. 60 IN TXT "bulk ${i}"`)
  await writeFile(join(dir, `${Z}.zone`), `${lines.join('\n')}\n`)
}

/** A process that takes `path`'s lock through the built FileLock and is then stopped (SIGSTOP) holding it. */
async function stoppedLockHolder(path: string): Promise<ChildProcess> {
  const script = `import {FileLock} from './dist/platform/filelock.js'
await FileLock.acquire(${JSON.stringify(path)}, {deadline: Date.now() + 60000, log: () => undefined})
process.stdout.write('locked\\n')
setInterval(() => undefined, 1000)`
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve())
    holder.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)))
  })
  holder.kill('SIGSTOP')
  return holder
}

/** Resolves true once the lock file names `pid` as its owner; false if the process ended first. */
async function holdsLock(lockPath: string, child: ChildProcess): Promise<boolean> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      if (JSON.parse(readFileSync(lockPath, 'utf8')).pid === child.pid) return true
    } catch {
      // not there yet, or another holder
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  return false
}

describe('file provider lock', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => ({path: dir, cleanup} = await tempDir()))
  after(() => cleanup())

  it('a holder paused inside the lock keeps it: no acknowledged member is ever missing', async () => {
    const trials = 4
    let caught = 0
    for (let attempt = 0; caught < trials && attempt < trials * 10; attempt++) {
      const d = join(dir, `pause-${attempt}`)
      await mkdir(d, {recursive: true})
      await prefill(d)
      const lockPath = join(d, `${Z}.zone.lock`)
      const a = start(joinArgs(d, `10.70.${attempt}.1`, 120))
      if (!(await holdsLock(lockPath, a.child))) {
        await a.done
        continue
      }
      a.child.kill('SIGSTOP')
      if (JSON.parse(readFileSync(lockPath, 'utf8')).pid !== a.child.pid) {
        a.child.kill('SIGCONT')
        await a.done
        continue
      }
      caught++
      const bTimeout = 2 + Math.floor(random() * 3)
      const b = await start(joinArgs(d, `10.70.${attempt}.2`, bTimeout)).done
      a.child.kill('SIGCONT')
      const ra = await a.done
      const have = await srvTargets(d)
      for (const [r, ip] of [[ra, `10.70.${attempt}.1`], [b, `10.70.${attempt}.2`]] as const) {
        if (r.exitCode === 0) assert.ok(have.has(hostOf(ip)), `${ip} exited 0 but is missing (seed ${seed})`)
      }
      // The paused holder is alive: the second join cannot take its lock and says so at its deadline.
      assert.equal(b.exitCode, 5, b.stderr)
      assert.match(b.stderr, new RegExp(`could not lock .* before the deadline; pid ${a.child.pid} holds`))
      assert.equal(ra.exitCode, 0, ra.stderr)
      assert.deepEqual(checkInvariants(Z, await records(d)), [])
    }
    assert.equal(caught, trials, `caught a join holding the lock in ${caught} of ${trials} trials`)
  })

  it('a holder killed inside the lock is taken over at once; its leftovers are removed', async () => {
    const d = join(dir, 'killed')
    await mkdir(d, {recursive: true})
    await prefill(d)
    const lockPath = join(d, `${Z}.zone.lock`)
    let killedPid: number | undefined
    for (let attempt = 0; killedPid === undefined && attempt < 10; attempt++) {
      const a = start(joinArgs(d, `10.71.${attempt}.1`, 60))
      if (await holdsLock(lockPath, a.child)) {
        a.child.kill('SIGKILL')
        killedPid = a.child.pid
      }
      await a.done
    }
    assert.ok(killedPid, 'caught a join holding the lock')
    assert.ok(existsSync(lockPath), 'the killed holder left its lock behind')
    // A temp zone copy as a writer killed between writing and renaming leaves it.
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8)
    const orphan = join(d, `${Z}.zone.tmp-${killedPid}-0-${tag}-0badc0de`)
    await writeFile(orphan, 'half a zone')
    const b = await runCli(joinArgs(d, '10.71.9.2', 30))
    assert.equal(b.exitCode, 0, b.stderr)
    assert.match(b.stderr, new RegExp(`took over .*${Z}\\.zone\\.lock from pid ${killedPid}, which is gone`))
    assert.match(b.stderr, /removed .*\.tmp-.*left by a process that is gone/)
    assert.deepEqual((await readdir(d)).filter((f) => f !== `${Z}.zone`), [], 'only the zone file remains')
    assert.ok((await srvTargets(d)).has(hostOf('10.71.9.2')))
  })

  it('a lease lock: a stopped holder keeps it (exit 5, its pid named), a killed one is taken over', async () => {
    const d = join(dir, 'lease-data')
    const registry = join(dir, 'leases')
    const lease = join(registry, Z, SVC, `${hostOf('10.73.0.1')}.json`)
    await mkdir(join(registry, Z, SVC), {recursive: true})
    const holder = await stoppedLockHolder(lease)
    try {
      const args = (timeout: number): string[] => [...joinArgs(d, '10.73.0.1', timeout), '--registry', `file://${registry}`, '--lease', '60']
      const stalled = await runCli(args(10))
      assert.equal(stalled.exitCode, 5, stalled.stderr)
      assert.match(stalled.stderr, new RegExp(`could not lock .*\\.json \\(registry file://.*\\) before the deadline; pid ${holder.pid} holds`))
      assert.equal(existsSync(lease), false, 'no lease was written under a held lock')
      holder.kill('SIGKILL')
      await new Promise((resolve) => (holder.exitCode !== null || holder.signalCode !== null ? resolve(undefined) : holder.once('exit', resolve)))
      const next = await runCli(args(30))
      assert.equal(next.exitCode, 0, next.stderr)
      assert.match(next.stderr, new RegExp(`took over .*\\.json\\.lock from pid ${holder.pid}, which is gone`))
      assert.equal(JSON.parse(await readFile(lease, 'utf8')).host, hostOf('10.73.0.1'))
      assert.deepEqual(await readdir(join(registry, Z, SVC)), [`${hostOf('10.73.0.1')}.json`], 'no lock or temp file left')
    } finally {
      holder.kill('SIGKILL')
    }
  })

  it('a join or leave that changes nothing takes no lock when none is held, and waits for a held one as before', async () => {
    const d = join(dir, 'no-change')
    await mkdir(d, {recursive: true})
    const first = await runCli(joinArgs(d, '10.74.0.1', 30))
    assert.equal(first.exitCode, 0, first.stderr)
    const zone = join(d, `${Z}.zone`)
    const before = await readFile(zone, 'utf8')
    const again = await runCli(joinArgs(d, '10.74.0.1', 30))
    assert.equal(again.exitCode, 0, again.stderr)
    assert.match(again.stdout, /already a member .*nothing to change/)
    assert.match(again.stderr, /already as planned; nothing to write, not locked/)
    assert.doesNotMatch(again.stderr, /locked .* after/)
    const absent = await runCli(leaveArgs(d, '10.74.0.9', 30))
    assert.equal(absent.exitCode, 0, absent.stderr)
    assert.match(absent.stderr, /not locked/)
    assert.equal(await readFile(zone, 'utf8'), before, 'nothing written')
    assert.deepEqual(await readdir(d), [`${Z}.zone`], 'no lock or temp file made')
    const holder = await stoppedLockHolder(zone)
    try {
      // A held lock: the same no-change join waits for it, as every join does.
      const held = await runCli(joinArgs(d, '10.74.0.1', 2))
      assert.equal(held.exitCode, 5, held.stderr)
      assert.match(held.stderr, new RegExp(`could not lock .* before the deadline; pid ${holder.pid} holds`))
    } finally {
      holder.kill('SIGKILL')
    }
  })

  it('100 parallel joins, then 100 leaves, with every core busy: every exited-0 change is in the zone', async () => {
    const d = join(dir, 'parallel')
    const n = 100
    const ips = Array.from({length: n}, (_, i) => `10.72.${Math.floor(i / 200)}.${(i % 200) + 1}`)
    const hogs = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], {stdio: 'ignore'}))
    try {
      const joins = await Promise.all(ips.map((ip) => start(joinArgs(d, ip, 240)).done))
      const joined = ips.filter((_, i) => joins[i]!.exitCode === 0)
      console.log(`file-lock: ${joined.length} of ${n} joins exited 0`)
      assert.ok(joined.length > 0, joins.map((r) => r.stderr).join('\n').slice(0, 2000))
      for (const r of joins) assert.ok([0, 5].includes(r.exitCode), r.stderr)
      const present = await srvTargets(d)
      assert.deepEqual(joined.filter((ip) => !present.has(hostOf(ip))), [], 'exited 0 but missing')
      assert.deepEqual(checkInvariants(Z, await records(d)), [])

      const leaves = await Promise.all(ips.map((ip) => start(leaveArgs(d, ip, 240)).done))
      const left = ips.filter((_, i) => leaves[i]!.exitCode === 0)
      console.log(`file-lock: ${left.length} of ${n} leaves exited 0`)
      assert.ok(left.length > 0)
      for (const r of leaves) assert.ok([0, 5].includes(r.exitCode), r.stderr)
      for (const ip of left) assert.deepEqual(await traces(d, ip), [], `leave of ${ip} exited 0`)
      assert.deepEqual(checkInvariants(Z, await records(d)), [])
      assert.deepEqual((await readdir(d)).filter((f) => f !== `${Z}.zone`), [])
    } finally {
      for (const h of hogs) h.kill('SIGKILL')
    }
  })
})
