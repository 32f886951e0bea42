/**
 * `list --registry`: each member's lease beside what DNS holds, and the drift
 * between them. DNS members are the ones dnssd wrote (the refs in each
 * `_dnssd.<host>` marker whose SRV is present), so hand-made records are never
 * reported as "no lease".
 */
import {memberForLeave} from '../core/membership.js'
import {serviceTypeOf} from '../core/names.js'
import {MARKER_LABEL, parseMarker} from '../core/planner.js'
import {type ZoneState, fqdn, formatSrv} from '../core/records.js'
import {type StoredLease, isExpired, isPendingJoin} from './registry.js'

export interface LeaseRow {
  service: string
  host: string
  instance: string
  /** This member's SRV value is in DNS. */
  inDns: boolean
  /** pending: a join intent no apply took yet; leaving: a tombstone the next apply removes. */
  lease?: {state: 'active' | 'expired' | 'pending' | 'leaving'; expiresAt: string; renewedAt: string; joinedAt: string; provider: string; secondsLeft: number}
}

export interface LeaseDrift {
  registry: string
  members: LeaseRow[]
  /** Members in DNS with no lease (joined without --lease, or the lease was lost). */
  dnsWithoutLease: LeaseRow[]
  /** Leases whose member has no values in DNS (removed by hand, or restored by its next join). */
  leasesWithoutDns: LeaseRow[]
}

function serviceOfInstance(instance: string, zone: string): string | undefined {
  if (!instance.endsWith(`.${zone}`)) return undefined
  const labels = instance.slice(0, -(zone.length + 1)).split('.')
  if (labels.length < 2) return undefined
  // Pool instances are `_v1._web._tcp`; plain ones `<host-label>._web._tcp`.
  return labels.length === 3 && labels[0]!.startsWith('_') ? labels.join('.') : serviceTypeOf(labels.join('.'))
}

export function leaseDrift(state: ZoneState, zone: string, leases: readonly StoredLease[], registry: string, onlyType: string | undefined, now = Date.now()): LeaseDrift {
  const rows = new Map<string, LeaseRow>()
  const inType = (service: string): boolean => !onlyType || `${serviceTypeOf(service)}.${zone}` === onlyType
  for (const set of state.rrsets()) {
    if (set.type !== 'TXT' || !set.name.startsWith(`${MARKER_LABEL}.`)) continue
    const host = set.name.slice(MARKER_LABEL.length + 1)
    for (const ref of parseMarker(set.values).refs) {
      const service = serviceOfInstance(ref.instance, zone)
      if (!service || !inType(service)) continue
      const srv = formatSrv({priority: ref.priority, weight: ref.weight, port: ref.port, target: fqdn(host)})
      const inDns = state.values(ref.instance, 'SRV').includes(srv)
      if (inDns) rows.set(`${service} ${host}`, {service, host, instance: ref.instance, inDns})
    }
  }
  for (const s of leases) {
    const {service, host} = s.lease
    if (!inType(service)) continue
    const key = `${service} ${host}`
    let row = rows.get(key)
    if (!row) {
      let instance = ''
      try {
        instance = memberForLeave({zone, service, host: `${host}.`}).instance
      } catch {
        instance = `(invalid lease ${s.key})`
      }
      row = {service, host, instance, inDns: false}
      rows.set(key, row)
    }
    const expires = Date.parse(s.lease.expiresAt)
    row.lease = {
      state: s.lease.intent === 'leave' ? 'leaving' : isExpired(s.lease, now) ? 'expired' : isPendingJoin(s.lease) ? 'pending' : 'active',
      expiresAt: s.lease.expiresAt,
      renewedAt: s.lease.renewedAt,
      joinedAt: s.lease.joinedAt,
      provider: s.lease.provider,
      secondsLeft: Math.round((expires - now) / 1000),
    }
  }
  const members = [...rows.values()].sort((a, b) => (a.service === b.service ? (a.host < b.host ? -1 : 1) : a.service < b.service ? -1 : 1))
  return {
    registry,
    members,
    dnsWithoutLease: members.filter((m) => m.inDns && !m.lease),
    // A pending join or a tombstone without DNS values is on its way, not drift.
    leasesWithoutDns: members.filter((m) => !m.inDns && m.lease && m.lease.state !== 'pending' && m.lease.state !== 'leaving'),
  }
}
