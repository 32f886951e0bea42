/**
 * The pure parts of the Cloudflare provider: record <-> value translation,
 * and the read snapshot.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {ZoneState} from '../../src/core/records.js'
import {CfSnapshot, checkCloudflareTtl, createBody, isMarked, markFor, seen, valueOf} from '../../src/providers/cloudflare-records.js'

const Z = 'example.com'
const I = '_v1._web._tcp.example.com'
const T = '_web._tcp.example.com'
const S = '_services._dns-sd._udp.example.com'

describe('cloudflare record translation', () => {
  it('reads SRV from data (content has no priority), falls back to content + priority', () => {
    assert.equal(
      valueOf({id: 'a', name: I, type: 'SRV', content: '5 5223 Server.Example.com', priority: 10, data: {priority: 10, weight: 5, port: 5223, target: 'Server.Example.com'}}),
      '10 5 5223 server.example.com.',
    )
    assert.equal(valueOf({id: 'a', name: I, type: 'SRV', content: '5 5223 server.example.com', priority: 10}), '10 5 5223 server.example.com.')
  })

  it('reads TXT verbatim into the canonical quoted form, AAAA canonical, PTR with the dot', () => {
    assert.equal(valueOf({id: 'a', name: I, type: 'TXT', content: '"a=1" "flag"'}), '"a=1" "flag"')
    assert.equal(valueOf({id: 'a', name: I, type: 'TXT', content: 'unquoted'}), '"unquoted"')
    assert.equal(valueOf({id: 'a', name: I, type: 'AAAA', content: '2001:DB8:0:0::1'}), '2001:db8::1')
    assert.equal(valueOf({id: 'a', name: T, type: 'PTR', content: '_V1._web._tcp.example.com'}), '_v1._web._tcp.example.com.')
    assert.deepEqual(seen({id: 'x', name: 'WWW.example.com.', type: 'A', content: '10.0.0.1', ttl: 1, comment: 'DNSSD:host'}), {
      id: 'x', name: 'www.example.com', type: 'A', value: '10.0.0.1', ttl: 1, marked: true,
    })
  })

  it('writes SRV through data without the trailing dot, PTR without the dot, TXT as given', () => {
    const c = {action: 'add' as const, name: I, ttl: 60}
    assert.deepEqual(createBody({...c, type: 'SRV', value: '0 5 8080 h.example.com.'}, 'dnssd:h', false), {
      type: 'SRV', name: I, ttl: 60, comment: 'dnssd:h', data: {priority: 0, weight: 5, port: 8080, target: 'h.example.com'},
    })
    assert.equal(createBody({...c, name: T, type: 'PTR', value: `${I}.`}, 'm', false).content, I)
    assert.equal(createBody({...c, type: 'TXT', value: '"a=1" "b"'}, 'm', false).content, '"a=1" "b"')
    assert.equal(createBody({...c, type: 'A', value: '93.184.216.34'}, 'm', true).proxied, true)
    assert.equal(createBody({...c, type: 'A', value: '93.184.216.34'}, 'm', false).proxied, undefined)
  })

  it('marks: dnssd:<owner>, at most 100 characters; only marked comments count', () => {
    assert.equal(markFor('h.example.com'), 'dnssd:h.example.com')
    assert.equal(markFor('x'.repeat(200)).length, 100)
    assert.equal(isMarked(null), false)
    assert.equal(isMarked('managed by ops, not dnssd:'), false)
  })

  it('TTLs', () => {
    assert.equal(checkCloudflareTtl(1), undefined)
    assert.equal(checkCloudflareTtl(60), undefined)
    assert.match(checkCloudflareTtl(0)!, /auto \(1\) or 60-86400/)
    assert.match(checkCloudflareTtl(90_000)!, /not a Cloudflare TTL/)
  })
})

describe('cloudflare snapshot', () => {
  it('snapshot maps a value back to every record behind it', () => {
    const s = new CfSnapshot(Z, [I], [
      {id: 'a', name: I, type: 'TXT', value: '"x"', ttl: 60, marked: false},
      {id: 'b', name: I, type: 'TXT', value: '"x"', ttl: 60, marked: true},
    ])
    assert.deepEqual(s.records(I, 'TXT', '"x"').map((r) => r.id), ['a', 'b'])
    assert.equal(s.removable(I, 'TXT', '"x"'), true)
    assert.deepEqual(new ZoneState(Z, [I]).values(I, 'TXT'), [])
  })
})
