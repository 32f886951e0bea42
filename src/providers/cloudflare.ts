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
 * Writes go one record per request, in the planner's order (address ->
 * marker -> TXT -> SRV -> PTR; the reverse on removal), so a crash at any
 * point leaves at most an unused address or marker, never an SRV pointing
 * nowhere. "An identical record already exists" (81057/81058) on create and
 * "Record does not exist" (81044) on delete count as done: they are what a
 * concurrent member or a retried request leaves behind.
 *
 * Why not the batch endpoint: a batch is atomic in the database, but it is
 * all-or-nothing on exactly those benign errors, so when 50 members join at
 * once most batches would be refused because another member created the
 * shared PTR first, then re-read and resent; and it is still not
 * compare-and-swap, so it does not settle the "last member" race (a batch
 * cannot say "delete the PTR only if no SRV is left"). Plans are small
 * (4-8 values), so single requests cost little and keep the crash-safe order.
 * The race is settled instead by re-reading the shared names after applying
 * and repairing until a fresh read needs nothing (cloudflare-converge.ts).
 *
 * Requests: the SDK's own retries are off (maxRetries 0) so that this file
 * owns the loop: 429 (971), 408/409 and 5xx and connection failures are
 * retried with backoff, honouring `retry-after` only while it fits before the
 * deadline (SDK 6+ would sleep whatever the server says, up to minutes). Each
 * attempt is bounded by the deadline through the SDK timeout and an abort
 * signal, and logs one `cloudflare: call ...` line.
 */
