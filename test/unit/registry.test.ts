import assert from 'node:assert/strict'
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {Deadline} from '../../src/core/deadline.js'
import {FileLock} from '../../src/platform/filelock.js'
import {FileRegistry} from '../../src/registry/file.js'
import {waitFor} from '../helpers/wait.js'
import {InputError} from '../../src/core/errors.js'
import {leaseDrift} from '../../src/registry/drift.js'
import {decodeLease, encodeLease, isExpired, leaseKey, parseRegistryUrl} from '../../src/registry/registry.js'
import {ZoneState} from '../../src/core/records.js'

describe('parseRegistryUrl', () => {
  it('accepts file and s3 URLs', () => {
    assert.deepEqual(parseRegistryUrl('file:///var/lib/dnssd/leases/'), {kind: 'file', dir: '/var/lib/dnssd/leases', url: 'file:///var/lib/dnssd/leases'})
    assert.deepEqual(parseRegistryUrl('file://localhost/tmp/x'), {kind: 'file', dir: '/tmp/x', url: 'file:///tmp/x'})
    assert.deepEqual(parseRegistryUrl('s3://my-bucket/a/b/'), {kind: 's3', bucket: 'my-bucket', prefix: 'a/b', url: 's3://my-bucket/a/b'})
    assert.deepEqual(parseRegistryUrl('s3://my.bucket'), {kind: 's3', bucket: 'my.bucket', prefix: '', url: 's3://my.bucket'})
  })

  it('rejects everything else with an InputError naming --registry', () => {
    for (const bad of ['', 'leases', '/tmp/x', 'http://x/y', 'file:///', 'file://host/x', 's3://ab', 's3://Caps/x', 's3://a..b/x', 's3://192.168.1.1/x', 's3://bucket:9000/x', 's3://bucket/a/../b', 's3://bucket/x?y=1']) {
      assert.throws(() => parseRegistryUrl(bad), (e: unknown) => e instanceof InputError && e.input === '--registry', bad)
    }
  })
})

describe('lease objects', () => {
  const lease = {
    zone: 'example.com', service: '_v1._web._tcp', host: 'h.example.com', address: '10.0.0.1', port: 80, priority: 0, weight: 5,
    provider: 'file', joinedAt: '2026-01-01T00:00:00.000Z', renewedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T00:01:00.000Z',
  }
  it('round-trips and rejects objects that are not leases', () => {
    assert.deepEqual(decodeLease(encodeLease(lease)), lease)
    assert.equal(decodeLease('{'), undefined)
    assert.equal(decodeLease(JSON.stringify({...lease, port: -1})), undefined)
    assert.equal(decodeLease(JSON.stringify({...lease, expiresAt: 'soon'})), undefined)
    assert.equal(decodeLease(JSON.stringify({...lease, host: undefined})), undefined)
  })
  it('expires at expiresAt plus the grace', () => {
    const t = Date.parse(lease.expiresAt)
    assert.equal(isExpired(lease, t - 1), false)
    assert.equal(isExpired(lease, t), true)
    assert.equal(isExpired(lease, t + 500, 1000), false)
  })
  it('keys are <prefix>/<zone>/<service>/<member>.json', () => {
    assert.equal(leaseKey('p/q', 'example.com', '_web._tcp', 'h.example.com'), 'p/q/example.com/_web._tcp/h.example.com.json')
    assert.equal(leaseKey('', 'example.com', '_web._tcp', 'h.example.com'), 'example.com/_web._tcp/h.example.com.json')
  })
  it('drift: hand-made SRVs are not members; leases without DNS and DNS without leases are listed', () => {
    const s = new ZoneState('example.com', 'all')
    s.addValue('_v1._web._tcp.example.com', 'SRV', 60, '0 0 80 a.example.com.')
    s.addValue('_dnssd.a.example.com', 'TXT', 60, '"ref=_v1._web._tcp.example.com;srv=0 0 80"')
    s.addValue('_v1._web._tcp.example.com', 'SRV', 60, '0 0 80 handmade.example.com.')
    const d = leaseDrift(s, 'example.com', [{key: 'k', memberId: 'b.example.com', etag: '"x"', lease: {...lease, host: 'b.example.com'}}], 'file:///r', undefined, Date.parse(lease.expiresAt) - 1000)
    assert.deepEqual(d.dnsWithoutLease.map((m) => m.host), ['a.example.com'])
    assert.deepEqual(d.leasesWithoutDns.map((m) => [m.host, m.lease?.state]), [['b.example.com', 'active']])
    assert.equal(d.members.length, 2)
  })
})

it('every command the manifest lists has a lazy loader for the bundle, and no other', async () => {
  const {COMMANDS} = await import('../../src/commands.js')
  const {COMMAND_LOADERS} = await import('../../src/commands-lazy.js')
  assert.deepEqual(Object.keys(COMMAND_LOADERS).sort(), Object.keys(COMMANDS).sort())
})

describe('file registry under contention', () => {
  const applyLease = (holder: string) => ({holder, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 15_000).toISOString()})

  it('50 members creating the apply lease at once: exactly one wins, and nobody takes the lock to find out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnssd-reg-'))
    try {
      const lines: string[] = []
      const registry = new FileRegistry(dir, {deadline: new Deadline(30), log: (l) => lines.push(l)})
      const results = await Promise.all(Array.from({length: 50}, (_, i) => registry.putApply('example.com', applyLease(`m${i}`), {ifNoneMatch: '*'})))
      assert.equal(results.filter((r) => r !== 'changed').length, 1)
      assert.deepEqual(lines.filter((l) => /locked .*\.apply\.json\.lock/.test(l)), [])
      const won = results.findIndex((r) => r !== 'changed')
      assert.equal((await registry.getApply('example.com'))?.lease.holder, `m${won}`)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('a conditional write waiting for a held lock gives up with "changed" once its condition fails, not at the deadline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnssd-reg-'))
    try {
      const registry = new FileRegistry(dir, {deadline: new Deadline(120), log: () => {}})
      const first = await registry.putApply('example.com', applyLease('holder'), {ifNoneMatch: '*'})
      assert.notEqual(first, 'changed')
      const path = join(dir, 'example.com', '.apply.json')
      // Another process holds the lock (as a renewing holder would) and rewrites the lease under it.
      const held = await FileLock.acquire(path, {deadline: new Deadline(120), log: () => {}})
      try {
        const waiting = registry.putApply('example.com', applyLease('taker'), {ifMatch: (first as {etag: string}).etag})
        let settled = false
        void waiting.then(() => (settled = true))
        // Waiting for the lock shows as its temp file beside the lock (written once, linked on every try).
        await waitFor(async () => (await readdir(join(dir, 'example.com'))).some((n) => n.startsWith('.apply.json.lock.tmp-')), 'the writer waiting for the lock')
        assert.equal(settled, false, 'it waits while the condition still holds')
        await writeFile(path, encodeLease(applyLease('holder renewed')))
        assert.equal(await waiting, 'changed')
      } finally {
        await held.release()
      }
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
