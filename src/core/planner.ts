/**
 * The planner: (current values of the touched names, membership) -> the
 * value-level changes of a join or a leave, in the order a non-atomic backend
 * must apply them (address before SRV before PTR; the reverse on removal).
 *
 * Reference counting uses a marker TXT RRset at `_dnssd.<host>` that join
 * writes before the SRV and leave removes after it:
 *   "ref=<instance>;srv=<priority> <weight> <port>[;rr=<round-robin name>]"
 *       one per service the host is a member of;
 *   "own=<name> <A|AAAA> <address>"
 *       one per address value dnssd itself created (so a hand-made record
 *       with the same value is never claimed, and never removed).
 * A host keeps its address while any ref remains, without listing the zone.
 */
import {type Member} from './membership.js'
import {type Change, type RecordType, ZoneState, formatSrv, fqdn} from './records.js'
import {canonicalTxt, parseTxtPresentation, quoteTxtString} from './txt.js'

export const MARKER_LABEL = '_dnssd'
const SERVICES_NAME_PREFIX = '_services._dns-sd._udp'
export const EMPTY_TXT = '""'

export const markerName = (host: string): string => `${MARKER_LABEL}.${host}`
export const servicesName = (zone: string): string => `${SERVICES_NAME_PREFIX}.${zone}`

export interface Ref {
  raw: string
  instance: string
  priority: number
  weight: number
  port: number
  rr?: string
}

export interface Own {
  raw: string
  name: string
  type: 'A' | 'AAAA'
  value: string
}

export interface Marker {
  refs: Ref[]
  owns: Own[]
}

const markerValue = (text: string): string => quoteTxtString(text)

export function encodeRef(r: Omit<Ref, 'raw'>): string {
  return markerValue(`ref=${r.instance};srv=${r.priority} ${r.weight} ${r.port}${r.rr ? `;rr=${r.rr}` : ''}`)
}

export function encodeOwn(o: Omit<Own, 'raw'>): string {
  return markerValue(`own=${o.name} ${o.type} ${o.value}`)
}

/** Parse the marker TXT values; values that are not dnssd's are ignored. */
export function parseMarker(values: readonly string[]): Marker {
  const marker: Marker = {refs: [], owns: []}
  for (const raw of values) {
    const strings = parseTxtPresentation(raw)
    if (strings.length !== 1) continue
    const text = strings[0]!.toString('utf8')
    if (text.startsWith('ref=')) {
      const fields = Object.fromEntries(text.split(';').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]))
      const srv = /^(\d+) (\d+) (\d+)$/.exec(fields.srv ?? '')
      if (!fields.ref || !srv) continue
      marker.refs.push({
        raw: canonicalTxt(raw),
        instance: fields.ref,
        priority: Number(srv[1]),
        weight: Number(srv[2]),
        port: Number(srv[3]),
        rr: fields.rr || undefined,
      })
    } else if (text.startsWith('own=')) {
      const m = /^own=(\S+) (A|AAAA) (\S+)$/.exec(text)
      if (m) marker.owns.push({raw: canonicalTxt(raw), name: m[1]!, type: m[2] as 'A' | 'AAAA', value: m[3]!})
    }
  }
  return marker
}

export type PlanStep = {changes: Change[]; notes: string[]} | {need: string[]}
export type Planner = (state: ZoneState) => PlanStep

/** One unit of work for a provider: what to read first and how to plan from it. */
export interface Work {
  zone: string
  /** The member's host: owner of the values this work adds (Cloudflare marks records with it). */
  host: string
  /** The names to read first. */
  names: string[]
  /**
   * The names whose values other members change too (the host's marker, the
   * instance, the service type, the service-type enumeration): a backend
   * without compare-and-swap on record sets must guard changes to these.
   */
  shared: string[]
  plan: Planner
}

/**
 * Collects changes against a working view of the state, so it never adds a
 * present value or removes an absent one. The view copies only the RRsets it
 * changes: a combined plan of a thousand members (combineWorks) runs a
 * planner per member on a zone of thousands of RRsets, and a full copy per
 * member made that quadratic.
 */
class ChangeBuilder {
  readonly changes: Change[] = []
  private readonly touched = new Map<string, {ttl: number; values: string[]} | undefined>()

  constructor(private readonly state: ZoneState) {}

  private current(name: string, type: RecordType): {ttl: number; values: readonly string[]} | undefined {
    const k = `${name} ${type}`
    if (this.touched.has(k)) return this.touched.get(k)
    return this.state.get(name, type)
  }

  private write(name: string, type: RecordType, ttl: number, values: string[]): void {
    this.touched.set(`${name} ${type}`, values.length > 0 ? {ttl, values} : undefined)
  }

  add(name: string, type: RecordType, ttl: number, value: string): boolean {
    const set = this.current(name, type)
    if (set?.values.includes(value)) return false
    const setTtl = set?.ttl ?? ttl
    this.changes.push({action: 'add', name, type, ttl: setTtl, value})
    this.write(name, type, setTtl, [...(set?.values ?? []), value])
    return true
  }

