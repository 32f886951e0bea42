/**
 * `dnssd template KIND` through the built CLI: every output is checked by the
 * real tool for its format (shellcheck, cloud-init schema, systemd-analyze
 * verify, xmllint), and the scripts RUN in a sandbox whose PATH holds stubs
 * (dnssd, systemctl, npm, apt-get, svccfg, ...) that record their argv, so
 * the exact join/leave arguments are compared, and every value carries an
 * injection attempt that would create a sentinel file if it ever ran.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, readlink, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {requireTool} from '../helpers/tools.js'

let box: Awaited<ReturnType<typeof tempDir>>
let SENTINEL = ''
let STUBS = ''
let LOG = ''

/** Values that would touch SENTINEL if any layer evaluated them. */
function hostileArgs(): string[] {
  const s = SENTINEL
  return [
    '--zone', 'Example.COM', '--service', '_v1._web._tcp', '--port', '8080', '--priority', '1', '--weight', '5', '--ttl', '30',
    '--ip-source', 'private',
    '--txt', `a=$(touch ${s})`,
    '--txt', `b=it's \`touch ${s}\``,
    '--txt', `c=%n%%"\\$HOME;|&<>*? $((1+1)) %i`,
    '--txt', ';',
    '--txt', 'path=/ x',
    '--provider', 'route53',
    '--set', `zone-id=Z1'$(touch ${s})"`,
    '--data-dir', `/var/lib/dnssd/$(touch ${s})`,
    '--check', `http://127.0.0.1:8080/health?x=$(touch ${s})`,
    '--check-timeout', '20',
    '--package', `dnssd@0.1.0;touch ${s}`,
  ]
}

function expectedJoin(): string[] {
  const s = SENTINEL
  return [
    'join', '--zone=example.com', '--service=_v1._web._tcp', '--ip=auto', '--ip-source=private',
    '--port=8080', '--priority=1', '--weight=5', '--ttl=30',
    `--txt=a=$(touch ${s})`, `--txt=b=it's \`touch ${s}\``, `--txt=c=%n%%"\\$HOME;|&<>*? $((1+1)) %i`, '--txt=;', '--txt=path=/ x',
    '--provider=route53', `--data-dir=/var/lib/dnssd/$(touch ${s})`, `--zone-id=Z1'$(touch ${s})"`,
    '--timeout=30', `--check=http://127.0.0.1:8080/health?x=$(touch ${s})`, '--check-timeout=20',
  ]
}

function expectedLeave(): string[] {
  const s = SENTINEL
  return [
    'leave', '--zone=example.com', '--service=_v1._web._tcp', '--ip=auto', '--ip-source=private',
    '--provider=route53', `--data-dir=/var/lib/dnssd/$(touch ${s})`, `--zone-id=Z1'$(touch ${s})"`, '--timeout=10',
  ]
}

const rendered = new Map<string, string>()
async function template(kind: string, extra: string[] = []): Promise<string> {
  const key = JSON.stringify([kind, extra])
  const known = rendered.get(key)
  if (known !== undefined) return known
  const r = await runCli(['template', kind, ...hostileArgs(), ...extra], {env: cleanEnv()})
  assert.equal(r.exitCode, 0, r.stderr)
  rendered.set(key, r.stdout)
  return r.stdout
}

/** A stub that appends {cmd, argv} as one JSON line to LOG. */
async function recorder(name: string, extraJs = ''): Promise<void> {
  const body = `#!${process.execPath}
const fs = require('node:fs')
fs.appendFileSync(${JSON.stringify(LOG)}, JSON.stringify({cmd: ${JSON.stringify(name)}, argv: process.argv.slice(2)}) + '\\n')
${extraJs}`
  await writeFile(join(STUBS, name), body)
  await chmod(join(STUBS, name), 0o755)
}

async function calls(cmd?: string): Promise<string[][]> {
  if (!existsSync(LOG)) return []
  const lines = (await readFile(LOG, 'utf8')).trim().split('\n').filter(Boolean)
  return lines.map((l) => JSON.parse(l) as {cmd: string; argv: string[]}).filter((c) => !cmd || c.cmd === cmd).map((c) => c.argv)
}

