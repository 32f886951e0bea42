/**
 * The coalesced apply (issue 13): members with a registry record their
 * intent there (a pending lease for a join, a tombstone for a leave), and one
 * member at a time, holding the zone's apply lease, applies EVERY pending
 * intent of the zone as one combined plan (combineWorks), which the provider
 * sends in as few changes as its limits allow. A thousand members joining at
 * once then cost a handful of provider calls instead of thousands.
 *
 * The plan from the registry:
 * - a tombstone, or (sync only) a join lease whose time ran out: the member's leave;
 * - a pending join lease (no `appliedAt`): the member's join;
 * - with `reconcile` (sync), every live join lease too, so DNS values lost
 *   meanwhile come back (the planner makes no change for what is there).
 * After the provider confirmed, each intent is marked conditionally on the
 * ETag read: a join lease gets `appliedAt`, a tombstone or expired lease is
 * deleted. An intent rewritten meanwhile keeps its new version, which is
 * pending, so the next apply takes it: nothing is lost, nothing marked wrongly.
 */
import {type Deadline} from '../core/deadline.js'
import {InputError, errorReport} from '../core/errors.js'
import {memberForJoin, memberForLeave} from '../core/membership.js'
import {type Work, combineWorks, planJoin, planLeave} from '../core/planner.js'
import {fqdn} from '../core/records.js'
import {sleep} from '../core/retry.js'
import {type DnsProvider} from '../providers/provider.js'
import {type ApplyLease, type Registry, type StoredLease, isExpired, isPendingJoin} from '../registry/registry.js'
import {joinInputOf} from './reap.js'

/** How long an apply lease lasts without renewal; its holder renews it every third of that. */
export const APPLY_LEASE_MS = 15_000
/** While intents keep arriving, wait this long (at most MAX_SETTLE_MS in all) before reading them. */
const SETTLE_STEP_MS = 250
const MAX_SETTLE_MS = 2000
const MARK_CONCURRENCY = 16

export interface ApplyReport {
  /** Intents found: pending joins, tombstones, expired leases. */
  pending: number
  joined: string[]
  left: string[]
  expired: string[]
  /**
   * Leases skipped: `provider` when the member joined through another provider (sync
   * applies those with that provider's own plan), `invalid` when the lease does not make a member.
   */
  skipped: {host: string; service: string; why: string; kind: 'provider' | 'invalid'}[]
  changes: number
  attempts: number
  changeId?: string
  /** Intents marked applied (or deleted) in the registry. */
  marked: number
  /** Intents rewritten during the apply: left pending for the next one. */
  superseded: number
  /** Join intents the provider refused as bad input (a pool past its size limit): marked refused, their members exit 2. */
  refused: {host: string; service: string; why: string}[]
}

export interface ApplyOptions {
  zone: string
  registry: Registry
  provider: DnsProvider
  deadline: Deadline
  log: (line: string) => void
  /** Re-assert every live lease, not only pending ones (sync). */
  reconcile?: boolean
  /**
   * Remove members whose lease expired (sync, with its --grace). A member's
   * own apply leaves expired leases alone: whether a silent member is gone is
   * the operator's call (sync or reap, with their grace), not a neighbour's.
   */
  expire?: boolean
  graceMs?: number
  dryRun?: boolean
  now?: () => number
  /** The zone's leases, when the caller has just listed them (settle). */
  leases?: StoredLease[]
}

