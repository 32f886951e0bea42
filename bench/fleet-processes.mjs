#!/usr/bin/env node
// A fleet of real processes through the BUILT CLI (run `npm run build` first):
// N concurrent `dnssd join --registry file://...` against the local Route 53
// endpoint (test/fakes/route53.ts) at 5 requests/s, then N concurrent
// `dnssd leave --timeout 5`, then one `dnssd sync --once`.
//   node bench/fleet-processes.mjs [--members 100] [--rate 5] [--fault-rate 0] [--seed N]
// Prints: Route 53 calls per phase against the rate-limit bound, wall time,
// exit outcomes, leave exit times, lost registrations, members left in DNS
// after sync, dangling SRV targets, invariant violations.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {register} from 'tsx/esm/api'
import {BIN, fmt, printTable, route53BenchEnv} from './lib.mjs'

register()
const {FakeRoute53} = await import(new URL('../test/fakes/route53.ts', import.meta.url).href)
const {checkInvariants} = await import(new URL('../src/core/invariants.ts', import.meta.url).href)
const {values} = parseArgs({
  options: {members: {type: 'string', default: '100'}, rate: {type: 'string', default: '5'}, 'fault-rate': {type: 'string', default: '0'}, seed: {type: 'string'}},
})
const members = Number(values.members)
const rate = Number(values.rate)
const faultRate = Number(values['fault-rate'])
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values.seed)
console.log(`seed ${seed} (--seed ${seed} repeats the fault dice)`)
let state = seed >>> 0
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
}

const fake = new FakeRoute53({rate, burst: rate, faultRate, random})
const zoneId = fake.createZone('example.com').id
const url = await fake.start()
const dir = mkdtempSync(join(tmpdir(), 'dnssd-fleet-'))
const registry = `file://${dir}/leases`

function run(args) {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: route53BenchEnv(url)})
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.resume()
    child.on('close', (code) => resolve({code, ms: performance.now() - started, stdout}))
  })
}

const ipOf = (i) => `10.40.${Math.floor(i / 200)}.${(i % 200) + 1}`
const hostOf = (ip) => `${ip.replaceAll('.', '-')}.example.com`
const shared = ['--zone', 'example.com', '--provider', 'route53', '--zone-id', zoneId, '--registry', registry, '--json']
const common = [...shared, '-s', '_v1._web._tcp']
const ips = Array.from({length: members}, (_, i) => ipOf(i))
const records = () => fake.records(zoneId)
const srvTargets = () => records().filter((r) => r.type === 'SRV').map((r) => r.value.split(' ')[3].replace(/\.$/, ''))
const dangling = () => {
  const addresses = new Set(records().filter((r) => r.type === 'A' || r.type === 'AAAA').map((r) => r.name))
  return srvTargets().filter((t) => !addresses.has(t)).length
}
const outcomes = (results) => {
  const counts = {}
  for (const r of results) counts[r.code] = (counts[r.code] ?? 0) + 1
  const failed = results.find((r) => r.code !== 0)
  if (failed) console.log(`a failed run (exit ${failed.code}): ${failed.stdout.trim().slice(0, 400)}`)
  return Object.entries(counts).map(([code, n]) => `exit ${code}: ${n}`).join(', ')
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]

const rows = []
let callsBefore = fake.log.length
let t0 = performance.now()
const joins = await Promise.all(ips.map((ip) => run(['join', ...common, '-p', '8080', '--ip', ip, '--lease', '600', '--timeout', '120'])))
const joinWall = performance.now() - t0
const joinCalls = fake.log.length - callsBefore
const present = new Set(srvTargets())
const lost = ips.filter((ip, i) => joins[i].code === 0 && !present.has(hostOf(ip))).length
const appliers = joins.filter((j) => j.code === 0 && JSON.parse(j.stdout).coalesced?.appliedBy === 'self').length
rows.push(['join', String(members), outcomes(joins), String(joinCalls), fmt(joinCalls / rate), fmt(joinWall / 1000), String(appliers), String(lost), '', String(dangling()), String(checkInvariants('example.com', records()).length)])

callsBefore = fake.log.length
t0 = performance.now()
const leaves = await Promise.all(ips.map((ip) => run(['leave', ...common, '--ip', ip, '--timeout', '5'])))
const leaveWall = performance.now() - t0
const leaveCalls = fake.log.length - callsBefore
const pending = leaves.filter((l) => l.code === 0 && JSON.parse(l.stdout).coalesced?.appliedBy === 'pending').length
rows.push(['leave --timeout 5', String(members), `${outcomes(leaves)}; p50 ${fmt(pct(leaves.map((l) => l.ms), 0.5) / 1000)} s, max ${fmt(Math.max(...leaves.map((l) => l.ms)) / 1000)} s; ${pending} pending`, String(leaveCalls), fmt(leaveCalls / rate), fmt(leaveWall / 1000), '', '', String(srvTargets().length), String(dangling()), String(checkInvariants('example.com', records()).length)])

callsBefore = fake.log.length
t0 = performance.now()
const sync = await run(['sync', ...shared, '--once'])
const syncCalls = fake.log.length - callsBefore
rows.push(['sync --once', '', `exit ${sync.code}`, String(syncCalls), fmt(syncCalls / rate), fmt((performance.now() - t0) / 1000), '', '', String(srvTargets().length), String(dangling()), String(checkInvariants('example.com', records()).length)])

printTable(
  `${members} real processes, file registry, Route 53 fake at ${rate} req/s${faultRate ? `, ${faultRate * 100}% faults` : ''}`,
  ['phase', 'members', 'outcomes', 'R53 calls', 'bound s (calls/rate)', 'wall s', 'appliers', 'lost', 'SRV left', 'dangling', 'violations'],
  rows,
)
console.log(`total Route 53 calls: ${joinCalls + leaveCalls + syncCalls}; direct mode would need at least ${members * 2} for the joins alone (2 calls each with --zone-id), ${fmt((members * 2) / rate)} s at ${rate} req/s`)
await fake.stop()
rmSync(dir, {recursive: true, force: true})
