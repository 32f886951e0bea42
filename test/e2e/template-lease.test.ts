/**
 * Templates with --registry/--lease: join writes the lease, leave deletes it,
 * and a systemd timer re-runs join every third of the lease. Checked with the
 * real tools (systemd-analyze verify, cloud-init schema, shellcheck) and by
 * running the EC2 script in a sandbox whose PATH holds recording stubs.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {writeRecordingStubs} from '../helpers/stubs.js'
import {requireTool} from '../helpers/tools.js'

const IDENTITY = ['-z', 'example.com', '-s', '_v1._web._tcp', '-p', '8080', '--provider', 'route53', '--set', 'zone-id=Z0123']
const LEASE = ['--registry', 's3://leases-bucket/fleet', '--lease', '300']

let box: Awaited<ReturnType<typeof tempDir>>
let stubs = ''
let log = ''
before(async () => {
  box = await tempDir('dnssd-template-lease-')
  stubs = join(box.path, 'bin')
  log = join(box.path, 'calls.log')
  await writeRecordingStubs(stubs, ['dnssd', 'systemctl', 'npm'], log)
  await writeFile(join(stubs, 'node'), '#!/bin/sh\necho 22\n')
  await chmod(join(stubs, 'node'), 0o755)
})
after(() => box.cleanup())

async function template(kind: string, extra: string[] = []): Promise<string> {
  const r = await runCli(['template', kind, ...IDENTITY, ...LEASE, ...extra], {env: cleanEnv()})
  assert.equal(r.exitCode, 0, r.stderr)
  return r.stdout
}

const value = (unit: string, key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]

describe('templates with a lease', () => {
  it('systemd: the unit passes the lease flags, the renew service and timer verify', async (t) => {
    const skip = requireTool('systemd-analyze')
    if (skip) return t.skip(skip)
    const bin = join(stubs, 'dnssd')
    const dir = join(box.path, 'units')
    await mkdir(dir, {recursive: true})
    const unit = await template('systemd', ['--bin', bin])
    const renew = await template('systemd-renew', ['--bin', bin])
    const timer = await template('systemd-renew-timer', ['--bin', bin])
    await writeFile(join(dir, 'dnssd.service'), unit)
    await writeFile(join(dir, 'dnssd-renew.service'), renew)
    await writeFile(join(dir, 'dnssd-renew.timer'), timer)
    const v = spawnSync('systemd-analyze', ['verify', ...['dnssd.service', 'dnssd-renew.service', 'dnssd-renew.timer'].map((f) => join(dir, f))], {encoding: 'utf8'})
    assert.equal(v.status, 0, v.stderr)
    assert.equal(v.stderr.trim(), '', v.stderr)
    assert.match(value(unit, 'ExecStart')!, / --registry=s3:\/\/leases-bucket\/fleet --lease=300$/)
    assert.match(value(unit, 'ExecStop')!, /^\S+ leave .* --registry=s3:\/\/leases-bucket\/fleet$/)
    assert.equal(value(renew, 'ExecStart'), value(unit, 'ExecStart'), 'renewal is the same join')
    assert.equal(value(renew, 'Requisite'), 'dnssd.service', 'never renews after the member left')
    assert.equal(value(timer, 'OnUnitActiveSec'), '100s', 'every third of the lease')
    assert.equal(value(timer, 'Unit'), 'dnssd-renew.service')
    assert.equal(value(timer, 'PartOf'), 'dnssd.service')
  })

  it('ec2 cloud-config writes and enables the timer and passes cloud-init schema', async (t) => {
    const skip = requireTool('cloud-init')
    if (skip) return t.skip(skip)
    const text = await template('ec2')
    const file = join(box.path, 'user-data.yaml')
    await writeFile(file, text)
    const schema = spawnSync('cloud-init', ['schema', '--config-file', file], {encoding: 'utf8'})
    assert.equal(schema.status, 0, schema.stdout + schema.stderr)
    assert.match(text, /- path: \/etc\/systemd\/system\/dnssd-renew\.service\n/)
    assert.match(text, /- path: \/etc\/systemd\/system\/dnssd-renew\.timer\n/)
    assert.match(text, /- \[sh, -c, 'sh \/etc\/dnssd\/install-dnssd\.sh && systemctl daemon-reload && systemctl enable --now dnssd\.service dnssd-renew\.timer'\]/)
  })

  it('ec2-script passes shellcheck and, run in a sandbox, installs and enables the timer', async (t) => {
    const skip = requireTool('shellcheck')
    if (skip) return t.skip(skip)
    const script = join(box.path, 'ec2.sh')
    await writeFile(script, await template('ec2-script'))
    const sc = spawnSync('shellcheck', [script], {encoding: 'utf8'})
    assert.equal(sc.status, 0, sc.stdout)
    const root = join(box.path, 'root')
    await mkdir(root)
    await writeFile(log, '')
    const r = spawnSync('/bin/bash', [script], {encoding: 'utf8', env: {...cleanEnv(), PATH: `${stubs}:/usr/bin:/bin`, DNSSD_ROOT: root}})
    assert.equal(r.status, 0, r.stderr)
    const systemctl = (await readFile(log, 'utf8')).split('\n').filter((l) => l.startsWith('systemctl'))
    assert.deepEqual(systemctl, ['systemctl daemon-reload', 'systemctl enable --now dnssd.service', 'systemctl enable --now dnssd-renew.timer'])
    assert.equal(await readFile(join(root, 'etc/systemd/system/dnssd-renew.timer'), 'utf8'), await template('systemd-renew-timer'))
    assert.ok(existsSync(join(root, 'etc/systemd/system/dnssd-renew.service')))
  })

  it('without a lease there is no timer; a lease without a registry, or on sysv/smf/joyent, is exit 2', async () => {
    const plain = await runCli(['template', 'ec2-script', ...IDENTITY], {env: cleanEnv()})
    assert.equal(plain.exitCode, 0, plain.stderr)
    assert.doesNotMatch(plain.stdout, /renew/)
    const bad: [string[], RegExp][] = [
      [['template', 'systemd', ...IDENTITY, '--lease', '300'], /--lease: needs --registry URL/],
      [['template', 'systemd', ...IDENTITY, '--registry', 's3://leases-bucket/x'], /--registry: needs --lease S/],
      [['template', 'systemd', ...IDENTITY, ...LEASE.slice(0, 2), '--lease', '10'], /--lease: 10 is too short/],
      [['template', 'systemd', ...IDENTITY, '--registry', 'ftp://x/y', '--lease', '300'], /--registry: .*scheme ftp/],
      [['template', 'sysv', ...IDENTITY, ...LEASE], /--lease: the sysv template has no renew timer/],
      [['template', 'joyent', ...IDENTITY, ...LEASE], /--lease: the joyent template has no renew timer/],
      [['template', 'systemd-renew-timer', ...IDENTITY], /systemd-renew-timer renews a lease: give --registry URL and --lease S/],
    ]
    for (const [args, message] of bad) {
      const r = await runCli(args, {env: cleanEnv()})
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr.trim(), message)
    }
  })
})
