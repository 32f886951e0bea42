/**
 * `join` and `leave` as plain async functions over a typed request:
 * find the address (`--ip auto`), pass the health gate (`--check`), spread
 * the fleet (`--jitter`), check the lease registry, then read-plan-apply
 * through the provider, wait for propagation (`--wait`) and write or delete
 * the lease. The request's one deadline covers all of it except the gate
 * and the jitter, which have their own bounds.
 */
import {DeadlineError} from '../core/errors.js'
import {type Member} from '../core/membership.js'
import {planJoin, planLeave} from '../core/planner.js'
import {type Change} from '../core/records.js'
import {sleep} from '../core/retry.js'
import {openProvider} from '../providers/catalog.js'
import {type DnsProvider, type ProviderKind} from '../providers/provider.js'
import {type CoalescedOutcome} from './coalesce.js'
import {type LeaseReport} from './lease.js'
import {type AppEnv, type MembershipRequest} from './request.js'

export interface MembershipResult {
  action: 'join' | 'leave'
  zone: string
  service: string
  instance: string
  host: string
  address?: string
  port?: number
  provider: ProviderKind
  dryRun: boolean
  applied: boolean
  changes: Change[]
  notes: string[]
  attempts: number
  elapsedMs: number
  request?: unknown
  changeId?: string
  /** --wait: milliseconds until the change was live everywhere. */
  inSyncMs?: number
  lease?: LeaseReport
  /** With a registry: who applied this member's intent, and this member's own apply. */
  coalesced?: {appliedBy: CoalescedOutcome['appliedBy']; applies: number; apply?: {intents: number; changes: number; joined: number; left: number; expired: number}}
}

/** Who the result is about: the same in every outcome. */
function identity(action: 'join' | 'leave', member: Member, provider: ProviderKind): Pick<MembershipResult, 'action' | 'zone' | 'service' | 'instance' | 'host' | 'address' | 'port' | 'provider'> {
  return {
    action,
    zone: member.zone,
    service: member.service.relative,
    instance: member.instance,
    host: member.host,
    address: member.address?.address,
    port: member.port,
    provider,
  }
}

export function join(request: MembershipRequest, env: AppEnv): Promise<MembershipResult> {
  return membership({...request, action: 'join'}, env)
}

export function leave(request: MembershipRequest, env: AppEnv): Promise<MembershipResult> {
  return membership({...request, action: 'leave'}, env)
}

async function membership(request: MembershipRequest, env: AppEnv): Promise<MembershipResult> {
  const started = Date.now()
  const {action, deadline, dryRun, provider: choice, gate, lease: leaseRequest} = request
  const {log} = env
  let member: Member
  if ('pending' in request.member) {
    // Each metadata request gets at most a third of what is left of --timeout.
    const found = await request.member.find(log, Math.min(1000, Math.max(50, Math.floor(deadline.remainingMs() / 3))))
    log(`ip: auto -> ${found.member.address?.address} from ${found.from} (${Date.now() - started} ms)`)
    member = found.member
  } else {
    member = request.member
  }
  if (gate) await deadline.excluding(() => gate.wait(log))
  if (request.jitterMs > 0 && !dryRun) {
    log(`jitter: waiting ${request.jitterMs} ms before the first API call`)
    await deadline.excluding(() => sleep(request.jitterMs))
  }
  if (leaseRequest && !dryRun) return coalescedMembership(action, request, member, env, started)
  // Lease registry with --dry-run: checked, and the plan shown, but nothing written.
  const leaseReport = leaseRequest ? await (await import('./lease.js')).checkLeaseStore(leaseRequest, member, {deadline, log}) : undefined
  let provider: DnsProvider | undefined
  try {
    provider = await openProvider(choice, {deadline, log})
    const open = provider
    const work = action === 'join' ? planJoin(member) : planLeave(member)
    const result = await open.transact(work, {dryRun})
    let inSyncMs: number | undefined
    if (request.wait && !dryRun && result.changeId && open.waitInSync) {
      inSyncMs = await waitLive(open, result.changeId, env)
    } else if (request.wait && result.applied && !result.changeId) {
      result.notes.push('--wait: the answer to the change was lost, so there is no change id to wait for')
    }
    return {
      ...identity(action, member, choice.kind),
      dryRun,
      applied: result.applied,
      changes: result.changes,
      notes: result.notes,
      attempts: result.attempts,
      elapsedMs: Date.now() - started,
      request: result.request,
      changeId: result.changeId,
      inSyncMs,
      lease: leaseReport,
    }
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error
    // Say what state the zone may be in.
    const what =
      action === 'leave'
        ? `${member.instance} may still list ${member.host} (its SRV, PTR, TXT and address records may be left behind); run the same leave again, it is safe to repeat`
        : `the join of ${member.host} to ${member.instance} may be missing or partly written (at most an address record without its SRV); run the same join again to finish it, or leave to undo it`
    throw new DeadlineError(`${error.message}. ${what}`, {cause: error})
  } finally {
    await provider?.close()
  }
}

