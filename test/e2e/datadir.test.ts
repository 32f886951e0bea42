/**
 * The data directory and the file:// lease registry follow OpenSSH's rule for
 * ~/.ssh (src/platform/datadir.ts): owned by this user or root, not writable
 * by group or others, no symlinked directory or zone file. "Another user" is
 * simulated with chown to uid 65534 (nobody), so the cases that need it run
 * as root (as CI does). Every refusal is exit 4 with one line, and nothing
 * is written anywhere.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmod, chown, link, mkdir, readFile, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {BIN, cleanEnv, runCli, tempDir} from '../helpers/cli.js'

const Z = 'example.com'
const joinAs = (ip: string): string[] => ['join', '--zone', Z, '--service', '_v1._web._tcp', '--port', '8080', '--ip', ip]
const join1 = joinAs('10.0.0.1')
const NOBODY = 65534
const asRoot = process.getuid?.() === 0 ? undefined : 'needs root to chown files to another user (CI runs as root)'

describe('data directory and zone file safety', () => {
  let root: string
  let cleanup: () => Promise<void>
  let victim: string
  let n = 0
  const fresh = async (): Promise<string> => {
    const d = join(root, `d${n++}`)
    await mkdir(d, {mode: 0o755})
    return d
  }
  before(async () => {
    ;({path: root, cleanup} = await tempDir())
    victim = join(root, 'victim')
    await writeFile(victim, 'root:x:0:0:root:/root:/bin/bash\n', {mode: 0o600})
  })
  after(() => cleanup())

  const refused = async (args: string[], message: RegExp): Promise<void> => {
    const r = await runCli(args)
    assert.equal(r.exitCode, 4, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
  const victimIntact = async (): Promise<void> => {
    assert.equal(await readFile(victim, 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n')
    const st = await stat(victim)
    assert.equal(st.uid, process.getuid?.())
    assert.equal(st.mode & 0o777, 0o600)
  }

  it('another user\'s writable data directory with a planted symlink: refused, the target untouched and still ours', {skip: asRoot}, async () => {
    const d = await fresh()
    await symlink(victim, join(d, `${Z}.zone`))
    await chown(d, NOBODY, NOBODY)
    await chmod(d, 0o777)
    await refused([...join1, '--data-dir', d], /^dnssd: refusing data directory .*: it is owned by uid 65534, not by this user \(uid 0\) or root/)
    await victimIntact()
  })

  it('a zone file planted as a symlink in our own directory: refused', async () => {
    const d = await fresh()
    await symlink(victim, join(d, `${Z}.zone`))
    await refused([...join1, '--data-dir', d], /^dnssd: refusing zone file .*example\.com\.zone: it is a symbolic link \(to .*victim\); replace it with the real file/)
    await refused(['list', '--zone', Z, '--data-dir', d], /it is a symbolic link/)
    await victimIntact()
  })

  it('a data directory writable by group or others: refused with the chmod that fixes it', async () => {
    const d = await fresh()
    await chmod(d, 0o775)
    await refused([...join1, '--data-dir', d], new RegExp(`^dnssd: refusing data directory ${d}: it is writable by group or others \\(mode 0775\\); run chmod go-w ${d}`))
    await chmod(d, 0o1777)
    await refused([...join1, '--data-dir', d], /writable by group or others \(mode 1777\)/)
  })

  it('a data directory that is a symlink: refused', async () => {
    const d = await fresh()
    const l = join(root, `link${n++}`)
    await symlink(d, l)
    await refused([...join1, '--data-dir', l], /^dnssd: refusing data directory .*: it is a symbolic link/)
  })

  it('a directory above the data directory writable by others: refused', async () => {
    const d = await fresh()
    await chmod(d, 0o777)
    await refused([...join1, '--data-dir', join(d, 'data')], new RegExp(`^dnssd: refusing the directory above the data directory, ${d}: it is writable by group or others`))
  })

  it('zone files owned by another user, group-writable or hard-linked: refused, owner and bytes unchanged', {skip: asRoot}, async () => {
    const d = await fresh()
    const first = await runCli([...join1, '--data-dir', d])
    assert.equal(first.exitCode, 0, first.stderr)
    const path = join(d, `${Z}.zone`)
    const before = await readFile(path)
    await chown(path, NOBODY, NOBODY)
    await refused([...joinAs('10.0.0.2'), '--data-dir', d], /^dnssd: refusing zone file .*: it is owned by uid 65534/)
    assert.equal((await stat(path)).uid, NOBODY, 'the owner is not changed')
    await chown(path, 0, 0)
    await chmod(path, 0o664)
    await refused([...joinAs('10.0.0.2'), '--data-dir', d], /it is writable by group or others \(mode 0664\)/)
    await chmod(path, 0o644)
    await link(path, join(root, `hard${n++}`))
    await refused([...joinAs('10.0.0.2'), '--data-dir', d], /it has 2 hard links/)
    assert.deepEqual(await readFile(path), before)
  })

  it('creates the directory 0755 and the zone file 0644 whatever the umask', async () => {
    const d = join(await fresh(), 'a', 'b')
    const args = [...join1, '--data-dir', d].map((a) => `'${a}'`).join(' ')
    const r = spawnSync('sh', ['-c', `umask 000; exec '${process.execPath}' '${BIN}' ${args}`], {env: cleanEnv(), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.equal((await stat(join(d, '..'))).mode & 0o7777, 0o755)
    assert.equal((await stat(d)).mode & 0o7777, 0o755)
    assert.equal((await stat(join(d, `${Z}.zone`))).mode & 0o7777, 0o644)
    const again = await runCli([...joinAs('10.0.0.3'), '--data-dir', d])
    assert.equal(again.exitCode, 0, again.stderr)
  })

  it('a file:// lease registry owned by another user: refused before any DNS change', {skip: asRoot}, async () => {
    const d = await fresh()
    const reg = join(root, `reg${n++}`)
    await mkdir(reg)
    await chown(reg, NOBODY, NOBODY)
    await refused([...join1, '--data-dir', d, '--registry', `file://${reg}`, '--lease', '60'], /^dnssd: refusing lease registry .*: it is owned by uid 65534/)
    await assert.rejects(stat(join(d, `${Z}.zone`)), /ENOENT/, 'no zone file was written')
  })
})
