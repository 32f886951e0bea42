// File-backend lock figures (issue 10), all through the built CLI:
//  - pause trials: a join holding the zone lock is SIGSTOPped while a second
//    join runs to its end, then resumed; counts members whose join exited 0
//    but are missing from the zone (lost updates);
//  - N parallel joins, then N parallel leaves, while one busy-loop process per
//    core runs: exited-0 counts, members present / still present;
//  - the wait after a holder is SIGKILLed inside the lock: wall time of the
//    next join minus the median of the same join without a dead holder.
// BENCH_LOCK_TRIALS (4), BENCH_LOCK_N (100), BENCH_LOCK_KILLS (3) size it;
// DNSSD_TEST_SEED fixes the random pauses (printed).
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, benchEnv, fmt, printTable} from './lib.mjs'

const ZONE = 'lock.example'
const SVC = '_v1._web._tcp'
const trials = Number(process.env.BENCH_LOCK_TRIALS ?? 4)
const n = Number(process.env.BENCH_LOCK_N ?? 100)
const kills = Number(process.env.BENCH_LOCK_KILLS ?? 3)
const seed = Number(process.env.DNSSD_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))
console.log(`seed ${seed} (DNSSD_TEST_SEED)`)
let state = seed
const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)

function start(args, env) {
  const t = process.hrtime.bigint()
  const child = spawn(process.execPath, [BIN, ...args], {env, stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({code: code ?? 128, signal, err, ms: Number(process.hrtime.bigint() - t) / 1e6})))
  return {child, done}
}

const joinArgs = (dir, ip, timeout) => ['join', '-z', ZONE, '-s', SVC, '-p', '80', '--ip', ip, '--data-dir', dir, '--timeout', String(timeout), '-v']
const leaveArgs = (dir, ip, timeout) => ['leave', '-z', ZONE, '-s', SVC, '--ip', ip, '--data-dir', dir, '--timeout', String(timeout), '-v']
const hostOf = (ip) => `${ip.replaceAll('.', '-')}.${ZONE}.`
function present(dir) {
  const path = join(dir, `${ZONE}.zone`)
  if (!existsSync(path)) return new Set()
  const targets = readFileSync(path, 'utf8').split('\n').filter((l) => /\sSRV\s/.test(l)).map((l) => l.trim().split(/\s+/).at(-1))
  return new Set(targets)
}

/** A zone with some bulk, so a join holds the lock long enough to be caught. */
function prefill(dir) {
  const lines = [`$ORIGIN ${ZONE}.`, `${ZONE}. 3600 IN SOA localhost. hostmaster.${ZONE}. 1 3600 600 1209600 60`, `${ZONE}. 3600 IN NS localhost.`]
  for (let i = 0; i < 3000; i++) lines.push(`filler-${i}.${ZONE}. 60 IN TXT "bulk ${i}"`)
  writeFileSync(join(dir, `${ZONE}.zone`), `${lines.join('\n')}\n`)
}

/** Wait until the lock file exists (any holder), polling as fast as the event loop lets us. */
async function whenLocked(lockPath, child, limitMs = 60_000) {
  const until = Date.now() + limitMs
  while (Date.now() < until && child.exitCode === null) {
    if (existsSync(lockPath)) return true
    await new Promise((r) => setImmediate(r))
  }
  return false
}

async function pauseTrials(env) {
  let caught = 0
  let lost = 0
  let failedB = 0
  let attempts = 0
  for (let t = 0; t < trials && attempts < trials * 5; attempts++) {
    const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-lock-'))
    prefill(dir)
    const lockPath = join(dir, `${ZONE}.zone.lock`)
    const a = start(joinArgs(dir, `10.7.${t}.1`, 120), env)
    const locked = await whenLocked(lockPath, a.child)
    if (!locked) {
      await a.done
      rmSync(dir, {recursive: true, force: true})
      continue
    }
    a.child.kill('SIGSTOP')
    if (!existsSync(lockPath)) {
      a.child.kill('SIGCONT')
      await a.done
      rmSync(dir, {recursive: true, force: true})
      continue
    }
    caught++
    t++
    const b = await start(joinArgs(dir, `10.7.${t}.2`, 5 + Math.floor(random() * 3)), env).done
    a.child.kill('SIGCONT')
    const ra = await a.done
    const have = present(dir)
    for (const [r, ip] of [[ra, `10.7.${t - 1}.1`], [b, `10.7.${t}.2`]]) if (r.code === 0 && !have.has(hostOf(ip))) lost++
    if (b.code !== 0) failedB++
    rmSync(dir, {recursive: true, force: true})
  }
  return {caught, lost, failedB}
}

