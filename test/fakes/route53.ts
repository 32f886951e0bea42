/**
 * A local Route 53-compatible endpoint (REST-XML, API 2013-04-01) for tests
 * and benchmarks. The REAL @aws-sdk/client-route-53 talks to it through
 * AWS_ENDPOINT_URL_ROUTE_53. It follows ../shared/reference/route53-s3.md:
 *  - ListHostedZonesByName (dnsname is a start position), GetHostedZone,
 *    ListResourceRecordSets (reversed-label order, 300 a page, inclusive
 *    NextRecordName/NextRecordType), ChangeResourceRecordSets (/rrset and
 *    /rrset/), GetChange (PENDING, INSYNC after a delay);
 *  - batches evaluated in order on a working copy, errors collected, all or
 *    nothing; DELETE must match TTL and the value set exactly; CREATE of an
 *    existing RRset fails; messages as real responses word them, joined as
 *    `[m1, m2]` in the standard ErrorResponse body;
 *  - names canonicalised (lower case, octal escapes for anything outside
 *    a-z 0-9 - _, trailing dot); TXT must be quoted, 255 bytes a string;
 *  - the per-request limits: 1,000 ResourceRecord values and 32,000 Value
 *    characters (DELETE and CREATE each count, UPSERT twice), refused with
 *    InvalidChangeBatch in the texts real responses carry;
 *  - a per-account token bucket (5 requests/s) answering 400 Throttling;
 *  - fault switches: Throttling, PriorRequestNotComplete, 500, responses
 *    dropped AFTER a change was committed, and a mode that never answers.
 */
import {randomBytes, randomUUID} from 'node:crypto'
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import {type AddressInfo, type Socket} from 'node:net'
import {isIPv4, isIPv6} from 'node:net'
import {XMLParser} from 'fast-xml-parser'

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/'
const PAGE_MAX = 300
const ZONES_PAGE_MAX = 100
/** One ChangeResourceRecordSets request: ResourceRecord elements and characters of all Values (reference §3.6). */
export const BATCH_MAX_RECORDS = 1000
export const BATCH_MAX_CHARACTERS = 32_000

export interface FakeRRset {
  /** Canonical: lower case, escaped, trailing dot. */
  name: string
  type: string
  ttl: number
  values: string[]
}

export interface FakeZone {
  id: string
  name: string
  private: boolean
  rrsets: FakeRRset[]
}

export type FaultKind = 'throttle' | 'prior' | 'server' | 'drop'

export interface FakeOptions {
  /** Requests per second for the whole account (0 = unlimited). */
  rate?: number
  /** Bucket size (burst). Defaults to the rate. */
  burst?: number
  /** Probability (0-1) that a request gets an injected fault. */
  faultRate?: number
  /** Which faults to inject (default all four); `drop` only hits changes. */
  faultKinds?: FaultKind[]
  /** Milliseconds after submission when a change reports INSYNC. */
  insyncAfterMs?: number
  /** Access key ids answered with 403 AccessDenied. */
  deniedKeys?: string[]
  /** Where the fault dice come from: a seeded generator (test/helpers/seed.ts) makes them repeatable. */
  random?: () => number
}

export interface RequestLogEntry {
  op: string
  status: number
  fault?: FaultKind | 'throttled-by-bucket'
  at: number
}

// ---------------------------------------------------------------- names

