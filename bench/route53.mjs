#!/usr/bin/env node
// Route 53 provider benchmark against the local Route 53-compatible endpoint
// (test/fakes/route53.ts) through the BUILT CLI (run `npm run build` first).
//   node bench/route53.mjs [--members 50] [--rate 5] [--fault-rate 0]
// Prints: API calls per join/leave (uncontended, with and without --zone-id),
// wall time of N concurrent joins at R req/s divided by the rate-limit bound
// (N x 2 calls / R), calls made, conflicts, lost registrations.
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {register} from 'tsx/esm/api'
import {route53BenchEnv} from './lib.mjs'

register()
const root = fileURLToPath(new URL('..', import.meta.url))
const {FakeRoute53} = await import(new URL('../test/fakes/route53.ts', import.meta.url).href)
const {values} = parseArgs({options: {members: {type: 'string', default: '50'}, rate: {type: 'string', default: '5'}, 'fault-rate': {type: 'string', default: '0'}}})
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
{
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

const width = Math.max(...rows.map((r) => r[0].length))
console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores shared)`)
console.log(`Route 53 provider bench (local endpoint, ${rate} req/s bucket, fault rate ${values['fault-rate']})`)
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`)