/** Apply the zone's pending intents once. The caller holds the apply lease (or runs alone, as sync may). */
export async function applyPending(o: ApplyOptions): Promise<ApplyReport> {
  const now = o.now ?? Date.now
  const leases = (o.leases ?? (await o.registry.list(o.zone))).filter((s) => s.lease.zone === o.zone)
  const report: ApplyReport = {pending: 0, joined: [], left: [], expired: [], skipped: [], changes: 0, attempts: 0, marked: 0, superseded: 0, refused: []}
  const removals: {s: StoredLease; work: Work; kind: 'left' | 'expired'}[] = []
  const joins: {s: StoredLease; work: Work; pending: boolean}[] = []
  for (const s of leases) {
    if (s.lease.provider !== o.provider.kind) {
      report.skipped.push({host: s.lease.host, service: s.lease.service, why: `joined through ${s.lease.provider}, not ${o.provider.kind}`, kind: 'provider'})
      continue
    }
    try {
      const expired = isExpired(s.lease, now(), o.graceMs ?? 0)
      if (s.lease.intent === 'leave' || (expired && o.expire)) {
        const member = memberForLeave({zone: o.zone, service: s.lease.service, host: fqdn(s.lease.host)})
        removals.push({s, work: planLeave(member), kind: s.lease.intent === 'leave' ? 'left' : 'expired'})
      } else if (isPendingJoin(s.lease) || (o.reconcile && !expired)) {
        // A pending join is applied even if its (short) lease ran out while it waited: its member is alive,
        // waiting for it; whether an expired member is gone is for sync and reap to decide, with their grace.
        joins.push({s, work: planJoin(memberForJoin(joinInputOf(s.lease))), pending: isPendingJoin(s.lease)})
      }
    } catch (error) {
      report.skipped.push({host: s.lease.host, service: s.lease.service, why: errorReport(error).message, kind: 'invalid'})
    }
  }
  report.pending = removals.length + joins.filter((j) => j.pending).length
  for (const k of report.skipped) o.log(`apply: skipping ${k.host} ${k.service}: ${k.why}`)
  if (report.pending === 0 && !o.reconcile) return report
  o.log(`apply: ${o.zone}: ${removals.length} to remove, ${joins.filter((j) => j.pending).length} to add${o.reconcile ? `, ${joins.length} live leases re-asserted` : ''}`)
  if (removals.length + joins.length === 0) return report
  const refused = await applyIsolating(o, removals, joins, report)
  if (o.dryRun) return report
  const appliedAt = new Date(now()).toISOString()
  const superseded = (s: StoredLease): void => {
    report.superseded++
    o.log(`apply: ${s.lease.host} ${s.lease.service} was rewritten during the apply; the next apply takes its new intent`)
  }
  const marks: (() => Promise<void>)[] = []
  for (const r of removals) {
    marks.push(async () => {
      const outcome = await o.registry.delete(o.zone, r.s.lease.service, r.s.memberId, r.s.etag)
      if (outcome === 'changed') return superseded(r.s)
      report.marked++
      ;(r.kind === 'left' ? report.left : report.expired).push(r.s.lease.host)
    })
  }
  for (const j of joins.filter((j) => j.pending)) {
    marks.push(async () => {
      const why = refused.get(j.s)
      const marked = why !== undefined ? {...j.s.lease, refused: why} : {...j.s.lease, appliedAt, ...(report.changeId ? {appliedChange: report.changeId} : {})}
      const put = await o.registry.put(marked, {ifMatch: j.s.etag})
      if (put === 'changed') return superseded(j.s)
      report.marked++
      if (why === undefined) report.joined.push(j.s.lease.host)
      else report.refused.push({host: j.s.lease.host, service: j.s.lease.service, why})
    })
  }
  await inParallel(marks, MARK_CONCURRENCY)
  return report
}

type Planned = {s: StoredLease; work: Work}

/**
 * Send the combined plan. If the provider refuses it as bad input (one pool
 * past the backend's size limit), that must not block the rest of the zone:
 * apply the removals alone (they never grow a set), then each pool's joins
 * alone, and report the joins of a pool that is still refused, with why.
 */