async function resetLog(): Promise<void> {
  await writeFile(LOG, '')
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(command, args, {encoding: 'utf8', env: {...cleanEnv(), PATH: `${STUBS}:/usr/bin:/bin`, ...env}, timeout: 30_000})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** systemd's command-line rules (systemd.service "Command lines"): % specifiers, quotes with C escapes, then $$. */
function systemdArgv(line: string): string[] {
  const raw = line.replaceAll('%%', '\u0000')
  assert.ok(!raw.includes('%'), `unescaped specifier in ${line}`)
  const words: string[] = []
  let i = 0
  const text = raw.replaceAll('\u0000', '%')
  while (i < text.length) {
    while (text[i] === ' ') i++
    if (i >= text.length) break
    let word = ''
    if (text[i] === '"') {
      i++
      while (text[i] !== '"') {
        assert.ok(i < text.length, `unterminated quote in ${line}`)
        if (text[i] === '\\') {
          word += text[i + 1]
          i += 2
        } else word += text[i++]
      }
      i++
    } else {
      while (i < text.length && text[i] !== ' ') {
        assert.ok(!'\\"\''.includes(text[i]!), `unquoted special character in ${line}`)
        word += text[i++]
      }
    }
    assert.ok(!/\$(?!\$)/.test(word.replaceAll('$$', '')), `unescaped $ in ${word}`)
    words.push(word.replaceAll('$$', '$'))
  }
  return words
}

function unitValue(unit: string, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)
  assert.ok(m, `${key}= missing`)
  return m[1]!
}

before(async () => {
  box = await tempDir('dnssd-template-')
  SENTINEL = join(box.path, 'PWNED')
  STUBS = join(box.path, 'bin')
  LOG = join(box.path, 'calls.log')
  await mkdir(STUBS)
  await recorder('dnssd')
})
after(async () => box.cleanup())

function assertInert(): void {
  assert.equal(existsSync(SENTINEL), false, 'an injected command ran')
}

describe('template systemd', () => {
  it('passes systemd-analyze verify and runs exactly join/leave with every value literal', async (t) => {
    const skip = requireTool('systemd-analyze')
    if (skip) return t.skip(skip)
    const stub = join(STUBS, 'dnssd')
    const unit = await template('systemd', ['--bin', stub])
    const dir = join(box.path, 'unit')
    await mkdir(dir, {recursive: true})
    await writeFile(join(dir, 'dnssd.service'), unit)
    const v = run('systemd-analyze', ['verify', join(dir, 'dnssd.service')])
    assert.equal(v.status, 0, v.stderr)
    assert.equal(v.stderr.trim(), '', v.stderr)
    assert.equal(unitValue(unit, 'Wants'), 'network-online.target')
    assert.equal(unitValue(unit, 'After'), 'network-online.target')
    assert.equal(unitValue(unit, 'Restart'), 'on-failure')
    assert.equal(unitValue(unit, 'EnvironmentFile'), '-/etc/dnssd/dnssd.env')
    assert.equal(unitValue(unit, 'TimeoutStopSec'), '15')
    assert.deepEqual(systemdArgv(unitValue(unit, 'ExecStart')), [stub, ...expectedJoin()])
    assert.deepEqual(systemdArgv(unitValue(unit, 'ExecStop')), [stub, ...expectedLeave()])
    // Run the command lines as systemd would: argv straight to the binary.
    await resetLog()
    for (const key of ['ExecStart', 'ExecStop']) {
      const [bin, ...args] = systemdArgv(unitValue(unit, key))
      assert.equal(run(bin!, args).status, 0)
    }
    assert.deepEqual(await calls('dnssd'), [expectedJoin(), expectedLeave()])
    assertInert()
  })
})

