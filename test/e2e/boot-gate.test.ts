/**
 * join --check (health gate) and the --timeout deadline of join/leave, with
 * the file provider: a local HTTP server that turns healthy after 2 s, one
 * that never does, a TCP check, and a zone lock held by another process past
 * the deadline.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {createServer as createHttpServer} from 'node:http'
import {type AddressInfo, type Socket, createServer as createTcpServer} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {ROOT, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {deadlineBoundMs} from '../helpers/wait.js'

const ID = ['--zone', 'example.com', '--service', '_v1._web._tcp', '--ip', '10.0.0.9']

async function httpServer(healthyAfterMs: number) {
  const started = Date.now()
  let hits = 0
  const server = createHttpServer((req, res) => {
    hits++
    if (Date.now() - started >= healthyAfterMs) res.writeHead(req.url === '/health' ? 204 : 404).end()
    else res.writeHead(503).end('starting')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

describe('join --check', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let env: NodeJS.ProcessEnv
  const zoneFile = () => `${dir.path}/example.com.zone`
  before(async () => {
    dir = await tempDir()
    env = cleanEnv({DNSSD_DATA_DIR: dir.path})
  })
  after(async () => dir.cleanup())

  it('waits for a service that turns healthy after 2 s, then registers', async () => {
    // Measured first: the service's 2 s run from its start.
    const bound = (await deadlineBoundMs(2)) + 5000
    const svc = await httpServer(2000)
    try {
      const started = Date.now()
      const r = await runCli(['join', ...ID, '--port', '8080', '--check', svc.url, '--check-timeout', '15', '--verbose'], {env})
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 0, r.stderr)
      assert.ok(elapsed >= 2000 && elapsed < bound, `took ${elapsed} ms (bound ${bound} ms)`)
      assert.ok(svc.hits() >= 2, 'polled more than once')
      assert.match(r.stderr, /check: http:\/\/127\.0\.0\.1:\d+\/health not healthy \(HTTP 503\)/)
      assert.match(r.stderr, /check: http:\/\/127\.0\.0\.1:\d+\/health healthy after \d+ attempts/)
      assert.match(readFileSync(zoneFile(), 'utf8'), /SRV\s+0 0 8080 10-0-0-9\.example\.com\./)
    } finally {
      await svc.close()
    }
  })

  it('registers nothing and exits 5 with the reason when the service never turns healthy', async () => {
    const svc = await httpServer(Number.POSITIVE_INFINITY)
    const other = await tempDir()
    try {
      const bound = (await deadlineBoundMs(2)) + 500
      const started = Date.now()
      const r = await runCli(['join', ...ID, '--port', '8081', '--check', svc.url, '--check-timeout', '2'], {env: cleanEnv({DNSSD_DATA_DIR: other.path})})
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /--check http:\/\/127\.0\.0\.1:\d+\/health: not healthy within 2 s \(last: HTTP 503, \d+ attempts\); nothing was registered/)
      assert.ok(elapsed < bound, `took ${elapsed} ms (bound ${bound} ms)`)
      assert.ok(svc.hits() >= 3 && svc.hits() <= 12, `bounded backoff: ${svc.hits()} probes`)
      assert.equal(existsSync(`${other.path}/example.com.zone`), false)
    } finally {
      await svc.close()
      await other.cleanup()
    }
  })

  it('a service that sends headers and stalls mid-body is not healthy: exit 5 within the deadline, nothing registered', async () => {
    let hits = 0
    const server = createHttpServer((_req, res) => {
      hits++
      res.writeHead(200, {'content-type': 'text/plain', 'content-length': '1000'})
      res.write('ok, and the rest never comes')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`
    const other = await tempDir()
    try {
      const bound = (await deadlineBoundMs(2)) + 5000
      const started = Date.now()
      const r = await runCli(['join', ...ID, '--port', '8082', '--check', url, '--check-timeout', '2', '--verbose'], {
        env: cleanEnv({DNSSD_DATA_DIR: other.path}),
        timeoutMs: 60_000,
      })
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /not healthy within 2 s \(last: no complete answer within \d+ ms, \d+ attempts\); nothing was registered/)
      assert.doesNotMatch(r.stdout, /joined/)
      assert.ok(hits >= 1, 'the service was probed')
      assert.ok(elapsed < bound, `took ${elapsed} ms (safety bound ${bound} ms)`)
      assert.equal(existsSync(`${other.path}/example.com.zone`), false)
    } finally {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
      await other.cleanup()
    }
  })

  it('tcp:// passes once the port accepts, and fails on a closed port', async () => {
    const tcp = createTcpServer((s) => s.end())
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r))
    const port = (tcp.address() as AddressInfo).port
    try {
      const ok = await runCli(['join', ...ID, '--port', '9000', '--check', `tcp://127.0.0.1:${port}`, '--dry-run'], {env})
      assert.equal(ok.exitCode, 0, ok.stderr)
    } finally {
      await new Promise<void>((r) => tcp.close(() => r()))
    }
    const closed = await runCli(['join', ...ID, '--port', '9000', '--check', `tcp://127.0.0.1:${port}`, '--check-timeout', '1', '--dry-run'], {env})
    assert.equal(closed.exitCode, 5)
    assert.match(closed.stderr, /last: ECONNREFUSED/)
  })

  it('a malformed --check is bad input before anything waits (exit 2)', async () => {
    for (const [value, rule] of [
      ['ftp://127.0.0.1/x', /only http:\/\/, https:\/\/ and tcp:\/\/ checks exist/],
      ['tcp://127.0.0.1', /needs a host and a port/],
      ['not a url', /is not a URL/],
    ] as const) {
      const r = await runCli(['join', ...ID, '--port', '9000', '--check', value], {env})
      assert.equal(r.exitCode, 2, value)
      assert.match(r.stderr, rule)
      assert.equal(r.stderr.trim().split('\n').length, 1)
    }
    const t = await runCli(['join', ...ID, '--port', '9000', '--check', 'http://127.0.0.1:1/', '--check-timeout', 'soon'], {env})
    assert.equal(t.exitCode, 2)
    assert.match(t.stderr, /--check-timeout: "soon" is not a number of seconds/)
  })
})

describe('--timeout: leave and join finish inside the deadline (file provider)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let env: NodeJS.ProcessEnv
  let holder: ChildProcess | undefined
  before(async () => {
    dir = await tempDir()
    env = cleanEnv({DNSSD_DATA_DIR: dir.path})
    const joined = await runCli(['join', ...ID, '--port', '8080'], {env})
    assert.equal(joined.exitCode, 0, joined.stderr)
    // Another (live) process holds the zone lock for 20 s.
    const zone = `${dir.path}/example.com.zone`
    const script = `import {FileLock} from './dist/platform/filelock.js'
await FileLock.acquire(${JSON.stringify(zone)}, {deadline: Date.now() + 60000, log: () => undefined})
process.stdout.write('locked\\n')
setTimeout(() => process.exit(0), 20000)`
    holder = spawn(process.execPath, ['--input-type=module', '-e', script], {cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit']})
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.once('data', () => resolve())
      holder!.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)))
    })
  })
  after(async () => {
    holder?.kill('SIGKILL')
    await dir.cleanup()
  })

  it('leave --timeout 1 returns within 2 s with exit 5 and says what may be left behind', async () => {
    const bound = await deadlineBoundMs(1)
    const started = Date.now()
    const r = await runCli(['leave', ...ID, '--timeout', '1'], {env})
    const elapsed = Date.now() - started
    assert.equal(r.exitCode, 5, r.stderr)
    assert.ok(elapsed <= bound, `leave took ${elapsed} ms (bound ${bound} ms)`)
    assert.match(r.stderr, /_v1\._web\._tcp\.example\.com may still list 10-0-0-9\.example\.com \(its SRV, PTR, TXT and address records may be left behind\); run the same leave again/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
  })

  it('leave --ip auto --timeout 1 with a metadata service that never answers still ends within 2 s', async () => {
    const bound = await deadlineBoundMs(1)
    const sockets = new Set<Socket>()
    const hole = createTcpServer((c) => sockets.add(c))
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r))
    try {
      const started = Date.now()
      const r = await runCli(['leave', '--zone', 'example.com', '--service', '_v1._web._tcp', '--ip', 'auto', '--timeout', '1', '--verbose'], {
        env: {
          ...env,
          AWS_EC2_METADATA_DISABLED: 'false',
          AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${(hole.address() as AddressInfo).port}`,
          DNSSD_IP_AUTO_ORDER: 'ec2,interface',
        },
      })
      const elapsed = Date.now() - started
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /IMDS did not answer \(timed out\)/)
      assert.ok(elapsed <= bound, `leave took ${elapsed} ms (bound ${bound} ms)`)
    } finally {
      for (const c of sockets) c.destroy()
      await new Promise<void>((r) => hole.close(() => r()))
    }
  })

  it('join --timeout 1 likewise, and --json carries the same message and code', async () => {
    const bound = await deadlineBoundMs(1)
    const started = Date.now()
    const r = await runCli(['join', ...ID, '--port', '8082', '--timeout', '1', '--json'], {env})
    const elapsed = Date.now() - started
    assert.equal(r.exitCode, 5)
    assert.ok(elapsed <= bound, `join took ${elapsed} ms (bound ${bound} ms)`)
    const body = JSON.parse(r.stdout) as {error: {kind: string; exitCode: number; message: string}}
    assert.equal(body.error.kind, 'deadline')
    assert.match(body.error.message, /may be missing or partly written .* run the same join again/)
  })
})
