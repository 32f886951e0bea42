#!/usr/bin/env node
// How long `--ip auto` takes on a host that is no cloud instance (this one).
// Never sends a packet off the machine: metadata is disabled or pointed at
// loopback stand-ins (a closed port, a listener that never answers).
// Run after `npm run build`: node bench/ipauto.mjs [iterations]
import {spawnSync} from 'node:child_process'
import {createServer} from 'node:net'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const {resolveAutoAddress} = await import(`${root}dist/platform/ipauto.js`)
const {looksLikeEc2} = await import(`${root}dist/platform/imds.js`)
const N = Number(process.argv[2] ?? 200)

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]
const fmt = (ms) => `${ms.toFixed(2)} ms`

async function timeIt(label, env, n = N) {
  const times = []
  let found = ''
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    const r = await resolveAutoAddress({log: () => {}, env: {...env, PATH: '/usr/bin:/bin'}})
    times.push(performance.now() - t)
    found = `${r.address} (${r.from})`
  }
  times.sort((a, b) => a - b)
  return {label, n, median: pct(times, 50), p95: pct(times, 95), max: times.at(-1), found}
}

const closed = createServer()
await new Promise((r) => closed.listen(0, '127.0.0.1', r))
const closedPort = closed.address().port
await new Promise((r) => closed.close(r)) // now nothing listens: connection refused

const sockets = new Set()
const blackhole = createServer((s) => sockets.add(s))
await new Promise((r) => blackhole.listen(0, '127.0.0.1', r))
const holePort = blackhole.address().port

const rows = []
rows.push(await timeIt('metadata disabled (AWS_EC2_METADATA_DISABLED=true)', {AWS_EC2_METADATA_DISABLED: 'true'}))
if (!(await looksLikeEc2())) {
  // The real default: no Amazon DMI id, so IMDS is not asked at all.
  rows.push(await timeIt('default order, hardware check says not EC2', {}))
}
rows.push(await timeIt('IMDS endpoint refuses (loopback, closed port)', {AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${closedPort}`}))
rows.push(await timeIt('IMDS endpoint never answers (loopback black hole)', {AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${holePort}`}, 3))
for (const s of sockets) s.destroy()
blackhole.close()

// Whole CLI: join --dry-run with --ip auto versus a literal address.
function cli(ip, n = 8) {
  const times = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    const r = spawnSync(process.execPath, [`${root}bin/run.js`, 'join', '-z', 'example.com', '-s', '_v1._web._tcp', '-p', '80', '--ip', ip, '--dry-run', '--data-dir', '/nonexistent-dnssd-bench'], {
      env: {...process.env, AWS_EC2_METADATA_DISABLED: 'true', PATH: '/usr/bin:/bin'},
      encoding: 'utf8',
    })
    if (r.status !== 0) throw new Error(r.stderr)
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return {label: `CLI join --dry-run --ip ${ip}`, n, median: pct(times, 50), p95: pct(times, 95), max: times.at(-1), found: ''}
}
rows.push(cli('auto'))
rows.push(cli('192.0.2.10'))

console.log('| case | n | median | p95 | max | result |')
console.log('|---|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.label} | ${r.n} | ${fmt(r.median)} | ${fmt(r.p95)} | ${fmt(r.max)} | ${r.found} |`)
