import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {route53Policy, writtenNames} from '../../src/providers/route53-policy.js'
import {
  compareRoute53Order,
  isConcurrencyMessage,
  nameFromWire,
  nameToWire,
  parseWireTxt,
  splitChangeBatchMessages,
  txtToWire,
  valueFromWire,
  valueToWire,
} from '../../src/providers/route53-wire.js'
import {canonicalName, orderKey} from '../fakes/route53.js'

describe('route53 wire forms', () => {
  it('decodes octal escapes and case in names, and writes the canonical form', () => {
    assert.equal(nameFromWire('\\052.Example.COM.'), '*.example.com')
    assert.equal(nameFromWire('_sip._tcp.example.com.'), '_sip._tcp.example.com')
    assert.equal(nameToWire('*.example.com'), '\\052.example.com.')
    assert.equal(nameToWire('_dnssd.10-0-0-1.example.com'), '_dnssd.10-0-0-1.example.com.')
    // The fake canonicalises independently; both must agree.
    assert.equal(canonicalName('*.EXAMPLE.com'), nameToWire('*.example.com'))
  })

  it('orders names as Route 53 does: reversed labels, trailing dot kept', () => {
    const names = ['a.example.com', 'a-b.example.com', 'www.example.com', '_tcp.example.com', '10-0-0-1.example.com', '_dnssd.10-0-0-1.example.com', '*.example.com']
    const sorted = [...names].sort(compareRoute53Order)
    assert.deepEqual(sorted, ['10-0-0-1.example.com', '_dnssd.10-0-0-1.example.com', '_tcp.example.com', 'a-b.example.com', 'a.example.com', 'www.example.com', '*.example.com'].sort((x, y) => (orderKey(canonicalName(x)) < orderKey(canonicalName(y)) ? -1 : 1)))
    assert.ok(compareRoute53Order('a-b.example.com', 'a.example.com') < 0, '"-" sorts before "." with the dot kept')
    assert.ok(compareRoute53Order('10-0-0-1.example.com', '_dnssd.10-0-0-1.example.com') < 0, 'a host and its marker are adjacent')
  })

  it('quotes TXT with \\" and \\\\, octal for other bytes, and splits at 255 bytes', () => {
    assert.equal(txtToWire('"say \\"hi\\"" "back\\\\slash"'), '"say \\"hi\\"" "back\\\\slash"')
    // dnssd presentation uses DECIMAL \DDD (zone files); Route 53 uses OCTAL.
    assert.equal(txtToWire('"caf\\195\\169"'), '"caf\\303\\251"')
    assert.equal(valueFromWire('TXT', '"caf\\303\\251"'), '"caf\\195\\169"')
    assert.equal(valueFromWire('TXT', '"café"'), '"caf\\195\\169"')
    const long = 'k='.padEnd(300, 'x')
    const wire = txtToWire(`"${long}"`)
    const parts = parseWireTxt(wire)
    assert.deepEqual(parts.map((p) => p.length), [255, 45])
    assert.equal(Buffer.concat(parts).toString(), long)
    assert.equal(txtToWire('""'), '""')
    assert.equal(valueFromWire('TXT', '"a""b"'), '"a" "b"')
  })

  it('round-trips SRV, PTR and AAAA values', () => {
    assert.equal(valueFromWire('SRV', '10 5 80 Host.Example.com'), '10 5 80 host.example.com.')
    assert.equal(valueToWire('SRV', '0 0 8080 10-0-0-1.example.com.'), '0 0 8080 10-0-0-1.example.com.')
    assert.equal(valueFromWire('PTR', '_V1._web._tcp.example.com'), '_v1._web._tcp.example.com.')
    assert.equal(valueFromWire('AAAA', '2001:DB8:0::1'), '2001:db8::1')
  })

  it('splits bracketed InvalidChangeBatch messages only at message starts', () => {
    const msg =
      "[Tried to delete resource record set [name='x.example.com.', type='A'] but the values provided do not match the current values, Tried to create resource record set [name='x.example.com.', type='A'] but it already exists]"
    const parts = splitChangeBatchMessages(msg)
    assert.equal(parts.length, 2)
    assert.ok(parts.every(isConcurrencyMessage))
    assert.ok(isConcurrencyMessage(splitChangeBatchMessages("Tried to delete resource record set [name='a.b.', type='SRV'] but it was not found")[0]!))
    assert.ok(!isConcurrencyMessage('RRSet with DNS name foo.other.com. is not permitted in zone example.com.'))
  })
})

describe('route53 policy', () => {
  it('pins actions, types and the names dnssd writes', () => {
    const p = route53Policy({zoneId: 'Z1', zone: 'example.com', services: ['_v1._web._tcp'], aRecords: ['www']})
    const write = p.Statement.find((s) => s.Sid === 'WriteOwnRecords') as any
    assert.equal(write.Resource, 'arn:aws:route53:::hostedzone/Z1')
    assert.deepEqual(write.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsActions'], ['CREATE', 'DELETE'])
    const names: string[] = write.Condition['ForAllValues:StringLike']['route53:ChangeResourceRecordSetsNormalizedRecordNames']
    for (const n of ['_services._dns-sd._udp.example.com', '_web._tcp.example.com', '_v1._web._tcp.example.com', 'www.example.com', '_dnssd.*-*.example.com', '*-*.example.com']) {
      assert.ok(names.includes(n), n)
    }
    assert.ok(!p.Statement.some((s) => s.Sid === 'FindZoneByName'))
    assert.ok(route53Policy({zoneId: 'Z1', byName: true}).Statement.some((s) => s.Resource === '*'))
    assert.ok(writtenNames({zoneId: 'Z1', zone: 'example.com', services: ['_http._tcp']}).includes('*._http._tcp.example.com'))
  })
})
