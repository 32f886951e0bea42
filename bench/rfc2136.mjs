// Self-hosted DNS (issue 15): `dnssd join --provider rfc2136` against a real
// BIND primary (joins per second; zone reads and UPDATE round trips per join,
// one at a time and 20 at once), and the query throughput of an NSD secondary
// fed by `dnssd serve` (AXFR + NOTIFY) beside serve itself, by dnsperf.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {register} from 'tsx/esm/api'
import {dig, freePort, have, startServe, zoneDir} from './dnslib.mjs'
import {BIN, benchEnv, printTable} from './lib.mjs'

// The BIND primary and the NSD secondary the tests run (test/helpers/primaries.ts), not copies of their configs.
register()
const {makeKey, startBindPrimary, startNsdSecondary} = await import('../test/helpers/primaries.ts')

const JOINS = Number(process.env.BENCH_JOINS ?? 20)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const ZONE = 'bench.example'
const {dir, data} = zoneDir('dnssd-bench-rfc2136-', ZONE, 30, 8)
const children = []

function join1(port, key, i) {
  return new Promise((resolve, reject) => {
    const args = ['join', '--provider', 'rfc2136', '--server', `127.0.0.1:${port}`, '--tsig-key-file', key.file, '--zone', ZONE]
    args.push('--service', '_v1._bench._tcp', '--ip', `10.9.${i >> 8}.${i & 255}`, '--port', '8080', '--verbose', '--timeout', '120')
    const child = spawn(process.execPath, [BIN, ...args], {env: benchEnv(), stdio: ['ignore', 'ignore', 'pipe']})
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) =>
      code === 0
        ? resolve({axfr: (err.match(/rfc2136: call AXFR/g) ?? []).length, update: (err.match(/rfc2136: call UPDATE/g) ?? []).length})
        : reject(new Error(`join ${i} exited ${code}: ${err}`)),
    )
  })
}

async function joins(port, key, from, parallel) {
  const t = process.hrtime.bigint()
  const counts = []
  const queue = Array.from({length: JOINS}, (_, k) => from + k)
  await Promise.all(
    Array.from({length: parallel}, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) counts.push(await join1(port, key, i))
    }),
  )
  const s = Number(process.hrtime.bigint() - t) / 1e9
  const sum = (k) => counts.reduce((a, c) => a + c[k], 0)
  return [String(parallel), String(JOINS), s.toFixed(2), (JOINS / s).toFixed(1), (sum('update') / JOINS).toFixed(2), (sum('axfr') / JOINS).toFixed(2), String(Math.max(...counts.map((c) => c.update)))]
}

function perf(port, queries, mode) {
  const r = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(SECONDS), '-c', '4', '-q', '64', '-m', mode], {encoding: 'utf8'})
  return {qps: Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1]), lost: /Queries lost:\s+(\d+)/.exec(r.stdout)?.[1] ?? '?'}
}

try {
  for (const tool of ['named', 'dig', 'tsig-keygen']) if (!have(tool)) throw new Error(`bench/rfc2136.mjs needs ${tool} (bind9, bind9-utils, bind9-dnsutils)`)
  const key = await makeKey(dir, 'dnssd-bench')
  const bdir = join(dir, 'bind')
  mkdirSync(bdir)
  const bind = await startBindPrimary(bdir, ZONE, key)
  children.push({kill: () => bind.stop()})
  const primary = bind.port
  const rows = [await joins(primary, key, 1, 1), await joins(primary, key, 1001, JOINS)]
  printTable(
    `dnssd join --provider rfc2136 against BIND named (each join is a whole CLI process: start-up included)`,
    ['at once', 'joins', 'wall s', 'joins/s', 'UPDATEs/join', 'reads (AXFR)/join', 'max UPDATEs one join'],
    rows,
  )
  console.log('\nGoal: 1 UPDATE per join uncontended and <= 2 reads. Each read is one AXFR (one TCP round trip); concurrent joins')
  console.log('that lose the compare-and-swap (YXRRSET/NXRRSET) read and update again.')

  if (!have('nsd') || !have('dnsperf')) {
    console.log('\nnsd or dnsperf is not installed: the secondary throughput is skipped')
  } else {
    const nsdPort = await freePort()
    const serve = await startServe(data, ['--rrl', '0', '--udp-size-without-cookie', '1232', '--transfer-key-file', key.file, '--notify', `127.0.0.1:${nsdPort}`])
    children.push({kill: () => serve.stop()})
    const nsd = await startNsdSecondary(join(dir, 'nsd'), ZONE, serve.port, key, nsdPort)
    children.push({kill: () => nsd.stop()})
    const until = Date.now() + 30000
    while (!/status: NOERROR/.test(dig(nsdPort, [ZONE, 'SOA']))) {
      if (Date.now() > until) throw new Error('the NSD secondary did not load the zone from serve')
      await new Promise((r) => setTimeout(r, 50))
    }
    const queries = join(dir, 'queries.txt')
    const lines = []
    for (let i = 1; i <= 30; i++) lines.push(`10-0-0-${i}._web._tcp.${ZONE} SRV`, `10-0-0-${i}.${ZONE} A`, `10-0-0-${i}._web._tcp.${ZONE} TXT`)
    lines.push(`_web._tcp.${ZONE} PTR`, `_v1._api._tcp.${ZONE} SRV`, `nothing.${ZONE} A`, `${ZONE} SOA`)
    writeFileSync(queries, `${lines.join('\n')}\n`)
    const targets = [
      ['dnssd serve (primary, 1 process)', serve.port],
      ['NSD secondary fed by serve (1 server process)', nsdPort],
    ]
    const rowsQps = []
    for (const mode of ['udp', 'tcp']) {
      const runs = targets.map(() => [])
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < targets.length; k++) {
          const i = (k + round) % targets.length
          runs[i].push(perf(targets[i][1], queries, mode))
        }
      }
      const med = runs.map((r) => [...r].sort((a, b) => a.qps - b.qps)[Math.floor(r.length / 2)])
      targets.forEach(([label], i) => rowsQps.push([mode, label, med[i].qps.toFixed(0), med[i].lost, (med[i].qps / med[0].qps).toFixed(2)]))
    }
    printTable(`dnsperf, median of ${ROUNDS} rotated runs of ${SECONDS} s, 4 clients, 64 outstanding (same query file, same zone)`, ['transport', 'server', 'qps', 'lost', 'x serve'], rowsQps)
    console.log('\nA fleet that outgrows one serve adds secondaries: each answers on its own at these rates.')
  }
} finally {
  for (const c of children.reverse()) await c.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 200))
  rmSync(dir, {recursive: true, force: true})
}
