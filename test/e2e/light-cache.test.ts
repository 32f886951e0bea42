/**
 * The code caches of the light parts (bin/run.js): join, leave and list are
 * compiled with a V8 code cache per command and install, kept in
 * TMPDIR/dnssd-light-cache-UID (0700), made after a command's first run and
 * once more after its second, so it holds what both ran. A cache is only an
 * optimisation, so every case here also checks that the command's output is
 * the same with and without one. Two installs (a global npm install and a
 * project's own, say) share the directory without replacing each other's
 * caches; a directory that others can write to is not used at all.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {chmod, cp, mkdir, readFile, readdir, stat, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {ROOT, cleanEnv, tempDir} from '../helpers/cli.js'

const uid = process.getuid?.()
const noOwners = uid === undefined ? 'no POSIX owners: the light parts run without a code cache' : undefined
const Z = 'example.com'
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {'

interface Install {
  bin: string
}

describe('code caches of the light parts', {skip: noOwners}, () => {
  let root: string
  let cleanup: () => Promise<void>
  let data: string
  let n = 0
  /** The built CLI (bin/, dist/bundle/, package.json) copied to a second place: another install. */
  let copy: Install
  const here: Install = {bin: join(ROOT, 'bin', 'run.js')}
  /** A fresh TMPDIR for the caches. */
  const freshTmp = async (): Promise<string> => {
    const d = join(root, `tmp${n++}`)
    await mkdir(d)
    return d
  }
  const cacheDirIn = (tmp: string): string => join(tmp, `dnssd-light-cache-${uid}`)
  const caches = async (tmp: string): Promise<string[]> => (await readdir(cacheDirIn(tmp)).catch(() => [])).filter((f) => f.endsWith('.cache')).sort()
  const run = (install: Install, tmp: string, args: string[]): {exitCode: number; stdout: string; stderr: string} => {
    const r = spawnSync(process.execPath, [install.bin, ...args], {env: cleanEnv({TMPDIR: tmp, DNSSD_DATA_DIR: data}), encoding: 'utf8'})
    return {exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr}
  }
  let expected: {exitCode: number; stdout: string; stderr: string}

  before(async () => {
    ;({path: root, cleanup} = await tempDir('dnssd-light-cache-test-'))
    data = join(root, 'data')
    const joined = run(here, await freshTmp(), ['join', '-z', Z, '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1'])
    assert.equal(joined.exitCode, 0, joined.stderr)
    // What list prints, by the full program (oclif): no light part, no cache.
    const r = spawnSync(process.execPath, [here.bin, 'list', '-z', Z], {env: cleanEnv({TMPDIR: await freshTmp(), DNSSD_DATA_DIR: data, DNSSD_NO_FAST_PATH: '1'}), encoding: 'utf8'})
    expected = {exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr}
    assert.equal(expected.exitCode, 0, expected.stderr)
    assert.match(expected.stdout, /10-0-0-1\.example\.com/)
    const other = join(root, 'other-install')
    await mkdir(join(other, 'dist'), {recursive: true})
    await cp(join(ROOT, 'bin'), join(other, 'bin'), {recursive: true})
    await cp(join(ROOT, 'dist', 'bundle'), join(other, 'dist', 'bundle'), {recursive: true})
    await cp(join(ROOT, 'package.json'), join(other, 'package.json'))
    copy = {bin: join(other, 'bin', 'run.js')}
  })
  after(() => cleanup())

  it('the first run makes a first-run cache in a 0700 directory, the second the cache later runs use as it is', async () => {
    const tmp = await freshTmp()
    assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    assert.equal((await stat(cacheDirIn(tmp))).mode & 0o777, 0o700)
    const [firstRun, ...more] = await caches(tmp)
    assert.match(firstRun ?? '', /^dnssd-light-list-[0-9a-f]{8}-\d+-\d+\.first\.cache$/)
    assert.deepEqual(more, [])
    assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    const [file, ...others] = await caches(tmp)
    assert.equal(file, firstRun!.replace(/\.first\.cache$/, '.cache'))
    assert.deepEqual(others, [])
    const before = await stat(join(cacheDirIn(tmp), file!))
    assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    // A cache V8 refused would have been written again (a new file renamed over it).
    const again = await stat(join(cacheDirIn(tmp), file!))
    assert.equal(again.ino, before.ino)
    assert.equal(again.mtimeMs, before.mtimeMs)
  })

  it('the first join of a zone creates its file; the cache made after the next join also holds what reads one', async () => {
    const tmp = await freshTmp()
    const env = cleanEnv({TMPDIR: tmp, DNSSD_DATA_DIR: join(root, `zone${n++}`)})
    const joinIp = (ip: string): void => {
      const r = spawnSync(process.execPath, [here.bin, 'join', '-z', Z, '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip], {env, encoding: 'utf8'})
      assert.equal(r.status, 0, r.stderr)
    }
    joinIp('10.0.0.1')
    const [firstRun] = await caches(tmp)
    assert.match(firstRun ?? '', /^dnssd-light-join-.*\.first\.cache$/)
    const firstSize = (await stat(join(cacheDirIn(tmp), firstRun!))).size
    joinIp('10.0.0.2')
    const [file, ...more] = await caches(tmp)
    assert.match(file ?? '', /^dnssd-light-join-[0-9a-f]{8}-\d+-\d+\.cache$/)
    assert.deepEqual(more, [])
    // The zone file's parser and the first run's functions, in one cache.
    assert.ok((await stat(join(cacheDirIn(tmp), file!))).size > firstSize)
  })

  it('two installs keep their own caches side by side', async () => {
    const tmp = await freshTmp()
    for (let i = 0; i < 2; i++) assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    const [mine] = await caches(tmp)
    const ino = (await stat(join(cacheDirIn(tmp), mine!))).ino
    for (const install of [copy, here, copy, here]) assert.deepEqual(run(install, tmp, ['list', '-z', Z]), expected)
    const both = await caches(tmp)
    assert.equal(both.length, 2, both.join(' '))
    assert.ok(both.includes(mine!))
    assert.ok(both.every((f) => /^dnssd-light-list-[0-9a-f]{8}-\d+-\d+\.cache$/.test(f)), both.join(' '))
    // The same bundle in two places: named apart by the install, not by size.
    assert.notEqual(both[0]!.split('-')[3], both[1]!.split('-')[3])
    assert.equal((await stat(join(cacheDirIn(tmp), mine!))).ino, ino)
  })

  it('writing a cache removes this install\'s other caches of the command and the old unkeyed names, not another install\'s', async () => {
    const tmp = await freshTmp()
    const dir = cacheDirIn(tmp)
    for (let i = 0; i < 2; i++) assert.deepEqual(run(copy, tmp, ['list', '-z', Z]), expected)
    const [others] = await caches(tmp)
    for (let i = 0; i < 2; i++) assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    const current = (await caches(tmp)).find((f) => f !== others)!
    const key = current.split('-')[3]!
    // Earlier builds of this install, and a name from before the install key ...
    const stale = [`dnssd-light-list-${key}-1-2.cache`, `dnssd-light-list-${key}-1-2.first.cache`, 'dnssd-light-list-307548-1796291219165.cache']
    // ... but not another install's cache, nor another command's.
    const kept = [others!, `dnssd-light-join-${key}-1-2.cache`, 'dnssd-light-join-307548-1796291219165.cache']
    for (const f of [...stale, ...kept.slice(1)]) await writeFile(join(dir, f), 'x')
    // A cache V8 refuses: that run is a first run again, and writing its cache cleans up.
    await writeFile(join(dir, current), 'not a code cache')
    assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    const firstRun = current.replace(/\.cache$/, '.first.cache')
    let left = await readdir(dir)
    for (const f of [...stale, current]) assert.ok(!left.includes(f), `${f} removed: ${left.join(' ')}`)
    for (const f of [...kept, firstRun]) assert.ok(left.includes(f), `${f} kept: ${left.join(' ')}`)
    assert.deepEqual(run(here, tmp, ['list', '-z', Z]), expected)
    left = await readdir(dir)
    assert.ok(left.includes(current) && !left.includes(firstRun), left.join(' '))
  })

  it('a cache directory others can write to, or a symlink, is not used', async () => {
    const open = await freshTmp()
    await mkdir(cacheDirIn(open))
    await chmod(cacheDirIn(open), 0o777)
    assert.deepEqual(run(here, open, ['list', '-z', Z]), expected)
    assert.deepEqual(await readdir(cacheDirIn(open)), [])

    const linked = await freshTmp()
    const target = join(root, 'elsewhere')
    await mkdir(target, {mode: 0o700})
    await symlink(target, cacheDirIn(linked))
    assert.deepEqual(run(here, linked, ['list', '-z', Z]), expected)
    assert.deepEqual(await readdir(target), [])
  })

  it('a light part that is not written as the CommonJS function (an older build) leaves the command to the full program', async () => {
    const old = join(root, 'old-build')
    await mkdir(join(old, 'dist'), {recursive: true})
    await cp(join(ROOT, 'bin'), join(old, 'bin'), {recursive: true})
    await cp(join(ROOT, 'dist', 'bundle'), join(old, 'dist', 'bundle'), {recursive: true})
    await cp(join(ROOT, 'package.json'), join(old, 'package.json'))
    const part = join(old, 'dist', 'bundle', 'light-zone.cjs')
    const text = await readFile(part, 'latin1')
    assert.ok(text.startsWith(WRAPPER))
    await writeFile(part, text.slice(WRAPPER.length, text.lastIndexOf('})')), 'latin1')
    const tmp = await freshTmp()
    assert.deepEqual(run({bin: join(old, 'bin', 'run.js')}, tmp, ['list', '-z', Z]), expected)
    assert.deepEqual(await caches(tmp), [])
  })
})
