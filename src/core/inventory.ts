/**
 * What `list` shows: service types -> instances -> targets (priority, weight,
 * port, addresses) and TXT, read from a zone the way a DNS-SD browser would
 * (RFC 6763 §9 enumeration, then each type's PTR set).
 */
import {isServiceTypeName, normalizeName} from './names.js'
import {servicesName} from './planner.js'
import {type ZoneState, parseSrv} from './records.js'
import {parseTxtPresentation, txtToAttributes} from './txt.js'

export interface InventoryTarget {
  priority: number
  weight: number
  port: number
  target: string
  addresses: string[]
}

export interface InventoryInstance {
  name: string
  txt: Record<string, string | true>
  txtRecords: string[]
  targets: InventoryTarget[]
}

export interface InventoryService {
  type: string
  instances: InventoryInstance[]
}

export function inventory(state: ZoneState, zone: string, onlyType?: string): InventoryService[] {
  const types = new Set(state.values(servicesName(zone), 'PTR').map(normalizeName))
  for (const set of state.rrsets()) {
    if (set.type === 'PTR' && isServiceTypeName(set.name, zone)) types.add(set.name)
  }
  const result: InventoryService[] = []
  for (const type of [...types].sort()) {
    if (onlyType && type !== onlyType) continue
    const instances = state
      .values(type, 'PTR')
      .map(normalizeName)
      .sort()
      .map((name): InventoryInstance => {
        const txtRecords = state.values(name, 'TXT')
        const targets = state
          .values(name, 'SRV')
          .map((v) => parseSrv(v))
          .filter((s) => s !== undefined)
          .map((s) => {
            const target = normalizeName(s.target)
            return {
              priority: s.priority,
              weight: s.weight,
              port: s.port,
              target,
              addresses: [...state.values(target, 'A'), ...state.values(target, 'AAAA')],
            }
          })
          .sort((a, b) => a.priority - b.priority || b.weight - a.weight || (a.target < b.target ? -1 : 1))
        return {name, txt: txtToAttributes(parseTxtPresentation(txtRecords[0] ?? '""')), txtRecords, targets}
      })
    result.push({type, instances})
  }
  return result
}
