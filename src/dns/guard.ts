/**
 * What keeps `dnssd serve` from being a useful reflector when it listens on
 * an exposed address: DNS cookies (RFC 7873, server side) to tell clients
 * whose address is proven from spoofable ones, and a per-client response
 * rate limit for UDP.
 */
import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {isIPv4} from 'node:net'
import {ipv6Bytes} from './authority.js'

export const COOKIE_SECRET_BYTES = 16

/** A server cookie is accepted for an hour and replaced after half of it (RFC 9018 §4.3). */
const COOKIE_LIFETIME_S = 3600
const COOKIE_REFRESH_S = 1800
/** How far ahead of our clock a cookie's timestamp may be (another server of the same set; RFC 9018 §4.3). */
const COOKIE_CLOCK_SKEW_S = 300

/** The client's address as bytes, IPv4-mapped IPv6 as IPv4 (one client, one cookie). */
export function addressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number))
  const v6 = ipv6Bytes(address)
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff
  return mapped ? Buffer.from(v6.subarray(12)) : v6
}

export interface CookieCheck {
  /** The query carried a server cookie we made for this client and it is still fresh. */
  valid: boolean
  /** The COOKIE option data for the reply: the client cookie and a server cookie. */
  reply: Buffer
}

/**
 * Server cookies in the RFC 9018 layout: version 1, three reserved octets,
 * a 32-bit timestamp, and an 8-octet hash of (client cookie | version |
 * reserved | timestamp | client address) under a 128-bit secret. The hash is
 * HMAC-SHA-256 truncated to 8 octets, not RFC 9018's SipHash-2-4: node:crypto
 * has no SipHash, HMAC-SHA-256 is a PRF at least as strong for this use, and
 * the only thing SipHash would add is cookies interchangeable with BIND or
 * Knot servers sharing one secret in an anycast set, which `serve` is not
 * part of. `serve --workers N` processes share one secret, so each accepts
 * the others' cookies.
 */
export class CookieJar {
  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  static generateSecret(): Buffer {
    return randomBytes(COOKIE_SECRET_BYTES)
  }

  private hash(client: Buffer, head: Buffer, address: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(client).update(head).update(address).digest().subarray(0, 8)
  }

  private make(client: Buffer, address: Buffer, time: number): Buffer {
    const head = Buffer.alloc(8)
    head[0] = 1
    head.writeUInt32BE(time >>> 0, 4)
    return Buffer.concat([client, head, this.hash(client, head, address)])
  }

  check(cookie: {client: Buffer; server?: Buffer}, address: string): CookieCheck {
    const from = addressBytes(address)
    const now = this.now()
    const server = cookie.server
    if (server && server.length === 16 && server[0] === 1 && server[1] === 0 && server[2] === 0 && server[3] === 0) {
      // Serial-number arithmetic on the 32-bit timestamp (RFC 1982), as RFC 9018 §4.3 asks.
      const age = (now - server.readUInt32BE(4)) | 0
      if (age <= COOKIE_LIFETIME_S && age >= -COOKIE_CLOCK_SKEW_S && timingSafeEqual(server.subarray(8), this.hash(cookie.client, server.subarray(0, 8), from))) {
        return {valid: true, reply: age < COOKIE_REFRESH_S ? Buffer.concat([cookie.client, server]) : this.make(cookie.client, from, now)}
      }
    }
    return {valid: false, reply: this.make(cookie.client, from, now)}
  }
}

/** What to do with one UDP response to a client without a valid cookie. */
export type RateDecision = 'send' | 'slip' | 'drop'

/** Prefix a client is counted under: /24 for IPv4, /56 for IPv6 (one site). */
export function clientPrefix(address: string): string {
  const bytes = addressBytes(address)
  return bytes.length === 4 ? bytes.subarray(0, 3).toString('hex') : bytes.subarray(0, 7).toString('hex')
}

const MAX_BUCKETS = 65_536

/**
 * Response-rate limiting for UDP (in the spirit of BIND's RRL, but one bucket
 * per client prefix rather than per prefix and answer): a token bucket of
 * `rate` responses per second with a burst of one second's worth. Over the
 * limit every `slip`-th response goes out truncated (TC=1, no records), so a
 * real client retries over TCP, which is not limited; the others are dropped.
 * A spoofed victim thus receives at most `rate` answers a second and small
 * TC replies beyond that.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, {tokens: number; at: number; over: number}>()

  constructor(
    private readonly rate: number,
    private readonly slip = 2,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  take(address: string): RateDecision {
    const key = clientPrefix(address)
    const now = this.now()
    let b = this.buckets.get(key)
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now)
      b = {tokens: this.rate, at: now, over: 0}
      this.buckets.set(key, b)
    } else {
      b.tokens = Math.min(this.rate, b.tokens + (now - b.at) * this.rate)
      b.at = now
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 'send'
    }
    b.over++
    return this.slip > 0 && b.over % this.slip === 0 ? 'slip' : 'drop'
  }

  /** Forget buckets that have refilled (their clients are under the limit); all of them if that frees nothing. */
  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (b.tokens + (now - b.at) * this.rate >= this.rate) this.buckets.delete(key)
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear()
  }
}
