/**
 * A local Cloudflare-API-v4-compatible endpoint for tests (reference/cloudflare.md
 * §1-§6, checklist §8). The REAL `cloudflare` SDK talks to it through
 * CLOUDFLARE_BASE_URL=<url> (which ends in /client/v4, like production).
 *
 * Implemented: GET /zones (name filter, page/per_page: default 20, max 50),
 * GET /zones/:id, GET|POST /zones/:id/dns_records, GET|PATCH|PUT|DELETE
 * /zones/:id/dns_records/:rid, POST /zones/:id/dns_records/batch (§3.8:
 * deletes -> patches -> puts -> posts, each checked against the state as it
 * evolves, all rolled back on the first failure, which is the answer;
 * at most `maxBatch` operations, default 200 as on the Free plan).
 *
 * Behaviour kept from the real API:
 * - envelope {success, errors, messages, result[, result_info]} with
 *   Content-Type: application/json on every answer; success is HTTP 200
 *   (also for POST); failures are 4xx/5xx with result null;
 * - auth: `Authorization: Bearer <token>`; a malformed token -> 400 6003 with
 *   error_chain 6111; none -> 400 9106; X-Auth-Key/X-Auth-Email headers -> 400
 *   6003/6103 (this fake has no global keys, so a leftover key is caught);
 *   an unknown or insufficient token, or a zone the token cannot see -> 403
 *   10000 (the choice this fake makes for the "foreign zone" open question);
 * - lists: filters type, name/name.exact/.contains/.startswith/.endswith,
 *   content/content.exact/..., comment/comment.exact/.present/.absent/...,
 *   proxied, match=all|any, all case-insensitive; page (>=1) and per_page
 *   (records: default 100, capped at `maxPerPage`; the effective size is in
 *   result_info); a page past the end is 200 with result [];
 * - writes: names lower-cased and made absolute (`@`, relative), no trailing
 *   dot; hostname contents lower-cased without the dot; AAAA in RFC 5952 form;
 *   TXT stored VERBATIM (unbalanced quotes refused); SRV only through `data`
 *   {priority, weight, port, target} (service/proto/name refused), answered
 *   with content "weight port target" and top-level priority; ttl 1 or
 *   60-86400 (9021); proxied only for A/AAAA/CNAME at public addresses
 *   (9004/9041); comments at most 100 characters (Free plan);
 * - identical record (type + name + content) -> 400 81058; CNAME exclusivity
 *   81053/81054; unknown record -> 404 81044; changing a record's type -> 400.
 * - at most `maxBatch` operations per batch (200 by default, the Free plan;
 *   3,500 on paid plans): a larger batch is refused whole with 400. The real
 *   error code is not documented (reference §3.8, §10.4); this fake answers
 *   81055 with the limit in the message;
 * - the rate limit (§6): 1,200 requests per 300 s by default (`rateLimit`);
 *   the request that exceeds it and every request for one window after it
 *   are answered 429 971 with `retry-after` (seconds left) and the
 *   Ratelimit/Ratelimit-Policy headers every answer carries. Refused
 *   requests are not counted.
 * Knobs: 429 injection (every Nth request, body 971 + retry-after and
 * Ratelimit headers), one-off faults, seeded random faults (429, 5xx, and an
 * answer lost after the request was applied), answers lost on demand (the
 * k-th matching request), holding matching requests
 * until the test releases them, a hanging mode (accepts, never answers),
 * latency, and a request log (batch requests with their operation count).
 */
import {randomBytes} from 'node:crypto'
import {type IncomingMessage, type ServerResponse, createServer} from 'node:http'
import {type AddressInfo} from 'node:net'
import {BlockList, isIPv4, isIPv6} from 'node:net'

export const FAKE_TOKEN = 'dnssdTestToken0123456789abcdefghijklmnopq'.slice(0, 40)

export interface TokenGrant {
  /** Zone names this token can see ('all' by default). */
  zones?: 'all' | string[]
  /** DNS permission: 'edit' (default), 'read' or 'none'. */
  dns?: 'edit' | 'read' | 'none'
}

