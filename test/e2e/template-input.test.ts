/**
 * `dnssd template` input rules: every malformed identity or template value
 * is rejected with exit 2 and one line before anything is rendered.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {cleanEnv, runCli} from '../helpers/cli.js'

describe('template input', () => {
  it('rejects malformed values with exit 2, one line, and prints nothing', async () => {
    const base = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '8080']
    const cases: Array<[string[], RegExp]> = [
      [['--zone', 'ex ample.com', '--service', '_web._tcp', '--port', '80'], /^dnssd: --zone: /],
      [['--zone', 'example.com', '--service', 'web', '--port', '80'], /^dnssd: --service: /],
      [['--zone', 'example.com', '--service', '_web._tcp', '--port', '0'], /^dnssd: --port: /],
      [[...base, '--txt', 'a=b\nc'], /^dnssd: --txt: .* control character/],
      [[...base, '--set', 'api-token=abc'], /^dnssd: --set api-token: secrets do not belong/],
      [[...base, '--set', 'zone-id'], /^dnssd: --set "zone-id": give a provider flag as NAME=VALUE/],
      [[...base, '--bin', 'dnssd'], /^dnssd: --bin: /],
      [[...base, '--name', 'My Service'], /^dnssd: --name: /],
      [[...base, '--check', 'ftp://127.0.0.1/'], /^dnssd: --check: /],
      [[...base, '--ip-source', 'elastic'], /^dnssd: --ip-source: /],
      [[...base, '--host', 'web_1'], /^dnssd: --host: /],
      [[...base, '--upload', 'https://bucket/key'], /^dnssd: --upload: /],
    ]
    for (const [args, message] of cases) {
      const r = await runCli(['template', 'ec2', ...args], {env: cleanEnv()})
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
    const kind = await runCli(['template', 'gce', ...base], {env: cleanEnv()})
    assert.equal(kind.exitCode, 2)
  })
})
