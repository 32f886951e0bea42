/**
 * The command edge (src/cli/requests.ts): flag values -> typed requests, with
 * the provider's capabilities checked before any I/O.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {jitterMs, listRequest, membershipRequest, reapRequest} from '../../src/cli/requests.js'
import {InputError} from '../../src/core/errors.js'

const base = {zone: 'example.com', service: '_v1._web._tcp', port: '80', ip: '10.0.0.1'}

describe('membership requests', () => {
  it('builds a typed member, deadline and provider choice', async () => {
    const r = await membershipRequest('join', {...base, provider: 'route53', 'zone-id': '/hostedzone/Z123', private: true, timeout: '7'})
    assert.ok(!('pending' in r.member))
    assert.equal(r.member.zone, 'example.com')
    assert.equal(r.member.port, 80)
    assert.equal(r.member.instance, '_v1._web._tcp.example.com')
    assert.deepEqual(r.provider, {kind: 'route53', settings: {zoneId: 'Z123', visibility: 'private'}})
    assert.equal(r.deadline.seconds, 7)
    assert.ok(r.deadline.remainingMs() <= 7000 && r.deadline.remainingMs() > 0)
  })

  it('--ttl auto is the automatic TTL (1) for cloudflare and refused, naming the provider, elsewhere', async () => {
    const cf = await membershipRequest('join', {...base, provider: 'cloudflare', ttl: 'AUTO'})
    assert.equal(!('pending' in cf.member) && cf.member.ttl, 1)
    await assert.rejects(membershipRequest('join', {...base, ttl: 'auto'}), (e: Error) => e instanceof InputError && /--ttl auto.*file provider/.test(e.message))
  })

  for (const [flag, extra] of [
    ['--zone-id', {'zone-id': 'Z1'}],
    ['--wait', {wait: true}],
    ['--public', {public: true}],
    ['--private', {private: true}],
    ['--proxied', {proxied: true, 'a-record': 'www'}],
    ['--api-token-file', {'api-token-file': '/nonexistent'}],
  ] as const) {
    it(`${flag} is refused for the file provider, naming flag and provider`, async () => {
      await assert.rejects(membershipRequest('join', {...base, ...extra}), (e: Error) => {
        assert.ok(e instanceof InputError)
        assert.match(e.message, new RegExp(`^${flag}: is not supported by the file provider`))
        return true
      })
    })
  }

  it('--data-dir is refused for route53; --wait is refused for cloudflare', async () => {
    await assert.rejects(membershipRequest('join', {...base, provider: 'route53', 'data-dir': '/tmp/x'}), /--data-dir: is not supported by the route53 provider/)
    await assert.rejects(membershipRequest('join', {...base, provider: 'cloudflare', wait: true}), /--wait: is not supported by the cloudflare provider \(only by route53\)/)
  })

  it('--server and --tsig-key-file belong to rfc2136; rfc2136 needs --server', async () => {
    await assert.rejects(membershipRequest('join', {...base, server: '127.0.0.1:53'}), /--server: is not supported by the file provider \(only by rfc2136\)/)
    await assert.rejects(membershipRequest('join', {...base, provider: 'route53', 'tsig-key-file': '/k'}), /--tsig-key-file: is not supported by the route53 provider/)
    await assert.rejects(membershipRequest('join', {...base, provider: 'rfc2136'}), /--server: the rfc2136 provider needs the primary server/)
    await assert.rejects(membershipRequest('join', {...base, provider: 'rfc2136', server: '127.0.0.1:53', wait: true}), /--wait: is not supported by the rfc2136 provider/)
    const r = await membershipRequest('join', {...base, provider: 'rfc2136', server: '127.0.0.1:5300'})
    assert.equal(r.provider.kind, 'rfc2136')
  })

  it('--lease needs --registry; join with --registry needs --lease', async () => {
    await assert.rejects(membershipRequest('join', {...base, lease: '60'}), /--lease: needs --registry/)
    await assert.rejects(membershipRequest('join', {...base, registry: 'file:///tmp/r'}), /--lease: join with --registry needs --lease/)
    const r = await membershipRequest('leave', {...base, registry: 'file:///tmp/r'})
    assert.equal(typeof r.lease?.open, 'function')
    assert.equal(r.lease?.seconds, undefined)
  })

  it('--ip auto stays to be found by the app layer; everything else is checked now', async () => {
    const r = await membershipRequest('join', {...base, ip: 'auto'})
    assert.ok('pending' in r.member)
    await assert.rejects(membershipRequest('join', {...base, ip: 'auto', port: '70000'}), /--port/)
  })
})

describe('list and reap requests', () => {
  it('list checks the provider flags too', async () => {
    await assert.rejects(listRequest({zone: 'example.com', 'zone-id': 'Z1'}), /--zone-id: is not supported by the file provider/)
    assert.equal((await listRequest({zone: 'example.com', service: '_web._tcp'})).serviceType, '_web._tcp.example.com')
  })

  it('reap without --provider gives each lease its own provider and leaves the others\' flags aside', async () => {
    const r = await reapRequest({zone: 'example.com', registry: 'file:///tmp/r', 'data-dir': '/tmp/d'})
    assert.deepEqual(await r.provider('file'), {kind: 'file', settings: {dataDir: '/tmp/d'}})
    assert.deepEqual(await r.provider('route53'), {kind: 'route53', settings: {zoneId: undefined, visibility: undefined}})
    await assert.rejects(reapRequest({zone: 'example.com', registry: 'file:///tmp/r', provider: 'route53', 'data-dir': '/tmp/d'}), /--data-dir: is not supported by the route53 provider/)
  })
})

describe('--jitter', () => {
  it('0 or absent means no wait; otherwise 0..S seconds; bad values are input errors', () => {
    assert.equal(jitterMs(undefined), 0)
    assert.equal(jitterMs('0'), 0)
    assert.equal(jitterMs('10', () => 0.5), 5000)
    assert.equal(jitterMs('1.5', () => 0.999), 1498)
    assert.throws(() => jitterMs('-1'), InputError)
    assert.throws(() => jitterMs('soon'), /--jitter/)
  })
})
