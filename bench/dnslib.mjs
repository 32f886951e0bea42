// Helpers for the DNS benchmarks: start `dnssd serve` and BIND `named` on
// loopback ephemeral ports, and read dig's output.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import net from 'node:net'
import {join} from 'node:path'
import {BIN, ROOT, benchEnv} from './lib.mjs'

// The built server's own port probe and TCP framing (run `npm run build` first).
const {freePort} = await import(`${ROOT}dist/dns/workers.js`)
export {freePort}
const {FrameReader, frame} = await import(`${ROOT}dist/dns/tcp.js`)

export function waitFor(child, pattern, what) {
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 15000)
    const onData = (d) => {
      out += d
      const m = pattern.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}: ${out}`)))
  })
}

const stop = (child) => () =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })

export async function startServe(dataDir, extra = []) {
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0', ...extra], {env: benchEnv(), stdio: ['ignore', 'pipe', 'pipe']})
  const m = await waitFor(child, /listening on 127\.0\.0\.1:(\d+)/, 'dnssd serve')
  return {port: Number(m[1]), pid: child.pid, stop: stop(child)}
}

export async function startNamed(dir, zones, threads) {
  const port = await freePort('127.0.0.1')
  const zoneConf = Object.entries(zones).map(([zone, text]) => {
    const file = join(dir, `${zone}.db`)
    writeFileSync(file, text)
    return `zone "${zone}" { type primary; file "${file}"; };`
  })
  const conf = join(dir, 'named.conf')
  writeFileSync(
    conf,
    `options { directory "${dir}"; pid-file "${join(dir, 'named.pid')}"; session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no; notify no; check-integrity no; max-records-per-type 0; };
controls { };
${zoneConf.join('\n')}
`,
  )
  const args = ['-g', '-c', conf, ...(threads ? ['-n', String(threads)] : [])]
  const child = spawn('named', args, {stdio: ['ignore', 'pipe', 'pipe']})
  await waitFor(child, /running\s*$/m, 'named')
  return {port, pid: child.pid, stop: stop(child)}
}

export function dig(port, args) {
  return spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], {encoding: 'utf8'}).stdout
}

export const digSize = (out) => Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1])

export function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
}

/** A DNS-SD zone: `n` instances of _web._tcp (SRV, TXT, A) and a pool _v1._api._tcp of `pool` targets. */
export function dnssdZone(zone, n, pool = 3) {
  let text = `$ORIGIN ${zone}.\n${zone}. 3600 IN SOA localhost. hostmaster.${zone}. 1 3600 600 1209600 60\n${zone}. 3600 IN NS localhost.\n`
  text += `_services._dns-sd._udp.${zone}. 60 IN PTR _web._tcp.${zone}.\n_services._dns-sd._udp.${zone}. 60 IN PTR _api._tcp.${zone}.\n`
  text += `_api._tcp.${zone}. 60 IN PTR _v1._api._tcp.${zone}.\n_v1._api._tcp.${zone}. 60 IN TXT ""\n`
  for (let i = 1; i <= n; i++) {
    const host = `10-0-0-${i}.${zone}`
    text += `_web._tcp.${zone}. 60 IN PTR 10-0-0-${i}._web._tcp.${zone}.\n`
    text += `10-0-0-${i}._web._tcp.${zone}. 60 IN SRV 0 0 8080 ${host}.\n`
    text += `10-0-0-${i}._web._tcp.${zone}. 60 IN TXT "path=/" "txtvers=1"\n`
    text += `${host}. 60 IN A 10.0.0.${i}\n`
    if (i <= pool) text += `_v1._api._tcp.${zone}. 60 IN SRV 0 ${10 * i} 9000 ${host}.\n`
  }
  return text
}

/** A temporary directory with `data/<zone>.zone` holding dnssdZone(zone, n, pool). */
export function zoneDir(prefix, zone, n, pool) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const data = join(dir, 'data')
  mkdirSync(data)
  const text = dnssdZone(zone, n, pool)
  writeFileSync(join(data, `${zone}.zone`), text)
  return {dir, data, zone: text}
}

/** One query over TCP; resolves with the response message (no length prefix). */
export function tcpExchange(port, query) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host: '127.0.0.1', port})
    const frames = new FrameReader()
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('tcp exchange timed out'))), 5000)
    socket.on('connect', () => socket.write(frame(query)))
    socket.on('data', (d) => {
      frames.push(d)
      const reply = frames.next()
      if (reply) (clearTimeout(timer), socket.destroy(), resolve(reply))
    })
    socket.on('error', reject)
  })
}

/** Bytes up to the end of the answer section (header + question + answers). */
export function answerBytes(dnsPacket, buf) {
  let offset = 12
  for (let i = 0; i < buf.readUInt16BE(4); i++) {
    dnsPacket.question.decode(buf, offset)
    offset += dnsPacket.question.decode.bytes
  }
  for (let i = 0; i < buf.readUInt16BE(6); i++) {
    dnsPacket.answer.decode(buf, offset)
    offset += dnsPacket.answer.decode.bytes
  }
  return offset
}
