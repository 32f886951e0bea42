/**
 * What users expect from an oclif CLI, through the built CLI in both forms:
 * bin/run.js (the bundle, dist/bundle/main.js) and the unbundled dist/main.js
 * that oclif reads from disk.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {ROOT, type RunResult, cleanEnv, runCli, tempDir} from '../helpers/cli.js'

const pjson = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {name: string; version: string}
const VERSION_LINE = `${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`

/** The same argv through dist/main.js: no bundle, oclif reads package.json and the manifest from disk. */
function runUnbundled(args: readonly string[]): RunResult {
  const code = `const {main} = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'main.js')).href)}); await main(JSON.parse(process.argv[1]), ${JSON.stringify(ROOT)})`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(args)], {env: cleanEnv(), encoding: 'utf8'})
  return {exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr}
}

const forms: Array<[string, (args: readonly string[]) => Promise<RunResult>]> = [
  ['bundled', (args) => runCli(args)],
  ['unbundled', async (args) => runUnbundled(args)],
]

for (const [form, run] of forms) {
  describe(`CLI conventions (${form})`, () => {
    it('help, help COMMAND, -h and --help', async () => {
      for (const args of [['help'], ['-h'], ['--help']]) {
        const r = await run(args)
        assert.equal(r.exitCode, 0, `${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stdout, /^COMMANDS$/m)
        for (const id of ['join', 'leave', 'resolve', 'template', 'help', 'version', 'autocomplete']) assert.match(r.stdout, new RegExp(`^  ${id} `, 'm'))
      }
      for (const args of [['help', 'join'], ['join', '-h'], ['join', '--zone', 'x', '-h']]) {
        const r = await run(args)
        assert.equal(r.exitCode, 0, `${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stdout, /^ {2}\$ dnssd join /m)
        assert.match(r.stdout, /--txt=<value>\.\.\./)
      }
      const topic = await run(['help', 'policy', 'route53'])
      assert.equal(topic.exitCode, 0, topic.stderr)
      assert.match(topic.stdout, /\$ dnssd policy route53/)
    })

    it('version, -v and --version print the version line; version --json an object', async () => {
      for (const args of [['version'], ['-v'], ['--version']]) {
        const r = await run(args)
        assert.equal(r.exitCode, 0, r.stderr)
        assert.equal(r.stdout, `${VERSION_LINE}\n`)
      }
      const json = await run(['version', '--json'])
      assert.equal(json.exitCode, 0, json.stderr)
      assert.deepEqual(JSON.parse(json.stdout), {name: pjson.name, version: pjson.version, platform: process.platform, arch: process.arch, node: process.version})
    })

    it('a mistyped command: exit 2, one line with the nearest command, JSON under --json', async () => {
      const cases: Array<[string[], string]> = [
        [['jion'], '"jion" is not a dnssd command; did you mean "join"? (see dnssd help)'],
        [['jion', '--zone', 'example.com'], '"jion" is not a dnssd command; did you mean "join"? (see dnssd help)'],
        [['help', 'lsit'], '"lsit" is not a dnssd command; did you mean "list"? (see dnssd help)'],
        [['policy', 'rout53'], '"policy rout53" is not a dnssd command; did you mean "policy route53"? (see dnssd help)'],
        [['frobnicate'], '"frobnicate" is not a dnssd command (see dnssd help)'],
      ]
      for (const [args, message] of cases) {
        const r = await run(args)
        assert.equal(r.exitCode, 2, args.join(' '))
        assert.equal(r.stdout, '')
        assert.equal(r.stderr, `dnssd: ${message}\n`)
      }
      const json = await run(['jion', '--json'])
      assert.equal(json.exitCode, 2)
      assert.equal(json.stderr, '')
      assert.deepEqual(JSON.parse(json.stdout), {error: {kind: 'bad-input', message: cases[0]![1], exitCode: 2}})
    })

    it('autocomplete prints a bash script that completes commands, flags and choices', async () => {
      const r = await run(['autocomplete', 'bash'])
      assert.equal(r.exitCode, 0, r.stderr)
      const complete = (words: string[]): string[] => {
        const script = `${r.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dnssd_complete; printf '%s\\n' "\${COMPREPLY[@]}"`
        const out = spawnSync('bash', ['-c', script], {encoding: 'utf8'})
        assert.equal(out.status, 0, out.stderr)
        return out.stdout.split('\n').filter((l) => l !== '').sort()
      }
      assert.deepEqual(complete(['dnssd', 'jo']), ['join'])
      assert.deepEqual(complete(['dnssd', 're']), ['reap', 'resolve'])
      assert.deepEqual(complete(['dnssd', 'policy', '']), ['rfc2136', 'route53'])
      assert.deepEqual(complete(['dnssd', 'join', '--tx']), ['--txt'])
      assert.deepEqual(complete(['dnssd', 'join', '--provider', '']), ['cloudflare', 'file', 'rfc2136', 'route53'])
      assert.deepEqual(complete(['dnssd', 'template', 'ec']), ['ec2', 'ec2-script'])
      assert.deepEqual(complete(['dnssd', 'resolve', '--p']), ['--pool'])
      assert.deepEqual(complete(['dnssd', 'help', 'te']), ['template'])
      const zsh = await run(['autocomplete', 'zsh'])
      assert.equal(zsh.exitCode, 0)
      assert.match(zsh.stdout, /^autoload -U \+X bashcompinit && bashcompinit$/m)
    })
  })
}

describe('command conventions', () => {
  it('template without KIND names the argument and lists the kinds', async () => {
    const r = await runCli(['template', '-z', 'example.com', '-s', '_web._tcp', '-p', '80'])
    assert.equal(r.exitCode, 2)
    assert.equal(r.stderr, 'dnssd: KIND: missing; give one of ec2, ec2-script, joyent, systemd, systemd-renew, systemd-renew-timer, sysv, smf (see --help)\n')
    const json = await runCli(['template', '--json'])
    assert.equal(json.exitCode, 2)
    assert.match((JSON.parse(json.stdout) as {error: {message: string}}).error.message, /^KIND: missing; give one of ec2, /)
  })

  it('template --json without --out carries the rendered text', async () => {
    const args = ['template', 'systemd', '-z', 'example.com', '-s', '_web._tcp', '-p', '80']
    const plain = await runCli(args)
    const json = await runCli([...args, '--json'])
    assert.equal(json.exitCode, 0, json.stderr)
    const result = JSON.parse(json.stdout) as {kind: string; bytes: number; text: string}
    assert.equal(result.kind, 'systemd')
    assert.equal(result.text, plain.stdout)
    assert.equal(result.bytes, Buffer.byteLength(plain.stdout))
  })

  it('resolve --version is no pool label: --pool is, and --version is refused', async () => {
    const r = await runCli(['resolve', '--zone', 'example.com', '--service', '_api._tcp', '--version', 'v1', '--server', '127.0.0.1:9'])
    assert.equal(r.exitCode, 2)
    assert.match(r.stderr, /^dnssd: Nonexistent flag: --version/)
    const bad = await runCli(['resolve', '--zone', 'example.com', '--service', '_api._tcp', '--pool', 'v 1', '--server', '127.0.0.1:9'])
    assert.equal(bad.exitCode, 2)
    assert.match(bad.stderr, /^dnssd: --pool: "v 1" must be letters/)
  })

  it('serve --json: one JSON line when listening and when stopped; JSON errors', async () => {
    const dir = await tempDir()
    try {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), 'serve', '--json', '--port', '0', '--data-dir', dir.path], {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          if (out.includes('\n')) resolve()
        })
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)))
      })
      const listening = JSON.parse(out.split('\n')[0]!) as {event: string; address: string; port: number; workers: number; zones: unknown[]; dataDir: string}
      assert.deepEqual({...listening, port: 0}, {event: 'listening', address: '127.0.0.1', port: 0, workers: 1, zones: [], dataDir: dir.path})
      assert.ok(listening.port > 0)
      child.kill('SIGTERM')
      assert.equal(await exited, 0)
      assert.deepEqual(out.trim().split('\n').slice(1).map((l) => JSON.parse(l) as unknown), [{event: 'stopped', queries: 0}])
    } finally {
      await dir.cleanup()
    }
    const bad = await runCli(['serve', '--json', '--port', '70000'])
    assert.equal(bad.exitCode, 2)
    assert.deepEqual(JSON.parse(bad.stdout), {error: {kind: 'bad-input', message: '--port: "70000" is not a port; give 0-65535', exitCode: 2}})
  })
})
