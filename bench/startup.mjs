// Start-up and local-join figures (issue 2): dnssd --version, list and join
// against bare `node -e 0` in the same run; 20 parallel joins on one zone.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, benchEnv, fmt, printTable, sampleInterleaved, stats, timeAsync, timeOnce} from './lib.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-'))
const env = benchEnv({DNSSD_DATA_DIR: dir})
try {
  for (let i = 1; i <= 20; i++) timeOnce(process.execPath, [BIN, 'join', '-z', 'bench.example', '-s', '_v1._web._tcp', '-p', '80', '--ip', `10.0.0.${i}`], env)
  const commands = [
    {label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'], env},
    {label: 'dnssd --version', cmd: process.execPath, args: [BIN, '--version'], env},
    {label: 'dnssd --help', cmd: process.execPath, args: [BIN, '--help'], env},
    {label: 'dnssd list (20 members)', cmd: process.execPath, args: [BIN, 'list', '-z', 'bench.example'], env},
    {label: 'dnssd join (no change)', cmd: process.execPath, args: [BIN, 'join', '-z', 'bench.example', '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.0.0.1'], env},
  ]
  const results = sampleInterleaved(commands, RUNS)
  const base = results[0].median
  printTable(
    `Start-up, median of ${RUNS} interleaved runs (wall clock)`,
    ['command', 'median ms', 'p90 ms', 'x node -e 0', 'overhead ms', 'overhead x node'],
    commands.map((c, i) => [c.label, fmt(results[i].median), fmt(results[i].p90), (results[i].median / base).toFixed(2), fmt(results[i].median - base), ((results[i].median - base) / base).toFixed(2)]),
  )
  console.log('\nGoal: overhead <= 1x bare node start (total <= 2x `node -e 0`).')

  const walls = []
  for (let round = 0; round < 3; round++) {
    const zone = `par${round}.example`
    const t = Date.now()
    await Promise.all(
      Array.from({length: 20}, (_, i) => timeAsync(process.execPath, [BIN, 'join', '-z', zone, '-s', '_v1._web._tcp', '-p', '80', '--ip', `10.1.0.${i + 1}`], env)),
    )
    walls.push(Date.now() - t)
  }
  const single = stats(Array.from({length: 5}, (_, i) => timeOnce(process.execPath, [BIN, 'join', '-z', 'single.example', '-s', '_v1._web._tcp', '-p', '80', '--ip', `10.2.0.${i + 1}`], env)))
  const par = stats(walls)
  printTable('20 parallel `dnssd join` processes on one zone (file provider, 2 cores)', ['measure', 'ms'], [
    ['one join, median of 5', fmt(single.median)],
    ['20 parallel joins, wall, median of 3', fmt(par.median)],
    ['per join (wall / 20)', fmt(par.median / 20)],
    ['20 sequential joins (estimate, 20 x one)', fmt(single.median * 20)],
  ])
} finally {
  rmSync(dir, {recursive: true, force: true})
}
