/**
 * join and leave with a registry: record the intent, then see it applied.
 *
 * 1. One conditional write makes the intent durable: the member's pending
 *    lease (join) or its tombstone (leave). From here on nothing is lost:
 *    whoever applies next (any member of the zone, or `dnssd sync`) applies it.
 * 2. Then, until the deadline: take the zone's apply lease and apply every
 *    pending intent (apply.ts), or, while another member holds it, wait for
 *    our own intent to show as applied, reading the registry, not the DNS API.
 *
 * A leave whose tombstone is written succeeds even when the removal is
 * still pending at its deadline (a shutdown hook has seconds, and the
 * tombstone already makes the removal certain); it says so. A join that is
 * not applied by its deadline exits 5, saying the intent is recorded.
 */
import {type Deadline} from '../core/deadline.js'
import {DeadlineError, InputError} from '../core/errors.js'
import {type Member} from '../core/membership.js'
import {sleep} from '../core/retry.js'
import {type DnsProvider} from '../providers/provider.js'
import {type Lease, type Registry, type StoredLease, memberIdOf} from '../registry/registry.js'
import {type ApplyReport, applyPending, settle, takeApplyTurn} from './apply.js'
import {leaseFor} from './lease.js'
import {type LeaseRequest} from './request.js'

export interface CoalescedOutcome {
  registry: string
  key: string
  intent: 'written' | 'renewed' | 'tombstone'
  /** Who applied the intent to DNS: this member, another one, or nobody yet (a leave past its deadline). */
  appliedBy: 'self' | 'other' | 'pending' | 'superseded'
  expiresAt?: string
  /** This member's apply, when it made one that included its own intent. */
  report?: ApplyReport
  /** The provider change that applied it (Route 53), for --wait. */
  changeId?: string
  /** Applies this member made while waiting (its own intent may have come in a later one). */
  applies: number
}

interface Options {
  deadline: Deadline
  log: (line: string) => void
  provider: () => Promise<DnsProvider>
  providerKind: string
}

/** Stop waiting this long before the deadline: the command still has to answer. */
const MARGIN_MS = 150
/**
 * A waiter reads only its own intent (one small read) and the apply lease,
 * first after POLL_FIRST_MS, then twice as long each time, jittered, up to
 * POLL_MAX_MS: a thousand waiters cost a few hundred reads a second, not a
 * listing of the zone each.
 */
const POLL_FIRST_MS = 100
const POLL_MAX_MS = 2500

export async function coalesced(action: 'join' | 'leave', request: LeaseRequest, member: Member, o: Options): Promise<CoalescedOutcome> {
  const registry = await request.open({deadline: o.deadline, log: o.log})
  try {
    return await run(action, registry, request, member, o)
  } finally {
    await registry.close()
  }
}

