/**
 * `join` and `leave` as plain async functions over a typed request:
 * find the address (`--ip auto`), pass the health gate (`--check`), spread
 * the fleet (`--jitter`), check the lease registry, then read-plan-apply
 * through the provider, wait for propagation (`--wait`) and write or delete
 * the lease. The request's one deadline covers all of it except the gate
 * and the jitter, which have their own bounds.
 */
import {DeadlineError} from '../core/errors.js'
import {type Member, completeMember} from '../core/membership.js'
import {type Address, parseAddress} from '../core/names.js'
import {planJoin, planLeave} from '../core/planner.js'
import {type Change} from '../core/records.js'
import {sleep} from '../core/retry.js'
import {checkMemberFor, openProvider} from '../providers/catalog.js'
import {type ProviderKind} from '../providers/provider.js'
import {type LeaseReport, type LeaseSession, prepareLease} from './lease.js'
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
}

export function join(request: MembershipRequest, env: AppEnv): Promise<MembershipResult> {
  return membership({...request, action: 'join'}, env)
}

export function leave(request: MembershipRequest, env: AppEnv): Promise<MembershipResult> {
  return membership({...request, action: 'leave'}, env)
}

async function membership(request: MembershipRequest, env: AppEnv): Promise<MembershipResult> {
  const started = Date.now()
  const {action, deadline, dryRun, provider: choice} = request
  const {log} = env
  const member = completeMember(request.member, await addressOf(request, env))
  checkMemberFor(choice, member)
  if (request.check) {
    const {waitHealthy} = await import('../platform/health.js')
    const {target, seconds} = request.check
    await deadline.excluding(() => waitHealthy(target, seconds, log))
  }
  if (request.jitterMs > 0 && !dryRun) {
    log(`jitter: waiting ${request.jitterMs} ms before the first API call`)
    await deadline.excluding(() => sleep(request.jitterMs))
  }
  const provider = await openProvider(choice, {deadline, log})
  let lease: LeaseSession | undefined
  try {
    // Lease registry (--registry): checked before the DNS change, written after it.
    if (request.lease) lease = await prepareLease(action, request.lease, member, choice.kind, {deadline, log, dryRun})
    const work = action === 'join' ? planJoin(member) : planLeave(member)
    const result = await provider.transact(work, {dryRun})
    let inSyncMs: number | undefined
    if (request.wait && !dryRun && result.changeId && provider.waitInSync) {
      const changeId = result.changeId
      const shown = env.progress?.(`waiting for ${changeId} to reach every name server`)
      try {
        inSyncMs = (await provider.waitInSync(changeId, (status, ms) => shown?.update(`${changeId}: ${status} after ${(ms / 1000).toFixed(1)} s`))).elapsedMs
        shown?.done(true, `${changeId}: INSYNC after ${(inSyncMs / 1000).toFixed(1)} s`)
      } catch (error) {
        shown?.done(false, `${changeId}: not INSYNC`)
        throw error
      }
    } else if (request.wait && result.applied && !result.changeId) {
      result.notes.push('--wait: the answer to the change was lost, so there is no change id to wait for')
    }
    const leaseReport = await lease?.after(() => provider.transact(work, {dryRun}))
    return {
      action,
      zone: member.zone,
      service: member.service.relative,
      instance: member.instance,
      host: member.host,
      address: member.address?.address,
      port: member.port,
      provider: choice.kind,
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
    throw explainDeadline(error, action, member)
  } finally {
    await lease?.close()
    await provider.close()
  }
}

/** The member's address: as given, or found by `--ip auto` inside the deadline. */
async function addressOf(request: MembershipRequest, env: AppEnv): Promise<Address | undefined> {
  const given = request.member.address
  if (given !== 'auto') return given
  const {resolveAutoAddress} = await import('../platform/ipauto.js')
  const started = Date.now()
  // Each metadata request gets at most a third of what is left of --timeout.
  const timeoutMs = Math.min(1000, Math.max(50, Math.floor(request.deadline.remainingMs() / 3)))
  const found = await resolveAutoAddress({source: request.ipSource, log: env.log, timeoutMs})
  env.log(`ip: auto -> ${found.address} from ${found.from} (${Date.now() - started} ms)`)
  return parseAddress(found.address)
}

/** Rewrite a DeadlineError so the operator knows what state the zone may be in. */
function explainDeadline(error: unknown, action: 'join' | 'leave', member: Member): unknown {
  if (!(error instanceof DeadlineError)) return error
  const what =
    action === 'leave'
      ? `${member.instance} may still list ${member.host} (its SRV, PTR, TXT and address records may be left behind); run the same leave again, it is safe to repeat`
      : `the join of ${member.host} to ${member.instance} may be missing or partly written (at most an address record without its SRV); run the same join again to finish it, or leave to undo it`
  return new DeadlineError(`${error.message}. ${what}`, {cause: error})
}