/** --wait: until the change is live on every name server, with a spinner a person may watch. */
async function waitLive(provider: DnsProvider, changeId: string, env: AppEnv): Promise<number> {
  const shown = env.progress?.(`waiting for ${changeId} to reach every name server`)
  try {
    const {elapsedMs} = await provider.waitInSync!(changeId, (status, ms) => shown?.update(`${changeId}: ${status} after ${(ms / 1000).toFixed(1)} s`))
    shown?.done(true, `${changeId}: INSYNC after ${(elapsedMs / 1000).toFixed(1)} s`)
    return elapsedMs
  } catch (error) {
    shown?.done(false, `${changeId}: not INSYNC`)
    throw error
  }
}

/**
 * With a registry: record the intent there, then apply every pending intent
 * of the zone (or see another member apply ours). See coalesce.ts, loaded
 * here only: a join or leave without a registry (a boot script's) starts
 * without it and the apply and registry modules it brings.
 */
async function coalescedMembership(action: 'join' | 'leave', request: MembershipRequest, member: Member, env: AppEnv, started: number): Promise<MembershipResult> {
  const {deadline, provider: choice} = request
  const {log} = env
  const {coalesced} = await import('./coalesce.js')
  const outcome = await coalesced(action, request.lease!, member, {
    deadline,
    log,
    providerKind: choice.kind,
    provider: () => openProvider(choice, {deadline, log}),
  })
  const notes = coalescedNotes(action, outcome)
  let inSyncMs: number | undefined
  if (request.wait && outcome.changeId && outcome.appliedBy !== 'pending') {
    const provider = await openProvider(choice, {deadline, log})
    try {
      if (provider.waitInSync) inSyncMs = await waitLive(provider, outcome.changeId, env)
    } finally {
      await provider.close()
    }
  }
  const report = outcome.report
  return {
    ...identity(action, member, choice.kind),
    dryRun: false,
    applied: outcome.appliedBy === 'self' && (report?.changes ?? 0) > 0,
    changes: [],
    notes,
    attempts: report?.attempts ?? 0,
    elapsedMs: Date.now() - started,
    changeId: outcome.changeId,
    inSyncMs,
    lease: {
      registry: outcome.registry,
      key: outcome.key,
      // A leave applied (by anyone) has its tombstone, and with it the lease, deleted.
      action: outcome.intent !== 'tombstone' ? outcome.intent : outcome.appliedBy === 'pending' ? 'tombstone written' : 'deleted',
      expiresAt: outcome.expiresAt,
    },
    coalesced: {appliedBy: outcome.appliedBy, applies: outcome.applies, ...(report ? {apply: {intents: report.pending, changes: report.changes, joined: report.joined.length, left: report.left.length, expired: report.expired.length}} : {})},
  }
}

function coalescedNotes(action: 'join' | 'leave', o: CoalescedOutcome): string[] {
  const r = o.report
  switch (o.appliedBy) {
    case 'self':
      return [`applied by this member: ${r?.pending ?? 0} pending intent(s) of the zone in one plan of ${r?.changes ?? 0} change(s)`]
    case 'other':
      return [`applied by another member's apply (read from ${o.registry})`]
    case 'superseded':
      return [`a newer ${action === 'join' ? 'leave' : 'join'} of this member replaced this intent in ${o.registry}`]
    case 'pending':
      return [`the tombstone is written in ${o.registry}; the DNS removal is pending and the next apply (any member's join or leave in this zone, or dnssd sync) makes it`]
  }
}
