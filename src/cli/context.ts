/**
 * Glue shared by the commands: flags -> provider, the membership workflow of
 * join/leave, and the text rendering of a change list.
 */
import {type Member, memberForJoin, memberForLeave} from '../core/membership.js'
import {parseSeconds} from '../core/names.js'
import {planJoin, planLeave} from '../core/planner.js'
import {type Change} from '../core/records.js'
import {explainDeadline, prepareBoot} from '../platform/boot.js'
import {createProvider, parseProviderKind} from '../providers/index.js'
import {type DnsProvider, type ProviderKind} from '../providers/provider.js'
import {type LeaseReport, prepareLease} from '../registry/membership.js'
import {jitterDelayMs, ttlForProvider, waitJitter} from './startup.js'

export interface BackendFlags {
  provider?: string
  'data-dir'?: string
  timeout?: string
  verbose?: boolean
  [key: string]: unknown
}

export interface Backend {
  kind: ProviderKind
  provider: DnsProvider
  deadline: number
}

/** Provider-specific flag values passed through to the provider untouched. */
const PASSTHROUGH = new Set(['provider', 'data-dir', 'timeout', 'verbose', 'json', 'dry-run'])

export async function openBackend(flags: BackendFlags, log: (line: string) => void): Promise<Backend> {
  const kind = parseProviderKind(flags.provider)
  const timeout = parseSeconds(flags.timeout ?? '30', '--timeout')
  const deadline = Date.now() + timeout * 1000
  const settings: Record<string, string | boolean | undefined> = {}
  for (const [k, v] of Object.entries(flags)) {
    if (!PASSTHROUGH.has(k) && (typeof v === 'string' || typeof v === 'boolean')) settings[k] = v
  }
  const provider = await createProvider(kind, {deadline, log, dataDir: flags['data-dir'], settings})
  return {kind, provider, deadline}
}

export interface MembershipFlags extends BackendFlags {
  zone?: string
  service?: string
  ip?: string
  host?: string
  port?: string
  priority?: string
  weight?: string
  ttl?: string
  txt?: string[]
  'a-record'?: string
  'dry-run'?: boolean
  registry?: string
  lease?: string
  jitter?: string
}

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
  /** --wait: milliseconds until the change was INSYNC. */
  inSyncMs?: number
  lease?: LeaseReport
}

export function memberFromFlags(action: 'join' | 'leave', flags: MembershipFlags): Member {
  const input = {
    zone: flags.zone,
    service: flags.service,
    ip: flags.ip,
    host: flags.host,
    port: flags.port,
    priority: flags.priority,
    weight: flags.weight,
    ttl: flags.ttl,
    txt: flags.txt,
    aRecord: flags['a-record'],
  }
  return action === 'join' ? memberForJoin(input) : memberForLeave(input)
}

/** Validate everything, then read-plan-apply through the provider. */
export async function runMembership(
  action: 'join' | 'leave',
  flags: MembershipFlags,
  log: (line: string) => void,
): Promise<MembershipResult> {
  const started = Date.now()
  // --ip auto and the --check gate (src/platform/boot.ts); gate after validation.
  const boot = await prepareBoot(action, ttlForProvider(flags), log)
  const member = memberFromFlags(action, boot.flags)
  const jitterMs = jitterDelayMs(flags.jitter)
  await boot.gate()
  await waitJitter(jitterMs, Boolean(flags['dry-run']), log)
  const backend = await openBackend(boot.flags, log)
  // Lease registry (--registry): checked before the DNS change, written after it.
  const lease = await prepareLease(action, boot.flags, member, backend.kind, {deadline: backend.deadline, log}).catch(async (error: unknown) => {
    await backend.provider.close()
    throw error
  })
  try {
    const {names, plan} = action === 'join' ? planJoin(member) : planLeave(member)
    const dryRun = Boolean(flags['dry-run'])
    const result = await backend.provider.transact(member.zone, names, plan, {dryRun})
    let inSyncMs: number | undefined
    if (flags.wait && !dryRun && result.changeId) {
      const {waitWithSpinner} = await import('./wait.js')
      inSyncMs = await waitWithSpinner(backend.provider, result.changeId, {json: Boolean(flags.json)})
    } else if (flags.wait && result.applied && !result.changeId) result.notes.push('--wait: no change id to wait for (the answer was lost)')
    const leaseReport = await lease?.after(() => backend.provider.transact(member.zone, names, plan, {dryRun}))
    return {
      action,
      zone: member.zone,
      service: member.service.relative,
      instance: member.instance,
      host: member.host,
      address: member.address?.address,
      port: member.port,
      provider: backend.kind,
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
    await backend.provider.close()
  }
}

export function formatChange(c: Change): string {
  return `${c.action === 'add' ? '+' : '-'} ${c.name}. ${c.ttl} IN ${c.type} ${c.value}`
}
