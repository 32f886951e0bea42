/**
 * The single executables of `npm run dist` (scripts/dist.mjs), run as a user
 * runs them: a copy in an empty directory, no Node.js reachable (the PATH
 * starts with a `node` that records any call and fails), no node_modules
 * beside it. x64 runs here: --version, file-provider join/list/leave,
 * resolve against its own `serve`, a Route 53 join against the local
 * endpoint (the SDK is loaded from inside the file). arm64 cannot run here:
 * its ELF machine is checked, and that its SEA payload is in it.
 * Locally a missing build skips (run `npm run dist`); under CI=true it fails.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {chmod, copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {ROOT, tempDir} from '../helpers/cli.js'
import {type Endpoint, startEndpoint} from '../helpers/route53.js'

const BUILD = join(ROOT, 'build')
const X64 = join(BUILD, 'dnssd-linux-x64')
const ARM64 = join(BUILD, 'dnssd-linux-arm64')
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {name: string; version: string})

function missing(): string | undefined {
  if (existsSync(X64) && existsSync(ARM64)) return undefined
  if (process.env.CI === 'true') throw new Error(`${X64} and ${ARM64} are required under CI=true (.ci/run runs npm run dist)`)
  return 'no executables: run `npm run dist`'
}

/** ELF e_machine (offset 18, little-endian u16 for these ELFCLASS64 LSB files). */
function elfMachine(file: string): number {
  const head = readFileSync(file).subarray(0, 20)
  assert.deepEqual([...head.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], `${file} is not ELF`)
  assert.equal(head[5], 1, 'little-endian')
  return head.readUInt16LE(18)
}

