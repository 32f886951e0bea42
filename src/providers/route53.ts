/**
 * Route 53 backend on @aws-sdk/client-route-53 (imported lazily).
 *
 * A command reads the few names it touches (one ListResourceRecordSets page
 * from the lowest of them usually covers all: they sort next to each other),
 * plans with the core planner and applies it as ChangeBatches: per touched
 * RRset DELETE(exactly what was read) + CREATE(new), CREATE when absent,
 * DELETE when it becomes empty. One member's plan is one batch; a coalesced
 * plan past Route 53's per-request limits is split into as few batches as
 * the limits allow, in the planner's phase order (route53-batches.ts). Route
 * 53 evaluates a batch atomically, so each is a compare-and-swap of the sets
 * it touches: a concurrent writer makes it fail with InvalidChangeBatch, and
 * we re-read, re-plan (a planner never adds a present value, so the new plan
 * is what is left: batches already applied stay applied) and go on, with
 * jittered exponential backoff until the deadline. UPSERT is never used
 * (last writer wins, registrations lost).
 *
 * The SDK's own retries are off (maxAttempts 1): this loop owns retries and
 * the deadline, every attempt is logged (`route53: call <Operation> ...`) and
 * aborted when the deadline passes. Calls are paced to the account's 5
 * requests/s. A batch whose answer was lost is sent again as it is (still a
 * compare-and-swap: if the first copy landed, the second is refused as a
 * conflict) and then reconciled by the next read: if it landed, the re-plan
 * no longer holds it.
 */
import type {ResourceRecordSet, Route53Client} from '@aws-sdk/client-route-53'
import {BackendError, DeadlineError, InputError} from '../core/errors.js'
import {type Work} from '../core/planner.js'
import {type Change, type RecordType, ZoneState, groupByRRset} from '../core/records.js'
import {type Backoff, backoffMs, retry, sleep} from '../core/retry.js'
import {readAndPlan} from '../core/transact.js'
import {type Route53Settings} from './catalog.js'
import {type DnsProvider, type ProviderOptions, type TransactResult} from './provider.js'
import {splitIntoBatches} from './route53-batches.js'
import {
  compareRoute53Order,
  isConcurrencyMessage,
  nameFromWire,
  nameToWire,
  splitChangeBatchMessages,
  valueFromWire,
} from './route53-wire.js'

/**
 * Backoff (full jitter: random(0, min(cap, base x 2^n)) ms). Route 53 allows
 * 5 requests/s per account, shared by every member: a conflict means others
 * are writing the same RRset, so losers spread out widely; a throttled change
 * retries quickly because its read is about to go stale, a throttled read
 * steps back for it.
 */
const BACKOFF: Record<'conflict' | 'readThrottle' | 'changeThrottle' | 'transient' | 'poll', Backoff> = {
  conflict: {baseMs: 500, capMs: 10_000},
  readThrottle: {baseMs: 1000, capMs: 10_000},
  changeThrottle: {baseMs: 60, capMs: 250},
  transient: {baseMs: 100, capMs: 4000},
  /** GetChange while waiting for INSYNC (--wait). */
  poll: {baseMs: 500, capMs: 5000},
}

/** Route 53 returns at most 300 RRsets a page. */
export const PAGE_SIZE = 300

/**
 * Route 53 takes 5 requests/s per account (reference §3.7). One process
 * sends at most 5 requests in any PACING_WINDOW_MS: a member's own join
 * (2-3 calls) goes at once, a coalesced apply of many pages and batches
 * spreads itself instead of spending requests on being throttled. The window
 * is 10% longer than a second so that requests bunched up on the way (the
 * service counts arrivals, we count departures) still stay under the rate.
 */
const REQUESTS_PER_SECOND = 5
const PACING_WINDOW_MS = 1100

const THROTTLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'SlowDown',
])
const TRANSIENT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'InternalFailure', 'ServiceUnavailable'])
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH'])
const CREDENTIAL_CODES = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'ExpiredToken', 'ExpiredTokenException', 'InvalidSignatureException', 'IncompleteSignature', 'MissingAuthenticationToken'])

interface WireSet {
  name: string
  type: RecordType
  ttl: number
  /** Values exactly as Route 53 returned them (a DELETE must repeat them). */
  wire: string[]
  /** The same values in dnssd's canonical form. */
  values: string[]
  /** Alias or routing-policy set: dnssd never changes those. */
  special: boolean
}

