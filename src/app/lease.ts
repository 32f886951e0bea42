/**
 * The lease side of join/leave. `prepareLease` runs BEFORE the DNS change:
 * it reads the member's current lease, which proves the store is there and
 * readable (exit 4 otherwise), so a bad registry changes nothing (the URL and
 * --lease were checked at the command edge). `after` runs AFTER the DNS change succeeded:
 * join writes or renews the lease, leave deletes it.
 *
 * A renewal writes conditionally on the ETag it read. If the lease changed
 * meanwhile, a reaper may have removed this member's values between our DNS
 * change and our write; the (idempotent) DNS join is re-applied and the lease
 * written again, so a member renewing during a reap ends up registered.
 */
import {type Deadline} from '../core/deadline.js'
import {DnssdError} from '../core/errors.js'
import {type Member} from '../core/membership.js'
import {type Lease, type Registry, type StoredLease, memberIdOf} from '../registry/registry.js'
import {type LeaseRequest} from './request.js'

export interface LeaseReport {
  registry: string
  key?: string
  action: 'written' | 'renewed' | 'deleted' | 'absent' | 'skipped (dry run)' | 'tombstone written'
  expiresAt?: string
  /** Times the DNS join was re-applied because the lease changed under us (a reap raced the renewal). */
  rejoined?: number
}

export interface LeaseSession {
  /** Call once the DNS change has succeeded. `rejoin` re-applies the DNS join. */
  after(rejoin: () => Promise<unknown>): Promise<LeaseReport>
  close(): Promise<void>
}

/** The lease a member writes: its identity plus what a reaper needs to restore it. */
export function leaseFor(member: Member, provider: string, seconds: number, txt: string[] | undefined, joinedAt: string | undefined, now = Date.now()): Lease {
  return {
    zone: member.zone,
    service: member.service.relative,
    host: member.host,
    address: member.address?.address,
    port: member.port,
    priority: member.priority,
    weight: member.weight,
    provider,
    joinedAt: joinedAt ?? new Date(now).toISOString(),
    renewedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + seconds * 1000).toISOString(),
    ttl: member.ttl,
    txt,
    aRecord: member.aRecord,
    leaseSeconds: seconds,
  }
}

export async function prepareLease(
  action: 'join' | 'leave',
  request: LeaseRequest,
  member: Member,
  provider: string,
  options: {deadline: Deadline; log: (line: string) => void; dryRun: boolean},
): Promise<LeaseSession> {
  const registry: Registry = await request.open(options)
  const memberId = memberIdOf(member.host)
  const service = member.service.relative
  const seconds = request.seconds ?? 0
  const {dryRun} = options
  let current: StoredLease | undefined
  try {
    current = await registry.get(member.zone, service, memberId)
    if (action === 'join' && !dryRun) await registry.prepareWrite(member.zone, service)
  } catch (error) {
    await registry.close()
    throw error
  }

  return {
    close: () => registry.close(),
    async after(rejoin) {
      try {
        if (dryRun) return {registry: registry.url, action: 'skipped (dry run)'}
        if (action === 'leave') {
          const outcome = await registry.delete(member.zone, service, memberId)
          return {registry: registry.url, action: outcome === 'deleted' ? 'deleted' : 'absent'}
        }
        let rejoined = 0
        for (let round = 0; ; round++) {
          const lease = leaseFor(member, provider, seconds, request.txt, current?.lease.joinedAt)
          const put = await registry.put(lease, current ? {ifMatch: current.etag} : {ifNoneMatch: '*'})
          if (put !== 'changed') {
            return {registry: registry.url, key: put.key, action: current ? 'renewed' : 'written', expiresAt: lease.expiresAt, rejoined}
          }
          if (round >= 3) {
            // Four conditional writes lost in a row: someone keeps changing this lease. Write it plainly.
            const last = await registry.put(lease, undefined)
            return {registry: registry.url, key: (last as StoredLease).key, action: 'written', expiresAt: lease.expiresAt, rejoined}
          }
          options.log(`lease: ${registry.url} changed under this join (a reaper?); re-applying the DNS join`)
          await rejoin()
          rejoined++
          current = await registry.get(member.zone, service, memberId)
        }
      } catch (error) {
        // The DNS change is done; say so, so the operator knows what re-running will fix.
        if (!(error instanceof DnssdError)) throw error
        const done = action === 'join' ? 'joined in DNS, but the lease was not written' : 'left DNS, but the lease was not deleted'
        throw new DnssdError(error.kind, `${done} (re-run ${action}): ${error.message}`, {cause: error})
      }
    },
  }
}
