// `dnssd resolve` (issue 3): wall time against `dig` and bare `node -e 0` in
// the same interleaved run, and DNS round trips per resolve against
// `dnssd serve` and a real BIND `named` on the same zone.
import {mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {dnssdZone, have, startNamed, startServe} from './dnslib.mjs'
import {BIN, benchEnv, fmt, printTable, sampleInterleaved} from './lib.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const ZONE = 'bench.example'
const dir = mkdtempSync(join(tmpdir(), 'dnssd-bench-resolve-'))
const data = join(dir, 'data')
mkdirSync(data)
const zone = dnssdZone(ZONE, 3)
writeFileSync(join(data, `${ZONE}.zone`), zone)
const env = benchEnv()
const servers = []
try {
  const serve = await startServe(data)
  servers.push(serve)
  let named
  if (have('named')) {
    mkdirSync(join(dir, 'bind'))
    named = await startNamed(join(dir, 'bind'), {[ZONE]: zone}, 1)
    servers.push(named)
  }
  const at = (s) => `127.0.0.1:${s.port}`
  const commands = [
    {label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'], env},
    ...(have('dig') ? [{label: `dig PTR _web._tcp (serve)`, cmd: 'dig', args: ['@127.0.0.1', '-p', String(serve.port), `_web._tcp.${ZONE}`, 'PTR'], env}] : []),
    {label: 'dnssd resolve _web._tcp (serve)', cmd: process.execPath, args: [BIN, 'resolve', `_web._tcp.${ZONE}`, '--server', at(serve)], env},
    {label: 'dnssd resolve _v1._api._tcp (serve)', cmd: process.execPath, args: [BIN, 'resolve', `_v1._api._tcp.${ZONE}`, '--server', at(serve)], env},
    ...(named ? [{label: 'dnssd resolve _v1._api._tcp (BIND)', cmd: process.execPath, args: [BIN, 'resolve', `_v1._api._tcp.${ZONE}`, '--server', at(named)], env}] : []),
    {label: 'dnssd --version (oclif path)', cmd: process.execPath, args: [BIN, '--version'], env},
  ]
  const results = sampleInterleaved(commands, RUNS)
  const base = results[0].median
  printTable(
    `resolve wall time, median of ${RUNS} interleaved runs`,
    ['command', 'median ms', 'p90 ms', 'x node -e 0'],
    commands.map((c, i) => [c.label, fmt(results[i].median), fmt(results[i].p90), (results[i].median / base).toFixed(2)]),
  )
  console.log('\nGoal: resolve <= 2x `node -e 0`.')

  const rows = []
  for (const [label, server] of [['dnssd serve', serve], ...(named ? [['BIND named', named]] : [])]) {
    for (const [what, extra] of [
      [`_web._tcp.${ZONE} (browse)`, []],
      [`_web._tcp.${ZONE} (browse, --json: TXT too)`, ['--json']],
      [`_v1._api._tcp.${ZONE} (pool)`, []],
    ]) {
      const name = what.split(' ')[0]
      const r = spawnSync(process.execPath, [BIN, 'resolve', name, '--server', at(server), '-v', ...extra], {env, encoding: 'utf8'})
      const calls = r.stderr.split('\n').filter((l) => l.includes(': call ')).length
      const rounds = /in (\d+) round/.exec(r.stderr)?.[1]
      rows.push([label, what, String(calls), rounds ?? '?', r.status === 0 ? 'ok' : `exit ${r.status}`])
    }
  }
  printTable('DNS exchanges per resolve (counted from --verbose ": call " lines)', ['server', 'query', 'queries', 'round trips', 'result'], rows)
  console.log('\nGoal: 1 round trip against serve/BIND where the additional section carries the data.')
} finally {
  for (const s of servers) await s.stop()
  rmSync(dir, {recursive: true, force: true})
}