describe('single executables (npm run dist)', {skip: missing()}, () => {
  let box: Awaited<ReturnType<typeof tempDir>>
  let exe = ''
  let trapLog = ''
  let env: NodeJS.ProcessEnv = {}
  const children: ChildProcess[] = []

  before(async () => {
    box = await tempDir('dnssd-exe-')
    // A copy in a directory with nothing else: no package.json, no node_modules.
    await mkdir(join(box.path, 'opt'))
    exe = join(box.path, 'opt', 'dnssd')
    await copyFile(X64, exe)
    await chmod(exe, 0o755)
    const trap = join(box.path, 'trap')
    await mkdir(trap)
    trapLog = join(box.path, 'node-called')
    await writeFile(join(trap, 'node'), `#!/bin/sh\necho "$@" >> '${trapLog}'\nexit 99\n`)
    await chmod(join(trap, 'node'), 0o755)
    // As with `env -i PATH=/usr/bin:/bin HOME=...`, with the trap first.
    env = {PATH: `${trap}:/usr/bin:/bin`, HOME: box.path, AWS_EC2_METADATA_DISABLED: 'true'}
  })
  after(async () => {
    for (const c of children) c.kill('SIGKILL')
    assert.equal(existsSync(trapLog), false, 'the executable ran `node`')
    await box.cleanup()
  })

  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(exe, args, {cwd: box.path, env: {...env, ...extra}, encoding: 'utf8', timeout: 60_000})
    return {status: r.status, stdout: r.stdout, stderr: r.stderr}
  }
  /** For servers in this process (the Route 53 endpoint): the event loop keeps running. */
  const runAsync = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    new Promise<{status: number | null; stdout: string; stderr: string}>((resolve, reject) => {
      const child = spawn(exe, args, {cwd: box.path, env: {...env, ...extra}, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('error', reject)
      child.on('close', (status) => resolve({status, stdout, stderr}))
    })

  it('--version names the package, the version and the Node inside', () => {
    const r = run(['--version'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^${VERSION.name}/${VERSION.version.replaceAll('.', '\\.')} linux-x64 node-v24\\.\\d+\\.\\d+\\n$`))
  })

  it('file provider: join, list, leave; bad input is exit 2 with one line', async () => {
    const data = join(box.path, 'data')
    const id = ['-z', 'exe.example', '-s', '_v1._web._tcp', '--data-dir', data]
    const j = run(['join', ...id, '-p', '8080', '--ip', '10.0.0.7', '--txt', 'path=/'])
    assert.equal(j.status, 0, j.stderr)
    const zone = await readFile(join(data, 'exe.example.zone'), 'utf8')
    assert.match(zone, /\sIN\s+SRV\s+0 0 8080 10-0-0-7\.exe\.example\.\n/)
    const l = run(['list', '-z', 'exe.example', '--data-dir', data, '--json'])
    assert.equal(l.status, 0, l.stderr)
    assert.match(l.stdout, /10-0-0-7\.exe\.example/)
    const bad = run(['join', ...id, '-p', '70000', '--ip', '10.0.0.8'])
    assert.equal(bad.status, 2)
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr)
    assert.match(bad.stderr, /--port/)
    const lv = run(['leave', ...id, '--ip', '10.0.0.7'])
    assert.equal(lv.status, 0, lv.stderr)
    assert.doesNotMatch(await readFile(join(data, 'exe.example.zone'), 'utf8'), /SRV/)
  })

  it('resolve answers from its own serve', async () => {
    const data = join(box.path, 'serve-data')
    assert.equal(run(['join', '-z', 'srv.example', '-s', '_web._tcp', '-p', '80', '--ip', '10.0.0.9', '--data-dir', data]).status, 0)
    const serve = spawn(exe, ['serve', '--data-dir', data, '--port', '0'], {cwd: box.path, env, stdio: ['ignore', 'pipe', 'pipe']})
    children.push(serve)
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      serve.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      serve.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)))
    })
    const r = run(['resolve', '_web._tcp.srv.example', '--server', `127.0.0.1:${port}`])
    serve.kill('SIGTERM')
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, '10-0-0-9.srv.example:80\n')
  })

  describe('Route 53', () => {
    let ep: Endpoint
    before(async () => {
      ep = await startEndpoint()
    })
    after(async () => ep.stop())

    it('joins through the SDK inside the file against the local endpoint', async () => {
      const r53 = ep.env()
      const extra = Object.fromEntries(Object.entries(r53).filter(([k]) => k.startsWith('AWS_')))
      const r = await runAsync(['join', '--provider', 'route53', '--zone', 'example.com', '--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1'], extra)
      assert.equal(r.status, 0, r.stderr)
      const srv = ep.fake.records(ep.zoneId).filter((x) => x.type === 'SRV')
      assert.deepEqual(srv.map((x) => x.value), ['0 0 8080 10-0-0-1.example.com.'])
      assert.ok(!(r.stdout + r.stderr).includes('test-secret-not-real'))
    })
  })

  it('x64 is x86-64 and arm64 is AArch64, each with its SEA blob and the fuse flipped', () => {
    assert.equal(elfMachine(X64), 62)
    assert.equal(elfMachine(ARM64), 183)
    for (const [file, blob] of [[X64, 'sea-x64.blob'], [ARM64, 'sea-arm64.blob']] as const) {
      const bytes = readFileSync(file)
      assert.ok(bytes.includes(`${SENTINEL}:1`), `${file}: SEA fuse not flipped`)
      assert.ok(!bytes.includes(`${SENTINEL}:0`), `${file}: unflipped fuse`)
      assert.ok(bytes.includes(Buffer.from('NODE_SEA_BLOB')), `${file}: no NODE_SEA_BLOB resource`)
      // The whole payload scripts/dist.mjs made is inside the binary.
      assert.ok(bytes.includes(readFileSync(join(BUILD, blob))), `${file}: ${blob} is not inside`)
    }
  })

  it('SHA256SUMS matches both files', () => {
    const sums = readFileSync(join(BUILD, 'SHA256SUMS'), 'utf8').trim().split('\n')
    assert.equal(sums.length, 2)
    for (const line of sums) {
      const [hex, name] = line.split(/\s+/)
      assert.equal(createHash('sha256').update(readFileSync(join(BUILD, name!))).digest('hex'), hex, name)
    }
  })
})
