/**
 * Member leases (DESIGN §2 src/registry/): one small JSON object per member
 * under `<prefix>/<zone>/<service>/<member-id>.json`, written by `join --lease`
 * after its DNS change, deleted by `leave` after its DNS change, and removed
 * by `reap` (together with the member's DNS values) once it has expired.
 *
 * Every store offers the same conditional semantics so concurrent reapers and
 * renewing members never clobber each other: each stored lease has an ETag
 * (an opaque version string) and writes/deletes may be made conditional on it.
 */
import {type Deadline} from '../core/deadline.js'
import {InputError} from '../core/errors.js'

export interface Lease {
  zone: string
  /** Relative service as given to join: `_v1._web._tcp` or `_web._tcp`. */
  service: string
  /** Absolute host name the member's SRV targets (no trailing dot). */
  host: string
  address?: string
  port?: number
  priority: number
  weight: number
  /** DNS provider the member joined through (file, route53, cloudflare). */
  provider: string
  /** ISO 8601 times. joinedAt survives renewals. */
  joinedAt: string
  renewedAt: string
  expiresAt: string
  /** What a reaper needs to restore a member that renewed during its reap. */
  ttl?: number
  txt?: string[]
  aRecord?: string
  /** Lease length in seconds, as given to --lease. */
  leaseSeconds?: number
  /**
   * Coalesced apply: 'join' is a join intent, pending until `appliedAt` is
   * set; 'leave' makes this a tombstone, the durable part of a leave, which
   * the next apply removes from DNS and then deletes. Absent: a lease
   * written before intents existed, taken as applied.
   */
  intent?: 'join' | 'leave'
  /** Set by the member that applied a join intent to DNS. */
  appliedAt?: string
  /** The provider's change id for that apply (Route 53), so the member can --wait on it. */
  appliedChange?: string
  /** Set instead of appliedAt when the provider refused the join as bad input (a pool past its size limit). */
  refused?: string
}

/**
 * The zone's apply lease: at most one member at a time applies the zone's
 * pending intents. Its holder renews it while it works; once `expiresAt`
 * passes (the holder died), the next member takes it over.
 */
export interface ApplyLease {
  holder: string
  acquiredAt: string
  expiresAt: string
}

export interface StoredLease {
  key: string
  memberId: string
  etag: string
  lease: Lease
}

export type DeleteOutcome = 'deleted' | 'changed' | 'missing'
export type PutCondition = {ifMatch: string} | {ifNoneMatch: '*'} | undefined

export interface Registry {
  /** `file:///dir` or `s3://bucket/prefix` (for messages). */
  readonly url: string
  readonly kind: 'file' | 's3'
  /** Whether conditional writes/deletes are enforced by this store. */
  readonly conditional: boolean
  /** The member's lease, or undefined. Fails (exit 4) when the store is unreachable. */
  get(zone: string, service: string, memberId: string): Promise<StoredLease | undefined>
  /** Check (before any DNS change) that a lease can be written here; create what is missing. */
  prepareWrite(zone: string, service: string): Promise<void>
  /** Write the lease; with a condition, 'changed' when it did not hold. */
  put(lease: Lease, condition: PutCondition): Promise<StoredLease | 'changed'>
  /** Delete; with ifMatch, only while the ETag still matches. */
  delete(zone: string, service: string, memberId: string, ifMatch?: string): Promise<DeleteOutcome>
  /** Every lease in the zone (optionally one service). Unreadable objects are skipped with a log line. */
  list(zone: string, service?: string): Promise<StoredLease[]>
  /** A cheap fingerprint of the zone's leases (names and versions, no bodies): changes when any lease does. */
  fingerprint(zone: string): Promise<string>
  /** The zone's apply lease (`<zone>/.apply.json`), or undefined. */
  getApply(zone: string): Promise<{etag: string; lease: ApplyLease} | undefined>
  /** Write it conditionally: create with ifNoneMatch, renew or take over with ifMatch. */
  putApply(zone: string, lease: ApplyLease, condition: {ifMatch: string} | {ifNoneMatch: '*'}): Promise<{etag: string} | 'changed'>
  /** Release it, only while it is still the one we wrote. */
  deleteApply(zone: string, ifMatch: string): Promise<DeleteOutcome>
  close(): Promise<void>
}

export interface RegistryOptions {
  deadline: Deadline
  log: (line: string) => void
}

/** The member id is its host name: unique per member within a service. */
export const memberIdOf = (host: string): string => host

export function leaseKey(prefix: string, zone: string, service: string, memberId: string): string {
  return [prefix, zone, service, `${memberId}.json`].filter((p) => p !== '').join('/')
}

/** Beside the zone's service directories; no lease listing ever reads it. */
export function applyKey(prefix: string, zone: string): string {
  return [prefix, zone, '.apply.json'].filter((p) => p !== '').join('/')
}