  remove(name: string, type: RecordType, value: string): boolean {
    const set = this.current(name, type)
    if (!set || !set.values.includes(value)) return false
    this.changes.push({action: 'remove', name, type, ttl: set.ttl, value})
    this.write(name, type, set.ttl, set.values.filter((v) => v !== value))
    return true
  }
}

function touchedNames(m: Member): string[] {
  const names = [m.host, markerName(m.host), m.instance, m.serviceType, servicesName(m.zone)]
  if (m.aRecord) names.push(m.aRecord)
  return [...new Set(names)]
}

/** Names the marker mentions that the planner must also see. */
function markerNames(marker: Marker): string[] {
  return [...marker.refs.flatMap((r) => (r.rr ? [r.rr] : [])), ...marker.owns.map((o) => o.name)]
}

function missing(state: ZoneState, names: readonly string[]): string[] {
  return [...new Set(names.filter((n) => !state.covers(n)))]
}

/** Remove address values dnssd owns that no remaining ref needs. */
function releaseUnused(b: ChangeBuilder, m: Member, marker: Marker, remaining: readonly Ref[]): void {
  const mark = markerName(m.host)
  for (const own of marker.owns) {
    const used = own.name === m.host ? remaining.length > 0 : remaining.some((r) => r.rr === own.name)
    if (used) continue
    b.remove(own.name, own.type, own.value)
    b.remove(mark, 'TXT', own.raw)
  }
}

/**
 * Wrap a planning body: first make sure the touched names and every name the
 * host's marker mentions have been read; otherwise ask for them.
 */
function withMarker(m: Member, body: (state: ZoneState, mark: string, marker: Marker) => PlanStep): Work {
  const names = touchedNames(m)
  const plan: Planner = (state) => {
    const need = missing(state, names)
    if (need.length > 0) return {need}
    const mark = markerName(m.host)
    const marker = parseMarker(state.values(mark, 'TXT'))
    const more = missing(state, markerNames(marker))
    if (more.length > 0) return {need: more}
    return body(state, mark, marker)
  }
  return {zone: m.zone, host: m.host, names, shared: [markerName(m.host), m.instance, m.serviceType, servicesName(m.zone)], plan}
}

export function planJoin(m: Member): Work {
  return withMarker(m, (state, mark, marker) => {
    if (!m.address || m.port === undefined) throw new Error('planJoin needs an address and a port')
    const {address, family} = m.address
    const b = new ChangeBuilder(state)
    const own = (name: string): void => void b.add(mark, 'TXT', m.ttl, encodeOwn({name, type: family, value: address}))

    // 1. Addresses. The host's address of this family is now `address`: drop
    //    values dnssd created for an earlier address of this host.
    for (const o of marker.owns) {
      if (o.type === family && o.value !== address) {
        b.remove(o.name, o.type, o.value)
        b.remove(mark, 'TXT', o.raw)
      }
    }
    if (b.add(m.host, family, m.ttl, address)) own(m.host)
    const existing = marker.refs.find((r) => r.instance === m.instance)
    const desired: Omit<Ref, 'raw'> = {instance: m.instance, priority: m.priority, weight: m.weight, port: m.port, rr: m.aRecord}
    const refs = [...marker.refs.filter((r) => r.instance !== m.instance), {...desired, raw: encodeRef(desired)}]
    for (const rr of new Set(refs.flatMap((r) => (r.rr ? [r.rr] : [])))) {
      if (b.add(rr, family, m.ttl, address)) own(rr)
    }

    // 2. The marker ref, before anything points at the host.
    const refValue = encodeRef(desired)
    if (existing && existing.raw !== refValue) b.remove(mark, 'TXT', existing.raw)
    b.add(mark, 'TXT', m.ttl, refValue)
    releaseUnused(b, m, marker, refs)

    // 3. TXT, then SRV at the instance name.
    const currentTxt = state.values(m.instance, 'TXT')
    if (m.service.incarnation === undefined || m.txt !== undefined) {
      const wanted = m.txt ?? EMPTY_TXT
      b.add(m.instance, 'TXT', m.ttl, wanted)
      for (const v of currentTxt) if (v !== wanted) b.remove(m.instance, 'TXT', v)
    } else if (currentTxt.length === 0) {
      b.add(m.instance, 'TXT', m.ttl, EMPTY_TXT)
    }
    const srv = formatSrv({priority: m.priority, weight: m.weight, port: m.port, target: fqdn(m.host)})
    b.add(m.instance, 'SRV', m.ttl, srv)
    if (existing) {
      const old = formatSrv({priority: existing.priority, weight: existing.weight, port: existing.port, target: fqdn(m.host)})
      if (old !== srv) b.remove(m.instance, 'SRV', old)
    }

    // 4. Browse PTR, then the service-type enumeration (RFC 6763 §9).
    b.add(m.serviceType, 'PTR', m.ttl, fqdn(m.instance))
    b.add(servicesName(m.zone), 'PTR', m.ttl, fqdn(m.serviceType))

    const notes = b.changes.length === 0 ? [`${m.host} is already a member of ${m.instance}; nothing to change`] : []
    return {changes: b.changes, notes}
  })
}