function hogs() {
  return Array.from({length: cpus().length}, () => spawn(process.execPath, ['-e', 'for(;;){}'], {stdio: 'ignore'}))
}

async function parallel(env) {
  const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-lock-'))
  const ips = Array.from({length: n}, (_, i) => `10.8.${Math.floor(i / 200)}.${(i % 200) + 1}`)
  const busy = hogs()
  try {
    const joins = await Promise.all(ips.map((ip) => start(joinArgs(dir, ip, 90), env).done))
    const afterJoin = present(dir)
    const joined0 = ips.filter((_, i) => joins[i].code === 0)
    const lostJoins = joined0.filter((ip) => !afterJoin.has(hostOf(ip))).length
    const leaves = await Promise.all(ips.map((ip) => start(leaveArgs(dir, ip, 90), env).done))
    const afterLeave = present(dir)
    const left0 = ips.filter((_, i) => leaves[i].code === 0)
    const stillThere = left0.filter((ip) => afterLeave.has(hostOf(ip))).length
    const temps = readdirSync(dir).filter((f) => f.includes('tmp')).length
    return {joined0: joined0.length, presentAfterJoin: ips.filter((ip) => afterJoin.has(hostOf(ip))).length, lostJoins, left0: left0.length, stillThere, temps}
  } finally {
    for (const h of busy) h.kill('SIGKILL')
    rmSync(dir, {recursive: true, force: true})
  }
}

async function killedHolder(env) {
  const waits = []
  const tookOver = []
  for (let k = 0; k < kills; k++) {
    const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-lock-'))
    prefill(dir)
    const lockPath = join(dir, `${ZONE}.zone.lock`)
    const base = []
    for (let i = 0; i < 3; i++) base.push((await start(joinArgs(dir, `10.6.${k}.${10 + i}`, 30), env).done).ms)
    base.sort((x, y) => x - y)
    const a = start(joinArgs(dir, `10.6.${k}.1`, 30), env)
    if (!(await whenLocked(lockPath, a.child))) {
      await a.done
      rmSync(dir, {recursive: true, force: true})
      k--
      continue
    }
    a.child.kill('SIGKILL')
    await a.done
    const b = await start(joinArgs(dir, `10.6.${k}.2`, 30), env).done
    waits.push(b.ms - base[1])
    tookOver.push(/dead|stale|compromised/i.test(b.err) ? 'yes' : 'no')
    rmSync(dir, {recursive: true, force: true})
  }
  return {waits, tookOver}
}

const env = benchEnv()
const p = await pauseTrials(env)
printTable('pause trials (holder SIGSTOPped, second join runs, holder resumed)', ['trials caught', 'exited 0 but missing', 'second join non-zero'], [[p.caught, p.lost, p.failedB]])
const k = await killedHolder(env)
printTable('join after a holder was SIGKILLed inside the lock', ['extra wait ms (each)', 'median extra ms', 'log names a dead/stale holder'], [
  [k.waits.map(fmt).join(', '), fmt([...k.waits].sort((x, y) => x - y)[Math.floor(k.waits.length / 2)]), k.tookOver.join(', ')],
])
if (n > 0) {
  const r = await parallel(env)
  printTable(`${n} parallel joins then ${n} parallel leaves, ${cpus().length} busy loops running`, ['joins exited 0', 'members present', 'exited-0 joins lost', 'leaves exited 0', 'exited-0 leaves still present', 'temp files left'], [
    [r.joined0, r.presentAfterJoin, r.lostJoins, r.left0, r.stillThere, r.temps],
  ])
}
