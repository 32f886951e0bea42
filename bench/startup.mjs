// Start-up (issues 2 and 12): dnssd --version, list, join (file provider) and
// resolve (against `dnssd serve`) against bare `node -e 0` in the same
// interleaved run, for both install forms:
//   npm form:   `node bin/run.js ...` with the node running this benchmark;
//   executable: build/dnssd-linux-x64 (`npm run dist`), against `node -e 0` of
//               the same Node binary it was built from (build/cache).
// Beside them, bare node asking resolve's lookups through node:dns (the
// resolver resolve uses): what resolve cannot go below; and bare node sending
// the first of them through node:dgram and node:net, what the client resolve
// had before needed. Then 20 parallel joins on one zone.
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {startServe} from './dnslib.mjs'
import {BIN, ROOT, benchEnv, fmt, printTable, stats, timeAsync, timeOnce, timeOnceWithCpu} from './lib.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const GOAL = 1.3
const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-'))
const env = benchEnv({DNSSD_DATA_DIR: dir})
const exe = join(ROOT, 'build', 'dnssd-linux-x64')
const exeNode = (() => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'build', 'build-info.json'), 'utf8')).nodeX64
  } catch {
    return undefined
  }
})()
let serve
try {
  for (let i = 1; i <= 20; i++) timeOnce(process.execPath, [BIN, 'join', '-z', 'bench.example', '-s', '_v1._web._tcp', '-p', '80', '--ip', `10.0.0.${i}`], env)
  serve = await startServe(dir)
  const server = `127.0.0.1:${serve.port}`
  const cases = [
    ['--version', ['--version']],
    ['list (20 members)', ['list', '-z', 'bench.example']],
    ['join (no change)', ['join', '-z', 'bench.example', '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.0.0.1']],
    ['resolve (serve)', ['resolve', '_v1._web._tcp.bench.example', '--server', server]],
  ]
  const forms = [{form: 'npm (node bin/run.js)', node: process.execPath, cmd: process.execPath, pre: [BIN]}]
  if (existsSync(exe) && exeNode && existsSync(exeNode)) forms.push({form: 'executable', node: exeNode, cmd: exe, pre: []})
  else console.log(`(no executable: run \`npm run dist\` to measure ${exe})`)
  // What bare node needs for resolve's lookups against serve, through node's
  // resolver (c-ares) as resolve does, with the same options and the server
  // set the same way (useServers in src/dns/ares.ts: straight to the channel,
  // without setServers' first-use cost): the pool's SRV set (truncated over
  // UDP without a DNS cookie, so c-ares asks again over TCP), then A and AAAA
  // of one target. The floor under `resolve`, not a goal.
  const aresFloor = [
    "const {Resolver} = require('node:dns')",
    'const r = new Resolver({timeout: 1000, tries: 2, maxTimeout: 1000})',
    `r._handle.setServers([[4, '127.0.0.1', ${serve.port}]])`,
    "r.resolve('_v1._web._tcp.bench.example', 'SRV', (e, srv) => {",
    '  if (e) throw e',
    "  for (const t of ['A', 'AAAA']) r.resolve(srv[0].name, t, () => {})",
    '})',
  ].join('\n')
  // The SRV query alone, sent with node:dgram and again over node:net after
  // the truncated answer, as resolve's own client did before: dgram's bind
  // loads cluster, child_process, net and the streams.
  const socketFloor = [
    "const name = '_v1._web._tcp.bench.example'.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]))",
    'const query = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...name, Buffer.from([0, 0, 33, 0, 1])])',
    "const socket = require('node:dgram').createSocket('udp4')",
    'socket.on(\'message\', (answer) => {',
    '  socket.close()',
    '  if ((answer[2] & 2) === 0) return',
    `  const tcp = require('node:net').connect(${serve.port}, '127.0.0.1', () => tcp.write(Buffer.concat([Buffer.from([0, query.length]), query])))`,
    '  let got = Buffer.alloc(0)',
    "  tcp.on('data', (d) => { got = Buffer.concat([got, d]); if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) tcp.end() })",
    '})',
    `socket.connect(${serve.port}, '127.0.0.1', () => socket.send(query))`,
  ].join('\n')
  const commands = []
  for (const f of forms) {
    commands.push({form: f.form, label: 'node -e 0', cmd: f.node, args: ['-e', '0'], env, base: true})
    for (const [label, args] of cases) commands.push({form: f.form, label: `dnssd ${label}`, cmd: f.cmd, args: [...f.pre, ...args], env})
    commands.push({form: f.form, label: "node: resolve's lookups via node:dns (floor)", cmd: f.node, args: ['-e', aresFloor], env, floor: true})
    commands.push({form: f.form, label: 'node: the SRV query via node:dgram + node:net', cmd: f.node, args: ['-e', socketFloor], env, floor: true})
  }
  // Interleaved, so drift hits every command alike; CPU time beside wall time.
  const samples = commands.map(() => ({wall: [], cpu: []}))
  for (let i = 0; i < RUNS; i++) {
    commands.forEach((c, j) => {
      const r = timeOnceWithCpu(c.cmd, c.args, c.env)
      samples[j].wall.push(r.ms)
      samples[j].cpu.push(r.cpuMs)
    })
  }
  const results = samples.map((s) => ({...stats(s.wall), cpu: stats(s.cpu).median}))
  let base = 0
  let baseCpu = 0
  const rows = commands.map((c, i) => {
    if (c.base) {
      base = results[i].median
      baseCpu = results[i].cpu
    }
    const ratio = results[i].median / base
    return [c.form, c.label, fmt(results[i].median), fmt(results[i].p90), ratio.toFixed(2), c.base || c.floor ? '' : ratio <= GOAL ? 'yes' : 'NO', fmt(results[i].cpu), (results[i].cpu / baseCpu).toFixed(2)]
  })
  printTable(`Start-up, median of ${RUNS} interleaved runs (wall clock; CPU = user + system), ratio to node -e 0 of the same Node`, ['form', 'command', 'median ms', 'p90 ms', 'x node -e 0', `<= ${GOAL}x`, 'CPU ms', 'CPU x'], rows)
  console.log(`\nGoal: every command <= ${GOAL}x bare \`node -e 0\` (same run). Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`)

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
  await serve?.stop()
  rmSync(dir, {recursive: true, force: true})
}