export interface FakeOptions {
  zones?: string[]
  tokens?: Record<string, TokenGrant>
  /** Largest per_page honoured for DNS records (default 5000). */
  maxPerPage?: number
  /** Operations allowed in one batch (default 200, the Free plan's limit). */
  maxBatch?: number
  /** Answer every Nth request (counted over all requests) with 429 971. */
  rateLimitEvery?: number
  /** retry-after seconds sent with injected 429s (default 1). */
  retryAfter?: number
  /** Accept connections and never answer. */
  hang?: boolean
  /** Delay before each answer, ms. */
  latencyMs?: number
  /** Send only {page, per_page} in result_info (the fields the SDK types declare). */
  minimalResultInfo?: boolean
  /** The account's rate limit (default 1,200 requests per 300 s, as documented); false: none. */
  rateLimit?: {requests: number; windowSeconds: number} | false
  /** Random faults: each request fails with probability `rate`, as one of `kinds` (default all), drawn from `random` (seeded by the test). */
  faults?: {rate: number; random: () => number; kinds?: FaultKind[]}
}

/**
 * '429': throttled (971, retry-after 1), not applied; '5xx': 503 10001, not
 * applied; 'lost': applied, then the connection is dropped with no answer.
 */
export type FaultKind = '429' | '5xx' | 'lost'

export interface StoredRecord {
  id: string
  name: string
  type: string
  content: string
  proxiable: boolean
  proxied: boolean
  ttl: number
  settings: Record<string, unknown>
  meta: Record<string, unknown>
  comment: string | null
  tags: string[]
  created_on: string
  modified_on: string
  comment_modified_on?: string
  priority?: number
  data?: {priority: number; weight: number; port: number; target: string}
}

export interface LoggedRequest {
  method: string
  path: string
  query: string
  status: number
  auth: string[]
  /** Operations in a batch request (deletes + patches + puts + posts). */
  ops?: number
  /** A seeded fault this request met. */
  fault?: FaultKind
}

export interface Fault {
  /** Applies to requests whose `METHOD path` matches (default: any). */
  match?: RegExp
  status: number
  code: number
  message: string
  retryAfter?: number
  times: number
}

interface ApiError {
  code: number
  message: string
  error_chain?: {code: number; message: string}[]
}

class Failure extends Error {
  constructor(
    readonly status: number,
    readonly errors: ApiError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((e) => e.message).join('; '))
  }
}

const fail = (status: number, code: number, message: string, extra: Partial<ApiError> = {}): Failure =>
  new Failure(status, [{code, message, ...extra}])

const newId = (): string => randomBytes(16).toString('hex')
const now = (): string => new Date().toISOString().replace('Z', '000Z')

const nonPublic = new BlockList()
for (const [n, b] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3]] as const) {
  nonPublic.addSubnet(n, b, 'ipv4')
}
for (const [n, b] of [['::1', 128], ['fc00::', 7], ['fe80::', 10], ['2001:db8::', 32], ['ff00::', 8]] as const) nonPublic.addSubnet(n, b, 'ipv6')

function canonicalV6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1)
}

function hostContent(v: unknown): string {
  const s = String(v ?? '').trim().toLowerCase()
  return s.endsWith('.') && s !== '.' ? s.slice(0, -1) : s
}

function balancedQuotes(text: string): boolean {
  let inside = false
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++
      continue
    }
    if (text[i] === '"') inside = !inside
  }
  return !inside
}

export class FakeCloudflare {
  readonly zones: {id: string; name: string}[]
  readonly log: LoggedRequest[] = []
  private readonly store = new Map<string, StoredRecord[]>()
  private readonly tokens: Record<string, TokenGrant>
  private readonly faults: Fault[] = []
  private readonly losses: {match: RegExp; skip: number; times: number}[] = []
  private readonly holds: {match: RegExp; gate: Promise<void>; left: number; skip: number; when?: (body: Record<string, unknown>) => boolean}[] = []
  private requests = 0
  /** Times of the requests counted in the rate-limit window, and the end of a block after it was exceeded. */
  private window: number[] = []
  private blockedUntil = 0
  /** Batches applied (for tests and benchmarks). */
  batches = 0
  /** Operations of each batch applied, in order. */
  readonly batchSizes: number[] = []
  /** Seeded faults injected, by kind. */
  readonly injected: Record<FaultKind, number> = {'429': 0, '5xx': 0, lost: 0}
  private server = createServer((req, res) => void this.handle(req, res))
  opts: FakeOptions
  url = ''

