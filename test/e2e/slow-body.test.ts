/**
 * A server that sends its headers and then stalls mid-body: every remote read
 * is bounded by the command's deadline, and passing it is exit 5 with the
 * deadline named, never exit 4 "operation aborted" (issues 10 and 14). The
 * server answers like Cloudflare's API and like S3, on loopback.
 */
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {createServer} from 'node:http'
import {type AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'

const ID = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--port', '80', '--ip', '10.0.0.9']

/** Answers every request with 200, the start of a body, and then nothing. */
async function stallingServer(contentType: string, start: string) {
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    req.resume()
    res.writeHead(200, {'content-type': contentType, 'content-length': String(start.length + 4096), etag: '"0123"'})
    res.write(start)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

describe('a response body that stalls', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => (dir = await tempDir()))
  after(() => dir.cleanup())

  it('Cloudflare: exit 5 at the deadline, not "operation aborted"', async () => {
    const server = await stallingServer('application/json', '{"success":true,"errors":[],"messages":[],"result":[{"id":"')
    try {
      const r = await runCli(['join', ...ID, '--provider', 'cloudflare', '--timeout', '8', '-v'], {
        env: cleanEnv({CLOUDFLARE_API_TOKEN: 'slow-body-test-token', CLOUDFLARE_BASE_URL: `${server.url}/client/v4`}),
        timeoutMs: 60_000,
      })
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /Cloudflare did not answer .* before the deadline \(--timeout\)/)
      assert.doesNotMatch(r.stderr, /aborted/i)
      assert.ok(server.requests() >= 1)
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /slow-body-test-token/)
    } finally {
      await server.close()
    }
  })

  it('S3 registry: exit 5 at the deadline, nothing registered', async () => {
    const server = await stallingServer('application/xml', '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>b</Name>')
    const data = `${dir.path}/s3`
    try {
      const r = await runCli(['join', ...ID, '--registry', 's3://leases-bucket/dnssd', '--lease', '30', '--data-dir', data, '--timeout', '3', '-v'], {
        env: cleanEnv({
          AWS_ENDPOINT_URL_S3: server.url,
          AWS_ACCESS_KEY_ID: 'AKIASLOWBODYTEST',
          AWS_SECRET_ACCESS_KEY: 'slow-body-test-secret',
          AWS_REGION: 'us-east-1',
          AWS_CONFIG_FILE: '/nonexistent/dnssd-test/config',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/dnssd-test/credentials',
        }),
        timeoutMs: 60_000,
      })
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /registry s3:\/\/leases-bucket\/dnssd: \w+ did not finish before the deadline/)
      assert.doesNotMatch(r.stderr, /operation (was )?aborted/i)
      assert.ok(server.requests() >= 1)
      assert.equal(existsSync(`${data}/example.com.zone`), false, 'nothing registered')
    } finally {
      await server.close()
    }
  })
})