interface Page {
  from: string
  /** First RRset of the next page (exclusive end); undefined = end of zone. */
  next?: string
}

type Failure = 'throttle' | 'transient' | 'uncertain'

class DeadlinePassed extends Error {
  constructor(readonly op: string) {
    super(`deadline passed during ${op}`)
  }
}

/** A transact round that must be tried again: a lost answer or a conflict. */
class Again extends Error {
  constructor(
    readonly why: 'uncertain' | 'conflict',
    readonly n: number,
    detail: string,
  ) {
    super(detail)
  }
}

/** GetChange said PENDING. */
class NotInSync extends Error {}

const setKey = (name: string, type: string): string => `${name} ${type}`
const changeKey = (c: Change): string => `${c.action} ${c.name} ${c.type} ${c.value}`

function describeChange(c: Change): string {
  return `${c.action === 'add' ? 'add' : 'remove'} ${c.type} ${c.value} at ${c.name}`
}

export class Route53Provider implements DnsProvider {
  readonly kind = 'route53'
  private readonly options: ProviderOptions<Route53Settings>
  private client?: Route53Client
  private sdk?: typeof import('@aws-sdk/client-route-53')
  private readonly zoneIds = new Map<string, string>()
  private readonly explicitZoneId?: string
  private readonly visibility?: 'private' | 'public'
  /** When the last REQUESTS_PER_SECOND calls were sent (the pacing window). */
  private readonly recentCalls: number[] = []

  constructor(options: ProviderOptions<Route53Settings>) {
    this.options = options
    this.explicitZoneId = options.settings.zoneId
    this.visibility = options.settings.visibility
  }

  // ------------------------------------------------------------ API calls

  private async getClient(): Promise<Route53Client> {
    if (this.client) return this.client
    this.sdk = await import('@aws-sdk/client-route-53')
    const {NodeHttpHandler} = await import('@smithy/node-http-handler')
    this.client = new this.sdk.Route53Client({
      // Route 53 is global (signed for us-east-1 in the aws partition); the
      // region only selects the partition, so a missing one is not an error.
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      // Our loop owns retries so every attempt is counted, logged and bounded by the deadline.
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({connectionTimeout: 5000}),
    })
    return this.client
  }

  /** One request attempt, aborted when the deadline passes. */
  private async attempt<T>(op: string, detail: string, input: object): Promise<T> {
    const client = await this.getClient()
    const sdk = this.sdk as unknown as Record<string, new (input: object) => never>
    const command = new sdk[`${op}Command`]!(input)
    if (this.options.deadline.passed()) throw new DeadlinePassed(op)
    await this.pace(op)
    this.options.log(`route53: call ${op}${detail ? ` ${detail}` : ''}`)
    return this.options.deadline.bound(() => new DeadlinePassed(op), (abortSignal) => client.send(command, {abortSignal}) as Promise<T>)
  }

  /** Wait until this call keeps the process within REQUESTS_PER_SECOND calls in any PACING_WINDOW_MS. */
  private async pace(op: string): Promise<void> {
    const calls = this.recentCalls
    if (calls.length >= REQUESTS_PER_SECOND) {
      const waitMs = calls[calls.length - REQUESTS_PER_SECOND]! + PACING_WINDOW_MS - Date.now()
      if (waitMs > 0) {
        if (this.options.deadline.wouldPass(waitMs)) throw new DeadlinePassed(op)
        await sleep(waitMs)
      }
    }
    calls.push(Date.now())
    if (calls.length > REQUESTS_PER_SECOND) calls.splice(0, calls.length - REQUESTS_PER_SECOND)
  }

  /** How an error should be handled: retried (and how) or refused. */
  private classify(error: unknown): Failure | undefined {
    const e = error as {name?: string; code?: string; $metadata?: {httpStatusCode?: number}; message?: string}
    const status = e.$metadata?.httpStatusCode
    if (THROTTLE_CODES.has(e.name ?? '') || status === 429) return 'throttle'
    if (TRANSIENT_CODES.has(e.name ?? '') || (status !== undefined && status >= 500)) return 'transient'
    if (NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(e.name ?? '') || /socket hang up|ECONNRESET|EPIPE/i.test(e.message ?? '')) {
      return 'uncertain'
    }
    return undefined
  }