async function run(action: 'join' | 'leave', registry: Registry, request: LeaseRequest, member: Member, o: Options): Promise<CoalescedOutcome> {
  const {deadline, log} = o
  const service = member.service.relative
  const memberId = memberIdOf(member.host)
  // A leave replaces whatever is there unconditionally: only a join needs the current lease.
  const current = action === 'join' ? await registry.get(member.zone, service, memberId) : undefined
  if (action === 'join') await registry.prepareWrite(member.zone, service)
  const written = action === 'join' ? await writeJoin(registry, request, member, current, o) : await writeTombstone(registry, member, o)
  const outcome: CoalescedOutcome = {
    registry: registry.url,
    key: written.key,
    intent: action === 'leave' ? 'tombstone' : current && current.lease.intent !== 'leave' ? 'renewed' : 'written',
    appliedBy: 'pending',
    expiresAt: action === 'join' ? written.lease.expiresAt : undefined,
    applies: 0,
  }
  log(`registry: ${action} intent written to ${registry.url} (${written.key}); applying`)

  const holder = `${member.host} ${action} pid ${process.pid} ${Math.random().toString(36).slice(2, 8)}`
  let poll = POLL_FIRST_MS
  let provider: DnsProvider | undefined
  try {
    for (let round = 0; ; round++) {
      if (round > 0) {
        const mine = await registry.get(member.zone, service, memberId)
        const state = stateOf(action, mine)
        if (state !== 'pending') {
          if (outcome.appliedBy === 'pending') outcome.appliedBy = state === 'applied' ? 'other' : 'superseded'
          if (state === 'applied') outcome.changeId ??= mine?.lease.appliedChange
          return outcome
        }
      }
      if (deadline.remainingMs() <= MARGIN_MS) return pastDeadline(action, outcome, member)
      const turn = await takeApplyTurn(registry, member.zone, holder, log)
      if (turn) {
        try {
          const leases = await settle(registry, member.zone, deadline, log)
          provider ??= await o.provider()
          const report = await applyPending({zone: member.zone, registry, provider, deadline, log, leases})
          outcome.applies++
          if (report.joined.includes(member.host) || report.left.includes(member.host)) {
            outcome.appliedBy = 'self'
            outcome.report = report
            outcome.changeId = report.changeId
          }
        } finally {
          await turn.release()
        }
        continue
      }
      const wait = Math.min(poll * (0.5 + Math.random() / 2), deadline.remainingMs() - MARGIN_MS)
      if (wait > 0) await sleep(wait)
      poll = Math.min(POLL_MAX_MS, poll * 2)
    }
  } catch (error) {
    // Past the tombstone a leave has done its part: a deadline anywhere after it (the apply lease,
    // a read, the apply itself) leaves the removal to the next apply.
    if (error instanceof DeadlineError && action === 'leave') return pastDeadline(action, outcome, member)
    throw error
  } finally {
    await provider?.close()
  }
}

/** Where our intent stands: applied, still pending, or replaced by a newer intent of the same member. */
function stateOf(action: 'join' | 'leave', mine: StoredLease | undefined): 'applied' | 'pending' | 'superseded' {
  if (action === 'leave') {
    if (!mine) return 'applied'
    return mine.lease.intent === 'leave' ? 'pending' : 'superseded'
  }
  if (!mine || mine.lease.intent === 'leave') return 'superseded'
  if (mine.lease.refused !== undefined) throw new InputError('--service', `${mine.lease.refused} (the applier refused this join; nothing of it was written to DNS)`)
  if (mine.lease.appliedAt !== undefined) return 'applied'
  return 'pending'
}

function pastDeadline(action: 'join' | 'leave', outcome: CoalescedOutcome, member: Member): CoalescedOutcome {
  if (action === 'leave') return outcome
  throw new DeadlineError(
    `the join of ${member.host} to ${member.instance} is recorded in ${outcome.registry} (${outcome.key}), but no apply took it before the deadline; ` +
      'the next apply (any member\'s join or leave in this zone, or dnssd sync) registers it, or re-run this join with a longer --timeout',
  )
}

async function writeJoin(registry: Registry, request: LeaseRequest, member: Member, current: StoredLease | undefined, o: Options): Promise<StoredLease> {
  for (let round = 0; ; round++) {
    const joinedAt = current && current.lease.intent !== 'leave' ? current.lease.joinedAt : undefined
    const lease: Lease = {...leaseFor(member, o.providerKind, request.seconds ?? 0, request.txt, joinedAt), intent: 'join'}
    // Four conditional writes lost in a row: someone keeps changing this lease. Write it plainly.
    const put = await registry.put(lease, round >= 3 ? undefined : current ? {ifMatch: current.etag} : {ifNoneMatch: '*'})
    if (put !== 'changed') return put
    current = await registry.get(member.zone, member.service.relative, memberIdOf(member.host))
  }
}

/** The tombstone replaces whatever lease the member has: the leave must win. */
async function writeTombstone(registry: Registry, member: Member, o: Options): Promise<StoredLease> {
  const tombstone: Lease = {...leaseFor(member, o.providerKind, 0, undefined, undefined), intent: 'leave'}
  const put = await registry.put(tombstone, undefined)
  if (put === 'changed') throw new Error('an unconditional write cannot be refused')
  return put
}
