// `dnssd serve` (issue 3): query throughput with dnsperf against BIND named
// on the same zone in the same run, and response bytes against BIND for a
// 30-instance PTR (plus what dns-packet's own encoder, which has no name
// compression, would have sent).
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {answerBytes, dig, digSize, have, startNamed, startServe, tcpExchange, zoneDir} from './dnslib.mjs'
import {ROOT, printTable} from './lib.mjs'

const dnsPacket = createRequire(`${ROOT}package.json`)('dns-packet')
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const ZONE = 'bench.example'
const {dir, data, zone} = zoneDir('dnssd-bench-serve-', ZONE, 30, 8)
const servers = []
try {
  if (!have('named') || !have('dig')) throw new Error('bench/serve.mjs needs named and dig (bind9, bind9-dnsutils)')
  // The answer logic, not the guard: no rate limit (dnsperf is one client) and
  // full-size UDP answers without cookies, as BIND gives them (serve-guard.mjs measures the guard).
  const unguarded = ['--rrl', '0', '--udp-size-without-cookie', '1232']
  const serve = await startServe(data, unguarded)
  servers.push(serve)
  mkdirSync(join(dir, 'bind'))
  const named = await startNamed(join(dir, 'bind'), {[ZONE]: zone})
  servers.push(named)

  // Bytes: the same query to both, same flags (RD, EDNS 1232, no cookie), over TCP so nothing is cut.
  const rows = []
  for (const [what, args] of [
    ['30-instance PTR, EDNS, UDP', ['+nocookie', `_web._tcp.${ZONE}`, 'PTR']],
    ['30-instance PTR, TCP', ['+tcp', '+nocookie', `_web._tcp.${ZONE}`, 'PTR']],
    ['8-target SRV pool, UDP', ['+nocookie', `_v1._api._tcp.${ZONE}`, 'SRV']],
    ['NXDOMAIN', ['+nocookie', `nothing.${ZONE}`, 'A']],
  ]) {
    const ours = dig(serve.port, args)
    const theirs = dig(named.port, args)
    const count = (out, s) => /ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)/.exec(out)?.slice(1).join('/') ?? '?'
    rows.push([what, String(digSize(ours)), count(ours), String(digSize(theirs)), count(theirs), (digSize(ours) / digSize(theirs)).toFixed(2)])
  }
  // The answer section alone, compressed by us vs written by dns-packet.encode (no compression).
  const answers = []
  for (let i = 1; i <= 30; i++) answers.push({type: 'PTR', name: `_web._tcp.${ZONE}`, ttl: 60, data: `10-0-0-${i}._web._tcp.${ZONE}`})
  const plain = dnsPacket.encode({type: 'response', id: 1, flags: 0x0400, questions: [{type: 'PTR', name: `_web._tcp.${ZONE}`}], answers})
  const oursPtrOnly = digSize(dig(serve.port, ['+tcp', '+noedns', `_web._tcp.${ZONE}`, 'PTR']))
  const q = dnsPacket.encode({type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{type: 'PTR', name: `_web._tcp.${ZONE}`}]})
  const oursAnswer = answerBytes(dnsPacket, await tcpExchange(serve.port, q))
  const theirsAnswer = answerBytes(dnsPacket, await tcpExchange(named.port, q))
  rows.push(['30-instance PTR, header+question+answer only', String(oursAnswer), '30/-/-', String(theirsAnswer), '30/-/-', (oursAnswer / theirsAnswer).toFixed(2)])
  printTable('Response bytes vs BIND (same zone, same query; counts are answer/authority/additional)', ['query', 'serve bytes', 'serve counts', 'BIND bytes', 'BIND counts', 'serve / BIND'], rows)
  console.log(`\nThe 30 PTR answers alone written by dns-packet.encode (no compression): ${plain.length} bytes; serve's whole`)
  console.log(`response with the same answers PLUS SRV, TXT and A for every instance (RFC 6763 §12): ${oursPtrOnly} bytes.`)

  if (!have('dnsperf')) {
    console.log('\ndnsperf is not installed (Debian package dnsperf): throughput skipped')
  } else {
    const queries = join(dir, 'queries.txt')
    const lines = []
    for (let i = 1; i <= 30; i++) lines.push(`10-0-0-${i}._web._tcp.${ZONE} SRV`, `10-0-0-${i}.${ZONE} A`, `10-0-0-${i}._web._tcp.${ZONE} TXT`)
    lines.push(`_web._tcp.${ZONE} PTR`, `_v1._api._tcp.${ZONE} SRV`, `nothing.${ZONE} A`, `10-0-0-1.${ZONE} AAAA`, `${ZONE} SOA`)
    writeFileSync(queries, `${lines.join('\n')}\n`)
    const perf = (port, mode) => {
      const r = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-l', String(SECONDS), '-c', '4', '-q', '64', '-m', mode], {encoding: 'utf8'})
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1])
      const lost = /Queries lost:\s+(\d+)/.exec(r.stdout)?.[1]
      const lat = /Average Latency \(s\):\s+([\d.]+)/.exec(r.stdout)?.[1]
      return {qps, lost, lat: lat ? (Number(lat) * 1000).toFixed(2) : '?'}
    }
    const cores = (await import('node:os')).availableParallelism()
    const multi = await startServe(data, ['--workers', String(cores), ...unguarded])
    servers.push(multi)
    const tput = []
    const median = (runs) => [...runs].sort((x, y) => x.qps - y.qps)[Math.floor(runs.length / 2)]
    const targets = [
      ['serve (1 process)', serve.port],
      [`serve --workers ${cores}`, multi.port],
      [`BIND named (${cores} threads)`, named.port],
    ]
    for (const mode of ['udp', 'tcp']) {
      // Rotate the order over several rounds and take each server's median:
      // the machine is shared, so one run mostly measures the neighbours.
      const runs = targets.map(() => [])
      for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < targets.length; k++) {
          const i = (k + round) % targets.length
          runs[i].push(perf(targets[i][1], mode))
        }
      }
      const bind = median(runs[2])
      targets.forEach(([label], i) => {
        const m = median(runs[i])
        tput.push([mode, label, m.qps.toFixed(0), m.lat, m.lost, (m.qps / bind.qps).toFixed(2)])
      })
    }
    printTable(`dnsperf throughput, median of ${ROUNDS} rotated runs of ${SECONDS} s, 4 clients, 64 outstanding (mixed SRV/A/TXT/PTR/NXDOMAIN/NODATA)`, ['transport', 'server', 'qps', 'avg ms', 'lost', 'x BIND'], tput)
    console.log(`\nGoal: serve >= 1x BIND. BIND uses a thread per core (${cores}); serve --workers uses a process per core.`)
  }
} finally {
  for (const s of servers) await s.stop()
  rmSync(dir, {recursive: true, force: true})
}