import {readFile} from 'node:fs/promises'
import type CloudflareSdk from 'cloudflare'
import {untilDeadline} from '../core/deadline.js'
import {BackendError, DeadlineError, DnssdError, InputError, registerSecret} from '../core/errors.js'
import {isPublicAddress, parseAddress, parseRoundRobin} from '../core/names.js'
import {MARKER_LABEL, type Planner} from '../core/planner.js'
import {type Change, ZoneState} from '../core/records.js'
import {readAndPlan} from '../core/transact.js'
import {repairPlan, scopeNames, sharedScope} from './cloudflare-converge.js'
import {
  type CfRecord,
  CfSnapshot,
  type CreateBody,
  type SeenRecord,
  checkCloudflareTtl,
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
const MAX_REPAIR_ROUNDS = 20
const TOKEN_FIX = 'the token needs Zone:Read and DNS:Edit on the zone'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

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
  private readonly options: ProviderOptions
  private sdk?: typeof import('cloudflare')
  private client?: Promise<Client>
  /** Zone ids by name; promises, so parallel reads share one lookup. */
  private zoneIds = new Map<string, Promise<string>>()

  constructor(options: ProviderOptions) {
    this.options = options
    const zoneId = this.setting('zone-id')
    if (zoneId !== undefined && !/^[0-9a-f]{32}$/.test(zoneId)) {
      throw new InputError('--zone-id', `"${zoneId}" is not a Cloudflare zone id (32 lower-case hex digits, shown on the zone's Overview page)`)
    }
  }

  private setting(name: string): string | undefined {
    const v = this.options.settings?.[name]
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
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
    const file = this.setting('api-token-file')
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
  private async call<T>(label: string, fn: (client: Client, o: RequestOptions) => PromiseLike<T>): Promise<T> {
    const client = await this.sdkClient()
    const {APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError} = this.sdk!
    let previous = ''
    for (let attempt = 1; ; attempt++) {
      const remaining = this.options.deadline - Date.now()
      if (remaining <= 0) throw new DeadlineError(`the deadline passed before ${label}${previous ? ` (last: ${previous})` : ''}; raise --timeout`)
      this.options.log(`cloudflare: call ${label}${attempt > 1 ? ` (attempt ${attempt} after ${previous})` : ''}`)
      const expired = (cause?: unknown): DeadlineError =>
        new DeadlineError(`Cloudflare did not answer ${label} before the deadline (--timeout)`, cause === undefined ? undefined : {cause})
      try {
        const attemptMs = Math.max(1, Math.ceil(Math.min(remaining, ATTEMPT_TIMEOUT_MS)))
        // The whole answer, body included, is bounded: a body that stalls is the deadline (exit 5).
        return await untilDeadline(this.options.deadline, expired, (signal) => fn(client, {maxRetries: 0, timeout: attemptMs, signal}))
      } catch (err) {
        if (err instanceof DeadlineError) throw err
        if (err instanceof APIUserAbortError) throw expired(err)
        let wait: number
        if (err instanceof APIConnectionError) {
          // Connection refused/reset or an attempt that timed out early: transient.
          previous = err instanceof APIConnectionTimeoutError ? 'a timeout' : `a connection error (${(err.cause as Error | undefined)?.message ?? err.message})`
          wait = this.backoff(attempt)
        } else if ((err as Error).name === 'AbortError' || (err as Error).name === 'TimeoutError') {
          // The per-attempt timeout fired while the body was still arriving: transient.
          previous = 'a timeout while reading the answer'
          wait = this.backoff(attempt)
        } else if (err instanceof APIError) {
          const status = err.status ?? 0
          if (!(status === 408 || status === 409 || status === 429 || status >= 500)) throw err
          previous = `${status}${codesOf(err).length ? ` ${codesOf(err).join(',')}` : ''}`
          const asked = retryAfterMs(err)
          wait = asked === undefined ? this.backoff(attempt) : asked + Math.random() * 250
        } else {
          throw err
        }
        if (Date.now() + wait >= this.options.deadline) {
          throw new DeadlineError(
            `Cloudflare answered ${label} with ${previous}; waiting ${Math.ceil(wait / 1000)} s more would pass the deadline (--timeout)`,
            {cause: err},
          )
        }
        await sleep(wait)
      }
    }
  }

  /** Exponential backoff with jitter: ~0.25 s, 0.5 s, 1 s ... capped at 4 s. */
  private backoff(attempt: number): number {
    return Math.min(250 * 2 ** (attempt - 1), 4000) * (0.5 + Math.random() / 2)
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
    const given = this.setting('zone-id')
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
  private async listRecords(zone: string, exactName?: string): Promise<SeenRecord[]> {
    const zoneId = await this.zoneId(zone)
    const out: SeenRecord[] = []
    let fetched = 0
    for (let page = 1; page <= 100_000; page++) {
      const label = `GET /zones/${zoneId}/dns_records?${exactName ? `name.exact=${exactName}&` : ''}page=${page}&per_page=${PER_PAGE}`
      let res: {result: CfRecord[]; result_info?: {total_pages?: number; total_count?: number}}
      try {
        res = (await this.call(label, (c, o) =>
          c.dns.records.list({zone_id: zoneId, ...(exactName ? {name: {exact: exactName}} : {}), page, per_page: PER_PAGE}, o),
        )) as unknown as typeof res
      } catch (err) {
        throw this.refusal(err, 'read DNS records', zone)
      }
      const items = Array.isArray(res.result) ? res.result : []
      for (const r of items) {
        const s = seen(r)
        if (s && (!exactName || s.name === exactName)) out.push(s)
      }
      fetched += items.length
      const info = res.result_info ?? {}
      if (items.length === 0) break
      if (typeof info.total_pages === 'number' && page >= info.total_pages) break
      if (typeof info.total_count === 'number' && fetched >= info.total_count) break
    }
    return out
  }

  private async readRecords(zone: string, names: readonly string[] | 'all'): Promise<SeenRecord[]> {
    if (names === 'all') return this.listRecords(zone)
    const lists = await Promise.all([...new Set(names)].map((n) => this.listRecords(zone, n)))
    return lists.flat()
  }

  async read(zone: string, names: readonly string[] | 'all'): Promise<ZoneState> {
    return new CfSnapshot(zone, names, await this.readRecords(zone, names)).state
  }

  // ---------------------------------------------------------------- writes

  private checkSettings(zone: string): {proxiedName?: string} {
    const ttl = this.setting('ttl')
    if (ttl !== undefined && /^\d+$/.test(ttl)) {
      const problem = checkCloudflareTtl(Number(ttl))
      if (problem) throw new InputError('--ttl', problem)
    }
    if (this.options.settings?.proxied !== true) return {}
    const rr = this.setting('a-record')
    if (rr === undefined) throw new InputError('--proxied', 'proxies the round-robin name only; give --a-record NAME too')
    const ip = this.setting('ip')
    if (ip !== undefined) {
      const {address} = parseAddress(ip)
      if (!isPublicAddress(address)) {
        throw new InputError('--proxied', `${address} is not a public address; Cloudflare proxies only A/AAAA records pointing at public addresses`)
      }
    }
    return {proxiedName: parseRoundRobin(rr, zone)}
  }

  private describe(zoneId: string, c: Change, snap: CfSnapshot, body: CreateBody | undefined): string {
    if (c.action === 'add') return `POST /zones/${zoneId}/dns_records ${JSON.stringify(body)}`
    const ids = snap.records(c.name, c.type, c.value).filter((r) => r.marked).map((r) => r.id)
    return ids.length ? ids.map((id) => `DELETE /zones/${zoneId}/dns_records/${id}`).join(', ') : `(keep ${c.name} ${c.type} ${c.value}: not written by dnssd)`
  }

  /** Apply changes in order; returns those that took effect. */
  private async apply(zone: string, changes: readonly Change[], snap: CfSnapshot, comment: string, proxiedName: string | undefined, notes: string[]): Promise<Change[]> {
    const zoneId = await this.zoneId(zone)
    const done: Change[] = []
    for (const c of changes) {
      if (c.action === 'add') {
        const body = createBody(c, comment, c.name === proxiedName && (c.type === 'A' || c.type === 'AAAA'))
        try {
          await this.call(`POST /zones/${zoneId}/dns_records ${c.type} ${c.name}`, (cl, o) =>
            cl.dns.records.create({zone_id: zoneId, ...body} as Parameters<Client['dns']['records']['create']>[0], o),
          )
        } catch (err) {
          if (!codesOf(err).some((code) => code === 81057 || code === 81058)) throw this.refusal(err, `create ${c.type} ${c.name}`, zone)
          this.options.log(`cloudflare: ${c.type} ${c.name} ${c.value} already exists (identical record); counted as done`)
        }
        done.push(c)
        continue
      }
      const records = snap.records(c.name, c.type, c.value)
      const mine = records.filter((r) => r.marked)
      if (mine.length === 0) {
        if (records.length > 0) notes.push(`kept ${c.name} ${c.type} ${c.value}: it has no ${markFor('')} comment, so dnssd did not write it`)
        continue
      }
      for (const r of mine) {
        try {
          await this.call(`DELETE /zones/${zoneId}/dns_records/${r.id} ${c.type} ${c.name}`, (cl, o) =>
            cl.dns.records.delete(r.id, {zone_id: zoneId}, o),
          )
        } catch (err) {
          if (!codesOf(err).includes(81044)) throw this.refusal(err, `delete ${c.type} ${c.name}`, zone)
          this.options.log(`cloudflare: ${c.type} ${c.name} ${c.value} was already gone (81044); counted as done`)
        }
      }
      done.push(c)
    }
    return done
  }

  async transact(zone: string, names: readonly string[], plan: Planner, opts: {dryRun: boolean}): Promise<TransactResult> {
    const {proxiedName} = this.checkSettings(zone)
    const host = names.find((n) => n.startsWith(`${MARKER_LABEL}.`))?.slice(MARKER_LABEL.length + 1) ?? zone
    const comment = markFor(host)
    const seenRecords: SeenRecord[] = []
    const outcome = await readAndPlan(
      async (n) => {
        const recs = await this.readRecords(zone, n)
        seenRecords.push(...recs)
        return new CfSnapshot(zone, n, recs).state
      },
      names,
      plan,
    )
    const snap = new CfSnapshot(zone, [], seenRecords)
    const notes = [...outcome.notes]
    if (opts.dryRun) {
      const zoneId = await this.zoneId(zone)
      const request = outcome.changes.map((c) =>
        this.describe(zoneId, c, snap, c.action === 'add' ? createBody(c, comment, c.name === proxiedName && (c.type === 'A' || c.type === 'AAAA')) : undefined),
      )
      return {changes: outcome.changes, notes, applied: false, attempts: 1, request}
    }
    const applied = await this.apply(zone, outcome.changes, snap, comment, proxiedName, notes)

    // Converge the shared names (see cloudflare-converge.ts for why this is needed and why it ends).
    const scope = sharedScope(zone, names)
    const after = outcome.state.clone()
    after.apply(outcome.changes)
    const txtFor = (instance: string): string[] => {
      const now = after.values(instance, 'TXT')
      if (now.length > 0) return now
      const before = outcome.state.values(instance, 'TXT')
      return before.length > 0 ? before : ['""']
    }
    const ttl = outcome.changes[0]?.ttl ?? (Number(this.setting('ttl')) || 60)
    let rounds = 0
    // A run that wrote nothing has nothing to settle (a no-op re-join costs only its reads).
    if (scope.types.length > 0 && applied.length > 0) {
      for (;;) {
        const recs = await this.readRecords(zone, scopeNames(scope))
        const current = new CfSnapshot(zone, scopeNames(scope), recs)
        const repair = repairPlan({state: current.state, scope, removable: (n, t, v) => current.removable(n, t, v), txtFor, ttl})
        if (repair.length === 0) break
        rounds++
        if (rounds > MAX_REPAIR_ROUNDS) {
          throw new BackendError(`the shared records of ${scope.types.map((t) => t.type).join(', ')} kept changing after ${MAX_REPAIR_ROUNDS} repair rounds; run the command again`)
        }
        this.options.log(`cloudflare: repair round ${rounds}: ${repair.length} change(s) to the shared names after concurrent members`)
        applied.push(...(await this.apply(zone, repair, current, comment, proxiedName, notes)))
        // Let concurrent members finish their writes before looking again.
        await sleep(Math.min(50 + Math.random() * 200, Math.max(0, this.options.deadline - Date.now())))
      }
    }
    if (rounds > 0) notes.push(`repaired the shared records in ${rounds} round(s) after concurrent joins/leaves`)
    return {changes: applied, notes, applied: applied.length > 0, attempts: 1 + rounds}
  }

  async close(): Promise<void> {}
}
