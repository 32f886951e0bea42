/**
 * Convergence of the SHARED names on a backend without compare-and-swap.
 *
 * Cloudflare stores each value as its own record and offers no conditional
 * write, so the core planner's "last member" decisions race: 50 members that
 * leave at once each still see 49 others and nobody removes the pool's PTR
 * and TXT; a leave that saw the pool empty can delete the PTR just after a
 * concurrent join decided it was already there. Adds are safe (an identical
 * record is refused with 81058, so two members never create the same value
 * twice), decisions about OTHER members' state are not.
 *
 * The scheme: after a join or leave has applied its own changes in the safe
 * order, it re-reads only the shared names (instance I, service type T,
 * `_services._dns-sd._udp` Z) and applies this repair plan, until a fresh
 * read yields an empty plan (or the deadline passes):
 *   - I has an SRV     -> I has a TXT, T has PTR -> I, Z has PTR -> T;
 *   - I has no SRV     -> remove PTR T -> I, then I's TXT (dnssd's only);
 *   - T has no PTR     -> remove Z -> T (dnssd's only).
 * Every process runs both the "ensure" and the "remove" rules. Why this
 * converges: every mutation a process makes is followed by a read of the
 * same names by that process. Take the process whose final read STARTS last
 * among those touching a given pool: all mutations on those names finished
 * before its read, so that read is a snapshot of the final state, and it found
 * nothing to repair. Hence the final state satisfies the rules (DESIGN §1
 * invariants 2 and 3, and no lost PTR), provided each process reaches its
 * final read inside its deadline. Values without dnssd's mark are never
 * removed and do not count as "to do", so hand-made records cannot make the
 * loop spin.
 */
import {isServiceTypeName} from '../core/names.js'
import {type Change, type RecordType, ZoneState, fqdn} from '../core/records.js'
import {servicesName} from '../core/planner.js'

export interface SharedScope {
  services: string
  /** Service types touched, each with the instances of this command under it. */
  types: {type: string; instances: string[]}[]
}

/** The shared names among the names a membership command touches. */
export function sharedScope(zone: string, names: readonly string[]): SharedScope {
  const services = servicesName(zone)
  const types = names.filter((n) => isServiceTypeName(n, zone))
  return {
    services,
    types: types.map((type) => ({type, instances: names.filter((n) => n.endsWith(`.${type}`) && !n.slice(0, -(type.length + 1)).includes('.'))})),
  }
}

export function scopeNames(scope: SharedScope): string[] {
  return [...new Set([scope.services, ...scope.types.flatMap((t) => [t.type, ...t.instances])])]
}

export interface RepairInput {
  state: ZoneState
  scope: SharedScope
  /** May this value be removed (does a record behind it carry dnssd's mark)? */
  removable: (name: string, type: RecordType, value: string) => boolean
  /** TXT values to restore at an instance whose TXT vanished under a live SRV. */
  txtFor: (instance: string) => string[]
  ttl: number
}

/** The ordered changes that bring the shared names back to the rules above; [] when they hold. */
export function repairPlan(input: RepairInput): Change[] {
  const {scope, removable} = input
  const work = input.state.clone()
  const changes: Change[] = []
  const ttlOf = (name: string, type: RecordType): number => work.get(name, type)?.ttl ?? input.ttl
  const add = (name: string, type: RecordType, value: string): void => {
    if (work.has(name, type, value)) return
    const c: Change = {action: 'add', name, type, ttl: ttlOf(name, type), value}
    changes.push(c)
    work.apply([c])
  }
  const remove = (name: string, type: RecordType, value: string): void => {
    if (!work.has(name, type, value) || !removable(name, type, value)) return
    const c: Change = {action: 'remove', name, type, ttl: ttlOf(name, type), value}
    changes.push(c)
    work.apply([c])
  }
  for (const {type, instances} of scope.types) {
    for (const instance of instances) {
      if (work.values(instance, 'SRV').length > 0) {
        // Ensure, in the join order: TXT, then the browse PTR.
        if (work.values(instance, 'TXT').length === 0) for (const v of input.txtFor(instance)) add(instance, 'TXT', v)
        add(type, 'PTR', fqdn(instance))
      } else {
        // Remove, in the leave order: the PTR first, then the TXT it pointed at.
        remove(type, 'PTR', fqdn(instance))
        for (const v of work.values(instance, 'TXT')) remove(instance, 'TXT', v)
      }
    }
    if (work.values(type, 'PTR').length > 0) add(scope.services, 'PTR', fqdn(type))
    else remove(scope.services, 'PTR', fqdn(type))
  }
  return changes
}
