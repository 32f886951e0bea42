#!/usr/bin/env node
// Fleet events in ONE process (run `npm run build` first): N logical members
// run the built app-layer join/leave (dist/app/membership.js) with the
// requests the CLI builds (dist/cli/requests.js), all at once, against
//   - the local Route 53 endpoint (test/fakes/route53.ts): 5 requests/s
//     token bucket, injected faults (Throttling, PriorRequestNotComplete,
//     500, a change committed but its answer dropped);
//   - the local Cloudflare endpoint (test/fakes/cloudflare.ts, 200 operations
//     a batch) behind a gate in this file: 1,200 requests per 5 minutes
//     (sliding window, 429 code 971) and injected faults (429, 500/502, an
//     answer lost after the request was served);
//   - the file provider (no rate limit, no batch limit): the registry side
//     at sizes one Route 53 or Cloudflare batch cannot take yet.
// Direct mode (no registry: one read-plan-apply per member) and coalesced
// mode (file registry in a temp dir: intents, one applier) side by side.
// Joins get a 120 s deadline. Leaves: 5 s in coalesced mode (a shutdown hook;
// a leave succeeds once its tombstone is written), 120 s in direct mode (so
// its completion time is measured; the column counts those over 5 s).
//
// Knobs (environment):
//   BENCH_FLEET_N=50,200,1000       sizes
//   BENCH_FLEET_POOL=100            members per pool (service _pK._web._tcp)
//   BENCH_FLEET_PROVIDERS=route53,cloudflare,file
//   BENCH_FLEET_MODES=direct,coalesced
//   BENCH_FLEET_FAULTS=0,0.15       injected fault rates (file: 0 only)
//   BENCH_FLEET_DIRECT_MAX_S=30     skip a direct Route 53 run whose rate-limit bound is longer (N=200: 80 s)
//   BENCH_FLEET_FILE_DIRECT_MAX=200 largest direct run on the file provider (one zone-file lock for all)
//   BENCH_FLEET_CLEAN_S=60          how long to wait for DNS to be clean after the leaves (coalesced: 1 s,
//                                   then one `dnssd sync --once` applies the tombstones nobody applied)
//   BENCH_SEED=N                    repeat the fault dice (printed at start)
//   BENCH_FLEET_TRACE=1             print the appliers' steps (stderr), timed from the phase start
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer, request as httpRequest} from 'node:http'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {register} from 'tsx/esm/api'
import {ROOT, fmt, printTable, route53BenchEnv} from './lib.mjs'

register()
const {FakeRoute53} = await import(new URL('../test/fakes/route53.ts', import.meta.url).href)
const {FakeCloudflare, FAKE_TOKEN, presentation} = await import(new URL('../test/fakes/cloudflare.ts', import.meta.url).href)
const dist = (p) => import(pathToFileURL(`${ROOT}dist/${p}`).href)
const {join: joinMember, leave: leaveMember} = await dist('app/membership.js')
const {membershipRequest} = await dist('cli/requests.js')
const {syncOnce} = await dist('app/sync.js')
const {parseRegistryUrl} = await dist('registry/registry.js')
const {parseZoneFile} = await dist('core/zonefile.js')

const list = (name, fallback) => (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean)
const SIZES = list('BENCH_FLEET_N', '50,200,1000').map(Number)
const POOL = Number(process.env.BENCH_FLEET_POOL ?? 100)
const PROVIDERS = list('BENCH_FLEET_PROVIDERS', 'route53,cloudflare,file')
const MODES = list('BENCH_FLEET_MODES', 'direct,coalesced')
const FAULTS = list('BENCH_FLEET_FAULTS', '0,0.15').map(Number)
const DIRECT_MAX_S = Number(process.env.BENCH_FLEET_DIRECT_MAX_S ?? 30)
const CLEAN_S = Number(process.env.BENCH_FLEET_CLEAN_S ?? 60)
const FILE_DIRECT_MAX = Number(process.env.BENCH_FLEET_FILE_DIRECT_MAX ?? 200)
const TRACE = process.env.BENCH_FLEET_TRACE === '1'
const ZONE = 'example.com'
const R53_RATE = 5
const CF_WINDOW_S = 300
const CF_QUOTA = 1200
/** Requests a second each provider's limit allows over time. */
const RATE = {route53: R53_RATE, cloudflare: CF_QUOTA / CF_WINDOW_S}
/** Calls a direct join (and leave) needs at least, uncontended: for the skip rule. */
const DIRECT_CALLS = {route53: 2, cloudflare: 3}

