/**
 * Cloudflare provider on the official `cloudflare` SDK (reference/cloudflare.md).
 *
 * Membership is kept as SINGLE records: every value the core planner
 * produces (address, marker TXT at `_dnssd.<host>`, TXT, SRV, PTR) is one
 * Cloudflare record, created with the comment `dnssd:<host>` (tags are plan
 * dependent, comments exist on every plan). Removal deletes only records
 * whose comment carries that mark, as seen by the read of this very
 * transaction; a value present only as a hand-made record is kept and noted.
 *
 * A join or leave is one read of the zone (one list request per 5,000
 * records) and ONE batch request (§3.8: atomic, deletes first), so it costs
 * 3 requests with the zone lookup, 2 with --zone-id, and a no-op re-join 1.
 * A plan larger than one batch may carry (--batch-size, 200 by default: the
 * Free plan's limit) — a coalesced apply of many members — goes as several
 * batches in the plan's phase order, chained by their guards
 * (cloudflare-batches.ts): a batch that loses to a concurrent writer leaves
 * the ones before it applied, and the rest is re-read and re-planned.
 * A batch alone is not compare-and-swap: two members that leave at once
 * would each see the other and neither remove the pool's PTR. So beside
 * every name a batch changes stands a guard, a TXT at `_dnssd-cas.<name>`,
 * and every batch deletes the guards it read, by id, and writes them anew.
 * A concurrent writer that changed one of those names has already replaced
 * its guard: our delete answers 81044, the whole batch is rolled back, and
 * we re-read, re-plan and retry with backoff inside the deadline. Two
 * writers creating the same guard (or the same value) collide on 81058,
 * with the same effect. A guard goes when its name holds nothing any more.
 *
 * Requests: the SDK's own retries are off (maxRetries 0) so that this file
 * owns the loop (src/core/retry.ts): 429 (971), 408/409 and 5xx and
 * connection failures are retried with backoff, honouring `retry-after` only
 * while it fits before the deadline. A batch answered by a 5xx, a dropped
 * connection or a timeout may have been applied with its answer lost: sent
 * again, it then fails on its own guards (81044) or records (81058), which
 * after such an answer means "applied", so the zone is read again and the
 * rest planned from what it holds (a stale keep-alive connection after a long
 * plan is the common case: the resend goes out on a fresh one). Each attempt
 * is bounded by the deadline through the SDK timeout and an abort signal, and
 * logs one `cloudflare: call ...` line.
 */
import {readFile} from 'node:fs/promises'
import type CloudflareSdk from 'cloudflare'
import {BackendError, DeadlineError, DnssdError, InputError, registerSecret} from '../core/errors.js'
import {DEFAULT_TTL} from '../core/membership.js'
import {normalizeName} from '../core/names.js'
import {type Work, byPhase} from '../core/planner.js'
import {type Change, ZoneState} from '../core/records.js'
import {type Backoff, type RetryStep, backoffMs, retry} from '../core/retry.js'
import {readAndPlan} from '../core/transact.js'
import {type CloudflareSettings} from './catalog.js'
import {type Chunk, ChunkTooSmall, chunkPlan} from './cloudflare-batches.js'
import {
  type CfRecord,
  CfSnapshot,
  type CreateBody,
  DEFAULT_BATCH_SIZE,
  type SeenRecord,
  createBody,
  markFor,
  seen,
} from './cloudflare-records.js'
import {type DnsProvider, type ProviderOptions, type TransactResult} from './provider.js'

type Client = CloudflareSdk
type RequestOptions = {maxRetries: number; timeout: number; signal: AbortSignal}

/** Records per list page: the practical maximum (reference §3.2); one request reads a name. */
const PER_PAGE = 5000
/** One attempt never waits longer than this, so a stuck connection is retried while time remains. */
const ATTEMPT_TIMEOUT_MS = 15_000
/** Re-plans after a batch lost to a concurrent writer: spread widely, like Route 53's conflicts. */
const CONFLICT: Backoff = {baseMs: 250, capMs: 8000}
/** The compare-and-swap guard beside each changed name (see the top of this file). */
export const GUARD_LABEL = '_dnssd-cas'
export const GUARD_VALUE = '"dnssd compare-and-swap guard"'
export const guardName = (name: string): string => `${GUARD_LABEL}.${name}`

