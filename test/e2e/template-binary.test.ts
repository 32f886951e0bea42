/**
 * Templates with --binary-url/--binary-sha256: the user-data downloads the
 * single executable, checks its pinned SHA-256 and installs it, with no
 * runtime install (no npm, apt, dnf, snap). The rendered scripts run in the
 * sandbox of template.test.ts (recording stubs first on PATH, DNSSD_ROOT as
 * the file-system root) against a loopback HTTP server that serves the
 * artifact, a corrupted copy and a 404. A failed download or checksum stops
 * the script with one line and registers nothing.
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, readdir, rm, stat, writeFile} from 'node:fs/promises'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {writeRecordingStubs} from '../helpers/stubs.js'
import {requireTool} from '../helpers/tools.js'

const IDENTITY = ['-z', 'example.com', '-s', '_v1._web._tcp', '-p', '8080', '--provider', 'route53', '--set', 'zone-id=Z0123']
const STUBBED = ['systemctl', 'npm', 'apt-get', 'dnf', 'yum', 'snap', 'pkgin', 'svccfg', 'svcadm']

let box: Awaited<ReturnType<typeof tempDir>>
let stubs = ''
let log = ''
let server: Server
let base = ''
let artifact = Buffer.alloc(0)
let sha = ''

before(async () => {
  box = await tempDir('dnssd-template-binary-')
  stubs = join(box.path, 'bin')
  log = join(box.path, 'calls.log')
  await writeRecordingStubs(stubs, STUBBED, log)
  // The "executable": a script that records how it is run.
  artifact = Buffer.from(`#!/bin/sh\necho "installed dnssd $*" >> '${log}'\n`)
  sha = createHash('sha256').update(artifact).digest('hex')
  const corrupt = Buffer.from(artifact)
  corrupt[corrupt.length - 2] ^= 0x20
  server = createServer((req, res) => {
    if (req.url === '/dnssd-linux-x64') res.end(artifact)
    else if (req.url === '/corrupt') res.end(corrupt)
    else res.writeHead(404).end('not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  await new Promise((resolve) => server.close(resolve))
  await box.cleanup()
})

async function template(kind: string, path = '/dnssd-linux-x64', extra: string[] = []): Promise<string> {
  const r = await runCli(['template', kind, ...IDENTITY, '--binary-url', `${base}${path}`, '--binary-sha256', sha.toUpperCase(), ...extra], {env: cleanEnv()})
  assert.equal(r.exitCode, 0, r.stderr)
  return r.stdout
}

/** Run a script in the sandbox without blocking this process (the HTTP server lives here). */
function sandboxRun(shell: string, script: string, root: string, extraPath = ''): Promise<{status: number | null; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, [script], {env: {...cleanEnv(), PATH: `${extraPath}${stubs}:/usr/bin:/bin`, DNSSD_ROOT: root}, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (status) => resolve({status, stderr}))
  })
}

async function calls(): Promise<string[]> {
  return existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter(Boolean) : []
}

async function fresh(name: string): Promise<string> {
  await writeFile(log, '')
  const root = join(box.path, name)
  await rm(root, {recursive: true, force: true})
  await mkdir(root, {recursive: true})
  return root
}

