import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {checkStateInvariants} from '../../src/core/invariants.js'
import {type MembershipInput, memberForJoin, memberForLeave} from '../../src/core/membership.js'
import {combineWorks, markerName, parseMarker, planJoin, planLeave} from '../../src/core/planner.js'
import {ZoneState} from '../../src/core/records.js'
import {records, runPlan} from '../helpers/plan.js'
import {seededRandom} from '../helpers/seed.js'

const Z = 'example.com'
const fresh = (): ZoneState => new ZoneState(Z, 'all', [{name: Z, type: 'SOA', ttl: 3600, values: ['localhost. hostmaster.example.com. 1 3600 600 1209600 60']}])
const join = (s: ZoneState, input: MembershipInput) => runPlan(s, planJoin(memberForJoin({zone: Z, ...input})))
const leave = (s: ZoneState, input: MembershipInput) => runPlan(s, planLeave(memberForLeave({zone: Z, ...input})))
const snapshot = (s: ZoneState): string => JSON.stringify(records(s).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))))

describe('planJoin: incarnation pool form', () => {
  it('writes address, marker, TXT, SRV, PTR and the type enumeration in that order', () => {
    const s = fresh()
    const {changes} = join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1'})
    assert.deepEqual(
      changes.map((c) => `${c.action} ${c.name} ${c.type} ${c.value}`),
      [
        'add 10-0-0-1.example.com A 10.0.0.1',
        'add _dnssd.10-0-0-1.example.com TXT "own=10-0-0-1.example.com A 10.0.0.1"',
        'add _dnssd.10-0-0-1.example.com TXT "ref=_v1._web._tcp.example.com;srv=0 0 8080"',
        'add _v1._web._tcp.example.com TXT ""',
        'add _v1._web._tcp.example.com SRV 0 0 8080 10-0-0-1.example.com.',
        'add _web._tcp.example.com PTR _v1._web._tcp.example.com.',
        'add _services._dns-sd._udp.example.com PTR _web._tcp.example.com.',
      ],
    )
    assert.deepEqual(checkStateInvariants(s), [])
  })
  it('adds only the member values for a second member, and a repeated join changes nothing', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', txt: ['v=1']})
    const second = join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.2'})
    assert.deepEqual(second.changes.map((c) => c.type), ['A', 'TXT', 'TXT', 'SRV'])
    assert.deepEqual(s.values('_v1._web._tcp.example.com', 'TXT'), ['"v=1"'], 'a pool member without --txt keeps the pool metadata')
    const before = snapshot(s)
    const again = join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.2'})
    assert.deepEqual(again.changes, [])
    assert.match(again.notes[0]!, /already a member/)
    assert.equal(snapshot(s), before)
  })
  it('a changed port replaces the SRV value and the marker ref', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1'})
    const {changes} = join(s, {service: '_v1._web._tcp', port: 9090, ip: '10.0.0.1', priority: 5, weight: 7})
    assert.deepEqual(s.values('_v1._web._tcp.example.com', 'SRV'), ['5 7 9090 10-0-0-1.example.com.'])
    assert.ok(changes.some((c) => c.action === 'remove' && c.value === '0 0 8080 10-0-0-1.example.com.'))
    assert.equal(parseMarker(s.values(markerName('10-0-0-1.example.com'), 'TXT')).refs.length, 1)
    assert.deepEqual(checkStateInvariants(s), [])
  })
  it('explicit --txt replaces the pool metadata', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', txt: ['v=1']})
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.2', txt: ['v=2', 'tls']})
    assert.deepEqual(s.values('_v1._web._tcp.example.com', 'TXT'), ['"v=2" "tls"'])
  })
})

describe('planJoin: plain RFC 6763 form', () => {
  it('gives each member its own instance, SRV and TXT', () => {
    const s = fresh()
    join(s, {service: '_http._tcp', port: 80, ip: '10.0.0.1', txt: ['path=/a']})
    join(s, {service: '_http._tcp', port: 80, ip: '2001:db8::2'})
    assert.deepEqual(s.values('_http._tcp.example.com', 'PTR').sort(), ['10-0-0-1._http._tcp.example.com.', '2001-db8--2._http._tcp.example.com.'])
    assert.deepEqual(s.values('10-0-0-1._http._tcp.example.com', 'TXT'), ['"path=/a"'])
    assert.deepEqual(s.values('2001-db8--2._http._tcp.example.com', 'TXT'), ['""'])
    assert.deepEqual(s.values('2001-db8--2.example.com', 'AAAA'), ['2001:db8::2'])
    assert.deepEqual(s.values('_services._dns-sd._udp.example.com', 'PTR'), ['_http._tcp.example.com.'])
    // A re-join without --txt empties the member's own TXT (its flags are the truth).
    join(s, {service: '_http._tcp', port: 80, ip: '10.0.0.1'})
    assert.deepEqual(s.values('10-0-0-1._http._tcp.example.com', 'TXT'), ['""'])
    assert.deepEqual(checkStateInvariants(s), [])
  })
  it('uses --host for the target and the instance label', () => {
    const s = fresh()
    join(s, {service: '_http._tcp', port: 80, ip: '10.0.0.1', host: 'web1.dc1'})
    assert.deepEqual(s.values('web1-dc1._http._tcp.example.com', 'SRV'), ['0 0 80 web1.dc1.example.com.'])
    assert.deepEqual(s.values('web1.dc1.example.com', 'A'), ['10.0.0.1'])
  })
})

