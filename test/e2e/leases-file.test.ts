/**
 * Leases and reap with the embedded file registry (file:///dir), DNS in the
 * file provider, everything through the built CLI.
 */
import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, rename, stat, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {leaseExpiry, untilPast} from '../helpers/wait.js'
import {ZONE, joinArgs, members, renewDuringReap, renewedAfterRead, srvTargets, tenMembersTwoReapers} from '../helpers/leases.js'

async function walk(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, {withFileTypes: true})
  } catch {
    return []
  }
  const out: string[] = []
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await walk(p)))
    else out.push(p)
  }
  return out
}

describe('leases in a file registry', () => {
  let root: {path: string; cleanup: () => Promise<void>}
  before(async () => {
    root = await tempDir('dnssd-leases-')
  })
  after(async () => root.cleanup())

  const setup = async (name: string) => {
    const dataDir = join(root.path, name, 'data')
    const regDir = join(root.path, name, 'leases')
    const registry = `file://${regDir}`
    const env = cleanEnv({DNSSD_DATA_DIR: dataDir})
    const leaseKeys = async () => (await walk(regDir)).filter((p) => p.endsWith('.json')).map((p) => relative(regDir, p)).sort()
    return {dataDir, regDir, registry, env, leaseKeys}
  }

  it('join --lease writes the lease after the DNS change, renewal keeps joinedAt, leave deletes it', async () => {
    const s = await setup('lifecycle')
    const [m] = members(1)
    const first = await runCli(joinArgs(m!, s.registry, 60), {env: s.env})
    assert.equal(first.exitCode, 0, first.stderr)
    const out = JSON.parse(first.stdout)
    assert.equal(out.lease.action, 'written')
    const path = join(s.regDir, ZONE, '_v1._web._tcp', `${m!.host}.json`)
    const lease = JSON.parse(await readFile(path, 'utf8'))
    assert.deepEqual(
      {zone: lease.zone, service: lease.service, host: lease.host, address: lease.address, port: lease.port, priority: lease.priority, weight: lease.weight, provider: lease.provider},
      {zone: ZONE, service: '_v1._web._tcp', host: m!.host, address: m!.ip, port: 8001, priority: 0, weight: 0, provider: 'file'},
    )
    assert.ok(Date.parse(lease.expiresAt) - Date.parse(lease.renewedAt) === 60_000)
    const again = await runCli(joinArgs(m!, s.registry, 60), {env: s.env})
    assert.equal(JSON.parse(again.stdout).lease.action, 'renewed')
    const renewed = JSON.parse(await readFile(path, 'utf8'))
    assert.equal(renewed.joinedAt, lease.joinedAt)
    assert.ok(renewed.renewedAt > lease.renewedAt)

    const text = await runCli(['leave', '--zone', ZONE, '--service', m!.service, '--ip', m!.ip, '--registry', s.registry], {env: s.env})
    assert.equal(text.exitCode, 0, text.stderr)
    assert.match(text.stdout, /lease deleted: file:\/\//)
    assert.deepEqual(await s.leaseKeys(), [])
    assert.deepEqual(await srvTargets(s.dataDir), [])
  })

  it('reap --dry-run reports and changes nothing; reap removes; list shows drift both ways', async () => {
    const s = await setup('drift')
    const [a, b, c] = members(3)
    const expiries: number[] = []
    for (const m of [a!, b!]) {
      const joined = await runCli(joinArgs(m, s.registry, 1), {env: s.env})
      assert.equal(joined.exitCode, 0, joined.stderr)
      expiries.push(leaseExpiry(joined.stdout))
    }
    // c joins without a lease: in DNS with no lease.
    const plain = await runCli(['join', '--zone', ZONE, '--service', c!.service, '--port', '9', '--ip', c!.ip], {env: s.env})
    assert.equal(plain.exitCode, 0, plain.stderr)
    await untilPast(Math.max(...expiries))
    const zoneBefore = await readFile(join(s.dataDir, `${ZONE}.zone`), 'utf8')
    const dry = await runCli(['reap', '--zone', ZONE, '--registry', s.registry, '--dry-run'], {env: s.env})
    assert.equal(dry.exitCode, 0, dry.stderr)
    assert.match(dry.stdout, /would remove: _v1._web._tcp 10-0-7-1.example.com/)
    assert.match(dry.stdout, /would reap 2 of 2 expired/)
    assert.equal(await readFile(join(s.dataDir, `${ZONE}.zone`), 'utf8'), zoneBefore)
    assert.equal((await s.leaseKeys()).length, 2)

    // a's values removed by hand-equivalent (its own leave without the registry): lease with no DNS values.
    assert.equal((await runCli(['leave', '--zone', ZONE, '--service', a!.service, '--ip', a!.ip], {env: s.env})).exitCode, 0)
    const list = await runCli(['list', '--zone', ZONE, '--registry', s.registry], {env: s.env})
    assert.equal(list.exitCode, 0, list.stderr)
    assert.match(list.stdout, /drift: 1 member\(s\) in DNS with no lease: _v1._web._tcp 10-0-7-3.example.com/)
    assert.match(list.stdout, /drift: 1 lease\(s\) with no DNS values: _v1._web._tcp 10-0-7-1.example.com/)
    assert.match(list.stdout, /10-0-7-2.example.com\s+yes\s+expired/)

    const reaped = await runCli(['reap', '--zone', ZONE, '--registry', s.registry], {env: s.env})
    assert.equal(reaped.exitCode, 0, reaped.stderr)
    assert.match(reaped.stdout, /already gone: _v1._web._tcp 10-0-7-1.example.com/)
    assert.match(reaped.stdout, /removed: _v1._web._tcp 10-0-7-2.example.com/)
    assert.match(reaped.stdout, /reaped 1 of 2 expired/)
    assert.deepEqual(await s.leaseKeys(), [])
    assert.deepEqual(await srvTargets(s.dataDir), [c!.host], 'the member without a lease is never reaped')
  })

  it('10 members, 3 s leases, 4 renewing: two reapers at once remove exactly the 6', async (t) => {
    const s = await setup('ten')
    await tenMembersTwoReapers({...s, log: (l) => t.diagnostic(l)})
  })

  it('a member renewing during the reap stays registered (conditional delete on the ETag)', async (t) => {
    const s = await setup('race')
    const r = await renewDuringReap({...s, log: (l) => t.diagnostic(l)})
    t.diagnostic(`race outcome: reaper ${r.reaper}, member lease ${JSON.stringify(r.member)}`)
  })

  it('a lease renewed after the reaper read it: conditional delete fails and the reaper puts the member back', async (t) => {
    const s = await setup('restore')
    await renewedAfterRead({
      ...s,
      log: (l) => t.diagnostic(l),
      writeLease: async (key, text) => {
        // What the member's renewal does: an atomic replace of its lease file.
        await writeFile(join(s.regDir, `${key}.tmp`), text)
        await rename(join(s.regDir, `${key}.tmp`), join(s.regDir, key))
      },
    })
  })

  it('a bad lease does not stop the reap of the others: it is reported and the exit code is 4', async () => {
    const s = await setup('badlease')
    const [a] = members(1)
    const joined = await runCli(joinArgs(a!, s.registry, 1), {env: s.env})
    assert.equal(joined.exitCode, 0, joined.stderr)
    const dir = join(s.regDir, ZONE, '_v1._web._tcp')
    const lease = JSON.parse(await readFile(join(dir, `${a!.host}.json`), 'utf8'))
    // A lease naming a host outside the zone (hand-edited or from an old version), and a file that is not a lease.
    await writeFile(join(dir, 'elsewhere.example.org.json'), JSON.stringify({...lease, host: 'elsewhere.example.org'}))
    await writeFile(join(dir, 'junk.json'), '{"hello": 1}')
    await untilPast(leaseExpiry(joined.stdout))
    const r = await runCli(['reap', '--zone', ZONE, '--registry', s.registry], {env: s.env})
    assert.equal(r.exitCode, 4, r.stderr)
    assert.match(r.stdout, /removed: _v1._web._tcp 10-0-7-1.example.com/)
    assert.match(r.stdout, /FAILED: _v1._web._tcp elsewhere.example.org/)
    assert.match(r.stderr, /could not reap _v1._web._tcp elsewhere.example.org: --host: "elsewhere.example.org." is not under the zone example.com/)
    assert.deepEqual(await srvTargets(s.dataDir), [])
    assert.deepEqual(await s.leaseKeys(), ['example.com/_v1._web._tcp/elsewhere.example.org.json', 'example.com/_v1._web._tcp/junk.json'])
  })

  it('bad registry URLs exit 2 and change nothing', async () => {
    const s = await setup('bad')
    const [m] = members(1)
    const cases: [string[], RegExp][] = [
      [joinArgs(m!, 'http://example.com/leases', 30), /--registry: "http:\/\/example.com\/leases" has scheme http; use file:\/\/\/absolute\/dir or s3:\/\/bucket\/prefix/],
      [joinArgs(m!, 's3://No_Such_Bucket/x', 30), /--registry: "no_such_bucket" is not a valid S3 bucket name/i],
      [joinArgs(m!, 'file://otherhost/leases', 30), /--registry: .* names a remote host/],
      [joinArgs(m!, 'leases', 30), /--registry: "leases" is not a URL/],
      [joinArgs(m!, s.registry, 0), /--lease: 0 is out of range/],
      [joinArgs(m!, s.registry, 'soon'), /--lease: "soon" is not a number of seconds/],
      [['join', '--zone', ZONE, '--service', m!.service, '--port', '1', '--ip', m!.ip, '--registry', s.registry], /--lease: join with --registry needs --lease SECONDS/],
      [['join', '--zone', ZONE, '--service', m!.service, '--port', '1', '--ip', m!.ip, '--lease', '30'], /--lease: needs --registry URL/],
      [['leave', '--zone', ZONE, '--service', m!.service, '--ip', m!.ip, '--registry', 'ftp://x/y'], /--registry: .* has scheme ftp/],
      [['list', '--zone', ZONE, '--registry', 's3://'], /--registry/],
      [['reap', '--zone', ZONE, '--registry', 'file:///'], /--registry: "file:\/\/\/" names no directory/],
      [['reap', '--zone', ZONE], /--registry: reap needs the lease registry/],
      [['reap', '--zone', ZONE, '--registry', s.registry, '--grace', '-1'], /--grace/],
    ]
    for (const [withJson, message] of cases) {
      const args = withJson.filter((a) => a !== '--json')
      const r = await runCli(args, {env: s.env})
      assert.equal(r.exitCode, 2, `${args.join(' ')}\n${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
    await assert.rejects(stat(join(s.dataDir, `${ZONE}.zone`)), 'no DNS change was made')
    assert.deepEqual(await s.leaseKeys(), [])
  })

  it('an unusable registry directory exits 4 before any DNS change', async () => {
    const s = await setup('unusable')
    const [m] = members(1)
    await mkdir(join(root.path, 'unusable'), {recursive: true})
    const file = join(root.path, 'unusable', 'not-a-dir')
    await writeFile(file, 'x')
    const join1 = await runCli(joinArgs(m!, `file://${file}/leases`, 30).filter((a) => a !== '--json'), {env: s.env})
    assert.equal(join1.exitCode, 4, join1.stderr)
    assert.match(join1.stderr, /^dnssd: registry file:\/\/.*not-a-dir\/leases: cannot create .*; give this user|^dnssd: registry file:\/\/.*not-a-dir\/leases: cannot (create|read)/)
    await assert.rejects(stat(join(s.dataDir, `${ZONE}.zone`)), 'no DNS change was made')
    const reap = await runCli(['reap', '--zone', ZONE, '--registry', `file://${join(root.path, 'unusable', 'missing')}`], {env: s.env})
    assert.equal(reap.exitCode, 4, reap.stderr)
    assert.match(reap.stderr, /the directory .*missing does not exist; fix --registry/)
  })
})
