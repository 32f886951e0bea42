/**
 * `reap`: remove members whose lease expired. For each expired lease, the
 * member's values are removed exactly as its own `leave` would remove them
 * (the same planner: planLeave(memberForLeave({zone, service, host}))),
 * through the provider named in the lease, and then the lease is deleted
 * conditionally on the ETag the reaper read.
 *
 * Concurrency:
 * - Several reapers: the DNS removal is idempotent (a second leave plans no
 *   change) and the lease delete of the slower reaper finds it missing, so
 *   each member is reported removed by whichever reaper changed DNS.
 * - A member renewing during the reap: its conditional write or our
 *   conditional delete fails. If our delete fails and the lease is live
 *   again, the member renewed after we read it and we may just have removed
 *   its values, so we put them back from the lease (the same planner's join;
 *   idempotent when the member's own join got there first). The member's
 *   join does the same from its side (see membership.ts).
 */
import {type ErrorKind, ExitCode, errorReport} from '../core/errors.js'
import {memberForJoin, memberForLeave} from '../core/membership.js'
import {serviceTypeOf} from '../core/names.js'
import {planJoin, planLeave} from '../core/planner.js'
import {type Change, fqdn} from '../core/records.js'
import {openProvider, parseProviderKind} from '../providers/catalog.js'
import {type DnsProvider, type ProviderKind} from '../providers/provider.js'
import {openRegistry} from '../registry/open.js'
import {type Lease, type Registry, type StoredLease, isExpired} from '../registry/registry.js'
import {type AppEnv, type ReapRequest} from './request.js'

export type ReapStatus = 'removed' | 'already-gone' | 'renewed' | 'would-remove' | 'failed'

export interface ReapItem {
  service: string
  host: string
  instance?: string
  provider: string
  expiresAt: string
  status: ReapStatus
  /** Changes this reaper made (or would make) to DNS. */
  changes: Change[]
  /** Changes made to put back a member that renewed during the reap. */
  restored?: Change[]
  lease: 'deleted' | 'missing' | 'kept' | 'left (dry run)'
  error?: string
  /** With status 'failed': what kind of failure, and the exit code it calls for. */
  errorKind?: ErrorKind | string
  exitCode?: number
}

export interface ReapResult {
  zone: string
  service?: string
  registry: string
  dryRun: boolean
  leases: number
  expired: number
  removed: number
  items: ReapItem[]
  elapsedMs: number
}

interface ReapOptions {
  zone: string
  service?: string
  registry: Registry
  graceMs: number
  dryRun: boolean
  /** The provider for a lease's provider name (or the --provider override). */
  provider: (kind: string) => Promise<DnsProvider>
  log: (line: string) => void
  now?: () => number
}

// Lease hosts are absolute; the trailing dot (fqdn) keeps parseHost from reading them as relative to the zone.
export function joinInputOf(lease: Lease): Parameters<typeof memberForJoin>[0] {
  return {
    zone: lease.zone,
    service: lease.service,
    ip: lease.address,
    host: fqdn(lease.host),
    port: lease.port,
    priority: lease.priority,
    weight: lease.weight,
    ttl: lease.ttl,
    txt: lease.txt,
    aRecord: lease.aRecord,
  }
}