/** A batch that lost to a concurrent writer (81044 on a guard, or 81057/81058). */
class Conflict extends Error {
  constructor(
    readonly n: number,
    detail: string,
  ) {
    super(detail)
  }
}

/**
 * A batch whose outcome was unknown (5xx, a dropped connection or a timeout:
 * it may have been applied with its answer lost) is sent again, and answers
 * 81044/81058 if it had been: its guards are gone and its records present.
 * Or its answer did not carry the new guard ids. Either way the zone as it is
 * now tells what is left: the provider re-reads and re-plans.
 */
class Unsettled extends Error {}

interface BatchBody {
  deletes: {id: string}[]
  posts: CreateBody[]
}

/** One record operation of a plan, with the change it belongs to. */
type PlannedOp = {change: Change; name: string} & ({kind: 'post'; post: CreateBody} | {kind: 'delete'; id: string})
const TOKEN_FIX = 'the token needs Zone:Read and DNS:Edit on the zone'

/** Retries of one request: ~0.25 s, 0.5 s, 1 s ... capped at 4 s (full jitter). */
const BACKOFF: Backoff = {baseMs: 250, capMs: 4000}

interface ApiErrorLike {
  status?: number
  errors?: {code?: number; message?: string}[]
  headers?: unknown
  message?: string
}

function codesOf(err: unknown): number[] {
  const e = err as ApiErrorLike
  return Array.isArray(e?.errors) ? e.errors.map((x) => Number(x.code)).filter((n) => Number.isFinite(n)) : []
}

function describeApiError(err: unknown): string {
  const e = err as ApiErrorLike
  const parts = Array.isArray(e?.errors) ? e.errors.map((x) => `${x.code} ${x.message ?? ''}`.trim()) : []
  return `${e?.status ?? ''} ${parts.join('; ') || (e?.message ?? String(err))}`.trim()
}

function header(err: unknown, name: string): string | undefined {
  const h = (err as ApiErrorLike)?.headers
  if (!h) return undefined
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined
  const v = (h as Record<string, unknown>)[name]
  return typeof v === 'string' ? v : undefined
}

/** The server's requested wait in ms (retry-after-ms, retry-after seconds or HTTP date), if any. */
function retryAfterMs(err: unknown): number | undefined {
  const ms = Number.parseFloat(header(err, 'retry-after-ms') ?? '')
  if (Number.isFinite(ms) && ms >= 0) return ms
  const ra = header(err, 'retry-after')
  if (ra === undefined) return undefined
  const seconds = Number.parseFloat(ra)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(ra)
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined
}

export class CloudflareProvider implements DnsProvider {
  readonly kind = 'cloudflare'
  private readonly options: ProviderOptions<CloudflareSettings>
  private sdk?: typeof import('cloudflare')
  private client?: Promise<Client>
  /** Zone ids by name; promises, so parallel reads share one lookup. */
  private zoneIds = new Map<string, Promise<string>>()

  constructor(options: ProviderOptions<CloudflareSettings>) {
    this.options = options
  }

  // ---------------------------------------------------------------- client

