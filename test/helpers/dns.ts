/**
 * DNS test fixtures: the built CLI's `serve` as a subprocess, a real BIND
 * `named` on a loopback ephemeral port with a generated named.conf, `dig`,
 * and zones populated through `dnssd join`.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {freePort} from '../../src/dns/workers.js'

export {freePort}
import {BIN, type RunResult, cleanEnv, runCli} from './cli.js'

export interface Running {
  port: number
  child: ChildProcess
  output: () => string
  /** SIGTERM and wait; resolves with the exit code. */
  stop: () => Promise<number | null>
}

export function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<{match: RegExpExecArray; output: () => string}> {
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), timeoutMs)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = pattern.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({match: m, output: () => out})
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${what} exited with ${code}: ${out}`))
    })
  })
}

export function stopper(child: ChildProcess): () => Promise<number | null> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
      child.once('exit', (code) => {
        clearTimeout(kill)
        resolve(code)
      })
      child.kill('SIGTERM')
    })
}

/** `dnssd serve --port 0` from the built CLI; resolves once it listens. */
export async function startServe(dataDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = cleanEnv()): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0', ...extra], {env, stdio: ['ignore', 'pipe', 'pipe']})
  const {match, output} = await waitForLine(child, /listening on 127\.0\.0\.1:(\d+)/, 'dnssd serve')
  return {port: Number(match[1]), child, output, stop: stopper(child)}
}

/** The options of every named.conf here: loopback only, authoritative only, no NOTIFY of its own. */
export function namedOptions(dir: string, port: number, extra = ''): string {
  return `options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
${extra}};
controls { };`
}

/** A real BIND named, authoritative for `zones` (name -> zone file text), on loopback. */
export async function startNamed(dir: string, zones: Record<string, string>, threads = 1): Promise<Running> {
  const port = await freePort('127.0.0.1')
  const zoneConf: string[] = []
  for (const [zone, text] of Object.entries(zones)) {
    const file = join(dir, `${zone}.db`)
    await writeFile(file, text)
    zoneConf.push(`zone "${zone}" { type primary; file "${file}"; };`)
  }
  const conf = join(dir, 'named.conf')
  await writeFile(
    conf,
    `${namedOptions(dir, port, '  check-integrity no;\n  max-records-per-type 0;\n')}
${zoneConf.join('\n')}
`,
  )
  const child = spawn('named', ['-g', '-c', conf, '-n', String(threads)], {stdio: ['ignore', 'pipe', 'pipe']})
  const {output} = await waitForLine(child, /running\s*$/m, 'named')
  return {port, child, output, stop: stopper(child)}
}

/** Run dig and return its stdout. */
export function dig(port: number, args: string[]): string {
  // +time=5: a server starved of CPU by a parallel run still answers in time; no test waits for a timeout.
  const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+time=5', '+tries=1', ...args], {encoding: 'utf8', timeout: 30_000})
  return r.stdout
}

export function digStatus(out: string): string | undefined {
  return /status: (\w+)/.exec(out)?.[1]
}

export function digFlags(out: string): string[] {
  return (/;; flags: ([^;]*);/.exec(out)?.[1] ?? '').trim().split(/\s+/)
}

/** Records of a dig section: "name ttl class type data" lines, whitespace collapsed. */
export function digSection(out: string, section: 'ANSWER' | 'AUTHORITY' | 'ADDITIONAL'): string[] {
  const m = new RegExp(`;; ${section} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(out)
  return m ? m[1]!.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/\s+/g, ' ').trim()) : []
}

export function digSize(out: string): number {
  return Number(/MSG SIZE\s+rcvd: (\d+)/.exec(out)?.[1])
}

/** `dnssd join` through the built CLI, `parallel` at a time. */
export async function joinMany(
  dataDir: string,
  members: {service: string; ip: string; port?: number; extra?: string[]}[],
  zone = 'example.com',
  parallel = 8,
): Promise<void> {
  const queue = [...members]
  const worker = async (): Promise<void> => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      const r: RunResult = await runCli(
        ['join', '--data-dir', dataDir, '--zone', zone, '--service', m.service, '--ip', m.ip, '--port', String(m.port ?? 8080), ...(m.extra ?? [])],
        {env: cleanEnv()},
      )
      if (r.exitCode !== 0) throw new Error(`join ${m.ip} failed (${r.exitCode}): ${r.stderr}`)
    }
  }
  await Promise.all(Array.from({length: parallel}, worker))
}