async function reapOne(s: StoredLease, o: ReapOptions, now: () => number): Promise<ReapItem> {
  const {lease} = s
  const item: ReapItem = {
    service: lease.service,
    host: lease.host,
    provider: lease.provider,
    expiresAt: lease.expiresAt,
    status: 'failed',
    changes: [],
    lease: 'kept',
  }
  const member = memberForLeave({zone: o.zone, service: lease.service, host: fqdn(lease.host)})
  item.instance = member.instance
  const provider = await o.provider(lease.provider)
  const work = planLeave(member)
  if (o.dryRun) {
    const r = await provider.transact(work, {dryRun: true})
    return {...item, status: 'would-remove', changes: r.changes, lease: 'left (dry run)'}
  }
  const removed = await provider.transact(work, {dryRun: false})
  item.changes = removed.changes
  const outcome = await o.registry.delete(o.zone, lease.service, s.memberId, s.etag)
  if (outcome === 'deleted' || outcome === 'missing') {
    return {...item, status: removed.changes.length > 0 ? 'removed' : 'already-gone', lease: outcome}
  }
  // The lease changed since we read it: the member renewed (or re-joined).
  const current = await o.registry.get(o.zone, lease.service, s.memberId)
  if (!current) return {...item, status: removed.changes.length > 0 ? 'removed' : 'already-gone', lease: 'missing'}
  if (isExpired(current.lease, now(), o.graceMs)) {
    // Rewritten but still expired (e.g. joined with a lease already past): the next reap takes it.
    return {...item, status: removed.changes.length > 0 ? 'removed' : 'already-gone', lease: 'kept'}
  }
  o.log(`reap: ${lease.host} renewed its lease during the reap; putting its values back`)
  let restored: Change[] = []
  if (removed.changes.length > 0) {
    restored = (await provider.transact(planJoin(memberForJoin(joinInputOf(current.lease))), {dryRun: false})).changes
  }
  return {...item, status: 'renewed', restored, lease: 'kept'}
}

/**
 * Reap a zone: one deadline for the registry and every provider, one
 * provider per kind named in the leases, opened on first use.
 */
export async function reap(request: ReapRequest, env: AppEnv): Promise<ReapResult> {
  const {deadline} = request
  const providers = new Map<ProviderKind, Promise<DnsProvider>>()
  const providerFor = async (name: string): Promise<DnsProvider> => {
    const choice = await request.provider(parseProviderKind(name))
    let opened = providers.get(choice.kind)
    if (!opened) {
      opened = openProvider(choice, {deadline, log: env.log})
      providers.set(choice.kind, opened)
    }
    return opened
  }
  const registry = await openRegistry(request.registry, {deadline, log: env.log})
  try {
    return await reapWith({...request, registry, provider: providerFor, log: env.log})
  } finally {
    await registry.close()
    for (const p of providers.values()) await p.then((provider) => provider.close()).catch(() => undefined)
  }
}

async function reapWith(o: ReapOptions): Promise<ReapResult> {
  const started = Date.now()
  const now = o.now ?? Date.now
  // A pool (`_v1._web._tcp`) is one directory; a plain type (`_web._tcp`) also covers the pools of that type.
  const pool = o.service !== undefined && o.service.split('.').length === 3
  const leases = (await o.registry.list(o.zone, pool ? o.service : undefined)).filter(
    (s) => s.lease.zone === o.zone && (o.service === undefined || pool || serviceTypeOf(s.lease.service) === o.service),
  )
  const expired = leases.filter((s) => isExpired(s.lease, now(), o.graceMs))
  o.log(`reap: ${leases.length} lease(s) in ${o.registry.url} for ${o.zone}, ${expired.length} expired`)
  const items: ReapItem[] = []
  for (const s of expired) {
    try {
      items.push(await reapOne(s, o, now))
    } catch (error) {
      // Bad input in a lease or a refused provider call stops only this member... unless the store itself fails.
      const report = errorReport(error)
      if (report.kind === 'deadline') throw error
      items.push({
        service: s.lease.service,
        host: s.lease.host,
        provider: s.lease.provider,
        expiresAt: s.lease.expiresAt,
        status: 'failed',
        changes: [],
        lease: 'kept',
        error: report.message,
        errorKind: report.kind,
        // A lease that does not make a valid member is bad data in the store, not bad input to reap.
        exitCode: report.kind === 'bad-input' ? ExitCode.backendRefused : report.exitCode,
      })
    }
  }
  return {
    zone: o.zone,
    service: o.service,
    registry: o.registry.url,
    dryRun: o.dryRun,
    leases: leases.length,
    expired: expired.length,
    removed: items.filter((i) => i.status === 'removed').length,
    items,
    elapsedMs: Date.now() - started,
  }
}
