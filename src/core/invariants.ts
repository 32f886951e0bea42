/**
 * The invariants of DESIGN §1 that must hold after every command, crash or
 * retry, checked on a zone's final records. Used by every test; returns the
 * violations found (empty = all hold).
 *   1. every in-zone SRV target resolves to an address in the zone;
 *   2. every browse PTR target has an SRV and a TXT;
 *   3. every _services._dns-sd._udp PTR target still has a PTR;
 *   4. no duplicate values.
 * (Invariant 5, no lost registration, is a property of a run: compare the
 * members that joined with the SRV values present.)
 */
import {isServiceTypeName, isSubdomain, normalizeName} from './names.js'
import {servicesName} from './planner.js'
import {ZoneState, parseSrv} from './records.js'

export interface RecordLike {
  name: string
  type: string
  value: string
}

export function checkInvariants(zone: string, records: readonly RecordLike[]): string[] {
  const problems: string[] = []
  const state = new ZoneState(zone, 'all')
  const seen = new Set<string>()
  for (const r of records) {
    const key = `${r.name} ${r.type} ${r.value}`
    if (seen.has(key)) problems.push(`duplicate value: ${key}`)
    seen.add(key)
    state.addValue(r.name, r.type, 0, r.value)
  }
  const hasAddress = (name: string): boolean => state.values(name, 'A').length + state.values(name, 'AAAA').length > 0
  for (const set of state.rrsets()) {
    if (set.type === 'SRV') {
      for (const v of set.values) {
        const srv = parseSrv(v)
        if (!srv) problems.push(`malformed SRV at ${set.name}: ${v}`)
        else if (srv.target !== '.' && isSubdomain(normalizeName(srv.target), zone) && !hasAddress(normalizeName(srv.target))) {
          problems.push(`SRV ${set.name} -> ${srv.target} has no address record`)
        }
      }
    }
    if (set.type === 'PTR' && isServiceTypeName(set.name, zone)) {
      for (const v of set.values) {
        const target = normalizeName(v)
        if (state.values(target, 'SRV').length === 0) problems.push(`PTR ${set.name} -> ${target} has no SRV`)
        if (state.values(target, 'TXT').length === 0) problems.push(`PTR ${set.name} -> ${target} has no TXT`)
      }
    }
  }
  for (const v of state.values(servicesName(zone), 'PTR')) {
    if (state.values(normalizeName(v), 'PTR').length === 0) problems.push(`${servicesName(zone)} PTR -> ${normalizeName(v)} has no PTR`)
  }
  return problems
}

/** Convenience for a ZoneState (which cannot hold duplicates). */
export function checkStateInvariants(state: ZoneState): string[] {
  return checkInvariants(
    state.zone,
    state.rrsets().flatMap((s) => s.values.map((value) => ({name: s.name, type: s.type, value}))),
  )
}
