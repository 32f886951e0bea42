/**
 * `dnssd serve` as the primary of a REAL BIND secondary and a REAL NSD
 * secondary (all on 127.0.0.1, ephemeral ports): transfers are TSIG-signed,
 * a join reaches both secondaries within 2 s of the command exiting (NOTIFY),
 * `dig` against each secondary equals `dig` against serve, and a secondary
 * without the key (or an unsigned or wrongly signed AXFR) is refused.
 */
import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {type Running, dig, digSection, digStatus, freePort, joinMany, startServe} from '../helpers/dns.js'
import {type Key, makeKey, startBindSecondary, startNsdSecondary, waitUntil, wrongKey} from '../helpers/primaries.js'
import {requireTool} from '../helpers/tools.js'

const Z = 'example.com'
const skip = ['named', 'nsd', 'dig', 'tsig-keygen'].map((t) => requireTool(t)).find(Boolean)

const serialOf = (port: number): number | undefined => {
  const soa = digSection(dig(port, ['+norec', Z, 'SOA']), 'ANSWER').find((l) => / SOA /.test(l))
  return soa ? Number(soa.split(' ')[6]) : undefined
}

/** The answer section, sorted, without TTL differences mattering (all serve the zone's TTLs). */
const answer = (port: number, name: string, type: string): string[] => digSection(dig(port, ['+norec', name, type]), 'ANSWER').sort()

