/**
 * Splitting one plan into Route 53 change batches (route53-batches.ts):
 * every batch within the per-request limits, each RRset's DELETE + CREATE
 * together and matching what the earlier batches left, and the zone safe
 * (the invariants hold) after every batch, whichever is the last applied.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {checkStateInvariants} from '../../src/core/invariants.js'
import {memberForJoin, memberForLeave} from '../../src/core/membership.js'
import {type Work, combineWorks, planJoin, planLeave} from '../../src/core/planner.js'
import {type Change, ZoneState} from '../../src/core/records.js'
import {type Limits, type SetNow, type Split, splitIntoBatches} from '../../src/providers/route53-batches.js'
import {ROUTE53_LIMITS, nameToWire, valueToWire} from '../../src/providers/route53-wire.js'
import {runPlan} from '../helpers/plan.js'

const Z = 'example.com'
const fresh = (): ZoneState => new ZoneState(Z, 'all', [{name: Z, type: 'SOA', ttl: 3600, values: ['localhost. hostmaster.example.com. 1 3600 600 1209600 60']}])
const ipOf = (i: number): string => `10.30.${Math.floor(i / 200)}.${(i % 200) + 1}`
const joinOf = (i: number, pools: number): Work => planJoin(memberForJoin({zone: Z, service: `_v${i % pools}._web._tcp`, port: 8080, ip: ipOf(i)}))
const leaveOf = (i: number, pools: number): Work => planLeave(memberForLeave({zone: Z, service: `_v${i % pools}._web._tcp`, ip: ipOf(i)}))

/** The zone as Route 53 would hold it: wire values per RRset. */
function wireSets(state: ZoneState): Map<string, SetNow> {
  const sets = new Map<string, SetNow>()
  for (const s of state.rrsets()) sets.set(`${nameToWire(s.name)} ${s.type}`, {ttl: s.ttl, values: [...s.values], wire: s.values.map((v) => valueToWire(s.type, v))})
  return sets
}

function plan(state: ZoneState, work: Work): Change[] {
  const step = work.plan(state)
  if (!('changes' in step)) throw new Error(`the plan asked for ${step.need.join(', ')}`)
  return step.changes
}

function split(state: ZoneState, changes: Change[], limits?: Limits): Split {
  const sets = wireSets(state)
  return splitIntoBatches(changes, (name, type) => sets.get(`${nameToWire(name)} ${type}`), limits)
}

/**
 * Apply the batches one by one as Route 53 would (DELETE must match exactly,
 * CREATE must find no set), checking the limits and the invariants after each.
 */
function applyAll(state: ZoneState, result: Split, limits: Limits = ROUTE53_LIMITS): number {
  assert.ok('batches' in result, 'refused' in result ? result.refused : '')
  const store = wireSets(state)
  for (const [k, batch] of result.batches.entries()) {
    let values = 0
    let characters = 0
    const seen = new Map<string, string[]>()
    for (const c of batch.wire) {
      const key = `${c.ResourceRecordSet.Name} ${c.ResourceRecordSet.Type}`
      const wire = c.ResourceRecordSet.ResourceRecords.map((r) => r.Value)
      values += wire.length
      characters += wire.reduce((n, v) => n + v.length, 0)
      seen.set(key, [...(seen.get(key) ?? []), c.Action])
      if (c.Action === 'DELETE') {
        const now = store.get(key)
        assert.ok(now, `batch ${k + 1}: DELETE of ${key}, which is absent`)
        assert.deepEqual([...wire].sort(), [...now.wire].sort(), `batch ${k + 1}: DELETE of ${key} repeats the set exactly`)
        assert.equal(c.ResourceRecordSet.TTL, now.ttl)
        store.delete(key)
      } else {
        assert.ok(!store.has(key), `batch ${k + 1}: CREATE of ${key}, which exists`)
        assert.ok(wire.length <= limits.valuesPerSet)
        store.set(key, {ttl: c.ResourceRecordSet.TTL, wire, values: []})
      }
    }
    for (const [key, actions] of seen) assert.ok(['DELETE', 'CREATE', 'DELETE,CREATE'].includes(actions.join(',')), `batch ${k + 1}: ${key} ${actions.join(',')}`)
    assert.ok(values <= limits.valuesPerBatch && characters <= limits.charactersPerBatch, `batch ${k + 1}: ${values} values, ${characters} characters`)
    assert.equal(values, batch.values)
    assert.equal(characters, batch.characters)
    state.apply(batch.changes)
    assert.deepEqual(checkStateInvariants(state), [], `after batch ${k + 1} of ${result.batches.length}`)
    for (const s of state.rrsets()) {
      const key = `${nameToWire(s.name)} ${s.type}`
      assert.deepEqual([...(store.get(key)?.wire ?? [])].sort(), s.values.map((v) => valueToWire(s.type, v)).sort(), `after batch ${k + 1}: ${key}`)
    }
  }
  return result.batches.length
}

