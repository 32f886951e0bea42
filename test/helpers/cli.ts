/**
 * Run the BUILT CLI as a subprocess (bin/run.js -> dist/), the way users and
 * boot scripts do, and capture {exitCode, stdout, stderr}.
 */
import {spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {assertNoSecret} from './secrets.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'bin', 'run.js')

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  timeoutMs?: number
}

/** Environment with no dnssd or cloud settings leaking in from the caller. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(DNSSD_|AWS_|CLOUDFLARE_|DEBUG$)/.test(k)) continue
    env[k] = v
  }
  return {
    ...env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
    ...extra,
  }
}

export function runCli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      try {
        assertNoSecret(stdout + stderr, options.env, `dnssd ${args.join(' ')}`)
      } catch (error) {
        return reject(error)
      }
      resolve({exitCode: code ?? (signal ? 128 : 1), stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
  })
}

export async function tempDir(prefix = 'dnssd-test-'): Promise<{path: string; cleanup: () => Promise<void>}> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return {path, cleanup: () => rm(path, {recursive: true, force: true})}
}
