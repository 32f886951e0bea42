/**
 * No secret in any message (issue 14). Every CLI the suite spawns through
 * runCli/spawnCli is already checked against the test secrets
 * (test/helpers/secrets.ts); these are the paths that used to print the
 * Cloudflare token: a token with a line break inside (the HTTP layer quoted
 * the Authorization header) and a --api-token-file that does not exist
 * (named in the message, and people do pass the token itself there).
 */
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {FAKE_TOKEN, FakeCloudflare} from '../fakes/cloudflare.js'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {assertNoSecret} from '../helpers/secrets.js'

const ZONE = 'example.com'
const joinArgs = ['join', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1', '--provider', 'cloudflare', '--zone', ZONE]

describe('secrets never appear in output', () => {
  let fake: FakeCloudflare
  let dir: {path: string; cleanup: () => Promise<void>}
  before(async () => {
    fake = await new FakeCloudflare({}).start()
    dir = await tempDir()
  })
  after(async () => {
    await fake.close()
    await dir.cleanup()
  })

  const refused = async (args: string[], env: NodeJS.ProcessEnv, message: RegExp): Promise<void> => {
    for (const extra of [[], ['-v'], ['--json']]) {
      const r = await runCli([...args, ...extra], {env: cleanEnv({CLOUDFLARE_BASE_URL: fake.url, ...env})})
      assert.equal(r.exitCode, 2, r.stdout + r.stderr)
      assert.match(extra[0] === '--json' ? JSON.parse(r.stdout).error.message : r.stderr, message)
      assert.ok(!(r.stdout + r.stderr).includes(FAKE_TOKEN))
    }
  }

  it('a token with a line break inside, from the environment: exit 2, token not shown', async () => {
    await refused(joinArgs, {CLOUDFLARE_API_TOKEN: `${FAKE_TOKEN}\nsecond line`}, /CLOUDFLARE_API_TOKEN: the token has a space, line break .* \(not shown\)/)
  })

  it('a token file with a second line: exit 2, token not shown', async () => {
    const file = join(dir.path, 'two-lines')
    await writeFile(file, `${FAKE_TOKEN}\nsecond line\n`, {mode: 0o600})
    await refused([...joinArgs, '--api-token-file', file], {}, /--api-token-file: the token has a space, line break/)
  })

  it('the token passed where the file name goes: exit 2, the value not echoed', async () => {
    await refused([...joinArgs, '--api-token-file', FAKE_TOKEN], {}, /--api-token-file: no such file \(the value is not shown/)
  })

  it('a token with a trailing newline is trimmed and works, and a verbose run shows no token', async () => {
    const r = await runCli([...joinArgs, '-v'], {env: cleanEnv({CLOUDFLARE_BASE_URL: fake.url, CLOUDFLARE_API_TOKEN: `${FAKE_TOKEN}\n`})})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stderr, /cloudflare: call /)
  })

  it('the output check itself catches a leak', () => {
    assert.throws(() => assertNoSecret(`oops: Bearer ${FAKE_TOKEN}`, {}, 'a test'), /a secret \(dnss\.\.\.\) appeared in the output of a test/)
    assert.throws(() => assertNoSecret('key=sk-live-123456789', {AWS_SECRET_ACCESS_KEY: 'sk-live-123456789'}, 'a test'), /a secret/)
    assert.doesNotThrow(() => assertNoSecret('nothing to see', {AWS_SECRET_ACCESS_KEY: 'S3RVER'}, 'a test'))
  })
})