const seed = /^\d+$/.test(process.env.BENCH_SEED ?? '') ? Number(process.env.BENCH_SEED) >>> 0 : Math.floor(Math.random() * 2 ** 32) >>> 0
console.log(`fleet bench: seed ${seed} (BENCH_SEED=${seed} repeats the fault dice)`)
function seeded(s) {
  let state = s >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

// Route 53 credentials and endpoint are read from the environment when a provider opens.
for (const [k, v] of Object.entries(route53BenchEnv('http://127.0.0.1:9'))) if (/^(AWS_|NODE_NO_WARNINGS)/.test(k)) process.env[k] = v

const ipOf = (i) => `10.${40 + Math.floor(i / 62500)}.${Math.floor((i % 62500) / 250)}.${(i % 250) + 1}`
const hostOf = (i) => `${ipOf(i).replaceAll('.', '-')}.${ZONE}`
const serviceOf = (i) => `_p${Math.floor(i / POOL)}._web._tcp`

/**
 * The Cloudflare account limit and faults, in front of the fake: 1,200
 * requests in any 300 s (sliding window) and, at `faultRate`, a 429, a 5xx,
 * or an answer lost after the fake served the request.
 */
async function cloudflareGate(upstream, faultRate, random) {
  const stamps = []
  const stats = {requests: 0, limited: 0, faults: 0}
  const server = createServer((req, res) => {
    stats.requests++
    const now = Date.now()
    while (stamps.length > 0 && stamps[0] <= now - CF_WINDOW_S * 1000) stamps.shift()
    const reject = (status, code, message, headers = {}) => {
      const body = JSON.stringify({success: false, errors: [{code, message}], messages: [], result: null})
      req.resume()
      res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers})
      res.end(body)
    }
    if (stamps.length >= CF_QUOTA) {
      stats.limited++
      const wait = Math.ceil((stamps[0] + CF_WINDOW_S * 1000 - now) / 1000)
      return reject(429, 971, 'Please wait and consider throttling your request speed', {'retry-after': String(wait), ratelimit: `"default";r=0;t=${wait}`, 'ratelimit-policy': `"default";q=${CF_QUOTA};w=${CF_WINDOW_S}`})
    }
    stamps.push(now)
    let fault
    if (faultRate > 0 && random() < faultRate) fault = ['throttle', 'server', 'lost'][Math.floor(random() * 3)]
    if (fault) stats.faults++
    if (fault === 'throttle') return reject(429, 971, 'Please wait and consider throttling your request speed', {'retry-after': '1'})
    if (fault === 'server') return reject(random() < 0.5 ? 500 : 502, 10000, 'Internal server error')
    const target = new URL(req.url, upstream)
    const out = httpRequest(target, {method: req.method, headers: {...req.headers, host: target.host}}, (answer) => {
      if (fault === 'lost') {
        answer.resume()
        answer.on('end', () => res.socket?.destroy())
        return
      }
      res.writeHead(answer.statusCode, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => res.socket?.destroy())
    req.pipe(out)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}/client/v4`,
    stats,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A fresh backend for one scenario: flags for its members, its records, its call counter. */
async function backend(kind, faultRate, random, dir) {
  if (kind === 'route53') {
    const fake = new FakeRoute53({rate: R53_RATE, burst: R53_RATE, faultRate, random})
    const zoneId = fake.createZone(ZONE).id
    process.env.AWS_ENDPOINT_URL_ROUTE_53 = await fake.start()
    return {
      flags: {provider: 'route53', 'zone-id': zoneId},
      records: () => fake.records(zoneId),
      calls: () => fake.log.length,
      accepted: () => fake.log.filter((e) => e.fault !== 'throttled-by-bucket').length,
      stop: () => fake.stop(),
    }
  }
  if (kind === 'cloudflare') {
    const fake = await new FakeCloudflare().start()
    const gate = await cloudflareGate(fake.url, faultRate, random)
    process.env.CLOUDFLARE_API_TOKEN = FAKE_TOKEN
    process.env.CLOUDFLARE_BASE_URL = gate.url
    return {
      flags: {provider: 'cloudflare', 'zone-id': fake.zoneId(ZONE)},
      records: () => fake.records().map((r) => ({name: r.name, type: r.type, value: presentation(r)})),
      calls: () => gate.stats.requests,
      accepted: () => gate.stats.requests - gate.stats.limited,
      stop: async () => {
        await gate.close()
        await fake.close()
      },
    }
  }
  const dataDir = join(dir, 'zones')
  return {
    flags: {provider: 'file', 'data-dir': dataDir},
    records: () => {
      let text
      try {
        text = readFileSync(join(dataDir, `${ZONE}.zone`), 'utf8')
      } catch {
        return []
      }
      return parseZoneFile(text, ZONE).records.map((r) => ({name: r.name.replace(/\.$/, ''), type: r.type, value: r.value}))
    },
    calls: () => 0,
    accepted: () => 0,
    stop: async () => {},
  }
}

/** SRV targets of our pools and the names that have an address. */
function dnsState(records) {
  const targets = new Set()
  const addresses = new Set()
  let dangling = 0
  for (const r of records) if (r.type === 'A' || r.type === 'AAAA') addresses.add(r.name.replace(/\.$/, '').toLowerCase())
  for (const r of records) {
    if (r.type !== 'SRV' || !/^_p\d+\._web\._tcp\./.test(r.name)) continue
    const target = r.value.trim().split(/\s+/)[3].replace(/\.$/, '').toLowerCase()
    targets.add(target)
    if (!addresses.has(target)) dangling++
  }
  return {targets, dangling}
}

const waitFor = async (check, seconds) => {
  const until = Date.now() + seconds * 1000
  while (!check()) {
    if (Date.now() > until) return false
    await new Promise((r) => setTimeout(r, 100))
  }
  return true
}

/** Run one phase: every member at once, each its own request and deadline; outcome and time per member. */
async function phase(action, n, flags, timeout, registry) {
  const started = performance.now()
  const lines = {registry: 0, refused: 0, intents: 0}
  const log = (line) => {
    if (TRACE && /^(apply|registry: (join|leave) intent|file: call (ListLeases|PutApplyLease|DeleteApplyLease)|file: stopped)/.test(line) && (!line.startsWith('registry:') || ++lines.intents % 100 === 0)) console.error(`  ${fmt((performance.now() - started) / 1000)} s ${action}: ${line}`)
    if (line.startsWith('file: call ')) lines.registry++
    if (/refused/.test(line)) lines.refused++
  }
  const runs = Array.from({length: n}, async (_, i) => {
    const t = performance.now()
    try {
      const request = await membershipRequest(action, {
        ...flags,
        zone: ZONE,
        service: serviceOf(i),
        ip: ipOf(i),
        ...(action === 'join' ? {port: '8080'} : {}),
        timeout: String(timeout),
        ...(registry ? {registry, ...(action === 'join' ? {lease: '600'} : {})} : {}),
      })
      const result = await (action === 'join' ? joinMember : leaveMember)(request, {log})
      return {ok: true, ms: performance.now() - t, appliedBy: result.coalesced?.appliedBy}
    } catch (error) {
      return {ok: false, ms: performance.now() - t, why: String(error?.message ?? error).split('\n')[0]}
    }
  })
  const results = await Promise.all(runs)
  return {results, wallMs: performance.now() - started, lines}
}

const header = ['provider', 'mode', 'faults', 'N', 'phase', 'completion s', 'API calls (accepted)', 'bound s (accepted/rate)', 'exit≠0', 'lost', 'stale', 'dangling SRV', 'leaves ≠0 or >5 s', 'registry ops', 'notes']
const rows = []
const failures = []

async function scenario(kind, mode, faultRate, n) {
  const label = [kind, mode, `${faultRate * 100}%`, n]
  if (kind === 'file' && faultRate > 0) return
  if (mode === 'direct' && kind === 'file' && n > FILE_DIRECT_MAX) {
    rows.push([...label, 'join+leave', '-', '-', '-', '-', '-', '-', '-', '-', '-', `skipped: ${n} members queue for one zone-file lock (at 1,000 most time out at 120 s; BENCH_FLEET_FILE_DIRECT_MAX=${n} runs it)`])
    return
  }
  if (mode === 'direct' && kind !== 'file') {
    const bound = (n * DIRECT_CALLS[kind]) / RATE[kind]
    // Cloudflare's quota is a window: under it nothing waits; a direct fleet whose joins and leaves need
    // more than the whole quota is blocked for the rest of the 5 minutes.
    const overQuota = kind === 'cloudflare' && 2 * n * DIRECT_CALLS[kind] > CF_QUOTA
    if ((kind === 'route53' && bound > DIRECT_MAX_S) || overQuota) {
      const why = overQuota
        ? `joins and leaves need ${2 * n} x ${DIRECT_CALLS[kind]} requests, more than the ${CF_QUOTA} a 5-minute window allows`
        : `bound ${fmt(bound / 60)} min a phase: ${n} x ${DIRECT_CALLS[kind]} calls at ${RATE[kind]} req/s`
      rows.push([...label, 'join+leave', '-', '-', '-', '-', '-', '-', '-', '-', '-', `skipped: ${why}`])
      return
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'dnssd-fleet-bench-'))
  const random = seeded(seed ^ (n * 7919) ^ Math.round(faultRate * 1000) ^ (kind.length << 20) ^ (mode.length << 24))
  const b = await backend(kind, faultRate, random, dir)
  const registry = mode === 'coalesced' ? `file://${dir}/registry` : undefined
  try {
    const rate = RATE[kind]
    const bound = (calls) => (rate ? fmt(calls / rate) : '-')
    // Joins.
    let calls = b.calls()
    let accepted = b.accepted()
    const joins = await phase('join', n, b.flags, 120, registry)
    const joinCalls = b.calls() - calls
    const joinAccepted = b.accepted() - accepted
    let state = dnsState(b.records())
    const joinFailed = joins.results.filter((r) => !r.ok)
    const refused = joinFailed.filter((r) => /refus|too many|too large|exceed|limit/i.test(r.why)).length
    const lost = joins.results.filter((r, i) => r.ok && !state.targets.has(hostOf(i))).length
    const notes = []
    if (joinFailed.length > 0) notes.push(`${refused > 0 ? `${refused} refused; ` : ''}first failure: ${joinFailed[0].why.slice(0, 160)}`)
    if (mode === 'coalesced') notes.push(`${joins.results.filter((r) => r.appliedBy === 'self').length} applied their own`)
    rows.push([...label, 'join', fmt(joins.wallMs / 1000), `${joinCalls} (${joinAccepted})`, bound(joinAccepted), joinFailed.length, lost, '-', state.dangling, '-', registry ? joins.lines.registry : '-', notes.join('; ')])
    if (lost > 0 || state.dangling > 0) failures.push(`${label.join(' ')} join: ${lost} lost, ${state.dangling} dangling`)

    // Leaves: every member that joined (or tried to).
    calls = b.calls()
    accepted = b.accepted()
    const leaveStarted = performance.now()
    const leaves = await phase('leave', n, b.flags, mode === 'coalesced' ? 5 : 120, registry)
    const slow = leaves.results.filter((r) => !r.ok || r.ms > 5000).length
    const leaveNotes = []
    const gone = () => dnsState(b.records()).targets.size === 0
    // Every leave has returned, so no member applies anything any more: give DNS a moment, then it is
    // the operator's `dnssd sync` (run in a loop beside a fleet) that applies the tombstones left.
    let clean = await waitFor(gone, registry ? Math.min(CLEAN_S, 1) : CLEAN_S)
    let cleanMs = performance.now() - leaveStarted
    if (!clean && registry) {
      const request = {zone: ZONE, registry: parseRegistryUrl(registry), graceMs: 0, dryRun: false, timeoutSeconds: 60, intervalSeconds: 30, once: true, provider: async () => (await membershipRequest('leave', {...b.flags, zone: ZONE, service: serviceOf(0), ip: ipOf(0)})).provider}
      await syncOnce(request, {log: () => {}}).catch((error) => leaveNotes.push(`sync failed: ${error.message}`))
      clean = gone()
      cleanMs = performance.now() - leaveStarted
      leaveNotes.push('clean only after dnssd sync --once')
    }
    const leaveCalls = b.calls() - calls
    const leaveAccepted = b.accepted() - accepted
    state = dnsState(b.records())
    const stale = state.targets.size
    const pending = leaves.results.filter((r) => r.appliedBy === 'pending').length
    if (pending > 0) leaveNotes.push(`${pending} returned with the removal pending (tombstone written)`)
    const leaveFailed = leaves.results.find((r) => !r.ok)
    if (leaveFailed) leaveNotes.push(`first failure: ${leaveFailed.why.slice(0, 160)}`)
    leaveNotes.push(`leave p50 ${fmt(pct(leaves.results.map((r) => r.ms), 0.5) / 1000)} s, max ${fmt(Math.max(...leaves.results.map((r) => r.ms)) / 1000)} s; DNS ${clean ? 'clean' : 'NOT clean'} at ${fmt(cleanMs / 1000)} s`)
    rows.push([...label, 'leave', fmt(cleanMs / 1000), `${leaveCalls} (${leaveAccepted})`, bound(leaveAccepted), leaves.results.filter((r) => !r.ok).length, '-', stale, state.dangling, slow, registry ? leaves.lines.registry : '-', leaveNotes.join('; ')])
    if (stale > 0 || state.dangling > 0) failures.push(`${label.join(' ')} leave: ${stale} stale, ${state.dangling} dangling`)
  } finally {
    await b.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]

const started = Date.now()
for (const kind of PROVIDERS) {
  for (const faultRate of FAULTS) {
    for (const n of SIZES) {
      for (const mode of MODES) {
        const t = Date.now()
        await scenario(kind, mode, faultRate, n)
        console.error(`fleet bench: ${kind} ${mode} ${faultRate * 100}% N=${n}: ${fmt((Date.now() - t) / 1000)} s`)
      }
    }
  }
}
printTable(
  `Fleet events in one process: N members joining, then leaving, all at once (pools of ${POOL}; Route 53 ${R53_RATE} req/s, Cloudflare ${CF_QUOTA} per ${CF_WINDOW_S} s)`,
  header,
  rows,
)
console.log(`\ntotal ${fmt((Date.now() - started) / 1000)} s; seed ${seed}; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores shared)`)
// The same rows for a program (test/e2e/fleet-bench.test.ts): one JSON line.
console.log(`fleet-json ${JSON.stringify(rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))))}`)
if (failures.length > 0) console.log(`lost, stale or dangling members:\n  ${failures.join('\n  ')}`)
