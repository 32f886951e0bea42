/**
 * join, leave, list and resolve start without oclif (src/cli/fast-run.ts);
 * DNSSD_NO_FAST_PATH=1 runs them through oclif. The same sequence of
 * commands, good and bad, run both ways on two fresh file-provider zones
 * prints the same stdout and stderr and exits with the same codes. Only
 * the data directory and elapsed times differ between the runs: they are
 * masked ("<data>", "N ms", "elapsedMs").
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {type RunResult, ROOT, cleanEnv, runCli, tempDir} from '../helpers/cli.js'

/** Makes a run fail if it loads oclif: the fast runs of the steps the fast path must take. */
const FORBID_OCLIF = `--import=${pathToFileURL(`${ROOT}test/helpers/forbid-oclif.mjs`).href}`

const ID = ['-z', 'example.com', '-s', '_v1._web._tcp', '-p', '8080']

interface Step {
  args: string[]
  env?: Record<string, string>
  /** oclif's own parse error: the fast path hands the command to oclif. */
  oclif?: true
}

const STEPS: Step[] = [
  {args: ['list', '-z', 'example.com']},
  {args: ['join', ...ID, '--ip', '10.0.0.1', '--txt', 'path=/', '--txt', 'tls']},
  {args: ['join', ...ID, '--ip', '10.0.0.1', '--txt', 'path=/', '--txt', 'tls']},
  {args: ['join', ...ID, '--ip', '10.0.0.2', '--json']},
  {args: ['join', '-z', 'example.com', '-s', '_http._tcp', '-p', '80', '--ip', '2001:db8::7', '--a-record', 'www', '-v']},
  {args: ['join', ...ID, '--ip', '10.0.0.3', '-n']},
  {args: ['join', ...ID, '--ip', '10.0.0.3', '--dry-run', '--json']},
  {args: ['join'], env: {DNSSD_ZONE: 'example.com', DNSSD_SERVICE: '_v1._web._tcp', DNSSD_PORT: '8080', DNSSD_IP: '10.0.0.4', DNSSD_TXT: 'from=env'}},
  {args: ['list', '-z', 'example.com']},
  {args: ['list', '-z', 'example.com', '--json']},
  {args: ['list', '-z', 'example.com', '--service', '_http._tcp', '-v']},
  {args: ['leave', ...ID, '--ip', '10.0.0.2']},
  {args: ['leave', ...ID, '--ip', '10.0.0.2']},
  {args: ['leave', ...ID, '--ip', '10.0.0.1', '--json']},
  {args: ['list', '-z', 'example.com']},
  // Bad input: input rules and core checks (the fast path reports them) ...
  {args: ['join', ...ID, '--ip', '10.0.0.9', '--host', '']},
  {args: ['join', ...ID, '--ip', '10.0.0.9', '--host', '', '--json']},
  {args: ['join', ...ID, '--ip', '10.0.0.9'], env: {DNSSD_WAIT: 'maybe'}},
  {args: ['join', ...ID, '--ip', '10.0.0.300']},
  {args: ['join', '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.0.0.9', '--json']},
  {args: ['join', '-z', 'example.com', '-s', '_v1._web._tcp', '--ip', '10.0.0.9', '--port', '70000']},
  {args: ['leave', '-z', 'example.com', '-s', '_web_tcp', '--ip', '10.0.0.9']},
  {args: ['list', '-z', 'exa mple.com']},
  {args: ['list', '-z', 'example.com', '--registry=']},
  {args: ['list', '-z', 'example.com', '--registry', 'ftp://x/y', '--json']},
  {args: ['resolve', 'not a name!']},
  {args: ['resolve', '_web._tcp.example.com', '--server', '127.0.0.1:53', '--timeout', 'x']},
  // ... and oclif's own parse errors (the fast path hands these to oclif).
  {args: ['join', ...ID, '--ip', '10.0.0.9', '--provider', 'bind'], oclif: true},
  {args: ['join', ...ID, '--ip', '10.0.0.9', '--bogus'], oclif: true},
  {args: ['join', ...ID, '--ip', '10.0.0.9', '--private', '--public', '--json'], oclif: true},
  {args: ['list', 'stray'], oclif: true},
  {args: ['leave', ...ID, '--ip'], oclif: true},
  {args: ['join', ...ID, '--ip', '10.0.0.9', '--port', '80'], oclif: true},
  // No NAME: oclif would read it from stdin (not a terminal here), so oclif runs it.
  {args: ['resolve', '--json'], oclif: true},
]

const mask = (text: string, dir: string): string =>
  text.split(dir).join('<data>').replace(/\b\d+ ms\b/g, 'N ms').replace(/"elapsedMs": \d+/g, '"elapsedMs": N')

async function runAll(fast: boolean, dataDir: string): Promise<RunResult[]> {
  const results: RunResult[] = []
  for (const step of STEPS) {
    const mode = fast ? (step.oclif ? {} : {NODE_OPTIONS: FORBID_OCLIF}) : {DNSSD_NO_FAST_PATH: '1'}
    const env = cleanEnv({DNSSD_DATA_DIR: dataDir, ...mode, ...step.env})
    const r = await runCli(step.args, {env})
    results.push({exitCode: r.exitCode, stdout: mask(r.stdout, dataDir), stderr: mask(r.stderr, dataDir)})
  }
  return results
}

describe('fast path: the same output as the oclif path', () => {
  let fast: RunResult[]
  let oclif: RunResult[]
  const dirs: {cleanup: () => Promise<void>}[] = []
  before(async () => {
    const [a, b] = [await tempDir(), await tempDir()]
    dirs.push(a, b)
    ;[fast, oclif] = await Promise.all([runAll(true, a.path), runAll(false, b.path)])
  })
  after(async () => {
    for (const d of dirs) await d.cleanup()
  })

  STEPS.forEach((step, i) => {
    const label = `${step.env ? `${Object.entries(step.env).map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}dnssd ${step.args.join(' ')}`
    it(label, () => {
      assert.deepEqual(fast[i], oclif[i])
    })
  })

  it('--version prints oclif\'s line (oclif answers `--version x`)', async () => {
    const [mine, oclifs] = [await runCli(['--version']), await runCli(['--version', 'x'])]
    assert.deepEqual(mine, oclifs)
    assert.match(mine.stdout, /^\S+\/\d+\.\d+\.\d+\S* linux-\w+ node-v\d+/)
  })

  it('covers successes and each kind of failure', () => {
    const codes = new Set(oclif.map((r) => r.exitCode))
    assert.ok(codes.has(0) && codes.has(2), `exit codes seen: ${[...codes].join(', ')}`)
    assert.ok(oclif.some((r) => r.exitCode === 2 && r.stdout.includes('"error"')), 'a --json error')
    assert.ok(oclif.some((r) => r.stderr.includes('Nonexistent flag')), 'an oclif parse error')
  })
})
