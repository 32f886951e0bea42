/**
 * The embedded default end to end, through the built CLI: join/list/leave,
 * parallel processes on one zone, hand-made records, named-checkzone.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {parseZoneFile} from '../../src/core/zonefile.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {requireTool} from '../helpers/tools.js'

const Z = 'example.com'

async function zoneRecords(dir: string) {
  return parseZoneFile(await readFile(join(dir, `${Z}.zone`), 'utf8'), Z).records
}

function checkzone(dir: string): {status: number | null; output: string} {
  const r = spawnSync('named-checkzone', ['-i', 'full', Z, join(dir, `${Z}.zone`)], {encoding: 'utf8'})
  return {status: r.status, output: r.stdout + r.stderr}
}

describe('file provider through the CLI', () => {
  let dir: string
  let cleanup: () => Promise<void>
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir])
  before(async () => ({path: dir, cleanup} = await tempDir()))
  after(() => cleanup())

  it('join 3 -> list -> leave 1 -> list', async () => {
    for (const i of [1, 2, 3]) {
      const r = await cli('join', '--zone', Z, '--service', '_v1._web._tcp', '--port', '8080', '--ip', `10.0.0.${i}`, '--txt', 'path=/')
      assert.equal(r.exitCode, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`10-0-0-${i}.example.com joined _v1._web._tcp.example.com`))
    }
    let list = await cli('list', '--zone', Z, '--json')
    assert.equal(list.exitCode, 0, list.stderr)
    let services = JSON.parse(list.stdout).services
    assert.equal(services.length, 1)
    assert.equal(services[0].type, '_web._tcp.example.com')
    assert.deepEqual(services[0].instances[0].txt, {path: '/'})
    assert.deepEqual(services[0].instances[0].targets.map((t: {addresses: string[]}) => t.addresses[0]).sort(), ['10.0.0.1', '10.0.0.2', '10.0.0.3'])

    const text = await cli('list', '--zone', Z)
    assert.match(text.stdout, /_web\._tcp\s+_v1\._web\._tcp\s+10-0-0-1\.example\.com\s+0\s+0\s+8080\s+10\.0\.0\.1\s+path=\//)
    assert.match(text.stdout, /1 service type\(s\), 1 instance\(s\), 3 target\(s\)/)

    const left = await cli('leave', '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.0.2')
    assert.equal(left.exitCode, 0, left.stderr)
    list = await cli('list', '--zone', Z, '--json')
    services = JSON.parse(list.stdout).services
    assert.deepEqual(services[0].instances[0].targets.map((t: {target: string}) => t.target).sort(), ['10-0-0-1.example.com', '10-0-0-3.example.com'])
    assert.deepEqual(checkInvariants(Z, await zoneRecords(dir)), [])
  })

  it('join is idempotent; leave of a non-member succeeds with a note', async () => {
    const before = await readFile(join(dir, `${Z}.zone`), 'utf8')
    const again = await cli('join', '--zone', Z, '--service', '_v1._web._tcp', '--port', '8080', '--ip', '10.0.0.1', '--json')
    assert.equal(again.exitCode, 0)
    assert.deepEqual(JSON.parse(again.stdout).changes, [])
    assert.equal(await readFile(join(dir, `${Z}.zone`), 'utf8'), before, 'no change, not even the serial')
    const stranger = await cli('leave', '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.9.9.9')
    assert.equal(stranger.exitCode, 0)
    assert.match(stranger.stdout, /note: 10-9-9-9\.example\.com is not a member/)
  })

  it('--dry-run prints the plan and writes nothing', async () => {
    const before = await readFile(join(dir, `${Z}.zone`), 'utf8')
    const r = await cli('join', '--zone', Z, '--service', '_http._tcp', '--port', '80', '--ip', '10.0.0.7', '--dry-run')
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /dry run: 7 changes would be made/)
    assert.match(r.stdout, /\+ 10-0-0-7\._http\._tcp\.example\.com\. 60 IN SRV 0 0 80 10-0-0-7\.example\.com\./)
    assert.equal(await readFile(join(dir, `${Z}.zone`), 'utf8'), before)
  })

  it('the zone file passes named-checkzone', async (t) => {
    const skip = requireTool('named-checkzone')
    if (skip) return t.skip(skip)
    const r = checkzone(dir)
    assert.equal(r.status, 0, r.output)
    assert.match(r.output, /OK/)
  })

  it('a hand-added record survives join and leave', async () => {
    const path = join(dir, `${Z}.zone`)
    await writeFile(path, `${await readFile(path, 'utf8')}mail.example.com. 300 IN MX 10 mx.example.net.\nwww 300 IN A 192.0.2.80\nnote 300 IN TXT "kept by hand"\n`)
    await cli('join', '--zone', Z, '--service', '_v1._web._tcp', '--port', '8080', '--ip', '10.0.0.4', '--a-record', 'www')
    await cli('leave', '--zone', Z, '--service', '_v1._web._tcp', '--ip', '10.0.0.4')
    const rows = (await zoneRecords(dir)).map((r) => `${r.name} ${r.type} ${r.value}`)
    assert.ok(rows.includes('mail.example.com MX 10 mx.example.net.'))
    assert.ok(rows.includes('www.example.com A 192.0.2.80'))
    assert.ok(!rows.includes('www.example.com A 10.0.0.4'))
    assert.ok(rows.includes('note.example.com TXT "kept by hand"'))
  })
})

describe('parallel processes on one zone', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => ({path: dir, cleanup} = await tempDir()))
  after(() => cleanup())

  it('20 parallel joins all land; 20 parallel leaves leave only SOA and NS', async (t) => {
    const ips = Array.from({length: 20}, (_, i) => `10.1.0.${i + 1}`)
    const joins = await Promise.all(
      ips.map((ip) => runCli(['join', '-z', Z, '-s', '_v1._web._tcp', '-p', '8080', '--ip', ip, '--data-dir', dir, '--a-record', 'www'])),
    )
    for (const r of joins) assert.equal(r.exitCode, 0, r.stderr)
    let records = await zoneRecords(dir)
    const srv = records.filter((r) => r.type === 'SRV').map((r) => r.value).sort()
    assert.deepEqual(srv, ips.map((ip) => `0 0 8080 ${ip.replaceAll('.', '-')}.example.com.`).sort())
    assert.equal(records.filter((r) => r.name === 'www.example.com').length, 20)
    assert.deepEqual(checkInvariants(Z, records), [])
    const soa = records.find((r) => r.type === 'SOA')!
    assert.equal(soa.value.split(' ')[2], '21', 'a new zone starts at serial 1; one bump per join')
    if (!requireTool('named-checkzone')) assert.equal(checkzone(dir).status, 0, checkzone(dir).output)
    else t.diagnostic('named-checkzone not installed; skipped that check')

    const leaves = await Promise.all(ips.map((ip) => runCli(['leave', '-z', Z, '-s', '_v1._web._tcp', '--ip', ip, '--data-dir', dir])))
    for (const r of leaves) assert.equal(r.exitCode, 0, r.stderr)
    records = await zoneRecords(dir)
    assert.deepEqual(records.map((r) => r.type).sort(), ['NS', 'SOA'])
  })
})