describe('planLeave: reference counting', () => {
  it('removes exactly what a join added, PTR and SRV before the address', () => {
    const s = fresh()
    const base = snapshot(s)
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', txt: ['a=b']})
    const {changes} = leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    const order = changes.map((c) => `${c.name} ${c.type}`)
    assert.ok(order.indexOf('_services._dns-sd._udp.example.com PTR') < order.indexOf('_web._tcp.example.com PTR'))
    assert.ok(order.indexOf('_web._tcp.example.com PTR') < order.indexOf('_v1._web._tcp.example.com SRV'))
    assert.ok(order.indexOf('_v1._web._tcp.example.com SRV') < order.indexOf('10-0-0-1.example.com A'))
    assert.equal(snapshot(s), base)
  })
  it('keeps the pool PTR and TXT while other members remain', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1'})
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.2'})
    leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('_v1._web._tcp.example.com', 'SRV'), ['0 0 8080 10-0-0-2.example.com.'])
    assert.deepEqual(s.values('_web._tcp.example.com', 'PTR'), ['_v1._web._tcp.example.com.'])
    assert.deepEqual(s.values('10-0-0-1.example.com', 'A'), [])
    assert.deepEqual(checkStateInvariants(s), [])
  })
  it('keeps a host address while the host serves another service', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1'})
    join(s, {service: '_ssh._tcp', port: 22, ip: '10.0.0.1'})
    leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('10-0-0-1.example.com', 'A'), ['10.0.0.1'])
    assert.deepEqual(s.values('_services._dns-sd._udp.example.com', 'PTR'), ['_ssh._tcp.example.com.'])
    assert.deepEqual(checkStateInvariants(s), [])
    leave(s, {service: '_ssh._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('10-0-0-1.example.com', 'A'), [])
    assert.deepEqual(s.values(markerName('10-0-0-1.example.com'), 'TXT'), [])
  })
  it('keeps the services enumeration while the type has other instances', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1'})
    join(s, {service: '_v2._web._tcp', port: 8081, ip: '10.0.0.2'})
    leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('_services._dns-sd._udp.example.com', 'PTR'), ['_web._tcp.example.com.'])
    assert.deepEqual(s.values('_web._tcp.example.com', 'PTR'), ['_v2._web._tcp.example.com.'])
  })
  it('leaving twice, or as a non-member, changes nothing and says so', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1'})
    leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    const again = leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    assert.deepEqual(again.changes, [])
    assert.match(again.notes[0]!, /not a member/)
  })
  it('never removes values it did not write', () => {
    const s = fresh()
    s.addValue('10-0-0-1.example.com', 'A', 300, '10.0.0.1')
    s.addValue('www.example.com', 'A', 300, '192.0.2.9')
    s.addValue('_v1._web._tcp.example.com', 'SRV', 300, '0 0 80 other.example.net.')
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', aRecord: 'www'})
    assert.deepEqual(s.values('www.example.com', 'A'), ['192.0.2.9', '10.0.0.1'])
    leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('10-0-0-1.example.com', 'A'), ['10.0.0.1'], 'hand-made address with the same value is not claimed')
    assert.deepEqual(s.values('www.example.com', 'A'), ['192.0.2.9'])
    assert.deepEqual(s.values('_v1._web._tcp.example.com', 'SRV'), ['0 0 80 other.example.net.'])
  })
  it('round-robin names are reference-counted per host', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', aRecord: 'www'})
    join(s, {service: '_v1._api._tcp', port: 9000, ip: '10.0.0.1', aRecord: 'www'})
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.2', aRecord: 'www'})
    leave(s, {service: '_v1._web._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('www.example.com', 'A').sort(), ['10.0.0.1', '10.0.0.2'])
    leave(s, {service: '_v1._api._tcp', ip: '10.0.0.1'})
    assert.deepEqual(s.values('www.example.com', 'A'), ['10.0.0.2'])
  })
  it('a host whose address changed moves its owned address records', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', host: 'web1', aRecord: 'www'})
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.9', host: 'web1', aRecord: 'www'})
    assert.deepEqual(s.values('web1.example.com', 'A'), ['10.0.0.9'])
    assert.deepEqual(s.values('www.example.com', 'A'), ['10.0.0.9'])
    leave(s, {service: '_v1._web._tcp', host: 'web1'})
    assert.deepEqual(records(s).map((r) => r.type), ['SOA'])
  })
  it('asks for names it has not read (marker-referenced round-robin names)', () => {
    const s = fresh()
    join(s, {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', aRecord: 'www'})
    const m = memberForLeave({zone: Z, service: '_v1._web._tcp', ip: '10.0.0.1'})
    const mp = planLeave(m)
    const partial = new ZoneState(Z, mp.names, s.rrsets().filter((r) => mp.names.includes(r.name)))
    const step = mp.plan(partial)
    assert.deepEqual(step, {need: ['www.example.com']})
  })
})