/** Decode `\DDD` (octal) and `\X` escapes to raw bytes, lower-case ASCII, re-escape. */
export function canonicalName(input: string): string {
  let text = input.trim()
  if (text.endsWith('.') && !text.endsWith('\\.')) text = text.slice(0, -1)
  const labels: number[][] = [[]]
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '\\' && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      labels.at(-1)!.push(parseInt(text.slice(i + 1, i + 4), 8))
      i += 3
    } else if (ch === '\\' && i + 1 < text.length) {
      labels.at(-1)!.push(...Buffer.from(text[i + 1]!, 'utf8'))
      i += 1
    } else if (ch === '.') {
      labels.push([])
    } else {
      labels.at(-1)!.push(...Buffer.from(ch, 'utf8'))
    }
  }
  const out = labels.map((bytes) =>
    bytes
      .map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b))
      .map((b) => (/[a-z0-9_-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`))
      .join(''),
  )
  return `${out.join('.')}.`
}

/** Route 53 order: labels reversed, trailing dot kept, ASCII on the canonical form. */
export function orderKey(canonical: string): string {
  const labels = canonical.slice(0, -1).split('.')
  return `${labels.reverse().join('.')}.`
}

function compareNames(a: string, b: string): number {
  const ka = orderKey(a)
  const kb = orderKey(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

function compareSets(a: {name: string; type: string}, b: {name: string; type: string}): number {
  return compareNames(a.name, b.name) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)
}

function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`)
}

// ---------------------------------------------------------------- values

function checkTxt(value: string): string | undefined {
  let i = 0
  let strings = 0
  while (i < value.length) {
    if (value[i] === ' ') {
      i++
      continue
    }
    if (value[i] !== '"') return 'InvalidCharacterString (Value should be enclosed in quotation marks)'
    i++
    let len = 0
    let closed = false
    while (i < value.length) {
      const ch = value[i]!
      if (ch === '"') {
        closed = true
        i++
        break
      }
      if (ch === '\\' && /^[0-7]{3}$/.test(value.slice(i + 1, i + 4))) i += 4
      else if (ch === '\\') i += 2
      else i += 1
      len += ch.charCodeAt(0) > 0x7f ? Buffer.byteLength(ch) : 1
    }
    if (!closed) return 'InvalidCharacterString (Value should be enclosed in quotation marks)'
    if (len > 255) return 'CharacterStringTooLong (Value is too long)'
    strings++
  }
  return strings === 0 ? 'InvalidCharacterString (Value should be enclosed in quotation marks)' : undefined
}

function checkValue(type: string, value: string): string | undefined {
  const bad = (code: string) => `Invalid Resource Record: FATAL problem: ${code} encountered with '${value}'`
  if (value.length > 4000) return bad('RRDATATooLong (Value is too long)')
  switch (type) {
    case 'A':
      if (/\s/.test(value)) return bad('ARRDATANotSingleField (Value contains spaces)')
      return isIPv4(value) ? undefined : bad('ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)')
    case 'AAAA':
      return isIPv6(value) ? undefined : bad('AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)')
    case 'SRV': {
      const f = value.trim().split(/\s+/)
      if (f.length !== 4) return bad("SRVRRDATANotFourFields (SRV record doesn't have 4 fields)")
      if (!f.slice(0, 3).every((n) => /^\d+$/.test(n) && Number(n) <= 65535)) return bad('SRVRRDATAIllegalNumber (Value is not a valid number)')
      return undefined
    }
    case 'TXT':
    case 'SPF': {
      const problem = checkTxt(value)
      return problem ? bad(problem) : undefined
    }
    default:
      return value.trim() === '' ? bad('EmptyValue (Value is empty)') : undefined
  }
}

// ---------------------------------------------------------------- XML

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'Change' || name === 'ResourceRecord',
})

function zoneXml(z: FakeZone): string {
  return (
    `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${esc(z.name)}</Name><CallerReference>ref-${z.id}</CallerReference>` +
    `<Config><PrivateZone>${z.private}</PrivateZone></Config><ResourceRecordSetCount>${z.rrsets.length}</ResourceRecordSetCount></HostedZone>`
  )
}

