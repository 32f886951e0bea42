#!/usr/bin/env node
// Route 53 provider benchmark against the local Route 53-compatible endpoint
// (test/fakes/route53.ts) through the BUILT CLI (run `npm run build` first).
//   node bench/route53.mjs [--members 50] [--rate 5] [--fault-rate 0] [--fleet 1000] [--fleet-fault-rate 0.15]
// BENCH_SKIP_SINGLE=1 / BENCH_SKIP_CONCURRENT=1 / BENCH_SKIP_FLEET=1 skip parts 1, 2, 3.
// Prints: API calls per join/leave (uncontended, with and without --zone-id),
// wall time of N concurrent joins at R req/s divided by the rate-limit bound
// (N x 2 calls / R), calls made, conflicts, lost registrations; then the
// coalesced fleet event: F pending join intents in a file registry applied by
// one `sync --once`, then F tombstones by another, without and with faults:
// calls, change batches, wall time and API window against the rate-limit
// bound (the calls made / R req/s). BENCH_SKIP_FLEET=1 skips that part.
import {spawn} from 'node:child_process'
import {mkdir, mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {register} from 'tsx/esm/api'
import {route53BenchEnv} from './lib.mjs'

register()
const root = fileURLToPath(new URL('..', import.meta.url))
const {FakeRoute53} = await import(new URL('../test/fakes/route53.ts', import.meta.url).href)
const {seededRandom} = await import(new URL('../test/helpers/seed.ts', import.meta.url).href)
const {values} = parseArgs({
  options: {
    members: {type: 'string', default: '50'},
    rate: {type: 'string', default: '5'},
    'fault-rate': {type: 'string', default: '0'},
    fleet: {type: 'string', default: '1000'},
    'fleet-fault-rate': {type: 'string', default: '0.15'},
  },
})
const members = Number(values.members)
const rate = Number(values.rate)

function run(args, url) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}bin/run.js`, ...args], {env: route53BenchEnv(url)})
    let stderr = ''
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({code, stdout, stderr, calls: (stderr.match(/: call /g) ?? []).length}))
  })
}

const base = (zoneId, ip, extra = []) => ['--provider', 'route53', '--zone', 'example.com', '--service', '_v1._web._tcp', '--ip', ip, '--verbose', ...(zoneId ? ['--zone-id', zoneId] : []), ...extra]
const rows = []

// 1. Uncontended calls per operation.
if (!process.env.BENCH_SKIP_SINGLE)
{
  const fake = new FakeRoute53({rate: 0})
  const zone = fake.createZone('example.com')
  const url = await fake.start()
  for (const [label, zoneId] of [['with --zone-id', zone.id], ['by --zone name', undefined]]) {
    const j = await run(['join', ...base(zoneId, '10.1.0.1', ['--port', '80', '--timeout', '30'])], url)
    const again = await run(['join', ...base(zoneId, '10.1.0.1', ['--port', '80', '--timeout', '30'])], url)
    const l = await run(['leave', ...base(zoneId, '10.1.0.1', ['--timeout', '30'])], url)
    rows.push([`calls per join (${label})`, j.calls], [`calls per repeated join (${label})`, again.calls], [`calls per leave (${label})`, l.calls])
  }
  await fake.stop()
}

// 2. N concurrent joins, then N concurrent leaves, at the account rate limit.
if (!process.env.BENCH_SKIP_CONCURRENT) {
  const fake = new FakeRoute53({rate, faultRate: Number(values['fault-rate'])})
  const zone = fake.createZone('example.com')
  const url = await fake.start()
  const ips = Array.from({length: members}, (_, i) => `10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`)
  let t0 = Date.now()
  const joins = await Promise.all(ips.map((ip) => run(['join', ...base(zone.id, ip, ['--port', '8080', '--timeout', '120'])], url)))
  const joinWall = (Date.now() - t0) / 1000
  const srv = fake.records(zone.id).filter((r) => r.type === 'SRV').map((r) => r.value)
  const lost = ips.filter((ip) => !srv.includes(`0 0 8080 ${ip.replaceAll('.', '-')}.example.com.`)).length
  if (process.env.BENCH_TIMELINE) {
    const t = fake.log[0].at
    const line = []
    for (let s = 0; s * 1000 < Date.now() - t; s++) {
      const inS = fake.log.filter((e) => e.at - t >= s * 1000 && e.at - t < (s + 1) * 1000)
      line.push(`${inS.filter((e) => e.fault !== 'throttled-by-bucket').length}/${inS.filter((e) => e.op === 'ChangeResourceRecordSets' && e.status === 200).length}`)
    }
    console.log('accepted/successful-changes per second:', line.join(' '))
  }
  const joinLog = fake.log.length
  const apiWindow = (fake.log.at(-1).at - fake.log[0].at) / 1000
  const accepted = fake.log.filter((e) => e.fault !== 'throttled-by-bucket').length
  const conflicts = fake.log.filter((e) => e.op === 'ChangeResourceRecordSets' && e.status === 400 && !e.fault).length
  const bound = (members * 2) / rate
  rows.push(
    [`${members} concurrent joins: wall time (s)`, joinWall.toFixed(1)],
    [`rate-limit bound ${members}x2 calls / ${rate} req/s (s)`, bound.toFixed(1)],
    ['wall / bound (goal <= 1.5)', (joinWall / bound).toFixed(2)],
    ['API window, first to last request (s)', apiWindow.toFixed(1)],
    ['API window / bound (excludes process start-up)', (apiWindow / bound).toFixed(2)],
    ['requests (all / accepted by the bucket)', `${joinLog} / ${accepted}`],
    ['conflicting change batches', conflicts],
    ['failed join processes', joins.filter((j) => j.code !== 0).length],
    ['lost registrations (goal 0)', lost],
  )
  fake.log.length = 0
  if (process.env.BENCH_SKIP_LEAVE) {
    await fake.stop()
    rows.push(['(leaves skipped)', ''])
  } else {
  t0 = Date.now()
  const leaves = await Promise.all(ips.map((ip) => run(['leave', ...base(zone.id, ip, ['--timeout', '120'])], url)))
  const leaveWall = (Date.now() - t0) / 1000
  const leaveWindow = (fake.log.at(-1).at - fake.log[0].at) / 1000
  const left = fake.records(zone.id).filter((r) => r.type !== 'SOA' && r.type !== 'NS').length
  rows.push(
    [`${members} concurrent leaves: wall time (s)`, leaveWall.toFixed(1)],
    ['leave wall / bound', (leaveWall / bound).toFixed(2)],
    ['leave API window / bound', (leaveWindow / bound).toFixed(2)],
    ['leave requests accepted by the bucket', fake.log.filter((e) => e.fault !== 'throttled-by-bucket').length],
    ['failed leave processes', leaves.filter((j) => j.code !== 0).length],
    ['records left besides SOA/NS (goal 0)', left],
  )
  await fake.stop()
  }
}

// 3. The coalesced fleet event: F pending intents in 10 pools, one `sync --once` each way.
const fleetRows = []
if (!process.env.BENCH_SKIP_FLEET) {
  const count = Number(values.fleet)
  for (const faultRate of [0, Number(values['fleet-fault-rate'])]) {
    const random = seededRandom(`bench route53 fleet, fault rate ${faultRate}`)
    const fake = new FakeRoute53({rate, faultRate, random})
    const zone = fake.createZone('example.com')
    const url = await fake.start()
    const regDir = await mkdtemp(join(tmpdir(), 'dnssd-bench-fleet-'))
    try {
      const now = Date.now()
      const fleet = Array.from({length: count}, (_, i) => {
        const ip = `10.40.${Math.floor(i / 250)}.${(i % 250) + 1}`
        return {ip, host: `${ip.replaceAll('.', '-')}.example.com`, service: `_v${i % 10}._web._tcp`}
      })
      for (let p = 0; p < 10; p++) await mkdir(join(regDir, 'example.com', `_v${p}._web._tcp`), {recursive: true, mode: 0o700})
      const path = (m) => join(regDir, 'example.com', m.service, `${m.host}.json`)
      await Promise.all(
        fleet.map((m) =>
          writeFile(path(m), JSON.stringify({
            zone: 'example.com', service: m.service, host: m.host, address: m.ip, port: 8080, priority: 0, weight: 0, provider: 'route53', intent: 'join',
            joinedAt: new Date(now).toISOString(), renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString(), ttl: 60, leaseSeconds: 3600,
          })),
        ),
      )
      const syncOnce = async (label) => {
        const first = fake.log.length
        const sizes = fake.batchSizes.length
        const t0 = Date.now()
        const r = await run(['sync', '--zone', 'example.com', '--registry', `file://${regDir}`, '--provider', 'route53', '--zone-id', zone.id, '--once', '--verbose', '--timeout', '600'], url)
        const wall = (Date.now() - t0) / 1000
        if (r.code !== 0) throw new Error(`${label}: sync exited ${r.code}: ${r.stderr.slice(-2000)}`)
        const log = fake.log.slice(first)
        const window = log.length > 0 ? (log.at(-1).at - log[0].at) / 1000 : 0
        const accepted = fake.batchSizes.slice(sizes)
        const batches = log.filter((e) => e.op === 'ChangeResourceRecordSets' && e.status === 200).length
        const bound = log.length / rate
        const changes = log.filter((e) => e.op === 'ChangeResourceRecordSets')
        const changeWindow = changes.length > 1 ? (changes.at(-1).at - changes[0].at) / 1000 : 0
        fleetRows.push([
          `${label}${faultRate ? ` (${faultRate * 100}% faults)` : ''}`,
          log.length,
          `${log.filter((e) => e.op === 'ListResourceRecordSets').length}/${log.filter((e) => e.op === 'ChangeResourceRecordSets').length}`,
          batches,
          accepted.reduce((n, b) => n + b.records, 0),
          log.filter((e) => e.status !== 200).length,
          wall.toFixed(1),
          window.toFixed(1),
          bound.toFixed(1),
          (window / bound).toFixed(2),
          `${changeWindow.toFixed(1)} / ${((changes.length - 1) / rate).toFixed(1)}`,
        ])
      }
      await syncOnce(`${count} joins, one sync`)
      const srv = fake.records(zone.id).filter((r) => r.type === 'SRV').length
      if (srv !== count) throw new Error(`${count - srv} registrations lost`)
      await Promise.all(
        fleet.map(async (m) => {
          const {appliedAt: _a, appliedChange: _c, ...lease} = JSON.parse(await readFile(path(m), 'utf8'))
          await writeFile(path(m), JSON.stringify({...lease, intent: 'leave'}))
        }),
      )
      await syncOnce(`${count} leaves, one sync`)
      const left = fake.records(zone.id).filter((r) => r.type !== 'SOA' && r.type !== 'NS').length
      const tombs = (await Promise.all(fleet.map((m) => readdir(join(regDir, 'example.com', m.service))))).flat().length
      if (left !== 0 || tombs !== 0) throw new Error(`${left} records and ${tombs} tombstones left behind`)
    } finally {
      await fake.stop()
      await rm(regDir, {recursive: true, force: true})
    }
  }
}

const width = Math.max(...rows.map((r) => r[0].length))
console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores shared)`)
console.log(`Route 53 provider bench (local endpoint, ${rate} req/s bucket, fault rate ${values['fault-rate']})`)
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`)
if (fleetRows.length > 0) {
  const {printTable} = await import('./lib.mjs')
  printTable(
    `Coalesced fleet event through one sync --once (local endpoint, ${rate} req/s bucket; bound = calls / ${rate} req/s)`,
    ['case', 'calls', 'list/change', 'change requests answered 200', 'values sent (evaluated)', 'refused (throttled, faults, conflicts)', 'wall (s)', 'API window (s)', 'bound (s)', 'window / bound', 'first to last change / its bound (s)'],
    fleetRows,
  )
  console.log(
    'wall includes start-up, reading and marking the leases and planning; the API window is first to last Route 53 request and includes\n' +
      'the planning between the read and the first batch; the last column is the time from the first change request to the last\n' +
      'against (change requests - 1) / rate, i.e. how closely the batches themselves follow the rate limit.',
  )
}