async function applyIsolating(o: ApplyOptions, removals: Planned[], joins: (Planned & {pending: boolean})[], report: ApplyReport): Promise<Map<StoredLease, string>> {
  const refused = new Map<StoredLease, string>()
  const send = async (group: Planned[]): Promise<void> => {
    const result = await o.provider.transact(combineWorks(o.zone, group.map((g) => g.work)), {dryRun: o.dryRun ?? false})
    report.changes += result.changes.length
    report.attempts += result.attempts
    report.changeId = result.changeId ?? report.changeId
  }
  // Removals first: a member that leaves one pool and joins another composes in that order.
  try {
    await send([...removals, ...joins])
    return refused
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    o.log(`apply: the provider refused the combined plan (${error.message}); applying removals, then each pool, alone`)
  }
  if (removals.length > 0) await send(removals)
  const pools = new Map<string, (Planned & {pending: boolean})[]>()
  for (const j of joins) pools.set(j.s.lease.service, [...(pools.get(j.s.lease.service) ?? []), j])
  for (const [service, group] of pools) {
    try {
      await send(group)
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      o.log(`apply: ${service}: refused: ${error.message}`)
      const rule = error.message.startsWith(`${error.input}: `) ? error.message.slice(error.input.length + 2) : error.message
      for (const j of group) refused.set(j.s, rule)
    }
  }
  return refused
}

async function inParallel(tasks: (() => Promise<void>)[], width: number): Promise<void> {
  const queue = [...tasks]
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t; t = queue.shift()) await t()
  }
  await Promise.all(Array.from({length: Math.min(width, queue.length)}, worker))
}

/** A held apply lease: renewed in the background until released. */
export interface ApplyTurn {
  release(): Promise<void>
}

/**
 * Take the zone's apply lease if nobody holds it (or its holder stopped
 * renewing it): one conditional write. Undefined when another member holds it.
 */
export async function takeApplyTurn(registry: Registry, zone: string, holder: string, log: (line: string) => void, now: () => number = Date.now): Promise<ApplyTurn | undefined> {
  const current = await registry.getApply(zone)
  if (current && Date.parse(current.lease.expiresAt) > now()) return undefined
  const lease = (): ApplyLease => ({holder, acquiredAt: new Date(now()).toISOString(), expiresAt: new Date(now() + APPLY_LEASE_MS).toISOString()})
  const taken = await registry.putApply(zone, lease(), current ? {ifMatch: current.etag} : {ifNoneMatch: '*'})
  if (taken === 'changed') return undefined
  if (current) log(`apply: took over the apply lease of ${current.lease.holder}, which stopped renewing it`)
  let etag = taken.etag
  let ours = true
  let stopped = false
  let renewal: Promise<void> = Promise.resolve()
  const timer = setInterval(() => {
    renewal = renewal.then(async () => {
      if (stopped || !ours) return
      const renewed = await registry.putApply(zone, lease(), {ifMatch: etag}).catch(() => undefined)
      if (renewed === 'changed') {
        ours = false
        log('apply: the apply lease was taken over while this member held it')
      } else if (renewed) {
        etag = renewed.etag
      }
    })
  }, APPLY_LEASE_MS / 3)
  timer.unref()
  return {
    async release() {
      stopped = true
      clearInterval(timer)
      await renewal
      if (ours) await registry.deleteApply(zone, etag).catch((error: unknown) => log(`apply: could not release the apply lease: ${(error as Error).message}`))
    },
  }
}

/**
 * Before reading the intents, give a fleet that is arriving a moment to
 * write theirs: while the leases keep changing, wait a little (bounded), so
 * one apply takes them all. A lone member never waits, and gets the listing
 * back for its apply; after a wait the apply reads the leases anew.
 */
export async function settle(registry: Registry, zone: string, deadline: Deadline, log: (line: string) => void): Promise<StoredLease[] | undefined> {
  const leases = await registry.list(zone)
  const pending = leases.filter((s) => s.lease.intent === 'leave' || isPendingJoin(s.lease)).length
  if (pending <= 1) return leases
  // From here on only the cheap fingerprint (names and versions): the apply reads the bodies once.
  let last = await registry.fingerprint(zone)
  let waited = 0
  while (waited < MAX_SETTLE_MS && deadline.remainingMs() > 4 * SETTLE_STEP_MS) {
    await sleep(SETTLE_STEP_MS)
    waited += SETTLE_STEP_MS
    const next = await registry.fingerprint(zone)
    if (next === last) break
    last = next
  }
  if (waited > 0) log(`apply: waited ${waited} ms for arriving intents (${pending} pending when the apply lease was taken)`)
  return waited > 0 ? undefined : leases
}