export function decodeApplyLease(text: string): ApplyLease | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>
    if (typeof v !== 'object' || v === null || !isString(v.holder) || !isString(v.acquiredAt) || !isString(v.expiresAt)) return undefined
    if (Number.isNaN(Date.parse(v.expiresAt))) return undefined
    return v as unknown as ApplyLease
  } catch {
    return undefined
  }
}

export function encodeLease(lease: Lease | ApplyLease): string {
  return `${JSON.stringify(lease, null, 2)}\n`
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== ''
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0

/** Parse a stored lease; undefined when it is not one of ours. */
export function decodeLease(text: string): Lease | undefined {
  let v: Record<string, unknown>
  try {
    v = JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  if (!isString(v.zone) || !isString(v.service) || !isString(v.host) || !isString(v.provider)) return undefined
  if (!isInt(v.priority) || !isInt(v.weight)) return undefined
  for (const t of ['joinedAt', 'renewedAt', 'expiresAt'] as const) {
    if (!isString(v[t]) || Number.isNaN(Date.parse(v[t] as string))) return undefined
  }
  if (v.port !== undefined && !isInt(v.port)) return undefined
  if (v.txt !== undefined && !(Array.isArray(v.txt) && v.txt.every((s) => typeof s === 'string'))) return undefined
  if (v.intent !== undefined && v.intent !== 'join' && v.intent !== 'leave') return undefined
  if (v.appliedAt !== undefined && (!isString(v.appliedAt) || Number.isNaN(Date.parse(v.appliedAt)))) return undefined
  return v as unknown as Lease
}

/** A join intent no apply has taken yet. */
export const isPendingJoin = (lease: Lease): boolean => lease.intent === 'join' && lease.appliedAt === undefined && lease.refused === undefined

export function isExpired(lease: Lease, now: number, graceMs = 0): boolean {
  return Date.parse(lease.expiresAt) + graceMs <= now
}

export type RegistryLocation = {kind: 'file'; dir: string; url: string} | {kind: 's3'; bucket: string; prefix: string; url: string}

/** A URL path with its %XX escapes decoded; a stray "%" is bad input, not a crash. */
function decodePath(path: string, input: string, text: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    throw new InputError(input, `"${text}" has a "%" that does not start a %XX escape (write a literal % as %25)`)
  }
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/** `file:///abs/dir` or `s3://bucket[/prefix]`; anything else is bad input (exit 2). */
export function parseRegistryUrl(value: string | undefined, input = '--registry'): RegistryLocation {
  const text = (value ?? '').trim()
  if (text === '') throw new InputError(input, 'a registry URL is required: file:///dir or s3://bucket/prefix')
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InputError(input, `"${text}" is not a URL; use file:///absolute/dir or s3://bucket/prefix`)
  }
  if (url.protocol === 'file:') {
    if (url.hostname !== '' && url.hostname !== 'localhost') {
      throw new InputError(input, `"${text}" names a remote host; a file registry is a local directory: file:///absolute/dir`)
    }
    if (url.search || url.hash) throw new InputError(input, `"${text}" must not carry a query or fragment`)
    let dir = decodePath(url.pathname, input, text)
    if (dir.length > 1) dir = dir.replace(/\/+$/, '')
    if (dir === '' || dir === '/') throw new InputError(input, `"${text}" names no directory; use file:///absolute/dir`)
    return {kind: 'file', dir, url: `file://${dir}`}
  }
  if (url.protocol === 's3:') {
    const bucket = url.hostname
    if (url.username || url.password || url.port) throw new InputError(input, `"${text}": an s3 URL is s3://bucket/prefix (no user, password or port)`)
    if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
      throw new InputError(input, `"${bucket}" is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)`)
    }
    if (url.search || url.hash) throw new InputError(input, `"${text}" must not carry a query or fragment`)
    const prefix = decodePath(url.pathname, input, text).replace(/^\/+|\/+$/g, '')
    // URL parsing resolves "." and ".." segments; an object key would not, so check the text as given.
    const rawPath = text.slice(text.indexOf(bucket) + bucket.length).replace(/^\/+|\/+$/g, '')
    if (rawPath.split('/').some((p) => p === '.' || p === '..' || p === '%2e' || p === '%2e%2e') || rawPath.includes('//')) {
      throw new InputError(input, `"${text}": the prefix must not contain empty, "." or ".." segments`)
    }
    return {kind: 's3', bucket, prefix, url: `s3://${bucket}${prefix ? `/${prefix}` : ''}`}
  }
  throw new InputError(input, `"${text}" has scheme ${url.protocol.replace(/:$/, '')}; use file:///absolute/dir or s3://bucket/prefix`)
}