  /**
   * The API token, from --api-token-file or CLOUDFLARE_API_TOKEN. No message
   * ever shows it: a token with a line break or space inside is refused
   * without echoing it (the HTTP layer would put it in its error text), and
   * a --api-token-file that does not exist is not named, since the value
   * given may be the token itself.
   */
  private async token(): Promise<string> {
    const file = this.options.settings.apiTokenFile
    let token: string | undefined
    let source = 'CLOUDFLARE_API_TOKEN'
    if (file !== undefined) {
      source = '--api-token-file'
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'an error'
        if (code === 'ENOENT' || code === 'ENAMETOOLONG') {
          throw new InputError('--api-token-file', 'no such file (the value is not shown: it may be the token itself); give the path of a file that holds the token')
        }
        throw new InputError('--api-token-file', `cannot read ${file}: ${code}`)
      }
      token = text.trim()
      if (token === '') throw new InputError('--api-token-file', `${file} is empty; it must hold a Cloudflare API token`)
    } else {
      token = process.env.CLOUDFLARE_API_TOKEN?.trim() || undefined
    }
    if (token === undefined) {
      throw new BackendError(`no Cloudflare API token: set CLOUDFLARE_API_TOKEN or pass --api-token-file PATH (${TOKEN_FIX})`)
    }
    registerSecret(token)
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new InputError(source, 'the token has a space, line break or other non-printable character inside (not shown); it must be the token alone, on one line')
    }
    return token
  }

  private sdkClient(): Promise<Client> {
    this.client ??= this.loadClient()
    return this.client
  }

  private async loadClient(): Promise<Client> {
    const token = await this.token()
    const started = Date.now()
    // bin/run.js and the executables run the bundle (scripts/bundle.mjs), where
    // the SDK is one lazily loaded chunk; unbundled, require() of its CommonJS
    // build was ~40% cheaper than import() of its many ESM files.
    this.sdk = await import('cloudflare')
    const Cloudflare = this.sdk.default
    const client = new Cloudflare({
      apiToken: token,
      // Explicit nulls: a leftover CLOUDFLARE_API_KEY/CLOUDFLARE_EMAIL must not
      // be sent instead of (v4-v6) or along with (v7) the token.
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      // baseURL: left to the SDK, which reads CLOUDFLARE_BASE_URL (tests) or
      // uses https://api.cloudflare.com/client/v4.
      maxRetries: 0,
      timeout: ATTEMPT_TIMEOUT_MS,
      logLevel: 'off',
    })
    this.options.log(`cloudflare: loaded the SDK in ${Date.now() - started} ms`)
    return client
  }

  /**
   * One API operation: retried on throttling and transient failures, never
   * past the deadline. `label` is the `METHOD path ...` shown by --verbose.
   */
  private async call<T>(label: string, fn: (client: Client, o: RequestOptions) => PromiseLike<T>, opts: {settle?: boolean} = {}): Promise<T> {
    const client = await this.sdkClient()
    const {APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError} = this.sdk!
    const deadline = this.options.deadline
    const expired = (cause?: unknown): DeadlineError =>
      new DeadlineError(`Cloudflare did not answer ${label} before the deadline (--timeout)`, cause === undefined ? undefined : {cause})
    let previous = ''
    // A write answered by a dropped connection, a timeout or a 5xx may have been applied (settle).
    let uncertain = false
    const unknownOutcome = (err: unknown): boolean =>
      err instanceof APIConnectionError ||
      (err as Error)?.name === 'AbortError' ||
      (err as Error)?.name === 'TimeoutError' ||
      (err instanceof APIError && (err.status === 408 || err.status === 409 || (err.status ?? 0) >= 500))
    return retry(
      async (attempt) => {
        if (deadline.passed()) throw new DeadlineError(`the deadline passed before ${label}${previous ? ` (last: ${previous})` : ''}; raise --timeout`)
        this.options.log(`cloudflare: call ${label}${attempt > 1 ? ` (attempt ${attempt} after ${previous})` : ''}`)
        const attemptMs = Math.max(1, Math.ceil(Math.min(deadline.remainingMs(), ATTEMPT_TIMEOUT_MS)))
        try {
          // The whole answer, body included, is bounded: a body that stalls is the deadline (exit 5).
          return await deadline.bound(expired, (signal) => fn(client, {maxRetries: 0, timeout: attemptMs, signal}))
        } catch (err) {
          if (err instanceof APIUserAbortError) throw expired(err)
          if (opts.settle) {
            if (unknownOutcome(err)) uncertain = true
            else if (uncertain && codesOf(err).some((c) => c === 81044 || c === 81057 || c === 81058)) {
              // Sent again after an answer that never came, it finds its own deletes done and posts present
              // (or a concurrent writer's: the same re-read answers both).
              throw new Unsettled(`${label} answered ${describeApiError(err)} after an attempt whose answer was lost: that attempt was applied (or a concurrent writer came first); re-reading the zone`)
            }
          }
          throw err
        }
      },
      {
        deadline,
        classify: (err, attempt): RetryStep | undefined => {
          if (err instanceof DeadlineError || err instanceof Unsettled) return undefined
          if (err instanceof APIConnectionError) {
            // Connection refused/reset or an attempt that timed out early: transient.
            previous = err instanceof APIConnectionTimeoutError ? 'a timeout' : `a connection error (${(err.cause as Error | undefined)?.message ?? err.message})`
            return {waitMs: backoffMs(attempt - 1, BACKOFF), why: previous}
          }
          if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') {
            // The per-attempt timeout fired while the body was still arriving: transient.
            previous = 'a timeout while reading the answer'
            return {waitMs: backoffMs(attempt - 1, BACKOFF), why: previous}
          }
          if (!(err instanceof APIError)) return undefined
          const status = err.status ?? 0
          if (!(status === 408 || status === 409 || status === 429 || status >= 500)) return undefined
          previous = `${status}${codesOf(err).length ? ` ${codesOf(err).join(',')}` : ''}`
          // The server's retry-after is honoured only while it fits before the deadline.
          const asked = retryAfterMs(err)
          return {waitMs: asked === undefined ? backoffMs(attempt - 1, BACKOFF) : asked + Math.random() * 250, why: previous}
        },
        giveUp: (err, step) =>
          new DeadlineError(`Cloudflare answered ${label} with ${step.why}; waiting ${Math.ceil(step.waitMs / 1000)} s more would pass the deadline (--timeout)`, {cause: err}),
      },
    )
  }

  /** Turn an API refusal into a message with the next action (exit 4). */
  private refusal(err: unknown, what: string, zone: string): Error {
    if (err instanceof DnssdError) return err
    const e = err as ApiErrorLike
    if (this.sdk && !(err instanceof this.sdk.APIError)) {
      return new BackendError(`Cloudflare ${what} failed: ${(err as Error)?.message ?? String(err)}`, {cause: err})
    }
    const codes = codesOf(err)
    const detail = describeApiError(err)
    if (e.status === 401 || codes.some((c) => [6003, 6103, 6111, 9106, 1000, 10001].includes(c))) {
      return new BackendError(
        `Cloudflare rejected the API token (${detail}): put a valid API token (not the global API key) in CLOUDFLARE_API_TOKEN or --api-token-file; ${TOKEN_FIX} ${zone}`,
        {cause: err},
      )
    }
    if (e.status === 403 || codes.some((c) => c === 10000 || c === 9109)) {
      return new BackendError(`the Cloudflare API token may not ${what} in ${zone} (${detail}): ${TOKEN_FIX} ${zone}`, {cause: err})
    }
    if (codes.some((c) => c === 7003 || c === 7000)) {
      return new BackendError(`Cloudflare does not know the zone id of ${zone} (${detail}): check --zone-id, or drop it to look the zone up by name`, {cause: err})
    }
    if (codes.some((c) => c === 81053 || c === 81054 || c === 81056)) {
      return new BackendError(`Cloudflare refused to ${what} (${detail}): a CNAME or NS record already owns that name; remove it or choose another --host/--a-record`, {cause: err})
    }
    return new BackendError(`Cloudflare refused to ${what} in ${zone} (${detail})`, {cause: err})
  }

  // ---------------------------------------------------------------- zone and reads

  private zoneId(zone: string): Promise<string> {
    let id = this.zoneIds.get(zone)
    if (!id) {
      id = this.lookupZone(zone)
      this.zoneIds.set(zone, id)
    }
    return id
  }

  private async lookupZone(zone: string): Promise<string> {
    const given = this.options.settings.zoneId
    if (given !== undefined) return given
    let page: {result: {id: string; name: string}[]}
    try {
      page = await this.call(`GET /zones?name=${zone}`, (c, o) => c.zones.list({name: zone, per_page: 50}, o))
    } catch (err) {
      throw this.refusal(err, 'list zones', zone)
    }
    const match = page.result.find((z) => z.name.toLowerCase() === zone)
    if (!match) {
      throw new BackendError(
        `zone ${zone} was not found with this Cloudflare API token: check --zone, or give the token access to it (${TOKEN_FIX}), or pass --zone-id`,
      )
    }
    return match.id
  }

  /** Every record matching `filter`, page by page (stops on total_pages, or on an empty page). */
  private async listRecords(zone: string): Promise<SeenRecord[]> {
    const zoneId = await this.zoneId(zone)
    const out: SeenRecord[] = []
    let fetched = 0
    for (let page = 1; page <= 100_000; page++) {
      const label = `GET /zones/${zoneId}/dns_records?page=${page}&per_page=${PER_PAGE}`
      let res: {result: CfRecord[]; result_info?: {total_pages?: number; total_count?: number}}
      try {
        res = (await this.call(label, (c, o) =>
          c.dns.records.list({zone_id: zoneId, page, per_page: PER_PAGE}, o),
        )) as unknown as typeof res
      } catch (err) {
        throw this.refusal(err, 'read DNS records', zone)
      }
      const items = Array.isArray(res.result) ? res.result : []
      for (const r of items) {
        const s = seen(r)
        if (s) out.push(s)
      }
      fetched += items.length
      const info = res.result_info ?? {}
      if (items.length === 0) break
      if (typeof info.total_pages === 'number' && page >= info.total_pages) break
      if (typeof info.total_count === 'number' && fetched >= info.total_count) break
    }
    return out
  }

  /** One read covers every name: the zone's records, 5,000 a page (names sort together nowhere in this API). */
  async read(zone: string, _names: readonly string[] | 'all'): Promise<ZoneState> {
    return new CfSnapshot(zone, 'all', await this.listRecords(zone)).state
  }

  // ---------------------------------------------------------------- writes

  /**
   * The plan as record operations, in phase order: the planner's adds as
   * posts (marked with the member that added them), its removals as deletes
   * of dnssd's own records (a value only hand-made is kept, with a note).
   */
  private opsFor(snap: CfSnapshot, changes: readonly Change[], host: string, notes: string[]): PlannedOp[] {
    const {proxiedName} = this.options.settings
    const ops: PlannedOp[] = []
    for (const {change: c} of byPhase(changes)) {
      if (c.action === 'add') {
        const proxied = c.name === proxiedName && (c.type === 'A' || c.type === 'AAAA')
        ops.push({change: c, name: c.name, kind: 'post', post: createBody(c, markFor(c.owner ?? host), proxied)})
        continue
      }
      const records = snap.records(c.name, c.type, c.value)
      const mine = records.filter((r) => r.marked)
      if (mine.length === 0 && records.length > 0) notes.push(`kept ${c.name} ${c.type} ${c.value}: it has no ${markFor('')} comment, so dnssd did not write it`)
      for (const r of mine) ops.push({change: c, name: c.name, kind: 'delete', id: r.id})
    }
    return ops
  }

  /** The plan's operations cut into batches of at most --batch-size (cloudflare-batches.ts). */
  private chunksFor(snap: CfSnapshot, ops: readonly PlannedOp[], shared: ReadonlySet<string>): Chunk[] {
    const guards = new Map<string, number>()
    const marked = new Map<string, number>()
    for (const r of snap.all()) if (r.marked) marked.set(r.name, (marked.get(r.name) ?? 0) + 1)
    for (const name of shared) guards.set(name, snap.records(guardName(name), 'TXT', GUARD_VALUE).length)
    const size = this.options.settings.batchSize
    try {
      return chunkPlan({ops, shared, guards, marked, size})
    } catch (error) {
      if (!(error instanceof ChunkTooSmall)) throw error
      throw new BackendError(`--batch-size ${size} is too small for this change: ${error.message}; give --batch-size ${error.needed + 2} or more`)
    }
  }

  async transact({zone, host, names, shared, plan}: Work, opts: {dryRun: boolean}): Promise<TransactResult> {
    const zoneId = await this.zoneId(zone)
    const sharedNames = new Set(shared)
    const guardComment = markFor(host)
    let conflicts = 0
    let unsettled = 0
    let sent = 0
    let firstNotes: string[] | undefined
    const applied: Change[] = []
    return retry(
      async (attempt): Promise<TransactResult> => {
        const snap = new CfSnapshot(zone, 'all', await this.listRecords(zone))
        const outcome = await readAndPlan(async () => snap.state, names, plan)
        const notes = [...outcome.notes]
        const ops = this.opsFor(snap, outcome.changes, host, notes)
        const chunks = this.chunksFor(snap, ops, sharedNames)
        const planned = [...new Set(ops.map((o) => o.change))]
        if (chunks.length > 0) firstNotes ??= notes
        const done = (): TransactResult => {
          const all = [...(firstNotes ?? notes)]
          if (sent > 1) all.push(`applied in ${sent} batches of at most ${this.options.settings.batchSize} operations`)
          if (conflicts + unsettled > 0) all.push(`read again and re-planned ${conflicts + unsettled} time(s) (${conflicts} conflict(s) with concurrent writers)`)
          return {changes: applied, notes: all, applied: applied.length > 0, attempts: attempt}
        }
        if (chunks.length === 0) return done()
        // Guard record ids per shared name: from the read, then from each batch's answer.
        const guardIds = new Map<string, string[]>()
        for (const name of sharedNames) guardIds.set(name, snap.records(guardName(name), 'TXT', GUARD_VALUE).map((r) => r.id))
        const left = new Map<Change, number>()
        for (const o of ops) left.set(o.change, (left.get(o.change) ?? 0) + 1)
        const request: Record<string, BatchBody> = {}
        for (const [k, chunk] of chunks.entries()) {
          const body: BatchBody = {deletes: [], posts: []}
          for (const i of chunk.ops) {
            const o = ops[i]!
            if (o.kind === 'post') body.posts.push(o.post)
            else body.deletes.push({id: o.id})
          }
          for (const name of [...chunk.guarded, ...chunk.chained]) for (const id of guardIds.get(name) ?? []) body.deletes.push({id})
          const ttl = ops[chunk.ops[0]!]!.change.ttl
          for (const name of [...chunk.writes, ...chunk.chained]) body.posts.push({type: 'TXT', name: guardName(name), ttl, content: GUARD_VALUE, comment: guardComment})
          const label = `POST /zones/${zoneId}/dns_records/batch${chunks.length > 1 ? ` ${k + 1}/${chunks.length}` : ''} (${body.deletes.length} deletes, ${body.posts.length} posts)`
          if (opts.dryRun) {
            request[label] = body
            // Later batches delete the guards this one writes, by the ids its answer would carry.
            for (const name of [...chunk.guarded, ...chunk.chained]) guardIds.set(name, [...chunk.writes, ...chunk.chained].includes(name) ? [`(the guard batch ${k + 1} writes)`] : [])
            continue
          }
          let answer: {posts?: {id: string; name: string; type: string; content?: string | null}[]}
          try {
            answer = (await this.call(label, (c, o) => c.dns.records.batch({zone_id: zoneId, ...body} as Parameters<Client['dns']['records']['batch']>[0], o), {settle: true})) as typeof answer
          } catch (err) {
            if (err instanceof Unsettled) throw err
            const codes = codesOf(err)
            if (codes.some((code) => code === 81044 || code === 81057 || code === 81058)) {
              const where = chunks.length > 1 ? ` at batch ${k + 1} of ${chunks.length}, the ${k} before it applied` : ''
              throw new Conflict(++conflicts, `the batch lost to a concurrent writer (${describeApiError(err)})${where}; re-reading and planning again`)
            }
            throw this.refusal(err, `apply a batch of ${body.deletes.length + body.posts.length} operations${body.deletes.length + body.posts.length > DEFAULT_BATCH_SIZE ? ` (a zone on the Free plan takes at most ${DEFAULT_BATCH_SIZE}: lower --batch-size)` : ''}`, zone)
          }
          sent++
          for (const i of chunk.ops) {
            const c = ops[i]!.change
            const n = (left.get(c) ?? 1) - 1
            left.set(c, n)
            if (n === 0) applied.push(c)
          }
          const written = new Map<string, string>()
          for (const r of answer?.posts ?? []) {
            if (r.type === 'TXT' && r.content === GUARD_VALUE && r.name.toLowerCase().startsWith(`${GUARD_LABEL}.`)) written.set(normalizeName(r.name).slice(GUARD_LABEL.length + 1), r.id)
          }
          for (const name of [...chunk.guarded, ...chunk.chained]) {
            const wrote = chunk.writes.includes(name) || chunk.chained.includes(name)
            const id = written.get(name)
            if (wrote && id === undefined) {
              // Without the new guard's id the next batch cannot consume it: the zone as it is now tells.
              throw new Unsettled(`the answer to batch ${k + 1} did not list the guard it wrote at ${guardName(name)}; re-reading`)
            }
            guardIds.set(name, wrote ? [id!] : [])
          }
        }
        if (opts.dryRun) return {changes: planned, notes, applied: false, attempts: attempt, request}
        return done()
      },
      {
        deadline: this.options.deadline,
        classify: (error) => {
          if (error instanceof Conflict) return {waitMs: backoffMs(error.n, CONFLICT), why: error.message}
          if (error instanceof Unsettled) return {waitMs: backoffMs(unsettled++, BACKOFF), why: error.message}
          return undefined
        },
        onRetry: (_error, step) => this.options.log(`cloudflare: ${step.why}`),
        giveUp: (_error, step) =>
          new DeadlineError(
            `Cloudflare kept refusing the change (${step.why}) until the deadline (--timeout); ${
              sent > 0 ? `${sent} batch(es) of it were applied, each whole` : 'nothing of it was applied'
            }: run the same command again, it continues from what the zone holds`,
          ),
      },
    )
  }

  async close(): Promise<void> {}
}
