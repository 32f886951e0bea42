/**
 * An operator runs `dnssd list` (or a join by hand) on a terminal. There the
 * light commands print what they print through pipes, with write(2), and
 * never make process.stderr: asking it whether it is a terminal loads node's
 * tty, net and stream modules, several milliseconds of start-up. The
 * terminal is a pseudo-terminal from script(1) (util-linux).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {BIN, ROOT, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {requireTool} from '../helpers/tools.js'

const Z = 'example.com'
const JOIN = ['join', '-z', Z, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1']
const HELPER = join(ROOT, 'test', 'helpers', 'loaded-modules.cjs')
const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`

describe('light commands on a terminal', {skip: requireTool('script')}, () => {
  let dir: string
  let cleanup: () => Promise<void>
  let n = 0
  const env = (): NodeJS.ProcessEnv => cleanEnv({DNSSD_DATA_DIR: join(dir, 'data'), TMPDIR: dir})

  /** `dnssd ARGS` with stdin and stderr on a pseudo-terminal, stdout to a file. */
  const onTerminal = async (args: string[]): Promise<{exitCode: number; stdout: string; terminal: string; stderrTerminal: boolean; modules: string[]}> => {
    const out = join(dir, `out${n}`)
    const modules = join(dir, `modules${n++}.json`)
    const command = [process.execPath, '-r', HELPER, BIN, ...args].map(quote).join(' ')
    const r = spawnSync('script', ['-qec', `${command} > ${quote(out)}`, '/dev/null'], {env: {...env(), DNSSD_TEST_MODULES: modules}, encoding: 'utf8'})
    const loaded = JSON.parse(await readFile(modules, 'utf8')) as {stderrTerminal: boolean; modules: string[]}
    return {exitCode: r.status ?? 1, stdout: await readFile(out, 'utf8'), terminal: r.stdout, ...loaded}
  }
  const noStreams = (modules: string[]): void => {
    for (const m of ['NativeModule tty', 'NativeModule net', 'NativeModule stream']) assert.ok(!modules.includes(m), `${m} loaded`)
  }

  before(async () => {
    ;({path: dir, cleanup} = await tempDir())
    const joined = await runCli(JOIN, {env: env()})
    assert.equal(joined.exitCode, 0, joined.stderr)
  })
  after(() => cleanup())

  it('list and a join that changes nothing print what they print through pipes', async () => {
    for (const args of [['list', '-z', Z], JOIN]) {
      const piped = await runCli(args, {env: env()})
      assert.equal(piped.exitCode, 0, piped.stderr)
      const r = await onTerminal(args)
      assert.ok(r.stderrTerminal, 'stderr is the pseudo-terminal')
      assert.equal(r.exitCode, 0, r.terminal)
      assert.equal(r.stdout, piped.stdout)
      noStreams(r.modules)
    }
  })

  it('an error is one line on the terminal, exit 2', async () => {
    const r = await onTerminal(['list', '-z', 'exa mple.com'])
    assert.ok(r.stderrTerminal, 'stderr is the pseudo-terminal')
    assert.equal(r.exitCode, 2)
    assert.equal(r.stdout, '')
    assert.match(r.terminal, /^dnssd: .*exa mple\.com.*\r?\n$/)
    noStreams(r.modules)
  })
})