describe('route53 change batches', () => {
  it('400 joins into 4 pools, then their 400 leaves: few batches, each within the limits, the zone safe after every one', () => {
    const state = fresh()
    const members = Array.from({length: 400}, (_, i) => i)
    const joins = plan(state, combineWorks(Z, members.map((i) => joinOf(i, 4))))
    const n = applyAll(state, split(state, joins))
    // ~1,600 values (two marker values, an A and an SRV value per member) and ~48,000 characters.
    assert.ok(n >= 2 && n <= 3, `${n} batches`)
    assert.equal(state.values('_v0._web._tcp.example.com', 'SRV').length, 100)
    const leaves = plan(state, combineWorks(Z, members.map((i) => leaveOf(i, 4))))
    const m = applyAll(state, split(state, leaves))
    assert.ok(m >= 2 && m <= 3, `${m} batches`)
    assert.deepEqual(state.rrsets().map((s) => s.type), ['SOA'])
  })

  it('a set whose changes span two phases is one swap inside a batch, and two swaps when a batch boundary falls between', () => {
    const setup = (): ZoneState => {
      const s = fresh()
      for (const i of [1, 2]) runPlan(s, joinOf(i, 1))
      return s
    }
    // Member 1 moves from pool _v0 to pool _w0: its marker gains a ref in phase 0 and loses one in phase 6.
    const move = (s: ZoneState): Change[] =>
      plan(s, combineWorks(Z, [planLeave(memberForLeave({zone: Z, service: '_v0._web._tcp', ip: ipOf(1)})), planJoin(memberForJoin({zone: Z, service: '_w0._web._tcp', port: 9090, ip: ipOf(1)}))]))
    const marker = `${nameToWire(`_dnssd.${ipOf(1).replaceAll('.', '-')}.${Z}`)} TXT`
    const touches = (r: Split, key: string): number[] =>
      'batches' in r ? r.batches.flatMap((b, k) => (b.wire.some((c) => `${c.ResourceRecordSet.Name} ${c.ResourceRecordSet.Type}` === key && c.Action === 'CREATE') ? [k] : [])) : []

    const wide = setup()
    const one = split(wide, move(wide))
    assert.equal(applyAll(wide, one), 1)
    assert.deepEqual(touches(one, marker), [0])

    // Limits so small that every step needs its own batch.
    const tight: Limits = {valuesPerBatch: 6, charactersPerBatch: 400, valuesPerSet: 400}
    const narrow = setup()
    const many = split(narrow, move(narrow), tight)
    const k = applyAll(narrow, many, tight)
    assert.ok(k >= 4, `${k} batches`)
    const steps = touches(many, marker)
    assert.equal(steps.length, 2, 'the marker is written in two steps')
    assert.ok('batches' in many)
    const first = many.batches[steps[0]!]!.wire.find((c) => c.Action === 'CREATE' && `${c.ResourceRecordSet.Name} TXT` === marker)!
    assert.equal(first.ResourceRecordSet.ResourceRecords.filter((r) => r.Value.includes('ref=')).length, 2, 'between the steps the host holds both refs')
    assert.deepEqual(narrow.values(`_dnssd.${ipOf(1).replaceAll('.', '-')}.${Z}`, 'TXT').filter((v) => v.includes('ref=')).length, 1)
  })

  it('a pool of 400 short values swaps in one batch; a 401st value, or a pool too long for 32,000 characters, is refused with the numbers', () => {
    const pool = (n: number, target: (i: number) => string): ZoneState =>
      new ZoneState(Z, 'all', [{name: `_v1._big._tcp.${Z}`, type: 'SRV', ttl: 60, values: Array.from({length: n}, (_, i) => `0 0 8080 ${target(i)}.`)}])
    const add = (s: ZoneState, value: string): Change[] => [{action: 'add', name: `_v1._big._tcp.${Z}`, type: 'SRV', ttl: 60, value}]
    const short = (i: number): string => `m${i}.big.example.com`
    const ok = split(pool(399, short), add(pool(399, short), `0 0 8080 ${short(399)}.`))
    assert.ok('batches' in ok && ok.batches.length === 1 && ok.batches[0]!.values === 799)
    const over = split(pool(400, short), add(pool(400, short), `0 0 8080 ${short(400)}.`))
    assert.deepEqual(over, {refused: '_v1._big._tcp.example.com. SRV would hold 401 values; Route 53 allows at most 400 in one record set'})
    // 80-character SRV values: 200 members fit (199 + 200 values, 31,920 characters); the 201st does not.
    const long = (i: number): string => `member-${String(i).padStart(4, '0')}.a-rather-long-subdomain-name.example.com`.padStart(70, 'x')
    assert.equal(`0 0 8080 ${long(0)}.`.length, 80)
    assert.ok('batches' in split(pool(199, long), add(pool(199, long), `0 0 8080 ${long(199)}.`)))
    const tooLong = split(pool(200, long), add(pool(200, long), `0 0 8080 ${long(200)}.`))
    assert.ok('refused' in tooLong)
    assert.match(tooLong.refused, /^_v1\._big\._tcp\.example\.com\. SRV would need 401 values and 32080 characters in one change batch .*at most 1000 values and 32000 characters/)
  })
})
