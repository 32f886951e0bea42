// Shared helpers for benchmarks: timing child processes and printing tables.
import {spawn, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const BIN = `${ROOT}bin/run.js`

export function benchEnv(extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(DNSSD_|AWS_|CLOUDFLARE_|DEBUG$)/.test(k)) env[k] = v
  return {...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...extra}
}

/** The built CLI's environment against a local Route 53 endpoint: test credentials, no IMDS, no profile files. */
export function route53BenchEnv(url) {
  return benchEnv({
    AWS_ENDPOINT_URL_ROUTE_53: url,
    AWS_ACCESS_KEY_ID: 'AKIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    NODE_NO_WARNINGS: '1',
  })
}

/** Wall time of one synchronous run, in ms. */
export function timeOnce(cmd, args, env = benchEnv()) {
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {env, stdio: ['ignore', 'ignore', 'pipe']})
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return ms
}

/** Wall time of one asynchronous run, in ms. */
export function timeAsync(cmd, args, env = benchEnv()) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint()
    const child = spawn(cmd, args, {env, stdio: ['ignore', 'ignore', 'pipe']})
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(`${args.join(' ')}: ${code} ${err}`))))
  })
}

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return {n: s.length, median: q(0.5), p90: q(0.9), min: s[0]}
}

/** Wall time and CPU time (user + system, from bench/cpu-at-exit.cjs) of one run, in ms. */
export function timeOnceWithCpu(cmd, args, env = benchEnv()) {
  const hook = fileURLToPath(new URL('cpu-at-exit.cjs', import.meta.url))
  const t = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {env: {...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} -r ${hook}`.trim()}, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  const cpu = /dnssd-bench-cpu-us (\d+)/.exec(r.stderr)
  return {ms, cpuMs: cpu ? Number(cpu[1]) / 1000 : NaN}
}

/** Interleaved runs so drift hits every command alike. */
export function sampleInterleaved(commands, runs) {
  const samples = commands.map(() => [])
  for (let i = 0; i < runs; i++) commands.forEach((c, j) => samples[j].push(timeOnce(c.cmd, c.args, c.env)))
  return samples.map(stats)
}

export function printTable(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
  console.log(`\n### ${title}\n`)
  console.log(line(header))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows) console.log(line(r))
}

export const fmt = (ms) => ms.toFixed(1)
