// `dnssd serve` exposed (issue 14): how much bigger than the query a UDP
// answer can be (amplification) with and without a DNS cookie, against BIND
// on the same zone; and the server's RSS while a TCP client sends queries and
// never reads the answers, against BIND under the same client.
// BENCH_SERVE_BASELINE=/path/to/other/bin/run.js adds that build's `serve`
// (e.g. a checkout from before a change) to the RSS table.
import {spawn} from 'node:child_process'
import dgram from 'node:dgram'
import {mkdirSync, readFileSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import net from 'node:net'
import {join} from 'node:path'
import {have, startNamed, startServe, zoneDir} from './dnslib.mjs'
import {ROOT, benchEnv, printTable} from './lib.mjs'

const dnsPacket = createRequire(`${ROOT}package.json`)('dns-packet')
const ZONE = 'bench.example'
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
/** Query bytes the non-reading client offers at most (the answers are ~15x that). */
const OFFERED = 8 * 1024 * 1024

const query = (name, type, cookie) =>
  dnsPacket.encode({
    type: 'query',
    id: 7,
    flags: 0,
    questions: [{type, name}],
    additionals: [{type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: cookie ? [{code: 10, data: cookie}] : []}],
  })

function udpExchange(port, msg) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4')
    const t = setTimeout(() => (s.close(), reject(new Error('no UDP reply'))), 3000)
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m)))
    s.send(msg, port, '127.0.0.1')
  })
}

/** The COOKIE option data of a reply (client + server cookie). */
function cookieOf(reply) {
  const opt = dnsPacket.decode(reply).additionals.find((r) => r.type === 'OPT')
  return opt?.options?.find((o) => o.code === 10)?.data
}

const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024

/** A TCP client that sends queries as fast as they are taken and never reads: the server's RSS before and at its peak. */
async function nonReader(port, pid, msg) {
  const frame = Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg])
  const batch = Buffer.concat(Array(1000).fill(frame))
  const before = rss(pid)
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 100)
  const client = net.connect({host: '127.0.0.1', port})
  client.pause()
  client.on('error', () => undefined)
  const closed = new Promise((r) => client.on('close', r))
  await new Promise((r) => client.once('connect', r))
  let sent = 0
  const deadline = new Promise((r) => setTimeout(r, SECONDS * 1000 * 3))
  const writer = (async () => {
    while (sent < OFFERED && !client.destroyed) {
      sent += batch.length
      if (!client.write(batch)) await Promise.race([new Promise((r) => client.once('drain', r)), closed])
    }
  })()
  const how = await Promise.race([closed.then(() => 'closed by the server'), deadline.then(() => 'still open')])
  client.destroy()
  await writer
  clearInterval(sampler)
  // Taken = offered minus what still sat in the client's buffer when it stopped.
  return {before, peak, taken: sent - client.writableLength, how}
}

const {dir, data, zone} = zoneDir('dnssd-bench-guard-', ZONE, 30, 8)
const servers = []
try {
  if (!have('named')) throw new Error('bench/serve-guard.mjs needs named (bind9)')
  const serve = await startServe(data, ['--tcp-idle', String(SECONDS * 2)])
  servers.push(serve)
  mkdirSync(join(dir, 'bind'))
  const named = await startNamed(join(dir, 'bind'), {[ZONE]: zone})
  servers.push(named)

  // Amplification: the largest answer, a 30-instance browse at EDNS 1232, over UDP.
  const ptr = `_web._tcp.${ZONE}`
  const client = Buffer.from('0123456789abcdef', 'hex')
  const rows = []
  const ratioRow = async (label, port, cookie, name = ptr, type = 'PTR') => {
    const q = query(name, type, cookie)
    const r = await udpExchange(port, q)
    const tc = (r.readUInt16BE(2) & 0x0200) !== 0
    rows.push([label, String(q.length), String(r.length), String(r.readUInt16BE(6)), tc ? 'yes' : 'no', (r.length / q.length).toFixed(1)])
    return r
  }
  await ratioRow('serve, no cookie', serve.port)
  const first = await ratioRow('serve, client cookie only (first contact)', serve.port, client)
  await ratioRow('serve, valid server cookie', serve.port, cookieOf(first))
  // The largest answer that does go out without a cookie: the 8-target SRV pool with its addresses.
  await ratioRow('serve, no cookie: 8-target SRV (fits 512)', serve.port, undefined, `_v1._api._tcp.${ZONE}`, 'SRV')
  await ratioRow('BIND, no cookie', named.port)
  const bindFirst = await ratioRow('BIND, client cookie only', named.port, client)
  await ratioRow('BIND, valid server cookie', named.port, cookieOf(bindFirst))
  printTable(`UDP amplification at the largest answer (${ptr} PTR, 30 instances, EDNS 1232; BIND adds no additional records to a PTR answer)`, ['server, query', 'query bytes', 'response bytes', 'answers', 'TC', 'response / query'], rows)
  console.log('\nserve without a valid server cookie answers at most 512 bytes over UDP (--udp-size-without-cookie); larger answers go TC=1.')

  // RSS under a client that never reads (SRV pool answers, ~15x the query).
  const srv = query(`_v1._api._tcp.${ZONE}`, 'SRV')
  const targets = [['serve', serve]]
  if (process.env.BENCH_SERVE_BASELINE) {
    const child = spawn(process.execPath, [process.env.BENCH_SERVE_BASELINE, 'serve', '--data-dir', data, '--port', '0'], {env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    const port = await new Promise((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', (code) => reject(new Error(`baseline serve exited ${code}: ${out}`)))
    })
    const baseline = {port, pid: child.pid, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM')))}
    servers.push(baseline)
    targets.push(['serve (BENCH_SERVE_BASELINE)', baseline])
  }
  targets.push(['BIND named', named])
  const measured = []
  for (const [label, s] of targets) measured.push([label, await nonReader(s.port, s.pid, srv)])
  const bind = measured.at(-1)[1]
  printTable(
    `RSS while one TCP client offers ${OFFERED / 1024 / 1024} MB of SRV queries and reads nothing (at most ${SECONDS * 3} s)`,
    ['server', 'RSS before MB', 'RSS peak MB', 'growth MB', 'query MB taken', 'connection', 'growth / BIND growth'],
    measured.map(([label, m]) => [
      label,
      m.before.toFixed(0),
      m.peak.toFixed(0),
      (m.peak - m.before).toFixed(1),
      (m.taken / 1024 / 1024).toFixed(2),
      m.how,
      ((m.peak - m.before) / Math.max(0.1, bind.peak - bind.before)).toFixed(1),
    ]),
  )
} finally {
  for (const s of servers) await s.stop()
  rmSync(dir, {recursive: true, force: true})
}