describe('template sysv', () => {
  it('passes shellcheck', async (t) => {
    const skip = requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const file = join(box.path, 'sysv')
    await writeFile(file, await template('sysv'))
    const r = run('shellcheck', [file])
    assert.equal(r.status, 0, r.stdout)
  })

  it('start joins, status reports, stop leaves, restart does both; dnssd found on PATH', async () => {
    const file = join(box.path, 'init.d-dnssd')
    await writeFile(file, await template('sysv', ['--bin', '/nonexistent/dnssd']))
    await chmod(file, 0o755)
    const env = {DNSSD_STATE_DIR: join(box.path, 'state')}
    await resetLog()
    assert.equal(run(file, ['status'], env).status, 3)
    const start = run(file, ['start'], env)
    assert.equal(start.status, 0, start.stderr)
    assert.match(start.stdout, /Joining dnssd: done/)
    assert.equal(run(file, ['status'], env).status, 0)
    assert.equal(run(file, ['stop'], env).status, 0)
    assert.equal(run(file, ['status'], env).status, 3)
    assert.equal(run(file, ['restart'], env).status, 0)
    assert.equal(run(file, ['bogus'], env).status, 2)
    assert.deepEqual(await calls('dnssd'), [expectedJoin(), expectedLeave(), expectedLeave(), expectedJoin()])
    assertInert()
  })

  it('start passes on the exit code of a failed join', async () => {
    const stubs = join(box.path, 'failing')
    await mkdir(stubs, {recursive: true})
    await writeFile(join(stubs, 'dnssd'), '#!/bin/sh\nexit 5\n')
    await chmod(join(stubs, 'dnssd'), 0o755)
    const file = join(box.path, 'init.d-failing')
    await writeFile(file, await template('sysv', ['--bin', '/nonexistent/dnssd']))
    await chmod(file, 0o755)
    const r = spawnSync(file, ['start'], {encoding: 'utf8', env: {...cleanEnv(), PATH: `${stubs}:/usr/bin:/bin`, DNSSD_STATE_DIR: join(box.path, 'state2')}})
    assert.equal(r.status, 5)
    assert.match(r.stdout, /failed \(exit 5\)/)
    assert.equal(spawnSync(file, ['status'], {env: {...cleanEnv(), DNSSD_STATE_DIR: join(box.path, 'state2')}}).status, 3)
  })
})

describe('template smf', () => {
  it('is well-formed XML whose start/stop methods run join/leave through sh literally', async (t) => {
    const skip = requireTool('xmllint')
    if (skip) return t.skip(skip)
    const stub = join(STUBS, 'dnssd')
    const file = join(box.path, 'dnssd.xml')
    await writeFile(file, await template('smf', ['--bin', stub]))
    const wf = run('xmllint', ['--noout', file])
    assert.equal(wf.status, 0, wf.stderr)
    const attr = (xpath: string) => {
      const r = run('xmllint', ['--xpath', `string(${xpath})`, file])
      assert.equal(r.status, 0, r.stderr)
      return r.stdout.replace(/\n$/, '')
    }
    assert.equal(attr("/service_bundle/service/@name"), 'network/dnssd')
    assert.equal(attr("//property_group[@name='startd']/propval[@name='duration']/@value"), 'transient')
    await resetLog()
    for (const method of ['start', 'stop']) {
      const exec = attr(`//exec_method[@name='${method}']/@exec`)
      assert.ok(!/%[^%]/.test(exec.replaceAll('%%', '')), `unescaped SMF token in ${exec}`)
      // svc.startd expands %% to % and runs the method with /bin/sh -c.
      const r = run('/bin/sh', ['-c', exec.replaceAll('%%', '%')])
      assert.equal(r.status, 0, r.stderr)
    }
    assert.deepEqual(await calls('dnssd'), [expectedJoin(), expectedLeave()])
    assertInert()
  })
})

