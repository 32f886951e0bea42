/**
 * The lease a member keeps in the registry. Outside a dry run, join and leave
 * write it as an intent and see it applied (coalesce.ts); a dry run only
 * checks that the store can be read.
 */
import {type Member} from '../core/membership.js'
import {type Lease, type RegistryOptions, memberIdOf} from '../registry/registry.js'
import {type LeaseRequest} from './request.js'

export interface LeaseReport {
  registry: string
  key?: string
  action: 'written' | 'renewed' | 'deleted' | 'skipped (dry run)' | 'tombstone written'
  expiresAt?: string
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

/**
 * A dry run with --registry: read the member's lease, which proves the store
 * is there and readable (exit 4 otherwise), and write nothing.
 */
export async function checkLeaseStore(request: LeaseRequest, member: Member, options: RegistryOptions): Promise<LeaseReport> {
  const registry = await request.open(options)
  try {
    await registry.get(member.zone, member.service.relative, memberIdOf(member.host))
    return {registry: registry.url, action: 'skipped (dry run)'}
  } finally {
    await registry.close()
  }
}