function rrsetXml(s: FakeRRset): string {
  const values = s.values.map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`).join('')
  return `<ResourceRecordSet><Name>${esc(s.name)}</Name><Type>${s.type}</Type><TTL>${s.ttl}</TTL><ResourceRecords>${values}</ResourceRecords></ResourceRecordSet>`
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message)
  }
}

// ---------------------------------------------------------------- server

interface PendingChange {
  id: string
  submittedAt: Date
  insyncAt: number
}

export class FakeRoute53 {
  readonly zones = new Map<string, FakeZone>()
  readonly log: RequestLogEntry[] = []
  options: Required<Omit<FakeOptions, 'deniedKeys'>> & {deniedKeys: Set<string>}
  /** Forced faults for the next requests, consumed in order (op filter optional; `skip` lets that many matching requests pass first). */
  readonly forced: {kind: FaultKind; op?: string; skip?: number}[] = []
  /** When true, accept connections and never answer. */
  hang = false
  /** Operations that are received (and logged) but never answered. */
  readonly hangOps = new Set<string>()
  /** Size of every change batch that passed structural validation, in arrival order (refused ones too). */
  readonly batchSizes: {records: number; characters: number}[] = []
  /**
   * Called after a change batch has been committed, before it is answered: a
   * test plays another writer there (the next batch of the same apply then
   * meets a changed zone). Removed once called.
   */
  afterCommit?: (zone: FakeZone) => void
  private server?: Server
  private readonly sockets = new Set<Socket>()
  private readonly changes = new Map<string, PendingChange>()
  private tokens: number
  private lastRefill = Date.now()

  constructor(options: FakeOptions = {}) {
    this.options = {
      rate: options.rate ?? 0,
      burst: options.burst ?? options.rate ?? 0,
      faultRate: options.faultRate ?? 0,
      faultKinds: options.faultKinds ?? ['throttle', 'prior', 'server', 'drop'],
      insyncAfterMs: options.insyncAfterMs ?? 300,
      deniedKeys: new Set(options.deniedKeys ?? []),
      random: options.random ?? Math.random,
    }
    this.tokens = this.options.burst
  }

  /** Creates a zone with the apex SOA and NS Route 53 adds itself. */
  createZone(name: string, opts: {id?: string; private?: boolean} = {}): FakeZone {
    const id = opts.id ?? `Z${randomBytes(10).toString('hex').toUpperCase().slice(0, 19)}`
    const canonical = canonicalName(name)
    const zone: FakeZone = {
      id,
      name: canonical,
      private: Boolean(opts.private),
      rrsets: [
        {name: canonical, type: 'NS', ttl: 172800, values: ['ns-144.awsdns-18.com.', 'ns-1310.awsdns-35.org.', 'ns-1856.awsdns-40.co.uk.', 'ns-761.awsdns-31.net.']},
        {name: canonical, type: 'SOA', ttl: 900, values: ['ns-144.awsdns-18.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400']},
      ],
    }
    this.zones.set(id, zone)
    return zone
  }

  /** Puts an RRset directly (a record someone else wrote). */
  seed(zoneId: string, name: string, type: string, ttl: number, values: string[]): void {
    const zone = this.zones.get(zoneId)!
    const set = {name: canonicalName(name), type, ttl, values}
    zone.rrsets = zone.rrsets.filter((s) => compareSets(s, set) !== 0)
    zone.rrsets.push(set)
  }

  /** Every value of a zone, with names as dnssd writes them (no dot). */
  records(zoneId: string): {name: string; type: string; ttl: number; value: string}[] {
    const zone = this.zones.get(zoneId)!
    return zone.rrsets.flatMap((s) => s.values.map((value) => ({name: s.name.slice(0, -1), type: s.type, ttl: s.ttl, value})))
  }

  /** Every change submitted so far reports INSYNC from now on (a test decides when propagation ends). */
  settleChanges(): void {
    for (const c of this.changes.values()) c.insyncAt = Math.min(c.insyncAt, Date.now())
  }

  /** Requests per operation name that reached the handler (faults included). */
  count(op?: string): number {
    return this.log.filter((e) => op === undefined || e.op === op).length
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res))
    this.server.on('connection', (s) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  private takeToken(): boolean {
    if (this.options.rate <= 0) return true
    const now = Date.now()
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.options.rate)
    this.lastRefill = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  private pickFault(op: string): FaultKind | undefined {
    const i = this.forced.findIndex((f) => f.op === undefined || f.op === op)
    const forced = this.forced[i]
    if (forced && forced.skip) forced.skip--
    else if (forced) return this.forced.splice(i, 1)[0]!.kind
    if (this.options.faultRate <= 0 || this.options.random() >= this.options.faultRate) return undefined
    const kinds = this.options.faultKinds.filter((k) => (k === 'drop' || k === 'prior' ? op === 'ChangeResourceRecordSets' : true))
    return kinds.length === 0 ? undefined : kinds[Math.floor(this.options.random() * kinds.length)]
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (this.hang) return
    const body = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname.replace(/^.*?\/2013-04-01\//, '/2013-04-01/')
    const route = this.route(req.method ?? 'GET', path)
    const entry: RequestLogEntry = {op: route?.op ?? 'Unknown', status: 200, at: Date.now()}
    this.log.push(entry)
    if (route && this.hangOps.has(route.op)) return
    const send = (status: number, xml: string): void => {
      entry.status = status
      res.writeHead(status, {'content-type': 'text/xml', 'x-amzn-requestid': randomUUID()})
      res.end(`<?xml version="1.0"?>\n${xml}`)
    }
    const sendError = (e: ApiError): void =>
      send(
        e.status,
        `<ErrorResponse xmlns="${NS}"><Error><Type>${e.type}</Type><Code>${e.code}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      )
    try {
      if (!route) throw new ApiError(404, 'UnknownOperationException', `No route for ${req.method} ${url.pathname}`)
      const key = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1]
      if (!key) throw new ApiError(403, 'MissingAuthenticationToken', 'Missing Authentication Token')
      if (!this.takeToken()) {
        entry.fault = 'throttled-by-bucket'
        throw new ApiError(400, 'Throttling', 'Rate exceeded')
      }
      if (this.options.deniedKeys.has(key)) {
        throw new ApiError(
          403,
          'AccessDenied',
          `User: arn:aws:iam::123456789012:user/test is not authorized to perform: route53:${route.op} on resource: arn:aws:route53:::hostedzone/${route.id ?? '*'}`,
        )
      }
      const fault = this.pickFault(route.op)
      if (fault) entry.fault = fault
      if (fault === 'throttle') throw new ApiError(400, 'Throttling', 'Rate exceeded')
      if (fault === 'prior') throw new ApiError(400, 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.')
      if (fault === 'server') throw new ApiError(500, 'InternalFailure', 'We encountered an internal error. Please try again.', 'Receiver')
      const xml = this.dispatch(route, url.searchParams, body)
      if (fault === 'drop') {
        // The change is committed; the caller never learns it.
        entry.status = 0
        req.socket.destroy()
        return
      }
      send(200, xml)
    } catch (error) {
      if (error instanceof ApiError) sendError(error)
      else sendError(new ApiError(500, 'InternalFailure', (error as Error).message, 'Receiver'))
    }
  }

  private route(method: string, path: string): {op: string; id?: string} | undefined {
    let m: RegExpExecArray | null
    if (method === 'GET' && path === '/2013-04-01/hostedzonesbyname') return {op: 'ListHostedZonesByName'}
    if (method === 'GET' && (m = /^\/2013-04-01\/hostedzone\/([^/]+)$/.exec(path))) return {op: 'GetHostedZone', id: m[1]}
    if ((m = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(path))) {
      return {op: method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets', id: m[1]}
    }
    if (method === 'GET' && (m = /^\/2013-04-01\/change\/([^/]+)$/.exec(path))) return {op: 'GetChange', id: m[1]}
    return undefined
  }

  private zone(id: string | undefined): FakeZone {
    const bare = decodeURIComponent(id ?? '').replace(/^\/?hostedzone\//, '')
    if (bare.length > 32) throw new ApiError(400, 'InvalidInput', `1 validation error detected: Value '${bare}' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32`)
    const zone = this.zones.get(bare)
    if (!zone) throw new ApiError(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${bare}`)
    return zone
  }

  private dispatch(route: {op: string; id?: string}, q: URLSearchParams, body: string): string {
    switch (route.op) {
      case 'ListHostedZonesByName':
        return this.listZones(q)
      case 'GetHostedZone': {
        const z = this.zone(route.id)
        const extra = z.private
          ? '<VPCs><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>vpc-0123456789abcdef0</VPCId></VPC></VPCs>'
          : '<DelegationSet><NameServers><NameServer>ns-144.awsdns-18.com</NameServer><NameServer>ns-761.awsdns-31.net</NameServer></NameServers></DelegationSet>'
        return `<GetHostedZoneResponse xmlns="${NS}">${zoneXml(z)}${extra}</GetHostedZoneResponse>`
      }
      case 'ListResourceRecordSets':
        return this.listRRsets(this.zone(route.id), q)
      case 'ChangeResourceRecordSets':
        return this.change(this.zone(route.id), body)
      case 'GetChange': {
        const id = decodeURIComponent(route.id ?? '').replace(/^\/?change\//, '')
        const c = this.changes.get(id)
        if (!c) throw new ApiError(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${id}`)
        const status = Date.now() >= c.insyncAt ? 'INSYNC' : 'PENDING'
        return `<GetChangeResponse xmlns="${NS}"><ChangeInfo><Id>/change/${c.id}</Id><Status>${status}</Status><SubmittedAt>${c.submittedAt.toISOString()}</SubmittedAt></ChangeInfo></GetChangeResponse>`
      }
      default:
        throw new ApiError(400, 'InvalidAction', route.op)
    }
  }

  private listZones(q: URLSearchParams): string {
    const dnsname = q.get('dnsname')
    const startId = q.get('hostedzoneid')
    if (startId && !dnsname) throw new ApiError(400, 'InvalidInput', 'The input is not valid: hostedzoneid requires dnsname')
    const max = Math.min(ZONES_PAGE_MAX, Number(q.get('maxitems') ?? ZONES_PAGE_MAX) || ZONES_PAGE_MAX)
    const all = [...this.zones.values()].sort((a, b) => compareNames(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    let start = 0
    if (dnsname) {
      const name = canonicalName(dnsname)
      start = all.findIndex((z) => {
        const c = compareNames(z.name, name)
        return c > 0 || (c === 0 && (!startId || z.id >= startId.replace(/^\/?hostedzone\//, '')))
      })
      if (start < 0) start = all.length
    }
    const page = all.slice(start, start + max)
    const next = all[start + max]
    return (
      `<ListHostedZonesByNameResponse xmlns="${NS}"><HostedZones>${page.map(zoneXml).join('')}</HostedZones>` +
      (dnsname ? `<DNSName>${esc(dnsname)}</DNSName>` : '') +
      (startId ? `<HostedZoneId>${esc(startId)}</HostedZoneId>` : '') +
      `<IsTruncated>${next !== undefined}</IsTruncated>` +
      (next ? `<NextDNSName>${esc(next.name)}</NextDNSName><NextHostedZoneId>${next.id}</NextHostedZoneId>` : '') +
      `<MaxItems>${max}</MaxItems></ListHostedZonesByNameResponse>`
    )
  }

  private listRRsets(zone: FakeZone, q: URLSearchParams): string {
    const name = q.get('name')
    const type = q.get('type')
    if (type && !name) throw new ApiError(400, 'InvalidInput', 'The input is not valid: type requires name')
    const requested = Number(q.get('maxitems') ?? PAGE_MAX)
    const max = Math.min(PAGE_MAX, requested > 0 ? requested : PAGE_MAX)
    const sorted = [...zone.rrsets].sort(compareSets)
    let start = 0
    if (name) {
      const from = {name: canonicalName(name), type: type ?? ''}
      start = sorted.findIndex((s) => compareSets(s, from) >= 0)
      if (start < 0) start = sorted.length
    }
    const page = sorted.slice(start, start + max)
    const next = sorted[start + max]
    return (
      `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${page.map(rrsetXml).join('')}</ResourceRecordSets>` +
      `<IsTruncated>${next !== undefined}</IsTruncated>` +
      (next ? `<NextRecordName>${esc(next.name)}</NextRecordName><NextRecordType>${next.type}</NextRecordType>` : '') +
      `<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`
    )
  }

  private change(zone: FakeZone, body: string): string {
    let doc: any
    try {
      doc = parser.parse(body)
    } catch {
      throw new ApiError(400, 'MalformedInput', 'Unable to parse the request body')
    }
    const request = doc?.ChangeResourceRecordSetsRequest
    if (!request) throw new ApiError(400, 'MalformedInput', 'ChangeBatch is not valid, expected ChangeResourceRecordSetsRequest')
    const changes: any[] = request.ChangeBatch?.Changes?.Change ?? []
    if (changes.length === 0) throw new ApiError(400, 'InvalidInput', 'Invalid request: the change batch holds no changes')
    // Structural validation first (InvalidInput), as Route 53 does.
    const parsed = changes.map((c) => {
      const action = String(c.Action ?? '')
      const rrs = c.ResourceRecordSet ?? {}
      const rawName = String(rrs.Name ?? '')
      const type = String(rrs.Type ?? '')
      if (!['CREATE', 'DELETE', 'UPSERT'].includes(action)) {
        throw new ApiError(400, 'InvalidInput', `Invalid XML ; cvc-enumeration-valid: Value '${action}' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration.`)
      }
      const records: any[] | undefined = rrs.ResourceRecords?.ResourceRecord
      if (rrs.TTL === undefined || records === undefined) {
        throw new ApiError(
          400,
          'InvalidInput',
          `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=${action}, Name=${rawName}, Type=${type}, SetIdentifier=null]`,
        )
      }
      return {action, name: canonicalName(rawName), type, ttl: Number(rrs.TTL), values: records.map((r) => String(r.Value ?? ''))}
    })
    // The per-request limits (reference §3.6), before any change is evaluated: every ResourceRecord
    // counts (DELETE and CREATE alike, UPSERT twice), and so does every character of every Value.
    let records = 0
    let characters = 0
    for (const c of parsed) {
      const times = c.action === 'UPSERT' ? 2 : 1
      records += times * c.values.length
      characters += times * c.values.reduce((sum, v) => sum + v.length, 0)
    }
    const tooLarge: string[] = []
    if (records > BATCH_MAX_RECORDS) tooLarge.push(`Number of records limit of ${BATCH_MAX_RECORDS} exceeded.`)
    if (characters > BATCH_MAX_CHARACTERS) tooLarge.push(`RDATA character limit of ${BATCH_MAX_CHARACTERS} exceeded.`)
    this.batchSizes.push({records, characters})
    if (tooLarge.length > 0) throw new ApiError(400, 'InvalidChangeBatch', `[${tooLarge.join(', ')}]`)
    const work = zone.rrsets.map((s) => ({...s, values: [...s.values]}))
    const messages: string[] = []
    const seen = new Map<string, string[]>()
    for (const c of parsed) {
      const label = `[name='${c.name}', type='${c.type}']`
      const key = `${c.name} ${c.type}`
      const actions = seen.get(key) ?? []
      seen.set(key, [...actions, c.action])
      if ((c.action !== 'DELETE' && actions.some((a) => a !== 'DELETE')) || (c.action === 'DELETE' && actions.includes('DELETE'))) {
        messages.push(`The request contains an invalid set of changes for a resource record set '${c.type} ${c.name}'`)
        continue
      }
      if (!isInZone(c.name, zone.name)) {
        messages.push(`RRSet with DNS name ${c.name} is not permitted in zone ${zone.name}`)
        continue
      }
      const at = work.findIndex((s) => s.name === c.name && s.type === c.type)
      if (c.action === 'DELETE') {
        if (at < 0) {
          messages.push(`Tried to delete resource record set ${label} but it was not found`)
          continue
        }
        const cur = work[at]!
        const same = cur.ttl === c.ttl && cur.values.length === c.values.length && c.values.every((v) => cur.values.includes(v))
        if (!same) {
          messages.push(`Tried to delete resource record set ${label} but the values provided do not match the current values`)
          continue
        }
        if (c.name === zone.name && (c.type === 'SOA' || c.type === 'NS')) {
          messages.push(`A HostedZone must contain at least one ${c.type} record for the zone itself.`)
          continue
        }
        work.splice(at, 1)
        continue
      }
      const invalid = c.values.map((v) => checkValue(c.type, v)).find((p) => p !== undefined)
      if (invalid) {
        messages.push(invalid)
        continue
      }
      const dup = c.values.find((v, i) => c.values.indexOf(v) !== i)
      if (dup !== undefined) {
        messages.push(`Duplicate Resource Record: '${dup}'`)
        continue
      }
      if (c.values.length > 400) {
        messages.push('Cannot have more than 400 records in a RRSet.')
        continue
      }
      if (c.action === 'CREATE' && at >= 0) {
        messages.push(`Tried to create resource record set ${label} but it already exists`)
        continue
      }
      if (at >= 0) work.splice(at, 1)
      work.push({name: c.name, type: c.type, ttl: c.ttl, values: c.values})
    }
    if (messages.length > 0) throw new ApiError(400, 'InvalidChangeBatch', `[${messages.join(', ')}]`)
    zone.rrsets = work
    const hook = this.afterCommit
    if (hook) {
      this.afterCommit = undefined
      hook(zone)
    }
    const id = `C${randomBytes(10).toString('hex').toUpperCase().slice(0, 20)}`
    const submittedAt = new Date()
    this.changes.set(id, {id, submittedAt, insyncAt: Date.now() + this.options.insyncAfterMs})
    return `<ChangeResourceRecordSetsResponse xmlns="${NS}"><ChangeInfo><Id>/change/${id}</Id><Status>PENDING</Status><SubmittedAt>${submittedAt.toISOString()}</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`
  }
}