describe('template ec2 (cloud-config)', () => {
  it('passes cloud-init schema; writes the same unit, an empty 0600 env file and a shellcheck-clean installer', async (t) => {
    const skip = requireTool('cloud-init') ?? requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const text = await template('ec2')
    assert.ok(text.startsWith('#cloud-config\n'))
    const file = join(box.path, 'user-data.yaml')
    await writeFile(file, text)
    const schema = run('cloud-init', ['schema', '--config-file', file])
    assert.equal(schema.status, 0, schema.stdout + schema.stderr)
    assert.match(schema.stdout, /Valid cloud-config/)
    // cloud-init's own YAML parser (PyYAML) reads it back.
    const parsed = run('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file])
    assert.equal(parsed.status, 0, parsed.stderr)
    const doc = JSON.parse(parsed.stdout) as {write_files: Array<{path: string; content: string; permissions: string}>; runcmd: string[][]}
    const byPath = Object.fromEntries(doc.write_files.map((f) => [f.path, f]))
    assert.equal(byPath['/etc/systemd/system/dnssd.service']!.content, await template('systemd'))
    assert.equal(byPath['/etc/dnssd/dnssd.env']!.permissions, '0600')
    assert.ok(!/^[A-Z_]+=/m.test(byPath['/etc/dnssd/dnssd.env']!.content), 'no credentials in user-data')
    const installer = join(box.path, 'install.sh')
    await writeFile(installer, byPath['/etc/dnssd/install-dnssd.sh']!.content)
    const sc = run('shellcheck', ['--shell=sh', installer])
    assert.equal(sc.status, 0, sc.stdout)
    assert.deepEqual(doc.runcmd, [['sh', '-c', 'sh /etc/dnssd/install-dnssd.sh && systemctl daemon-reload && systemctl enable --now dnssd.service']])
    // The installer runs: node 22 present (a stub, whatever node the machine has), npm gets the package spec literally.
    await resetLog()
    await recorder('npm')
    const node = join(STUBS, 'node')
    await writeFile(node, '#!/bin/sh\necho 22\n')
    await chmod(node, 0o755)
    let r
    try {
      r = run('/bin/sh', [installer], {DNSSD_ROOT: join(box.path, 'cc-root')})
    } finally {
      spawnSync('rm', ['-f', node])
    }
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(await calls('npm'), [['install', '-g', '--no-audit', '--no-fund', `dnssd@0.1.0;touch ${SENTINEL}`]])
    assertInert()
  })
})

describe('user-data scripts in a sandbox', () => {
  async function sandbox(name: string) {
    const root = join(box.path, `${name}-root`)
    await mkdir(root, {recursive: true})
    await resetLog()
    await recorder('npm')
    await recorder('systemctl')
    await recorder('svccfg')
    await recorder('svcadm')
    // Node 22 unless a test swaps in an older one: never the machine's node.
    await writeFile(join(STUBS, 'node'), '#!/bin/sh\necho 22\n')
    await chmod(join(STUBS, 'node'), 0o755)
    return root
  }

  it('ec2-script passes shellcheck, installs Node when it is too old, then npm, the unit and systemctl', async (t) => {
    const skip = requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const root = await sandbox('ec2')
    const script = join(box.path, 'ec2.sh')
    await writeFile(script, await template('ec2-script'))
    const sc = run('shellcheck', [script])
    assert.equal(sc.status, 0, sc.stdout)
    // An image with Node 18: apt-get "installs" Node 22 by replacing the node stub.
    const node = join(STUBS, 'node')
    await writeFile(node, '#!/bin/sh\necho 18\n')
    await chmod(node, 0o755)
    await recorder('apt-get', `if (process.argv.includes('install')) fs.writeFileSync(${JSON.stringify(node)}, '#!/bin/sh\\necho 22\\n')`)
    try {
      const r = run('/bin/bash', [script], {DNSSD_ROOT: root})
      assert.equal(r.status, 0, r.stderr)
    } finally {
      spawnSync('rm', ['-f', node, join(STUBS, 'apt-get')])
    }
    assert.deepEqual(await calls('apt-get'), [['update', '-qq'], ['install', '-y', '-qq', 'nodejs', 'npm']])
    assert.deepEqual(await calls('npm'), [['install', '-g', '--no-audit', '--no-fund', `dnssd@0.1.0;touch ${SENTINEL}`]])
    assert.deepEqual(await calls('systemctl'), [['daemon-reload'], ['enable', '--now', 'dnssd.service']])
    const unit = await readFile(join(root, 'etc/systemd/system/dnssd.service'), 'utf8')
    assert.equal(unit, await template('systemd'))
    assert.deepEqual(systemdArgv(unitValue(unit, 'ExecStart')).slice(1), expectedJoin())
    assert.equal((await stat(join(root, 'etc/dnssd/dnssd.env'))).mode & 0o777, 0o600)
    assert.equal(await readlink(join(root, 'usr/local/bin/dnssd')), join(STUBS, 'dnssd'))
    assertInert()
  })

  it('joyent on an Ubuntu image whose nodejs is too old takes Node 22 from snap, then installs the systemd unit', async (t) => {
    const skip = requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const root = await sandbox('joyent-linux')
    const script = join(box.path, 'joyent.sh')
    await writeFile(script, await template('joyent'))
    const sc = run('shellcheck', [script])
    assert.equal(sc.status, 0, sc.stdout)
    const node = join(STUBS, 'node')
    await writeFile(node, '#!/bin/sh\necho 18\n')
    await chmod(node, 0o755)
    await recorder('apt-get')
    await recorder('snap', `fs.writeFileSync(${JSON.stringify(node)}, '#!/bin/sh\\necho 22\\n')`)
    try {
      const r = run('/bin/bash', [script], {DNSSD_ROOT: root})
      assert.equal(r.status, 0, r.stderr)
    } finally {
      spawnSync('rm', ['-f', node, join(STUBS, 'snap'), join(STUBS, 'apt-get')])
    }
    assert.deepEqual(await calls('apt-get'), [['update', '-qq'], ['install', '-y', '-qq', 'nodejs', 'npm']])
    assert.deepEqual(await calls('snap'), [['install', 'node', '--classic', '--channel=22']])
    assert.equal(await readlink(join(root, 'usr/local/bin/node')), '/snap/bin/node')
    assert.equal(await readFile(join(root, 'etc/systemd/system/dnssd.service'), 'utf8'), await template('systemd'))
    assert.deepEqual(await calls('systemctl'), [['daemon-reload'], ['enable', '--now', 'dnssd.service']])
    assert.deepEqual(await calls('svccfg'), [])
    assertInert()
  })

  it('joyent on SmartOS imports the SMF manifest and enables it', async () => {
    const root = await sandbox('joyent-smartos')
    await writeFile(join(STUBS, 'uname'), '#!/bin/sh\necho SunOS\n')
    await chmod(join(STUBS, 'uname'), 0o755)
    try {
      const script = join(box.path, 'joyent-smartos.sh')
      await writeFile(script, await template('joyent'))
      const r = run('/bin/bash', [script], {DNSSD_ROOT: root})
      assert.equal(r.status, 0, r.stderr)
    } finally {
      spawnSync('rm', ['-f', join(STUBS, 'uname')])
    }
    const manifest = join(root, 'opt/custom/smf/dnssd.xml')
    assert.equal(await readFile(manifest, 'utf8'), await template('smf'))
    assert.deepEqual(await calls('svccfg'), [['import', manifest]])
    assert.deepEqual(await calls('svcadm'), [['enable', 'network/dnssd']])
    assert.deepEqual(await calls('systemctl'), [])
    assertInert()
  })
})

describe('template output', () => {
  it('--out writes the file (executable for scripts) and --json reports it', async () => {
    const out = join(box.path, 'out.sh')
    const r = await runCli(['template', 'ec2-script', ...hostileArgs(), '--out', out, '--json'], {env: cleanEnv()})
    assert.equal(r.exitCode, 0, r.stderr)
    const body = JSON.parse(r.stdout) as {kind: string; bytes: number; out: string}
    assert.equal(body.kind, 'ec2-script')
    assert.equal(body.out, out)
    const text = await readFile(out, 'utf8')
    assert.equal(Buffer.byteLength(text), body.bytes)
    assert.equal(text, await template('ec2-script'))
    assert.equal((await stat(out)).mode & 0o111, 0o111)
  })
})
