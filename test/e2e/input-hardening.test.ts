/**
 * Inputs that used to be accepted, crash or print several lines (issue 14):
 * each exits 2 with exactly one line on stderr that names the input, and the
 * zone file is byte-identical afterwards. Driven through the built CLI.
 */
import assert from 'node:assert/strict'
import {appendFile, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'

const Z = 'example.com'
const base = ['join', '--zone', Z, '--service', '_v1._web._tcp', '--port', '8080']

interface Case {
  name: string
  args: string[]
  env?: Record<string, string>
  message: RegExp
}

const cases: Case[] = [
  {name: 'multicast IPv4', args: [...base, '--ip', '224.0.0.1'], message: /^dnssd: --ip: 224\.0\.0\.1 is a multicast address/},
  {name: 'multicast IPv6', args: [...base, '--ip', 'ff02::1'], message: /^dnssd: --ip: ff02::1 is a multicast address/},
  {name: 'reserved 240.0.0.0/4', args: [...base, '--ip', '240.0.0.1'], message: /^dnssd: --ip: 240\.0\.0\.1 is reserved/},
  {name: 'unspecified IPv4', args: [...base, '--ip', '0.0.0.0'], message: /^dnssd: --ip: 0\.0\.0\.0 is in 0\.0\.0\.0\/8/},
  {name: 'unspecified IPv6', args: [...base, '--ip', '::'], message: /^dnssd: --ip: :: is the unspecified address/},
  {name: 'IPv4-mapped multicast', args: [...base, '--ip', '::ffff:224.0.0.1'], message: /^dnssd: --ip: 224\.0\.0\.1 is a multicast address/},
  ...['host', 'a-record', 'registry', 'jitter', 'check'].map((flag) => ({
    name: `empty --${flag}`,
    args: [...base, '--ip', '10.0.0.9', `--${flag}`, ''],
    message: new RegExp(`^dnssd: --${flag}: an empty value is not allowed`),
  })),
  {name: 'empty --host= form', args: [...base, '--ip', '10.0.0.9', '--host='], message: /^dnssd: --host: an empty value is not allowed/},
  {name: 'DNSSD_WAIT=garbage', args: [...base, '--ip', '10.0.0.9'], env: {DNSSD_WAIT: 'garbage'}, message: /^dnssd: DNSSD_WAIT: "garbage" is not a boolean/},
  {name: 'DNSSD_PROXIED=maybe', args: [...base, '--ip', '10.0.0.9'], env: {DNSSD_PROXIED: 'maybe'}, message: /^dnssd: DNSSD_PROXIED: "maybe" is not a boolean/},
  {
    name: 'template --registry with a stray %',
    args: ['template', 'systemd', '-z', Z, '-s', '_web._tcp', '-p', '80', '--registry', '%n%h', '--lease', '60'],
    message: /^dnssd: --registry: "%n%h" is not a URL/,
  },
  {
    name: 'template --registry file URL with a stray %',
    args: ['template', 'systemd', '-z', Z, '-s', '_web._tcp', '-p', '80', '--registry', 'file:///var/lib/%n%h', '--lease', '60'],
    message: /^dnssd: --registry: .* has a "%" that does not start a %XX escape/,
  },
  {
    name: 'resolve NAME with a newline',
    args: ['resolve', '_web._tcp.exa\nmple.com', '--server', '127.0.0.1:9'],
    message: /^dnssd: NAME: "_web\._tcp\.exa\\nmple\.com" is not a domain name/,
  },
  {
    name: 'resolve NAME with a bell and an escape sequence',
    args: ['resolve', '_web._tcp.\u0007\u001b[31mexample.com', '--server', '127.0.0.1:9'],
    message: /^dnssd: NAME: "_web\._tcp\.\\u0007\\u001b\[31mexample\.com" is not a domain name/,
  },
  {name: 'resolve empty --server', args: ['resolve', '_web._tcp.example.com', '--server', ''], message: /^dnssd: --server: an empty value is not allowed/},
  {
    // node's resolver would drop the zone (and a port with it) and ask the wrong server.
    name: 'resolve --server with an IPv6 zone',
    args: ['resolve', '_web._tcp.example.com', '--server', '[fe80::1%lo]:5353'],
    message: /^dnssd: --server: "\[fe80::1%lo\]:5353": an IPv6 address with a zone cannot be given to the resolver/,
  },
  // Issue 11: a flag the chosen provider does not support names the flag and the provider (catalog.ts).
  ...(
    [
      ['--zone-id', ['--zone-id', 'Z1']],
      ['--wait', ['--wait']],
      ['--public', ['--public']],
      ['--private', ['--private']],
      ['--proxied', ['--proxied', '--a-record', 'www']],
      ['--api-token-file', ['--api-token-file', '/nonexistent']],
      ['--batch-size', ['--batch-size', '200']],
      ['--ttl auto', ['--ttl', 'auto']],
    ] as const
  ).map(([flag, extra]) => ({
    name: `join --provider file ${flag}`,
    args: [...base, '--ip', '10.0.0.9', ...extra],
    message: new RegExp(`^dnssd: ${flag}: is not supported by the file provider \\(only by (route53|cloudflare|route53, cloudflare)\\)`),
  })),
  {
    name: 'leave --provider file DNSSD_WAIT=true',
    args: ['leave', '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.0.1'],
    env: {DNSSD_WAIT: 'true'},
    message: /^dnssd: --wait: is not supported by the file provider \(only by route53\)/,
  },
  {
    name: 'list --provider file --zone-id',
    args: ['list', '--zone', Z, '--zone-id', 'Z1'],
    message: /^dnssd: --zone-id: is not supported by the file provider/,
  },
]

describe('input hardening: exit 2, one line, nothing changed', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let zonePath: string
  let zoneBefore: string
  before(async () => {
    ;({path: dir, cleanup} = await tempDir())
    zonePath = join(dir, `${Z}.zone`)
    const r = await runCli([...base, '--ip', '10.0.0.1', '--data-dir', dir])
    assert.equal(r.exitCode, 0, r.stderr)
    zoneBefore = await readFile(zonePath, 'utf8')
  })
  after(() => cleanup())

  for (const c of cases) {
    it(c.name, async () => {
      const args = c.args[0] === 'resolve' ? c.args : [...c.args, '--data-dir', dir]
      const r = await runCli(args, {env: cleanEnv(c.env)})
      assert.equal(r.exitCode, 2, `${c.name}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr.endsWith('\n') && r.stderr.indexOf('\n'), r.stderr.length - 1, `exactly one line, got: ${JSON.stringify(r.stderr)}`)
      assert.match(r.stderr, c.message)
      assert.equal(await readFile(zonePath, 'utf8'), zoneBefore, 'zone file byte-identical')
    })
  }

  it('an IPv4-mapped IPv6 address is registered as its IPv4 address', async () => {
    const r = await runCli([...base, '--ip', '::ffff:10.0.0.7', '--data-dir', dir, '--dry-run', '--json'])
    assert.equal(r.exitCode, 0, r.stderr)
    const body = JSON.parse(r.stdout)
    assert.equal(body.address, '10.0.0.7')
    assert.equal(body.host, '10-0-0-7.example.com')
    assert.ok(body.changes.some((c: {type: string; value: string}) => c.type === 'A' && c.value === '10.0.0.7'))
    assert.ok(!body.changes.some((c: {type: string}) => c.type === 'AAAA'))
  })

  it('--ip ::1 joins with a valid derived host name, and leave finds it', async () => {
    const {path: own, cleanup: done} = await tempDir()
    try {
      const j = await runCli([...base, '--ip', '::1', '--data-dir', own, '--json'])
      assert.equal(j.exitCode, 0, j.stderr)
      assert.equal(JSON.parse(j.stdout).host, '0--1.example.com')
      assert.match(await readFile(join(own, `${Z}.zone`), 'utf8'), /^0--1\.example\.com\.\s+60\s+IN\s+AAAA\s+::1$/m)
      const l = await runCli(['leave', '--zone', Z, '--service', '_v1._web._tcp', '--ip', '::1', '--data-dir', own])
      assert.equal(l.exitCode, 0, l.stderr)
      assert.doesNotMatch(await readFile(join(own, `${Z}.zone`), 'utf8'), /0--1/)
    } finally {
      await done()
    }
  })

  const broken: [string, string, RegExp][] = [
    ['an unknown record type', 'www IN FOO bar', /expected a record type, got "FOO"/],
    ['a record type without data', 'www 60 IN HINFO', /HINFO record has no data/],
    ['a malformed address', 'www IN A 10.0.0.300', /A record needs one IPv4 address/],
    ['an unbalanced parenthesis', 'www 60 IN TXT ( "a"', /unbalanced "\("/],
  ]
  for (const [what, line, rule] of broken) {
    it(`join refuses a hand-edited zone file with ${what} and leaves it untouched`, async () => {
      const {path: own, cleanup: done} = await tempDir()
      try {
        const path = join(own, `${Z}.zone`)
        await writeFile(path, zoneBefore)
        await appendFile(path, `${line}\n`)
        const edited = await readFile(path)
        const r = await runCli([...base, '--ip', '10.0.0.2', '--data-dir', own])
        assert.equal(r.exitCode, 2, r.stderr)
        assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`)
        assert.ok(r.stderr.includes(`${path} line `), `names the file: ${r.stderr}`)
        assert.match(r.stderr, rule)
        assert.deepEqual(await readFile(path), edited, 'the file is byte-identical')
      } finally {
        await done()
      }
    })
  }
})
