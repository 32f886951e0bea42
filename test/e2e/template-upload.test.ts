/**
 * `template --upload s3://bucket/key` through the built CLI and the real
 * @aws-sdk/client-s3, against s3rver (a local S3-compatible server) on
 * 127.0.0.1, reached through the standard AWS_ENDPOINT_URL_S3.
 */
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {type AddressInfo, type Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'
import S3rver from 's3rver'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'

const BUCKET = 'boot-templates'
const SECRET = 'dummySecretKeyThatMustNeverBePrinted'
const ARGS = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '8080', '--provider', 'route53', '--txt', 'a=$(touch /tmp/x)']

describe('template --upload', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let server: {run: () => Promise<AddressInfo>; close: () => Promise<void>}
  let port = 0
  const env = (endpoint: string) =>
    cleanEnv({
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: `${dir.path}/no-config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir.path}/no-credentials`,
    })

  before(async () => {
    dir = await tempDir()
    server = new S3rver({address: '127.0.0.1', port: 0, silent: true, directory: `${dir.path}/s3`, configureBuckets: [{name: BUCKET}]}) as never
    port = (await server.run()).port
  })
  after(async () => {
    await server.close()
    await dir.cleanup()
  })

  it('puts exactly what stdout would show, path-style through a host-name endpoint', async () => {
    const printed = await runCli(['template', 'ec2', ...ARGS], {env: cleanEnv()})
    assert.equal(printed.exitCode, 0, printed.stderr)
    // "localhost" would mean bucket.localhost without forcePathStyle.
    const r = await runCli(['template', 'ec2', ...ARGS, '--upload', `s3://${BUCKET}/web/user-data.yaml`, '--verbose'], {env: env(`http://localhost:${port}`)})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`uploaded ec2 template \\(${Buffer.byteLength(printed.stdout)} bytes\\) to s3://${BUCKET}/web/user-data.yaml`))
    assert.match(r.stderr, /s3: call PutObject s3:\/\/boot-templates\/web\/user-data\.yaml \d+ bytes/)
    assert.ok(!(r.stdout + r.stderr).includes(SECRET))
    const got = await fetch(`http://127.0.0.1:${port}/${BUCKET}/web/user-data.yaml`)
    assert.equal(got.status, 200)
    assert.equal(got.headers.get('content-type'), 'text/cloud-config')
    assert.equal(await got.text(), printed.stdout)
  })

  it('--json reports the object; a missing bucket is refused with exit 4 and the next action', async () => {
    const ok = await runCli(['template', 'sysv', ...ARGS, '--upload', `s3://${BUCKET}/init.d/dnssd`, '--json'], {env: env(`http://127.0.0.1:${port}`)})
    assert.equal(ok.exitCode, 0, ok.stderr)
    const body = JSON.parse(ok.stdout) as {upload: string; etag: string; kind: string}
    assert.equal(body.upload, `s3://${BUCKET}/init.d/dnssd`)
    assert.equal(body.kind, 'sysv')
    assert.match(body.etag, /^"[0-9a-f]{32}"$/)
    const missing = await runCli(['template', 'sysv', ...ARGS, '--upload', 's3://no-such-bucket/x'], {env: env(`http://127.0.0.1:${port}`)})
    assert.equal(missing.exitCode, 4, missing.stderr)
    assert.match(missing.stderr, /S3 refused the upload to s3:\/\/no-such-bucket\/x: NoSuchBucket .*Check the bucket exists/)
    assert.ok(!missing.stderr.includes(SECRET))
  })

  it('an endpoint that never answers ends with exit 5 by --upload-timeout + 1 s', async () => {
    const sockets = new Set<Socket>()
    const hang = createServer((s) => sockets.add(s))
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r))
    try {
      // 1 s of slack for start-up, or more when the machine is so loaded that a plain render takes longer.
      const t0 = Date.now()
      assert.equal((await runCli(['template', 'ec2', ...ARGS], {env: cleanEnv()})).exitCode, 0)
      const bound = 1000 + Math.max(1000, Date.now() - t0 + 300)
      const started = Date.now()
      const r = await runCli(['template', 'ec2', ...ARGS, '--upload', `s3://${BUCKET}/x`, '--upload-timeout', '1'], {
        env: env(`http://127.0.0.1:${(hang.address() as AddressInfo).port}`),
      })
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /did not finish within 1 s/)
      assert.ok(elapsed <= bound, `took ${elapsed} ms (bound ${bound} ms)`)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => hang.close(() => r()))
    }
  })
})