describe('dnssd serve as a primary for BIND and NSD secondaries', {skip}, () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let data: string
  let key: Key
  let serve: Running
  let bind: Running
  let nsd: Running

  before(async () => {
    dir = await tempDir()
    data = join(dir.path, 'data')
    key = await makeKey(dir.path)
    await joinMany(data, [{service: '_web._tcp', ip: '10.0.0.1'}])
    const bindPort = await freePort()
    const nsdPort = await freePort()
    serve = await startServe(data, ['--transfer-key-file', key.file, '--notify', `127.0.0.1:${bindPort}`, '--notify', `127.0.0.1:${nsdPort}`, '--rrl', '0', '--verbose'])
    bind = await startBindSecondary(join(dir.path, 'bind'), Z, serve.port, key, bindPort)
    nsd = await startNsdSecondary(join(dir.path, 'nsd'), Z, serve.port, key, nsdPort)
    const serial = serialOf(serve.port)
    await waitUntil(() => serialOf(bind.port) === serial && serialOf(nsd.port) === serial, 30_000, 'both secondaries to load the zone')
  })

  after(async () => {
    await Promise.all([bind?.stop(), nsd?.stop(), serve?.stop()])
    await dir?.cleanup()
  })

  it('a join reaches both secondaries within 2 s of the command exiting (NOTIFY)', async () => {
    const before = serialOf(serve.port)!
    const r = await runCli(['join', '--data-dir', data, '--zone', Z, '--service', '_web._tcp', '--ip', '10.0.0.2', '--port', '8080'], {env: cleanEnv()})
    assert.equal(r.exitCode, 0, r.stderr)
    const want = '10-0-0-2._web._tcp.example.com.'
    const has = (port: number): boolean => answer(port, `_web._tcp.${Z}`, 'PTR').some((l) => l.endsWith(want))
    const took = await Promise.all([
      waitUntil(() => has(bind.port), 2000, 'the BIND secondary to have the new instance'),
      waitUntil(() => has(nsd.port), 2000, 'the NSD secondary to have the new instance'),
    ])
    console.log(`# join visible on BIND after ${took[0]} ms, on NSD after ${took[1]} ms`)
    assert.ok(serialOf(serve.port)! > before, 'the serial grew')
    assert.match(serve.output(), /notify example\.com serial \d+ -> 127\.0\.0\.1:\d+: acknowledged/)
    // BIND asks for the change by IXFR once it holds the zone; serve answers with the whole zone (RFC 1995 §4).
    // serve logs a transfer after sending it, so its line may reach us after the secondary has the data.
    const ixfr = /IXFR example\.com from 127\.0\.0\.1: serial \d+, \d+ records in 1 messages signed with dnssd-key/
    await waitUntil(() => ixfr.test(serve.output()), 30_000, 'serve to log the IXFR it answered')
  })

  it('dig against each secondary equals dig against serve', async () => {
    await waitUntil(() => serialOf(bind.port) === serialOf(serve.port) && serialOf(nsd.port) === serialOf(serve.port), 10_000, 'the secondaries to catch up')
    const questions: [string, string][] = [
      [Z, 'SOA'],
      [`_services._dns-sd._udp.${Z}`, 'PTR'],
      [`_web._tcp.${Z}`, 'PTR'],
      [`10-0-0-1._web._tcp.${Z}`, 'SRV'],
      [`10-0-0-2._web._tcp.${Z}`, 'TXT'],
      [`10-0-0-2.${Z}`, 'A'],
      [`_dnssd.10-0-0-1.${Z}`, 'TXT'],
    ]
    for (const [name, type] of questions) {
      const primary = answer(serve.port, name, type)
      assert.ok(primary.length > 0, `${name} ${type} answered by serve`)
      assert.deepEqual(answer(bind.port, name, type), primary, `BIND: ${name} ${type}`)
      assert.deepEqual(answer(nsd.port, name, type), primary, `NSD: ${name} ${type}`)
    }
    assert.equal(digStatus(dig(nsd.port, ['nothere.example.com', 'A'])), digStatus(dig(serve.port, ['nothere.example.com', 'A'])))
  })

  it('a zone file edited without raising its serial is served with a higher one, and reaches the secondaries', async () => {
    const before = serialOf(serve.port)!
    const file = join(data, `${Z}.zone`)
    await writeFile(file, `${await readFile(file, 'utf8')}hand.${Z}. 60 IN A 192.0.2.7\n`)
    await waitUntil(() => (serialOf(serve.port) ?? 0) > before, 5000, 'serve to raise the serial')
    await waitUntil(() => answer(bind.port, `hand.${Z}`, 'A').length === 1 && answer(nsd.port, `hand.${Z}`, 'A').length === 1, 5000, 'the edit to reach the secondaries')
  })

  it('AXFR without the key, or with a wrong secret, is refused', async () => {
    const unsigned = dig(serve.port, [Z, 'AXFR'])
    assert.match(unsigned, /Transfer failed/)
    assert.doesNotMatch(unsigned, /\sSRV\s/)
    const wrong = await wrongKey(dir.path, key)
    const bad = dig(serve.port, ['-y', `hmac-sha256:${wrong.name}:${wrong.secret}`, Z, 'AXFR'])
    assert.doesNotMatch(bad, /\sSRV\s/)
    assert.match(bad, /Transfer failed|tsig|NOTAUTH/i)
    // A signed query whose MAC fails: NOTAUTH, and an unsigned TSIG naming the key and the error (RFC 8945 §5.2).
    const query = dig(serve.port, ['-y', `hmac-sha256:${wrong.name}:${wrong.secret}`, Z, 'SOA'])
    assert.equal(digStatus(query), 'NOTAUTH')
    assert.match(query, new RegExp(`${key.name}\\.\\s+0\\s+ANY\\s+TSIG\\s+hmac-sha256\\. \\d+ 300 0 \\d+ BADSIG`))
    const good = dig(serve.port, ['-y', `hmac-sha256:${key.name}:${key.secret}`, Z, 'AXFR'])
    assert.match(good, /\sSRV\s/)
    assert.doesNotMatch(good, /could not be validated|failed/i)
  })

  it('a secondary configured without the TSIG key is refused', async () => {
    const keyless = await startBindSecondary(join(dir.path, 'bind-keyless'), Z, serve.port)
    try {
      await waitUntil(() => /refused AXFR example\.com from 127\.0\.0\.1|refused IXFR example\.com from 127\.0\.0\.1/.test(serve.output()), 15_000, 'serve to refuse the keyless secondary')
      assert.equal(digStatus(dig(keyless.port, ['+norec', Z, 'SOA'])), 'SERVFAIL')
    } finally {
      await keyless.stop()
    }
  })
})

describe('serve primary flags are checked before it listens', () => {
  it('a bad --allow-transfer, --notify or --transfer-key-file: exit 2 naming the flag', async () => {
    const dir = await tempDir()
    try {
      const secret = 'c2VjcmV0LXRoYXQtbXVzdC1ub3QtYmUtcHJpbnRlZA=='
      const bad = join(dir.path, 'bad.key')
      await writeFile(bad, `key "k" { algorithm hmac-md5; secret "${secret}"; };\n`)
      for (const [flag, value] of [
        ['--allow-transfer', '10.0.0.0/33'],
        ['--allow-transfer', 'everyone'],
        ['--notify', 'ns2.example.com'],
        ['--notify', '127.0.0.1:0'],
        ['--transfer-key-file', bad],
        ['--transfer-key-file', join(dir.path, 'missing.key')],
      ]) {
        const r = await runCli(['serve', '--data-dir', dir.path, '--port', '0', flag!, value!])
        assert.equal(r.exitCode, 2, `${flag} ${value}: ${r.stderr}`)
        assert.match(r.stderr, new RegExp(flag!))
        assert.ok(!r.stderr.includes(secret.slice(0, 12)))
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      }
    } finally {
      await dir.cleanup()
    }
  })
})