async function assertNothingInstalled(root: string, stderr: string, reason: RegExp): Promise<void> {
  const lines = stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`)
  assert.match(lines[0]!, reason)
  assert.match(lines[0]!, /nothing was installed or registered$/)
  assert.equal(existsSync(join(root, 'usr/local/bin/dnssd')), false)
  assert.deepEqual(existsSync(join(root, 'usr/local/bin')) ? await readdir(join(root, 'usr/local/bin')) : [], [], 'no temporary file left')
  assert.equal(existsSync(join(root, 'etc/systemd/system/dnssd.service')), false)
  assert.deepEqual(await calls(), [], 'nothing ran: no systemctl, no package manager')
}

describe('templates with --binary-url', () => {
  it('ec2-script passes shellcheck, installs the checked executable and enables the unit; no runtime install', async (t) => {
    const skip = requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const script = join(box.path, 'ec2.sh')
    await writeFile(script, await template('ec2-script'))
    const sc = spawnSync('shellcheck', [script], {encoding: 'utf8'})
    assert.equal(sc.status, 0, sc.stdout)
    const root = await fresh('ec2-ok')
    const r = await sandboxRun('/bin/bash', script, root)
    assert.equal(r.status, 0, r.stderr)
    const bin = join(root, 'usr/local/bin/dnssd')
    assert.deepEqual(await readFile(bin), artifact)
    assert.equal((await stat(bin)).mode & 0o777, 0o755)
    assert.deepEqual(await readdir(join(root, 'usr/local/bin')), ['dnssd'])
    assert.deepEqual(await calls(), ['systemctl daemon-reload', 'systemctl enable --now dnssd.service'])
    const unit = await readFile(join(root, 'etc/systemd/system/dnssd.service'), 'utf8')
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/dnssd join --zone=example\.com /m)
  })

  it('ec2-script: a corrupted artifact stops the script with one line; nothing installed, nothing enabled', async () => {
    const script = join(box.path, 'ec2-corrupt.sh')
    await writeFile(script, await template('ec2-script', '/corrupt'))
    const root = await fresh('ec2-corrupt')
    const r = await sandboxRun('/bin/bash', script, root)
    assert.equal(r.status, 1)
    await assertNothingInstalled(root, r.stderr, new RegExp(`^dnssd user-data: ${base}/corrupt has SHA-256 [0-9a-f]{64}, expected ${sha}; `))
  })

  it('ec2-script: a failed download (HTTP 404) stops the script with one line', async () => {
    const script = join(box.path, 'ec2-404.sh')
    await writeFile(script, await template('ec2-script', '/missing'))
    const root = await fresh('ec2-404')
    const r = await sandboxRun('/bin/bash', script, root)
    assert.equal(r.status, 1)
    await assertNothingInstalled(root, r.stderr, new RegExp(`^dnssd user-data: download of ${base}/missing failed \\(curl exit 22\\)`))
  })

  it('ec2 cloud-config passes cloud-init schema; its installer installs or, corrupted, fails and the one runcmd enables nothing', async (t) => {
    const skip = requireTool('cloud-init') ?? requireTool('shellcheck')
    if (skip) return t.skip(skip)
    for (const [path, ok] of [['/dnssd-linux-x64', true], ['/corrupt', false]] as const) {
      const file = join(box.path, `cc${ok ? '' : '-corrupt'}.yaml`)
      await writeFile(file, await template('ec2', path))
      const schema = spawnSync('cloud-init', ['schema', '--config-file', file], {encoding: 'utf8'})
      assert.equal(schema.status, 0, schema.stdout + schema.stderr)
      const parsed = spawnSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file], {encoding: 'utf8'})
      assert.equal(parsed.status, 0, parsed.stderr)
      const doc = JSON.parse(parsed.stdout) as {write_files: Array<{path: string; content: string}>; runcmd: string[][]}
      assert.deepEqual(doc.runcmd, [['sh', '-c', 'sh /etc/dnssd/install-dnssd.sh && systemctl daemon-reload && systemctl enable --now dnssd.service']])
      const root = await fresh(`cc-${ok}`)
      const installer = join(root, 'etc/dnssd/install-dnssd.sh')
      await mkdir(join(root, 'etc/dnssd'), {recursive: true})
      await writeFile(installer, doc.write_files.find((f) => f.path === '/etc/dnssd/install-dnssd.sh')!.content)
      const sc = spawnSync('shellcheck', ['--shell=sh', installer], {encoding: 'utf8'})
      assert.equal(sc.status, 0, sc.stdout)
      // runcmd as cloud-init runs it, the installer path inside the sandbox root.
      const runcmd = join(root, 'runcmd.sh')
      await writeFile(runcmd, doc.runcmd[0]![2]!.replace('/etc/dnssd/install-dnssd.sh', installer))
      const r = await sandboxRun('/bin/sh', runcmd, root)
      if (ok) {
        assert.equal(r.status, 0, r.stderr)
        assert.deepEqual(await readFile(join(root, 'usr/local/bin/dnssd')), artifact)
        assert.deepEqual(await calls(), ['systemctl daemon-reload', 'systemctl enable --now dnssd.service'])
      } else {
        assert.equal(r.status, 1)
        await assertNothingInstalled(root, r.stderr, /has SHA-256/)
      }
    }
  })

  it('joyent installs the executable on Linux images; on SmartOS it stops with one line (Linux executable)', async (t) => {
    const skip = requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const script = join(box.path, 'joyent.sh')
    await writeFile(script, await template('joyent'))
    const sc = spawnSync('shellcheck', [script], {encoding: 'utf8'})
    assert.equal(sc.status, 0, sc.stdout)
    const root = await fresh('joyent-linux')
    const r = await sandboxRun('/bin/bash', script, root)
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(await readFile(join(root, 'usr/local/bin/dnssd')), artifact)
    assert.deepEqual(await calls(), ['systemctl daemon-reload', 'systemctl enable --now dnssd.service'])

    const sunos = join(box.path, 'sunos')
    await mkdir(sunos, {recursive: true})
    await writeFile(join(sunos, 'uname'), '#!/bin/sh\necho SunOS\n')
    await chmod(join(sunos, 'uname'), 0o755)
    const smartos = await fresh('joyent-smartos')
    const s = await sandboxRun('/bin/bash', script, smartos, `${sunos}:`)
    assert.equal(s.status, 1)
    await assertNothingInstalled(smartos, s.stderr, /the dnssd executable runs on Linux, this is SunOS/)
    assert.equal(existsSync(join(smartos, 'opt/custom/smf/dnssd.xml')), false)
  })

  it('without --binary-url the npm install path stays, with this package name and version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {name: string; version: string}
    assert.equal(pkg.name, 'dnssd-cloud')
    const r = await runCli(['template', 'ec2-script', ...IDENTITY], {env: cleanEnv()})
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^npm install -g --no-audit --no-fund dnssd-cloud@${pkg.version.replaceAll('.', '\\.')}$`, 'm'))
    assert.doesNotMatch(r.stdout, /dnssd_sha256|--channel=20|nodejs20/)
  })

  it('bad --binary-url/--binary-sha256 input is exit 2 with one line naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--binary-url', `${base}/x`], /--binary-url: needs --binary-sha256/],
      [['--binary-sha256', sha], /--binary-sha256: needs --binary-url/],
      [['--binary-url', 'ftp://example.com/dnssd', '--binary-sha256', sha], /--binary-url: "ftp:\/\/example\.com\/dnssd" must be an http\(s\) URL/],
      [['--binary-url', 'https://example.com/a b', '--binary-sha256', sha], /--binary-url: .* must be an http\(s\) URL/],
      [['--binary-url', `${base}/x`, '--binary-sha256', 'abc'], /--binary-sha256: "abc" is not a SHA-256/],
      [['--binary-url', `${base}/x`, '--binary-sha256', sha, '--package', 'dnssd-cloud@0.1.0'], /--package: is the npm install/],
    ]
    for (const [args, message] of cases) {
      const r = await runCli(['template', 'ec2', ...IDENTITY, ...args], {env: cleanEnv()})
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, message)
    }
  })
})
