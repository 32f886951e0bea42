/**
 * A repeatable flag given in its environment variable (README: "Flags in the
 * environment"): one value as written, or several as a JSON array. Every
 * repeatable flag that reads a variable is driven here through the built
 * CLI: join/leave/template DNSSD_TXT, resolve DNSSD_SERVER, serve DNSSD_ZONE.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {BIN, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {freePort} from '../../src/dns/workers.js'
import {type Running, startServe} from '../helpers/dns.js'

const member = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '8080', '--ip', '192.0.2.7']

async function zoneText(dir: string): Promise<string> {
  return readFile(join(dir, 'example.com.zone'), 'utf8').catch(() => '')
}

function poolTxt(text: string): string[] {
  return text.split('\n').filter((l) => /^_v1\._web\._tcp\.example\.com\.\s.*\sTXT\s/.test(l))
}

describe('DNSSD_TXT in join and leave', () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  before(async () => {
    dir = await tempDir()
  })
  after(async () => {
    await dir?.cleanup()
  })

  const cases: Array<[string, string]> = [
    ['tls', '"tls"'],
    ['path=/', '"path=/"'],
    ['note=a b, c=d', '"note=a b, c=d"'],
    ['["path=/a b,c","tls","x=[1]"]', '"path=/a b,c" "tls" "x=[1]"'],
  ]
  for (const [value, written] of cases) {
    it(`DNSSD_TXT=${value} joins with TXT ${written} and leaves cleanly`, async () => {
      const env = cleanEnv({DNSSD_DATA_DIR: dir.path, DNSSD_TXT: value})
      const joined = await runCli(['join', ...member], {env})
      assert.equal(joined.exitCode, 0, joined.stderr)
      const txt = poolTxt(await zoneText(dir.path))
      assert.equal(txt.length, 1, txt.join('\n'))
      assert.ok(txt[0]!.endsWith(`\tTXT\t${written}`), txt[0])
      const left = await runCli(['leave', ...member], {env})
      assert.equal(left.exitCode, 0, left.stderr)
      assert.deepEqual(poolTxt(await zoneText(dir.path)), [])
    })
  }

  it('the JSON form survives a shell-sourced environment file as the template writes it', async () => {
    const envFile = join(dir.path, 'dnssd.env')
    await writeFile(envFile, `DNSSD_TXT='["path=/","tls"]'\nDNSSD_DATA_DIR=${dir.path}\n`)
    const r = spawnSync('sh', ['-c', `set -a; . "$1"; set +a; exec "$2" "$3" join ${member.join(' ')}`, 'sh', envFile, process.execPath, BIN], {
      env: cleanEnv(),
      encoding: 'utf8',
    })
    assert.equal(r.status, 0, r.stderr)
    assert.match(poolTxt(await zoneText(dir.path))[0] ?? '', /TXT\s+"path=\/" "tls"$/)
    assert.equal((await runCli(['leave', ...member], {env: cleanEnv({DNSSD_DATA_DIR: dir.path})})).exitCode, 0)
  })

  it('a malformed list is bad input: exit 2, one line naming the variable, zone unchanged', async () => {
    const before = await zoneText(dir.path)
    for (const value of ['[1,2]', '["a",', '[]', '["ok",""]', '[nope']) {
      const r = await runCli(['join', ...member], {env: cleanEnv({DNSSD_DATA_DIR: dir.path, DNSSD_TXT: value})})
      assert.equal(r.exitCode, 2, `${value}: ${r.stderr}`)
      assert.match(r.stderr, /^dnssd: DNSSD_TXT: /)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(await zoneText(dir.path), before)
    }
  })

  it('--txt on the command line wins over DNSSD_TXT', async () => {
    const env = cleanEnv({DNSSD_DATA_DIR: dir.path, DNSSD_TXT: '["a=1","b"]'})
    assert.equal((await runCli(['join', ...member, '--txt', 'c=3'], {env})).exitCode, 0)
    assert.match(poolTxt(await zoneText(dir.path))[0] ?? '', /TXT\s+"c=3"$/)
    assert.equal((await runCli(['leave', ...member], {env})).exitCode, 0)
  })
})

describe('template and the environment', () => {
  const base = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '8080']

  it('DNSSD_TXT (one value or a JSON array) becomes one --txt per value', async () => {
    for (const [value, flags] of [
      ['path=/', ['--txt=path=/']],
      ['["path=/a b","tls"]', ['"--txt=path=/a b"', '--txt=tls']],
    ] as const) {
      const r = await runCli(['template', 'ec2-script', ...base], {env: cleanEnv({DNSSD_TXT: value})})
      assert.equal(r.exitCode, 0, r.stderr)
      const joinLine = r.stdout.split('\n').find((l) => l.startsWith('ExecStart=')) ?? ''
      for (const f of flags) assert.ok(joinLine.includes(` ${f}`), `${f} missing in: ${joinLine}`)
    }
  })

  it('settings of the machine running template are not copied from its environment', async () => {
    const env = cleanEnv({
      DNSSD_ZONE: 'example.com',
      DNSSD_DATA_DIR: '/home/someone/.local/share/dnssd',
      DNSSD_PROVIDER: 'route53',
      DNSSD_REGISTRY: 'file:///home/someone/leases',
      DNSSD_LEASE: '300',
      DNSSD_CHECK: 'tcp://127.0.0.1:9',
      DNSSD_JITTER: '30',
      DNSSD_PROXIED: 'true',
      DNSSD_TIMEOUT: '99',
    })
    const r = await runCli(['template', 'systemd', '--service', '_v1._web._tcp', '--port', '8080'], {env})
    assert.equal(r.exitCode, 0, r.stderr)
    const exec = r.stdout.split('\n').filter((l) => l.startsWith('Exec'))
    assert.equal(exec.length, 2, r.stdout)
    assert.match(exec[0]!, /--zone=example\.com /)
    for (const word of ['/home/someone', 'route53', 'registry', 'lease', 'check', 'jitter', 'proxied', 'timeout=99']) {
      assert.ok(!r.stdout.includes(word), `${word} leaked into the unit:\n${r.stdout}`)
    }
    assert.match(exec[0]!, /--provider=file /)
  })

  it('--jitter and --proxied given to template reach join instead of being dropped', async () => {
    const r = await runCli(['template', 'systemd', ...base, '--provider', 'cloudflare', '--a-record', 'www', '--proxied', '--jitter', '20'], {env: cleanEnv()})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /^ExecStart=.* --proxied .*--jitter=20 /m)
    assert.match(r.stdout, /^TimeoutStartSec=80$/m)
    const wrong = await runCli(['template', 'systemd', ...base, '--a-record', 'www', '--proxied'], {env: cleanEnv()})
    assert.equal(wrong.exitCode, 2)
    assert.match(wrong.stderr, /^dnssd: --proxied: is a cloudflare setting; this template's --provider is file\n$/)
  })
})

describe('DNSSD_SERVER in resolve and DNSSD_ZONE in serve', () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let serve: Running
  before(async () => {
    dir = await tempDir()
    for (const zone of ['a.example', 'b.example']) {
      const r = await runCli(['join', '--zone', zone, '--service', '_v1._web._tcp', '--port', '8080', '--ip', '127.0.0.9'], {env: cleanEnv({DNSSD_DATA_DIR: dir.path})})
      assert.equal(r.exitCode, 0, r.stderr)
    }
    await writeFile(join(dir.path, 'c.example.zone'), '')
    serve = await startServe(dir.path, [], cleanEnv({DNSSD_ZONE: '["a.example","b.example"]'}))
  })
  after(async () => {
    await serve?.stop()
    await dir?.cleanup()
  })

  it('serve DNSSD_ZONE as a JSON array serves exactly those zones', () => {
    assert.match(serve.output(), /zones: a\.example \(serial \d+\), b\.example \(serial \d+\);/)
  })

  it('resolve DNSSD_SERVER: one server, or a JSON array tried in order', async () => {
    const dead = await freePort()
    for (const value of [`127.0.0.1:${serve.port}`, `["127.0.0.1:${dead}","127.0.0.1:${serve.port}"]`]) {
      const r = await runCli(['resolve', '_v1._web._tcp.b.example', '--try-timeout', '1', '--timeout', '20'], {env: cleanEnv({DNSSD_SERVER: value})})
      assert.equal(r.exitCode, 0, `${value}: ${r.stderr}`)
      assert.equal(r.stdout.trim(), '127-0-0-9.b.example:8080')
    }
  })

  it('resolve DNSSD_SERVER that is not a JSON array of strings: exit 2 naming it', async () => {
    const r = await runCli(['resolve', '_v1._web._tcp.b.example'], {env: cleanEnv({DNSSD_SERVER: '[127.0.0.1]'})})
    assert.equal(r.exitCode, 2)
    assert.match(r.stderr, /^dnssd: DNSSD_SERVER: starts with "\[" but is not a JSON array/)
  })
})