  constructor(opts: FakeOptions = {}) {
    this.opts = opts
    this.zones = (opts.zones ?? ['example.com']).map((name) => ({id: newId(), name}))
    for (const z of this.zones) this.store.set(z.id, [])
    this.tokens = opts.tokens ?? {[FAKE_TOKEN]: {zones: 'all', dns: 'edit'}}
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const {port} = this.server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}/client/v4`
    return this
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  zoneId(name: string): string {
    const z = this.zones.find((x) => x.name === name)
    if (!z) throw new Error(`no zone ${name}`)
    return z.id
  }

  /** The zone's records as stored (copies). */
  records(zone = this.zones[0]!.name): StoredRecord[] {
    return structuredClone(this.store.get(this.zoneId(zone)) ?? [])
  }

  /** Records in dnssd's value form, for checkInvariants. */
  values(zone = this.zones[0]!.name): {name: string; type: string; value: string; comment: string | null}[] {
    return this.records(zone).map((r) => ({name: r.name, type: r.type, value: presentation(r), comment: r.comment}))
  }

  /** Insert a record as a human would (through the dashboard): bypasses auth and faults. */
  seed(zone: string, body: Record<string, unknown>): StoredRecord {
    return this.create(this.zoneId(zone), body)
  }

  injectFault(f: Omit<Fault, 'times'> & {times?: number}): void {
    this.faults.push({times: 1, ...f})
  }

  /** Apply `times` requests matching `match` (after letting `skip` of them pass), then drop each connection without an answer. */
  loseAnswers(match: RegExp, opts: {skip?: number; times?: number} = {}): void {
    this.losses.push({match, skip: opts.skip ?? 0, times: opts.times ?? 1})
  }

  /**
   * Hold every request whose `METHOD path` matches until the returned release
   * function is called: lets a test force one interleaving of two clients.
   */
  hold(match: RegExp, opts: {count?: number; skip?: number; when?: (body: Record<string, unknown>) => boolean} = {}): () => void {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    // count: hold only the first N matching requests (after `skip` of them, and those `when` accepts); the ones after pass.
    const entry = {match, gate, left: opts.count ?? Number.POSITIVE_INFINITY, skip: opts.skip ?? 0, when: opts.when}
    this.holds.push(entry)
    return () => {
      if (this.holds.includes(entry)) this.holds.splice(this.holds.indexOf(entry), 1)
      release()
    }
  }

  // ------------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.opts.hang) return // accept, never answer
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs))
    const url = new URL(req.url ?? '/', 'http://fake')
    const path = url.pathname.replace(/^\/client\/v4/, '').replace(/\/+$/, '') || '/'
    const method = (req.method ?? 'GET').toUpperCase()
    const auth = ['authorization', 'x-auth-key', 'x-auth-email', 'x-auth-user-service-key'].filter((h) => req.headers[h] !== undefined)
    const entry: LoggedRequest = {method, path, query: url.search.slice(1), status: 0, auth}
    this.log.push(entry)
    const text = Buffer.concat(chunks).toString('utf8')
    const parsed = (): Record<string, unknown> => {
      try {
        return JSON.parse(text) as Record<string, unknown>
      } catch {
        return {}
      }
    }
    for (const h of this.holds.filter((x) => x.match.test(`${method} ${path}`) && (!x.when || x.when(parsed())))) {
      if (h.skip > 0) {
        h.skip--
        continue
      }
      if (--h.left <= 0) this.holds.splice(this.holds.indexOf(h), 1)
      await h.gate
    }
    this.requests++
    let status = 200
    let body: unknown
    const headers: Record<string, string> = {'content-type': 'application/json'}
    let lost = false
    try {
      this.throttle(headers)
      const drawn = this.drawFault()
      if (drawn) {
        entry.fault = drawn
        this.injected[drawn]++
        if (drawn === '429') throw new Failure(429, [{code: 971, message: 'Please wait and consider throttling your request speed'}], {'retry-after': '1'})
        if (drawn === '5xx') throw new Failure(503, [{code: 10001, message: 'Service temporarily unavailable'}])
        lost = true
      }
      const loss = this.losses.find((l) => l.times > 0 && l.match.test(`${method} ${path}`))
      if (loss && loss.skip > 0) loss.skip--
      else if (loss) {
        loss.times--
        lost = true
      }
      const every = this.opts.rateLimitEvery
      if (every && this.requests % every === 0) {
        const ra = this.opts.retryAfter ?? 1
        throw new Failure(429, [{code: 971, message: 'Please wait and consider throttling your request speed'}], {
          'retry-after': String(ra),
          ratelimit: `"default";r=0;t=${ra}`,
          'ratelimit-policy': '"default";q=1200;w=300',
        })
      }
      const fault = this.faults.find((f) => f.times > 0 && (!f.match || f.match.test(`${method} ${path}`)))
      if (fault) {
        fault.times--
        throw new Failure(fault.status, [{code: fault.code, message: fault.message}], fault.retryAfter === undefined ? {} : {'retry-after': String(fault.retryAfter)})
      }
      const grant = this.authenticate(req)
      let json: Record<string, unknown> = {}
      if (text.trim() !== '') {
        try {
          json = JSON.parse(text) as Record<string, unknown>
        } catch {
          throw fail(400, 9207, 'Request body is invalid.')
        }
      }
      if (path.endsWith('/batch')) entry.ops = ['deletes', 'patches', 'puts', 'posts'].reduce((n, k) => n + (Array.isArray(json[k]) ? (json[k] as unknown[]).length : 0), 0)
      body = this.route(method, path, url.searchParams, json, grant)
    } catch (err) {
      if (!(err instanceof Failure)) throw err
      status = err.status
      Object.assign(headers, err.headers)
      body = {success: false, errors: err.errors, messages: [], result: null}
    }
    if (lost && status === 200) {
      // Applied, and the answer never arrives: the client sees the connection drop.
      res.destroy()
      return
    }
    entry.status = status
    const payload = JSON.stringify(body)
    res.writeHead(status, {...headers, 'content-length': String(Buffer.byteLength(payload))})
    res.end(payload)
  }

  /**
   * The account's rate limit (§6): past `requests` in a window, every request
   * is refused for one window; every answer carries the Ratelimit headers.
   */
  private throttle(headers: Record<string, string>): void {
    const limit = this.opts.rateLimit === undefined ? {requests: 1200, windowSeconds: 300} : this.opts.rateLimit
    if (limit === false) return
    const now = Date.now()
    const windowMs = limit.windowSeconds * 1000
    headers['ratelimit-policy'] = `"default";q=${limit.requests};w=${limit.windowSeconds}`
    if (now < this.blockedUntil) {
      const left = Math.ceil((this.blockedUntil - now) / 1000)
      throw new Failure(429, [{code: 971, message: 'Please wait and consider throttling your request speed'}], {'retry-after': String(left), ratelimit: `"default";r=0;t=${left}`})
    }
    this.window = this.window.filter((t) => t > now - windowMs)
    if (this.window.length >= limit.requests) {
      this.blockedUntil = now + windowMs
      throw new Failure(429, [{code: 971, message: 'Please wait and consider throttling your request speed'}], {
        'retry-after': String(limit.windowSeconds),
        ratelimit: `"default";r=0;t=${limit.windowSeconds}`,
      })
    }
    this.window.push(now)
    const reset = Math.max(1, Math.ceil((this.window[0]! + windowMs - now) / 1000))
    headers.ratelimit = `"default";r=${limit.requests - this.window.length};t=${reset}`
  }

  /** Requests counted in the current rate-limit window. */
  get windowCount(): number {
    const limit = this.opts.rateLimit === undefined ? {requests: 1200, windowSeconds: 300} : this.opts.rateLimit
    if (limit === false) return 0
    return this.window.filter((t) => t > Date.now() - limit.windowSeconds * 1000).length
  }

  private drawFault(): FaultKind | undefined {
    const f = this.opts.faults
    if (!f || f.random() >= f.rate) return undefined
    const kinds = f.kinds ?? ['429', '5xx', 'lost']
    return kinds[Math.floor(f.random() * kinds.length)]
  }

  private authenticate(req: IncomingMessage): TokenGrant {
    if (req.headers['x-auth-key'] !== undefined || req.headers['x-auth-email'] !== undefined) {
      throw fail(400, 6003, 'Invalid request headers', {error_chain: [{code: 6103, message: 'Invalid format for X-Auth-Key header'}]})
    }
    const header = req.headers.authorization
    if (header === undefined) throw fail(400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers')
    const m = /^Bearer ([A-Za-z0-9_-]{40})$/.exec(header)
    if (!m) throw fail(400, 6003, 'Invalid request headers', {error_chain: [{code: 6111, message: 'Invalid format for Authorization header'}]})
    const grant = this.tokens[m[1]!]
    if (!grant) throw fail(403, 10000, 'Authentication error')
    return grant
  }

  private visibleZones(grant: TokenGrant): {id: string; name: string}[] {
    return this.zones.filter((z) => grant.zones === undefined || grant.zones === 'all' || grant.zones.includes(z.name))
  }

  private route(method: string, path: string, q: URLSearchParams, body: Record<string, unknown>, grant: TokenGrant): unknown {
    const parts = path.split('/').filter(Boolean)
    const noRoute = (): Failure =>
      new Failure(400, [
        {code: 7003, message: `Could not route to /client/v4${path}, perhaps your object identifier is invalid?`},
        {code: 7000, message: 'No route for that URI'},
      ])
    if (parts[0] !== 'zones') throw noRoute()
    if (parts.length === 1 && method === 'GET') {
      const name = q.get('name')?.toLowerCase()
      const zones = this.visibleZones(grant).filter((z) => name === undefined || z.name === name)
      return this.paginate(zones.map((z) => ({id: z.id, name: z.name, status: 'active', paused: false, type: 'full', account: {id: 'acc', name: 'Test'}, plan: {id: 'free', name: 'Free Website'}, name_servers: ['a.ns.example', 'b.ns.example']})), q, 20, 50)
    }
    const zoneId = parts[1]!
    if (!/^[0-9a-f]{32}$/.test(zoneId)) throw noRoute()
    const zone = this.visibleZones(grant).find((z) => z.id === zoneId)
    if (!zone) throw fail(403, 10000, 'Authentication error')
    if (parts.length === 2 && method === 'GET') return ok({id: zone.id, name: zone.name, status: 'active', paused: false, type: 'full'})
    if (parts[2] !== 'dns_records') throw noRoute()
    const dns = grant.dns ?? 'edit'
    if (dns === 'none' || (dns === 'read' && method !== 'GET')) throw fail(403, 10000, 'Authentication error')
    const records = this.store.get(zone.id)!
    if (parts.length === 3) {
      if (method === 'GET') return this.paginate(this.filter(records, q), q, 100, this.opts.maxPerPage ?? 5000)
      if (method === 'POST') return ok(this.create(zone.id, body))
      throw noRoute()
    }
    if (parts.length === 4 && parts[3] === 'batch' && method === 'POST') return ok(this.batch(zone.id, body))
    if (parts.length !== 4 || parts[3] === 'batch') throw noRoute()
    const rid = parts[3]!
    if (!/^[0-9a-f]{32}$/.test(rid)) throw noRoute()
    const at = records.findIndex((r) => r.id === rid)
    if (at < 0) throw fail(404, 81044, 'Record does not exist.')
    const record = records[at]!
    switch (method) {
      case 'GET':
        return ok(record)
      case 'DELETE':
        records.splice(at, 1)
        return ok({id: rid})
      case 'PATCH':
      case 'PUT': {
        const merged = method === 'PATCH' ? {...wireBody(record), ...body} : body
        if (merged.type !== undefined && String(merged.type).toUpperCase() !== record.type) {
          throw fail(400, 9011, 'Changing the type of a DNS record is no longer supported; delete it and create a new one.')
        }
        const next = this.build(zone.id, {...merged, type: record.type}, rid)
        Object.assign(record, next, {id: record.id, created_on: record.created_on, modified_on: now()})
        if (method === 'PUT' && merged.comment === undefined) record.comment = null
        return ok(record)
      }
      default:
        throw noRoute()
    }
  }

  private paginate(items: unknown[], q: URLSearchParams, defaultPer: number, maxPer: number): unknown {
    const page = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1)
    const asked = Number.parseInt(q.get('per_page') ?? String(defaultPer), 10) || defaultPer
    const per = Math.min(Math.max(1, asked), maxPer)
    const slice = items.slice((page - 1) * per, page * per)
    return {
      success: true,
      errors: [],
      messages: [],
      result: slice,
      result_info: this.opts.minimalResultInfo
        ? {page, per_page: per}
        : {page, per_page: per, count: slice.length, total_count: items.length, total_pages: Math.ceil(items.length / per)},
    }
  }

  private filter(records: StoredRecord[], q: URLSearchParams): StoredRecord[] {
    const tests: ((r: StoredRecord) => boolean)[] = []
    const text = (field: 'name' | 'content' | 'comment') => (r: StoredRecord) => (r[field] ?? '').toLowerCase()
    for (const [key, raw] of q) {
      const value = raw.toLowerCase()
      const [field, op = 'exact'] = key.split('.') as [string, string | undefined]
      if (field === 'type') tests.push((r) => r.type === raw.toUpperCase())
      else if (field === 'proxied') tests.push((r) => String(r.proxied) === value)
      else if (field === 'name' || field === 'content' || field === 'comment') {
        const get = text(field)
        const v = field === 'name' && value.endsWith('.') ? value.slice(0, -1) : value
        if (op === 'exact') tests.push((r) => get(r) === v)
        else if (op === 'contains') tests.push((r) => get(r).includes(v))
        else if (op === 'startswith') tests.push((r) => get(r).startsWith(v))
        else if (op === 'endswith') tests.push((r) => get(r).endsWith(v))
        else if (op === 'present' && field === 'comment') tests.push((r) => r.comment !== null)
        else if (op === 'absent' && field === 'comment') tests.push((r) => r.comment === null)
      }
    }
    const any = q.get('match') === 'any'
    const matched = records.filter((r) => tests.length === 0 || (any ? tests.some((t) => t(r)) : tests.every((t) => t(r))))
    return [...matched].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  private normaliseName(zoneId: string, raw: unknown): string {
    const zone = this.zones.find((z) => z.id === zoneId)!.name
    let name = String(raw ?? '').trim().toLowerCase()
    if (name.endsWith('.')) name = name.slice(0, -1)
    if (name === '') throw fail(400, 9000, 'DNS name is invalid.')
    if (name === '@') return zone
    if (name !== zone && !name.endsWith(`.${zone}`)) name = `${name}.${zone}`
    const labels = name.split('.')
    if (name.length > 253 || labels.some((l) => l === '' || l.length > 63 || /[\s@():;]/.test(l))) throw fail(400, 9000, 'DNS name is invalid.')
    return name
  }

  /** Validate and normalise a record body into a stored record (without inserting it). */
  private build(zoneId: string, body: Record<string, unknown>, selfId?: string): StoredRecord {
    const type = String(body.type ?? '').toUpperCase()
    if (!['A', 'AAAA', 'CNAME', 'TXT', 'SRV', 'PTR', 'NS', 'MX'].includes(type)) throw fail(400, 9101, `Unsupported record type "${type}".`)
    const name = this.normaliseName(zoneId, body.name)
    const ttl = body.ttl === undefined ? 1 : Number(body.ttl)
    if (!(ttl === 1 || (Number.isInteger(ttl) && ttl >= 60 && ttl <= 86_400))) throw fail(400, 9021, 'TTL must be between 60 and 86400 seconds, or 1 for Automatic.')
    const comment = body.comment === undefined || body.comment === null || body.comment === '' ? null : String(body.comment)
    if (comment !== null && (comment.length > 100 || /[\r\n]/.test(comment))) throw fail(400, 9102, 'DNS record comment is too long or has a line break (at most 100 characters on this plan).')
    if (body.tags !== undefined && Array.isArray(body.tags) && body.tags.length > 0) throw fail(400, 9300, `DNS record has ${body.tags.length} tags, exceeding the quota of 0.`)
    let content = ''
    let data: StoredRecord['data']
    let priority: number | undefined
    switch (type) {
      case 'A':
        content = String(body.content ?? '').trim()
        if (!isIPv4(content)) throw fail(400, 9005, 'Content for A record must be a valid IPv4 address.')
        break
      case 'AAAA':
        content = String(body.content ?? '').trim()
        if (!isIPv6(content)) throw fail(400, 9006, 'Content for AAAA record must be a valid IPv6 address.')
        content = canonicalV6(content)
        break
      case 'CNAME':
      case 'PTR':
      case 'NS':
        content = hostContent(body.content)
        if (content === '') throw fail(400, 9007, `Content for ${type} record is invalid.`)
        break
      case 'MX':
        content = hostContent(body.content)
        priority = Number(body.priority ?? 0)
        break
      case 'TXT':
        content = String(body.content ?? '')
        if (!balancedQuotes(content)) throw fail(400, 9008, 'TXT content has unbalanced quotation marks.')
        if (Buffer.byteLength(content) > 4096) throw fail(400, 9015, 'Content exceeds 4096 bytes.')
        break
      case 'SRV': {
        const d = (body.data ?? undefined) as Record<string, unknown> | undefined
        if (d && ('service' in d || 'proto' in d || 'name' in d)) {
          throw fail(400, 9102, "SRV data fields 'service', 'proto' and 'name' are no longer supported; put the owner name in 'name'.")
        }
        if (!d || d.priority === undefined || d.weight === undefined || d.port === undefined || d.target === undefined) {
          throw fail(400, 9101, 'SRV records require data.priority, data.weight, data.port and data.target.')
        }
        const num = (v: unknown): number => {
          const n = Number(v)
          if (!Number.isInteger(n) || n < 0 || n > 65_535) throw fail(400, 9101, 'SRV priority, weight and port must be 0-65535.')
          return n
        }
        data = {priority: num(d.priority), weight: num(d.weight), port: num(d.port), target: hostContent(d.target) || '.'}
        priority = data.priority
        content = `${data.weight} ${data.port} ${data.target}`
        break
      }
    }
    const publicAddress = (type === 'A' && !nonPublic.check(content, 'ipv4')) || (type === 'AAAA' && !nonPublic.check(content, 'ipv6'))
    const proxiable = type === 'CNAME' || publicAddress
    const proxied = body.proxied === true
    if (proxied && !['A', 'AAAA', 'CNAME'].includes(type)) throw fail(400, 9004, 'This record type cannot be proxied.')
    if (proxied && !proxiable) throw fail(400, 9041, 'This record cannot be proxied: the address is not public.')
    const records = this.store.get(zoneId)!
    const identical = records.find(
      (r) => r.id !== selfId && r.type === type && r.name === name && (type === 'TXT' ? r.content === content : r.content.toLowerCase() === content.toLowerCase()) && (type !== 'SRV' || r.priority === priority),
    )
    if (identical) throw fail(400, 81058, 'An identical record already exists.')
    if (type === 'CNAME' && records.some((r) => r.id !== selfId && r.name === name && ['A', 'AAAA', 'CNAME'].includes(r.type))) {
      throw fail(400, 81053, 'An A, AAAA, or CNAME record with that host already exists.')
    }
    if ((type === 'A' || type === 'AAAA') && records.some((r) => r.id !== selfId && r.name === name && r.type === 'CNAME')) {
      throw fail(400, 81054, 'A CNAME record with that host already exists.')
    }
    const stamp = now()
    const record: StoredRecord = {
      id: selfId ?? newId(),
      name,
      type,
      content,
      proxiable,
      proxied,
      ttl: proxied ? 1 : ttl,
      settings: {},
      meta: {},
      comment,
      tags: [],
      created_on: stamp,
      modified_on: stamp,
      ...(comment === null ? {} : {comment_modified_on: stamp}),
      ...(priority === undefined ? {} : {priority}),
      ...(data === undefined ? {} : {data}),
    }
    return record
  }

  /** One atomic batch (§3.8); a failure leaves the zone as it was. */
  private batch(zoneId: string, body: Record<string, unknown>): unknown {
    const list = (key: string): Record<string, unknown>[] => {
      const v = body[key]
      if (v === undefined) return []
      if (!Array.isArray(v)) throw fail(400, 9207, `Request body is invalid: ${key} must be an array.`)
      return v as Record<string, unknown>[]
    }
    const deletes = list('deletes')
    const patches = list('patches')
    const puts = list('puts')
    const posts = list('posts')
    const total = deletes.length + patches.length + puts.length + posts.length
    const limit = this.opts.maxBatch ?? 200
    // The real code for an oversized batch is not documented (reference §3.8, §10.4).
    if (total > limit) throw fail(400, 81055, `Batch has ${total} operations; at most ${limit} are allowed on this plan.`)
    const before = structuredClone(this.store.get(zoneId)!)
    const records = this.store.get(zoneId)!
    const byId = (op: Record<string, unknown>): number => {
      const at = records.findIndex((r) => r.id === op.id)
      if (at < 0) throw fail(404, 81044, 'Record does not exist.')
      return at
    }
    const result = {deletes: [] as StoredRecord[], patches: [] as StoredRecord[], puts: [] as StoredRecord[], posts: [] as StoredRecord[]}
    try {
      for (const op of deletes) result.deletes.push(...records.splice(byId(op), 1))
      for (const [ops, kind] of [[patches, 'patches'], [puts, 'puts']] as const) {
        for (const op of ops) {
          const record = records[byId(op)]!
          const {id: _id, ...fields} = op
          const merged = kind === 'patches' ? {...wireBody(record), ...fields} : fields
          if (merged.type !== undefined && String(merged.type).toUpperCase() !== record.type) {
            throw fail(400, 9011, 'Changing the type of a DNS record is no longer supported; delete it and create a new one.')
          }
          Object.assign(record, this.build(zoneId, {...merged, type: record.type}, record.id), {id: record.id, created_on: record.created_on, modified_on: now()})
          if (kind === 'puts' && merged.comment === undefined) record.comment = null
          result[kind].push(structuredClone(record))
        }
      }
      for (const op of posts) result.posts.push(this.create(zoneId, op))
    } catch (error) {
      this.store.set(zoneId, before)
      throw error
    }
    this.batches++
    this.batchSizes.push(total)
    return result
  }

  private create(zoneId: string, body: Record<string, unknown>): StoredRecord {
    const record = this.build(zoneId, body)
    this.store.get(zoneId)!.push(record)
    return structuredClone(record)
  }
}

function ok(result: unknown): unknown {
  return {success: true, errors: [], messages: [], result}
}

/** The writable fields of a stored record (for PATCH merging). */
function wireBody(r: StoredRecord): Record<string, unknown> {
  return {type: r.type, name: r.name, ttl: r.ttl, proxied: r.proxied, comment: r.comment, ...(r.data ? {data: r.data} : {content: r.content}), ...(r.type === 'MX' ? {priority: r.priority} : {})}
}

/** A stored record as a zone-file value (what dnssd's core compares). */
export function presentation(r: StoredRecord): string {
  switch (r.type) {
    case 'SRV':
      return `${r.data!.priority} ${r.data!.weight} ${r.data!.port} ${r.data!.target === '.' ? '.' : `${r.data!.target}.`}`
    case 'PTR':
    case 'CNAME':
    case 'NS':
      return `${r.content}.`
    default:
      return r.content
  }
}

/** Run `fn` against a started endpoint, closed afterwards whatever happens. */
export async function withFakeCloudflare<T>(opts: FakeOptions, fn: (fake: FakeCloudflare) => Promise<T>): Promise<T> {
  const fake = await new FakeCloudflare(opts).start()
  try {
    return await fn(fake)
  } finally {
    await fake.close()
  }
}
