/**
 * Pure translation between dnssd's value model (core/records.ts: canonical
 * zone-file presentation strings) and Cloudflare DNS record objects
 * (reference/cloudflare.md §3-§4). No SDK import, no I/O, so it is unit
 * tested on its own and the CLI loads it without the SDK.
 *
 * What the API does that matters here:
 * - names come back lower-case, absolute, without the trailing dot;
 * - hostname contents (PTR, SRV target) come back lower-case, no dot;
 * - AAAA comes back RFC 5952 canonical;
 * - TXT `content` is stored VERBATIM (we always send the quoted form);
 * - SRV is written with `data {priority, weight, port, target}` and read
 *   back from `data`: its `content` is "weight port target" WITHOUT the
 *   priority, so it is only a fallback.
 */
import {canonicalIPv6, normalizeName, parseWholeNumber} from '../core/names.js'
import {type Change, type RecordType, ZoneState, formatSrv, fqdn} from '../core/records.js'
import {canonicalTxt} from '../core/txt.js'

/** Every record dnssd creates carries a comment starting with this mark. */
export const MARK_PREFIX = 'dnssd:'
/** Cloudflare's comment limit on the Free plan (500 on paid plans). */
export const MAX_COMMENT = 100

export function markFor(owner: string): string {
  return `${MARK_PREFIX}${owner}`.slice(0, MAX_COMMENT)
}

/** True when the record's comment says dnssd wrote it (filters are case-insensitive on the API, so is this). */
export function isMarked(comment: string | null | undefined): boolean {
  return typeof comment === 'string' && comment.toLowerCase().startsWith(MARK_PREFIX)
}

/** The fields of a Cloudflare record dnssd reads (the rest is ignored). */
export interface CfRecord {
  id: string
  name: string
  type: string
  content?: string | null
  ttl?: number
  proxied?: boolean
  comment?: string | null
  priority?: number
  data?: {priority?: number; weight?: number; port?: number; target?: string} | null
}

/** One record as dnssd sees it: its canonical value plus what leave must know. */
export interface SeenRecord {
  id: string
  name: string
  type: RecordType
  value: string
  ttl: number
  marked: boolean
}


/** The canonical value of a Cloudflare record, or undefined when it cannot be read. */
export function valueOf(r: CfRecord): string | undefined {
  const content = (r.content ?? '').trim()
  switch (r.type) {
    case 'A':
      return content || undefined
    case 'AAAA':
      return content ? (canonicalIPv6(content) ?? content.toLowerCase()) : undefined
    case 'TXT':
      return canonicalTxt(r.content ?? '')
    case 'PTR':
    case 'CNAME':
    case 'NS':
      return content ? fqdn(normalizeName(content)) : undefined
    case 'SRV': {
      const d = r.data
      if (d && d.port !== undefined && d.target !== undefined) {
        return formatSrv({priority: d.priority ?? r.priority ?? 0, weight: d.weight ?? 0, port: d.port, target: fqdn(normalizeName(d.target))})
      }
      // Fallback: content is "weight port target", the priority is separate.
      const m = /^(\d+)\s+(\d+)\s+(\S+)$/.exec(content)
      if (!m) return undefined
      return formatSrv({priority: r.priority ?? 0, weight: Number(m[1]), port: Number(m[2]), target: fqdn(normalizeName(m[3]!))})
    }
    default:
      return content || undefined
  }
}

export function seen(r: CfRecord): SeenRecord | undefined {
  const value = valueOf(r)
  if (value === undefined) return undefined
  return {id: r.id, name: normalizeName(r.name), type: r.type, value, ttl: r.ttl ?? 1, marked: isMarked(r.comment)}
}

/** What a read returned: the ZoneState the planner sees plus the records behind each value. */
export class CfSnapshot {
  readonly state: ZoneState
  private readonly byValue = new Map<string, SeenRecord[]>()

  constructor(zone: string, covered: Iterable<string> | 'all', records: readonly SeenRecord[]) {
    this.state = new ZoneState(zone, covered)
    for (const r of records) {
      this.state.addValue(r.name, r.type, r.ttl, r.value)
      const k = `${r.name}\u0000${r.type}\u0000${r.value}`
      const list = this.byValue.get(k)
      if (list) {
        if (!list.some((x) => x.id === r.id)) list.push(r)
      } else this.byValue.set(k, [r])
    }
  }

  records(name: string, type: RecordType, value: string): SeenRecord[] {
    return this.byValue.get(`${name}\u0000${type}\u0000${value}`) ?? []
  }

  /** A value dnssd may remove: at least one record behind it carries the mark. */
  removable(name: string, type: RecordType, value: string): boolean {
    return this.records(name, type, value).some((r) => r.marked)
  }

  all(): SeenRecord[] {
    return [...this.byValue.values()].flat()
  }
}

/** The create body (without zone_id) for one `add` change. */
export interface CreateBody {
  type: string
  name: string
  ttl: number
  comment: string
  content?: string
  data?: {priority: number; weight: number; port: number; target: string}
  proxied?: boolean
}

export function createBody(c: Change, comment: string, proxied: boolean): CreateBody {
  const base = {type: c.type, name: c.name, ttl: c.ttl, comment}
  switch (c.type) {
    case 'SRV': {
      const m = /^(\d+) (\d+) (\d+) (\S+)$/.exec(c.value)
      if (!m) throw new Error(`not an SRV value: ${c.value}`)
      const target = normalizeName(m[4]!)
      return {...base, data: {priority: Number(m[1]), weight: Number(m[2]), port: Number(m[3]), target}}
    }
    case 'PTR':
    case 'CNAME':
      return {...base, content: normalizeName(c.value)}
    case 'A':
    case 'AAAA':
      return proxied ? {...base, content: c.value, proxied: true} : {...base, content: c.value}
    default:
      return {...base, content: c.value}
  }
}

/** Cloudflare TTLs: 1 means automatic; otherwise 60-86400 (30 on Enterprise zones). */
export function checkCloudflareTtl(ttl: number): string | undefined {
  if (ttl === 1 || (ttl >= 30 && ttl <= 86_400)) return undefined
  return `${ttl} is not a Cloudflare TTL; use auto (1) or 60-86400 seconds (30 on Enterprise zones)`
}

/** Operations one batch request may carry: 200 on the Free plan, the default (reference §3.8). */
export const DEFAULT_BATCH_SIZE = 200
/** ... and 3,500 on Pro, Business and Enterprise. */
export const MAX_BATCH_SIZE = 3500
/**
 * Guards count as operations: a batch consumes the guard the batch before it
 * wrote (delete + write again), and its own change needs its name's guard
 * deleted and written (3 with the change), so 5 is the least that always
 * lets a batch make progress.
 */
export const MIN_BATCH_SIZE = 5

/** `--batch-size` / DNSSD_BATCH_SIZE: a whole number of operations per batch request. */
export function parseBatchSize(value: string, input = '--batch-size'): number {
  const rule = `give ${MIN_BATCH_SIZE}-${MAX_BATCH_SIZE} operations per batch (Cloudflare allows ${DEFAULT_BATCH_SIZE} on the Free plan, ${MAX_BATCH_SIZE.toLocaleString('en-US')} on paid plans; dnssd needs ${MIN_BATCH_SIZE} for one change with its guards)`
  return parseWholeNumber(value, input, MIN_BATCH_SIZE, MAX_BATCH_SIZE, rule)
}