  /** The refusal an operator can act on (exit 4), or the deadline (exit 5). */
  private refusal(error: unknown, op: string, zoneId?: string): Error {
    if (error instanceof DeadlinePassed) return this.deadlineError(error.op, 'nothing was changed')
    const e = error as {name?: string; message?: string; $metadata?: {httpStatusCode?: number}}
    const name = e.name ?? ''
    const message = e.message ?? String(error)
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
      return new BackendError(
        'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run on an instance with an IAM role (`dnssd policy route53 --zone-id ID` prints the policy it needs)',
        {cause: error},
      )
    }
    if (CREDENTIAL_CODES.has(name)) {
      return new BackendError(`Route 53 rejected the AWS credentials (${name}) on ${op}: check the access key, session token and clock of this machine`, {cause: error})
    }
    if (name === 'AccessDenied' || name === 'AccessDeniedException' || e.$metadata?.httpStatusCode === 403) {
      const fix = zoneId ? `dnssd policy route53 --zone-id ${zoneId}` : 'dnssd policy route53 --zone-id ID --by-name'
      return new BackendError(`Route 53 denied ${op}: ${message}. Attach the policy printed by \`${fix}\` to this identity`, {cause: error})
    }
    if (name === 'NoSuchHostedZone') {
      return new BackendError(
        `Route 53 has no hosted zone with id ${zoneId ?? '?'}: check --zone-id (or leave it out so dnssd finds the zone by --zone)`,
        {cause: error},
      )
    }
    if (name === 'InvalidInput' || name === 'InvalidDomainName' || name === 'MalformedInput') {
      return new BackendError(`Route 53 rejected ${op}: ${message}`, {cause: error})
    }
    return new BackendError(`Route 53 ${op} failed: ${name ? `${name}: ` : ''}${message}`, {cause: error})
  }

  private deadlineError(op: string, leftBehind: string): DeadlineError {
    return new DeadlineError(`Route 53 did not finish before the deadline (--timeout), during ${op}: ${leftBehind}`)
  }

  /** An idempotent call (a read), retried on throttling and transient errors. */
  private async call<T>(op: string, detail: string, input: object, zoneId?: string): Promise<T> {
    let answer = ''
    try {
      return await retry(() => this.attempt<T>(op, detail, input), {
        deadline: this.options.deadline,
        classify: (error, attempt) => {
          const failure = this.classify(error)
          if (!failure) return undefined
          answer = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 200)
          // A throttled read holds nothing: step back so writers holding a fresh read get the tokens.
          const waitMs = backoffMs(attempt - 1, failure === 'throttle' ? BACKOFF.readThrottle : BACKOFF.transient)
          return {waitMs, why: failure === 'throttle' ? 'throttled' : 'failed'}
        },
        onRetry: (_error, step) => this.options.log(`route53: ${op} ${step.why} (${answer}); retrying`),
        giveUp: () => Object.assign(this.deadlineError(op, `nothing was changed (last answer: ${answer})`), {lastAnswer: answer}),
      })
    } catch (error) {
      throw error instanceof DeadlineError ? error : this.refusal(error, op, zoneId)
    }
  }

  // ------------------------------------------------------------ zones

  async zoneIdFor(zone: string): Promise<string> {
    if (this.explicitZoneId) return this.explicitZoneId
    const cached = this.zoneIds.get(zone)
    if (cached) return cached
    type Listed = {HostedZones?: {Id?: string; Name?: string; Config?: {PrivateZone?: boolean}}[]; IsTruncated?: boolean; NextDNSName?: string; NextHostedZoneId?: string}
    const matches: {id: string; private: boolean}[] = []
    let input: {DNSName: string; HostedZoneId?: string; MaxItems: number} = {DNSName: zone, MaxItems: 100}
    for (let page = 0; page < 20; page++) {
      // DNSName is a start position, not a filter: compare names ourselves.
      const res = await this.call<Listed>('ListHostedZonesByName', `dnsname=${zone}`, input)
      let past = false
      for (const z of res.HostedZones ?? []) {
        const name = nameFromWire(z.Name ?? '')
        if (name === zone) matches.push({id: (z.Id ?? '').replace(/^\/hostedzone\//, ''), private: Boolean(z.Config?.PrivateZone)})
        else if (compareRoute53Order(name, zone) > 0) past = true
      }
      if (past || !res.IsTruncated || !res.NextDNSName) break
      input = {DNSName: res.NextDNSName, HostedZoneId: res.NextHostedZoneId, MaxItems: 100}
    }
    const wanted = this.visibility ? matches.filter((m) => m.private === (this.visibility === 'private')) : matches
    if (wanted.length === 0) {
      const other = matches.length > 0 ? ` (there is a ${this.visibility === 'private' ? 'public' : 'private'} one: drop --${this.visibility})` : ''
      throw new BackendError(
        `this AWS account has no ${this.visibility ? `${this.visibility} ` : ''}hosted zone named ${zone}${other}: create it in Route 53, or pass --zone-id`,
      )
    }
    if (wanted.length > 1) {
      const list = wanted.map((m) => `${m.id} (${m.private ? 'private' : 'public'})`).join(', ')
      throw new InputError('--zone', `${zone} names ${wanted.length} hosted zones: ${list}; choose with --zone-id${this.visibility ? '' : ', --private or --public'}`)
    }
    this.zoneIds.set(zone, wanted[0]!.id)
    return wanted[0]!.id
  }

  // ------------------------------------------------------------ reads

  private toWireSet(s: ResourceRecordSet): WireSet {
    const name = nameFromWire(s.Name ?? '')
    const type = (s.Type ?? '') as RecordType
    const wire = (s.ResourceRecords ?? []).map((r) => r.Value ?? '')
    const special = s.AliasTarget !== undefined || s.SetIdentifier !== undefined || s.TrafficPolicyInstanceId !== undefined
    return {name, type, ttl: s.TTL ?? 0, wire, values: wire.map((v) => valueFromWire(type, v)), special}
  }

  private async listPage(
    zoneId: string,
    start: {name?: string; type?: string; identifier?: string},
    detail: string,
  ): Promise<{sets: WireSet[]; next?: {name: string; type?: string; identifier?: string}}> {
    type Listed = {ResourceRecordSets?: ResourceRecordSet[]; IsTruncated?: boolean; NextRecordName?: string; NextRecordType?: string; NextRecordIdentifier?: string}
    const input: Record<string, unknown> = {HostedZoneId: zoneId, MaxItems: PAGE_SIZE}
    if (start.name !== undefined) input.StartRecordName = start.name
    if (start.type !== undefined) input.StartRecordType = start.type
    if (start.identifier !== undefined) input.StartRecordIdentifier = start.identifier
    const res = await this.call<Listed>('ListResourceRecordSets', detail, input, zoneId)
    const sets = (res.ResourceRecordSets ?? []).map((s) => this.toWireSet(s))
    const next = res.IsTruncated && res.NextRecordName ? {name: res.NextRecordName, type: res.NextRecordType, identifier: res.NextRecordIdentifier} : undefined
    return {sets, next}
  }

  /**
   * The RRsets at `names`, reading pages from the lowest name not yet
   * covered. Names sort by reversed labels, so a member's names sit close
   * together: in a small zone one page covers all of them.
   */
  private async readNames(zoneId: string, names: readonly string[], pages: Page[], known: Map<string, WireSet>): Promise<void> {
    const covered = (name: string): boolean =>
      pages.some((p) => compareRoute53Order(name, p.from) >= 0 && (p.next === undefined || compareRoute53Order(name, p.next) < 0))
    const sorted = [...new Set(names)].sort(compareRoute53Order)
    for (;;) {
      const first = sorted.find((n) => !covered(n))
      if (first === undefined) return
      const page = await this.listPage(zoneId, {name: nameToWire(first)}, `from ${nameToWire(first)} (${sorted.length} names wanted)`)
      for (const s of page.sets) {
        const k = setKey(s.name, s.type)
        const prior = known.get(k)
        // Routing-policy sets share name and type and each carries a SetIdentifier, so each
        // is special already; one of them makes the name special. A plain set seen again is
        // the same set read once more (a page that ended between two types of one name
        // makes the next page start at that name): the later read stands.
        known.set(k, prior && (prior.special || s.special) ? {...prior, special: true} : s)
      }
      const next = page.next ? nameFromWire(page.next.name) : undefined
      // A page that ends inside `first` (hundreds of types at one name) cannot happen with real zones;
      // treat the name as covered rather than loop.
      pages.push({from: first, next: next !== undefined && compareRoute53Order(next, first) <= 0 ? undefined : next})
    }
  }

  private stateOf(zone: string, names: readonly string[], known: Map<string, WireSet>): ZoneState {
    const wanted = new Set(names)
    const state = new ZoneState(zone, names)
    for (const s of known.values()) {
      if (!wanted.has(s.name) || s.special) continue
      for (const v of s.values) state.addValue(s.name, s.type, s.ttl, v)
    }
    return state
  }

  async read(zone: string, names: readonly string[] | 'all'): Promise<ZoneState> {
    const zoneId = await this.zoneIdFor(zone)
    if (names !== 'all') {
      const known = new Map<string, WireSet>()
      await this.readNames(zoneId, names, [], known)
      return this.stateOf(zone, names, known)
    }
    const state = new ZoneState(zone, 'all')
    let start: {name?: string; type?: string; identifier?: string} = {}
    for (let page = 1; ; page++) {
      const res = await this.listPage(zoneId, start, `page ${page} (${PAGE_SIZE} a page)`)
      for (const s of res.sets) for (const v of s.values) state.addValue(s.name, s.type, s.ttl, v)
      if (!res.next) return state
      start = res.next
    }
  }

  // ------------------------------------------------------------ writes

  async transact({zone, names, plan}: Work, opts: {dryRun: boolean}): Promise<TransactResult> {
    const zoneId = await this.zoneIdFor(zone)
    let conflicts = 0
    let unanswered = 0
    /** Changes of batches Route 53 accepted (or that a fresh read showed landed), over every round. */
    const done = new Map<string, Change>()
    const changeIds: string[] = []
    const notes: string[] = []
    let batchesApplied = 0
    /** The changes of a batch whose answer was lost: the next read tells whether they landed. */
    let limbo: Change[] = []
    let pending: Change[] = []
    const summary = (changes: readonly Change[]): string =>
      changes.slice(0, 3).map(describeChange).join('; ') + (changes.length > 3 ? `; and ${changes.length - 3} more` : '')
    const leftBehind = (inFlight: boolean): string => {
      const before = batchesApplied > 0 ? `${batchesApplied} change batch(es) of this plan were applied and stay applied; ` : ''
      if (limbo.length > 0) return `${before}a change batch was sent but its answer was lost, so it may or may not have been applied (${summary(limbo)}); run the same command again: it is idempotent`
      if (inFlight) return `${before}the change batch (${summary(pending)}) was sent but not confirmed, so it may or may not have been applied; run the same command again: it is idempotent`
      if (pending.length > 0) return `${before || 'nothing was changed; '}still to do: ${summary(pending)}; run the same command again`
      return 'nothing was changed, so the records this command meant to add or remove are as they were; run the same command again'
    }
    const result = (attempt: number, planNotes: readonly string[], request?: unknown): TransactResult => ({
      changes: [...done.values()],
      notes: [...planNotes, ...notes],
      applied: done.size > 0,
      attempts: attempt,
      request,
      changeId: changeIds.length > 0 ? changeIds.join(',') : undefined,
    })
    let firstNotes: string[] | undefined
    return retry(
      async (attempt): Promise<TransactResult> => {
        const pages: Page[] = []
        const known = new Map<string, WireSet>()
        let outcome
        try {
          outcome = await readAndPlan(
            async (wanted) => {
              await this.readNames(zoneId, wanted, pages, known)
              return this.stateOf(zone, wanted, known)
            },
            names,
            plan,
          )
        } catch (error) {
          if (error instanceof DeadlineError) {
            const last = (error as DeadlineError & {lastAnswer?: string}).lastAnswer
            throw this.deadlineError('ListResourceRecordSets', `${leftBehind(false)}${last ? ` (last answer: ${last})` : ''}`)
          }
          throw error
        }
        if (limbo.length > 0) {
          // A planner never adds a present value nor removes an absent one: what the fresh plan no longer holds landed.
          const still = new Set(outcome.changes.map(changeKey))
          const landed = limbo.filter((c) => !still.has(changeKey(c)))
          for (const c of landed) done.set(changeKey(c), c)
          if (landed.length > 0) {
            batchesApplied++
            notes.push('the answer to the change batch was lost, but a fresh read shows it was applied')
            if (changeIds.length > 0 || outcome.changes.length > 0) notes.push('--wait cannot follow the change batch whose answer was lost: Route 53 gave it no change id that arrived')
          }
          limbo = []
        }
        firstNotes ??= outcome.notes
        if (outcome.changes.length === 0) return result(attempt, done.size > 0 ? firstNotes : outcome.notes)
        pending = outcome.changes
        for (const group of groupByRRset(outcome.changes)) {
          if (known.get(setKey(group.name, group.type))?.special) {
            throw new BackendError(
              `${group.name} ${group.type} is an alias or routing-policy record set in Route 53; dnssd changes only simple record sets (pick another --host or --a-record)`,
            )
          }
        }
        const split = splitIntoBatches(outcome.changes, (name, type) => known.get(setKey(name, type)))
        if ('refused' in split) {
          // One record set too large for any batch: refused whole, never sent in parts.
          const state = batchesApplied > 0 ? `the ${batchesApplied} change batch(es) sent before it stay applied` : 'nothing was changed'
          throw new InputError('--service', `${split.refused}; ${state} (a smaller pool, or a second pool such as _v2 of the same service, fits)`)
        }
        const n = split.batches.length
        const comment = `dnssd ${names[0] ?? ''}`
        const requests = split.batches.map((b, k) => ({
          HostedZoneId: zoneId,
          ChangeBatch: {Comment: (n > 1 ? `${comment} (${k + 1}/${n})` : comment).slice(0, 256), Changes: b.wire},
        }))
        const request = n === 1 ? requests[0] : {HostedZoneId: zoneId, ChangeBatches: requests.map((r) => r.ChangeBatch)}
        if (opts.dryRun) return {changes: outcome.changes, notes: outcome.notes, applied: false, attempts: attempt, request}
        if (n > 1) {
          const sizes = split.batches.map((b) => `${b.values} values/${b.characters} characters`).join(', ')
          this.options.log(`route53: ${outcome.changes.length} changes in ${n} change batches (${sizes})`)
        }
        for (const [k, batch] of split.batches.entries()) {
          const which = n > 1 ? `change batch ${k + 1} of ${n}` : 'the change batch'
          const sent = await this.sendBatch(requests[k]!, leftBehind)
          if (sent.kind === 'applied') {
            batchesApplied++
            for (const c of batch.changes) done.set(changeKey(c), c)
            const applied = new Set(batch.changes.map(changeKey))
            pending = pending.filter((c) => !applied.has(changeKey(c)))
            if (sent.changeId) changeIds.push(sent.changeId)
            continue
          }
          if (sent.kind === 'uncertain') {
            limbo = batch.changes
            throw new Again('uncertain', unanswered++, `the answer to ${which} was lost and it may have landed; re-reading to find out`)
          }
          throw new Again('conflict', ++conflicts, `conflict on ${which} (${sent.messages.join('; ')}); re-reading and planning what is left`)
        }
        return result(attempt, firstNotes, request)
      },
      {
        deadline: this.options.deadline,
        classify: (error) =>
          error instanceof Again ? {waitMs: backoffMs(error.n, error.why === 'conflict' ? BACKOFF.conflict : BACKOFF.transient), why: error.message} : undefined,
        onRetry: (_error, step) => this.options.log(`route53: ${step.why}`),
        giveUp: () => this.deadlineError('ChangeResourceRecordSets', leftBehind(false)),
      },
    )
  }

  /**
   * Send one batch. Throttled: the same batch again soon (it is still a
   * compare-and-swap). A 5xx or a broken connection (a keep-alive socket the
   * server closed while we planned, or an answer lost after commit): the same
   * batch again too, since a copy that already landed cannot land twice (its
   * DELETE no longer matches, its CREATE finds the set) and comes back as a
   * conflict, which then means "maybe applied": the caller re-reads.
   */
  private async sendBatch(
    request: {HostedZoneId: string; ChangeBatch: {Changes: unknown[]}},
    leftBehind: (inFlight: boolean) => string,
  ): Promise<{kind: 'applied'; changeId?: string} | {kind: 'conflict'; messages: string[]} | {kind: 'uncertain'}> {
    const changes = request.ChangeBatch.Changes.length
    let maybeLanded = false
    try {
      const res = await retry(() => this.attempt<{ChangeInfo?: {Id?: string}}>('ChangeResourceRecordSets', `${changes} changes`, request), {
        deadline: this.options.deadline,
        classify: (error, attempt) => {
          const failure = this.classify(error)
          // Our read ages while we wait: resend soon.
          // Growing to 250 ms: one writer alone stays under 5 requests/s even if rejected requests count.
          if (failure === 'throttle') return {waitMs: backoffMs(attempt - 1, BACKOFF.changeThrottle), why: 'throttled'}
          if (failure === undefined) return undefined
          maybeLanded = true
          return {waitMs: backoffMs(attempt - 1, BACKOFF.transient), why: 'unanswered'}
        },
        onRetry: (error, step) =>
          this.options.log(
            step.why === 'throttled'
              ? `route53: ChangeResourceRecordSets throttled (${(error as Error).name}); sending the same batch again`
              : `route53: ChangeResourceRecordSets got no answer (${(error as Error).name}: ${(error as Error).message}); sending the same batch again (a copy that landed is refused as a conflict)`.slice(0, 300),
          ),
        giveUp: () => this.deadlineError('ChangeResourceRecordSets', leftBehind(maybeLanded)),
      })
      return {kind: 'applied', changeId: res.ChangeInfo?.Id}
    } catch (error) {
      if (error instanceof DeadlineError) throw error
      if (error instanceof DeadlinePassed) throw this.deadlineError('ChangeResourceRecordSets', leftBehind(true))
      const e = error as {name?: string; message?: string}
      if (e.name === 'InvalidChangeBatch') {
        const messages = splitChangeBatchMessages(e.message ?? '')
        if (messages.length > 0 && messages.every(isConcurrencyMessage)) return maybeLanded ? {kind: 'uncertain'} : {kind: 'conflict', messages}
        const outOfZone = messages.find((m) => /is not permitted in zone/.test(m))
        if (outOfZone) {
          throw new BackendError(`Route 53 refused the change: ${outOfZone}. The hosted zone id does not belong to --zone; check --zone-id`, {cause: error})
        }
        throw new BackendError(`Route 53 refused the change batch: ${messages.join('; ')}`, {cause: error})
      }
      throw this.refusal(error, 'ChangeResourceRecordSets', request.HostedZoneId)
    }
  }

  /**
   * Poll GetChange until INSYNC (reference §5), within the deadline. A plan
   * sent in several batches has their ids joined by commas: the last one is
   * polled first, then the earlier ones. They were accepted before it, so
   * once it is INSYNC they normally are too and each costs one GetChange to
   * confirm (one poll loop in all instead of one per batch); nothing rests on
   * that order, a batch still PENDING is polled like the last.
   */
  async waitInSync(changeId: string, onPoll?: (status: string, elapsedMs: number) => void): Promise<{elapsedMs: number}> {
    const started = Date.now()
    const ids = changeId
      .split(',')
      .map((id) => id.trim().replace(/^\/change\//, ''))
      .filter((id) => id !== '')
    for (const id of [...ids.slice(-1), ...ids.slice(0, -1)]) await this.pollInSync(id, ids.length, started, onPoll)
    return {elapsedMs: Date.now() - started}
  }

  private async pollInSync(id: string, of: number, started: number, onPoll?: (status: string, elapsedMs: number) => void): Promise<void> {
    const which = of > 1 ? `change ${id} (one of ${of} batches)` : `change ${id}`
    const late = (): DeadlineError =>
      new DeadlineError(`${which} is applied but was not yet INSYNC when the deadline (--timeout) passed; Route 53 usually takes under 60 s: raise --timeout to wait longer`)
    await retry(
      async () => {
        let status = 'PENDING'
        try {
          const res = await this.call<{ChangeInfo?: {Status?: string}}>('GetChange', id, {Id: id})
          status = res.ChangeInfo?.Status ?? 'PENDING'
        } catch (error) {
          if (error instanceof DeadlineError) throw late()
          // A change id we were just given: NoSuchChange is eventual consistency, keep polling.
          if ((error as BackendError).cause && ((error as BackendError).cause as Error).name !== 'NoSuchChange') throw error
        }
        onPoll?.(status, Date.now() - started)
        if (status !== 'INSYNC') throw new NotInSync(status)
      },
      {
        deadline: this.options.deadline,
        classify: (error, attempt) => (error instanceof NotInSync ? {waitMs: backoffMs(attempt - 1, BACKOFF.poll), why: error.message} : undefined),
        giveUp: late,
      },
    )
  }

  async close(): Promise<void> {
    this.client?.destroy()
  }
}
