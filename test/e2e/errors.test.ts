/**
 * Bad input: exit 2, one line naming the input and the rule, nothing
 * written; the same code under --json (plain oclif would exit 1).
 */
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli, tempDir} from '../helpers/cli.js'

const Z = 'example.com'
const ok = ['--zone', Z, '--service', '_v1._web._tcp', '--port', '8080', '--ip', '10.0.0.1']

function withFlag(flag: string, value: string): string[] {
  const args = [...ok]
  const at = args.indexOf(flag)
  if (at >= 0) args[at + 1] = value
  else args.push(flag, value)
  return args
}

const cases: {name: string; args: string[]; message: RegExp}[] = [
  {name: 'port 70000', args: withFlag('--port', '70000'), message: /--port: 70000 is out of range; a port must be 1-65535/},
  {name: 'port 0', args: withFlag('--port', '0'), message: /--port: 0 is out of range/},
  {name: 'port not a number', args: withFlag('--port', 'http'), message: /--port: "http" is not a whole number/},
  {name: 'malformed service', args: withFlag('--service', '_web_tcp'), message: /--service: .*protocol/},
  {name: 'service name with double hyphen', args: withFlag('--service', '_a--b._tcp'), message: /RFC 6335/},
  {name: 'service name too long', args: withFlag('--service', '_abcdefghijklmnop._tcp'), message: /RFC 6335/},
  {name: 'service not under the zone', args: withFlag('--service', '_web._tcp.other.org'), message: /--service: .*not under the zone example\.com/},
  {name: 'bad zone', args: withFlag('--zone', 'exa mple.com'), message: /--zone: .*RFC 1123/},
  {name: 'bad address', args: withFlag('--ip', '10.0.0.300'), message: /--ip: "10\.0\.0\.300" is not an IPv4 or IPv6 address/},
  {name: 'host outside the zone', args: withFlag('--host', 'web1.other.org.'), message: /--host: .*not under the zone/},
  {name: 'TXT string over 255 bytes', args: withFlag('--txt', `k=${'x'.repeat(300)}`), message: /--txt k=\.\.\.: is 302 bytes; each TXT string holds at most 255 bytes/},
  {name: 'TXT without key', args: withFlag('--txt', '=v'), message: /--txt "=v": the key before "=" must not be empty/},
  {name: 'priority out of range', args: withFlag('--priority', '65536'), message: /--priority: 65536 is out of range/},
  {name: 'weight negative', args: withFlag('--weight', '-1'), message: /--weight: "-1" is not a whole number/},
  {name: 'ttl not a number', args: withFlag('--ttl', 'soon'), message: /--ttl: "soon" is not a whole number/},
  {name: 'round-robin name outside the zone', args: withFlag('--a-record', 'www.other.org.'), message: /--a-record: .*not under the zone/},
  {name: 'timeout zero', args: withFlag('--timeout', '0'), message: /--timeout: 0 is out of range/},
  {name: 'unknown provider', args: withFlag('--provider', 'bind'), message: /provider/},
  {name: 'unknown flag', args: [...ok, '--colour', 'red'], message: /Nonexistent flag: --colour/},
  {name: 'missing zone', args: ok.slice(2), message: /--zone: a zone is required/},
  {name: 'missing port', args: [...ok.slice(0, 4), ...ok.slice(6)], message: /--port: a port is required/},
]

describe('bad input exits 2 and changes nothing', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let zoneBefore: string
  before(async () => {
    ;({path: dir, cleanup} = await tempDir())
    const r = await runCli(['join', ...ok, '--data-dir', dir])
    assert.equal(r.exitCode, 0, r.stderr)
    zoneBefore = await readFile(join(dir, `${Z}.zone`), 'utf8')
  })
  after(() => cleanup())

  for (const c of cases) {
    it(c.name, async () => {
      const text = await runCli(['join', ...c.args, '--data-dir', dir])
      assert.equal(text.exitCode, 2, `${c.name}: ${text.stderr}`)
      assert.equal(text.stdout, '')
      const lines = text.stderr.trim().split('\n')
      assert.equal(lines.length, 1, `one line, got: ${text.stderr}`)
      assert.match(lines[0]!, c.message)

      const json = await runCli(['join', ...c.args, '--data-dir', dir, '--json'])
      assert.equal(json.exitCode, 2, `--json keeps exit 2: ${json.stdout}${json.stderr}`)
      const body = JSON.parse(json.stdout)
      assert.equal(body.error.exitCode, 2)
      assert.equal(body.error.kind, 'bad-input')
      assert.match(body.error.message, c.message)
      assert.equal(await readFile(join(dir, `${Z}.zone`), 'utf8'), zoneBefore, 'zone file byte-identical')
    })
  }

  it('leave needs an address or a host', async () => {
    const r = await runCli(['leave', '--zone', Z, '--service', '_v1._web._tcp', '--data-dir', dir])
    assert.equal(r.exitCode, 2)
    assert.match(r.stderr, /--ip: give the member address \(--ip ADDR\) or its host name \(--host NAME\)/)
  })

  it('list of a zone with no file is exit 4 with the next action', async () => {
    const r = await runCli(['list', '--zone', 'nosuch.example', '--data-dir', dir])
    assert.equal(r.exitCode, 4, r.stderr)
    assert.match(r.stderr, /no zone file for nosuch\.example .*dnssd join creates it/)
  })

  it('flags come from DNSSD_* environment variables', async () => {
    const {cleanEnv} = await import('../helpers/cli.js')
    const env = cleanEnv({DNSSD_ZONE: Z, DNSSD_SERVICE: '_v1._web._tcp', DNSSD_PORT: '8080', DNSSD_IP: '10.0.0.2', DNSSD_DATA_DIR: dir, DNSSD_PROVIDER: 'file'})
    const r = await runCli(['join', '--json'], {env})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).host, '10-0-0-2.example.com')
  })
})