export function planLeave(m: Member): Work {
  return withMarker(m, (state, mark, marker) => {
    const b = new ChangeBuilder(state)
    const notes: string[] = []
    const ref = marker.refs.find((r) => r.instance === m.instance)
    const remaining = marker.refs.filter((r) => r.instance !== m.instance)
    if (ref) {
      const srv = formatSrv({priority: ref.priority, weight: ref.weight, port: ref.port, target: fqdn(m.host)})
      const lastMember = state.values(m.instance, 'SRV').every((v) => v === srv)
      if (lastMember) {
        const ptr = fqdn(m.instance)
        const lastInstance = state.values(m.serviceType, 'PTR').every((v) => v === ptr)
        if (lastInstance) b.remove(servicesName(m.zone), 'PTR', fqdn(m.serviceType))
        b.remove(m.serviceType, 'PTR', ptr)
      }
      b.remove(m.instance, 'SRV', srv)
      if (lastMember) for (const v of state.values(m.instance, 'TXT')) b.remove(m.instance, 'TXT', v)
      b.remove(mark, 'TXT', ref.raw)
    } else {
      notes.push(`${m.host} is not a member of ${m.instance}; nothing of it to remove`)
    }
    releaseUnused(b, m, marker, remaining)
    return {changes: b.changes, notes}
  })
}

/**
 * Where a change stands in the order a backend that splits one plan into
 * several batches must keep: a marker's claim (own=) exists before the
 * address it claims, so a crash between batches never leaves an address
 * dnssd cannot recognise as its own; addresses and markers exist before
 * anything points at the host; pointers go before what they point at goes,
 * and an address goes before its claim does.
 */
function phaseOf(c: Change): number {
  const address = c.type === 'A' || c.type === 'AAAA'
  const marker = c.type === 'TXT' && c.name.startsWith(`${MARKER_LABEL}.`)
  if (c.action === 'add') return marker ? 0 : address ? 1 : c.type === 'PTR' ? 4 : c.type === 'SRV' ? 3 : 2
  return c.type === 'PTR' ? 2 : c.type === 'SRV' ? 3 : address ? 5 : marker ? 6 : 4
}

/** The changes in phase order, each with its phase; stable: the plan's own order within a phase. */
export function byPhase(changes: readonly Change[]): {change: Change; phase: number}[] {
  return changes.map((change, i) => ({change, i, phase: phaseOf(change)})).sort((a, b) => a.phase - b.phase || a.i - b.i)
}

/**
 * Many members' works as one (the coalesced apply): each planner runs in
 * turn on the state the earlier ones leave, so the changes compose as if
 * the members had gone one after another. The result is the net change per
 * RRset (what the last state holds that the first did not, and the
 * reverse), in phase order, so no batch boundary can publish an SRV before
 * its address or keep one after its address is gone.
 */
export function combineWorks(zone: string, works: readonly Work[]): Work {
  const names = [...new Set(works.flatMap((w) => w.names))]
  const shared = [...new Set(works.flatMap((w) => w.shared))]
  const plan: Planner = (state) => {
    const need = new Set<string>()
    const current = state.clone()
    const touched = new Map<string, {name: string; type: RecordType; ttl: number}>()
    const owners = new Map<string, string>()
    const notes: string[] = []
    for (const w of works) {
      const step = w.plan(current)
      if ('need' in step) {
        for (const n of step.need) need.add(n)
        continue
      }
      current.apply(step.changes)
      for (const c of step.changes) {
        touched.set(`${c.name} ${c.type}`, {name: c.name, type: c.type, ttl: c.ttl})
        if (c.action === 'add') owners.set(`${c.name} ${c.type} ${c.value}`, w.host)
      }
      notes.push(...step.notes)
    }
    if (need.size > 0) return {need: [...need]}
    // The net effect per RRset: a later member's change may undo an earlier one's (two members
    // joining one pool each set its TXT), so the sequence itself must not be reordered.
    const changes: Change[] = []
    for (const {name, type, ttl} of touched.values()) {
      const before = state.values(name, type)
      const after = current.values(name, type)
      const setTtl = current.get(name, type)?.ttl ?? state.get(name, type)?.ttl ?? ttl
      for (const value of before) if (!after.includes(value)) changes.push({action: 'remove', name, type, ttl: setTtl, value})
      for (const value of after) {
        if (!before.includes(value)) changes.push({action: 'add', name, type, ttl: setTtl, value, owner: owners.get(`${name} ${type} ${value}`)})
      }
    }
    return {changes: byPhase(changes).map((o) => o.change), notes}
  }
  return {zone, host: works.length === 1 ? works[0]!.host : zone, names, shared, plan}
}