describe('combineWorks: many members as one plan', () => {
  it('two members joining one pool with different TXT end with the last one\'s TXT, as one after the other would', () => {
    const a = {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.1', txt: ['n=1']}
    const b = {service: '_v1._web._tcp', port: 8080, ip: '10.0.0.2', txt: ['n=2']}
    const one = fresh()
    join(one, a)
    join(one, b)
    const both = fresh()
    runPlan(both, combineWorks(Z, [planJoin(memberForJoin({zone: Z, ...a})), planJoin(memberForJoin({zone: Z, ...b}))]))
    assert.equal(snapshot(both), snapshot(one))
    assert.deepEqual(both.values('_v1._web._tcp.example.com', 'TXT'), ['"n=2"'])
  })

  it('random joins and leaves (seeded): the combined plan ends where the members one by one would, in phase order, invariants holding', () => {
    const random = seededRandom('combineWorks')
    for (let trial = 0; trial < 200; trial++) {
      const start = fresh()
      const inputs = Array.from({length: 12}, (_, i) => ({
        service: ['_v1._web._tcp', '_v2._web._tcp', '_api._tcp'][i % 3]!,
        port: 8000 + random.int(3),
        ip: `10.0.${random.int(2)}.${1 + (i % 6)}`,
        txt: random() < 0.5 ? [`n=${random.int(4)}`] : undefined,
      }))
      for (const input of inputs) if (random() < 0.5) join(start, input)
      const works = inputs.filter(() => random() < 0.7).map((input) => (random() < 0.5 ? planJoin(memberForJoin({zone: Z, ...input})) : planLeave(memberForLeave({zone: Z, ...input}))))
      const sequential = start.clone()
      for (const w of works) runPlan(sequential, w)
      const combined = start.clone()
      const {changes} = runPlan(combined, combineWorks(Z, works))
      assert.equal(snapshot(combined), snapshot(sequential), `trial ${trial} (seed ${random.seed})`)
      assert.deepEqual(checkStateInvariants(combined), [], `trial ${trial} (seed ${random.seed})`)
      // No SRV is added before every address add, and none removed after an address removal.
      const firstSrvAdd = changes.findIndex((c) => c.action === 'add' && c.type === 'SRV')
      const lastAddressAdd = changes.findLastIndex((c) => c.action === 'add' && (c.type === 'A' || c.type === 'AAAA'))
      if (firstSrvAdd >= 0) assert.ok(lastAddressAdd < firstSrvAdd, `trial ${trial}: addresses first`)
      const lastSrvRemove = changes.findLastIndex((c) => c.action === 'remove' && c.type === 'SRV')
      const firstAddressRemove = changes.findIndex((c) => c.action === 'remove' && (c.type === 'A' || c.type === 'AAAA'))
      if (firstAddressRemove >= 0) assert.ok(lastSrvRemove < firstAddressRemove, `trial ${trial}: SRV removals before address removals`)
      // A claim (marker own=) is written before the address it claims and removed after it.
      const isMarker = (c: {type: string; name: string}) => c.type === 'TXT' && c.name.startsWith('_dnssd.')
      const lastMarkerAdd = changes.findLastIndex((c) => c.action === 'add' && isMarker(c))
      const firstAddressAdd = changes.findIndex((c) => c.action === 'add' && (c.type === 'A' || c.type === 'AAAA'))
      if (firstAddressAdd >= 0) assert.ok(lastMarkerAdd < firstAddressAdd, `trial ${trial}: claims before addresses`)
      const lastAddressRemove = changes.findLastIndex((c) => c.action === 'remove' && (c.type === 'A' || c.type === 'AAAA'))
      const firstMarkerRemove = changes.findIndex((c) => c.action === 'remove' && isMarker(c))
      if (firstMarkerRemove >= 0 && lastAddressRemove >= 0) assert.ok(lastAddressRemove < firstMarkerRemove, `trial ${trial}: addresses removed before their claims`)
    }
  })
})
