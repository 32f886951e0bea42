/**
 * Classic DNS for `dnssd resolve` (DESIGN §5, with the change the README's
 * "resolve" section gives the reason for): UDP, and TCP when an answer comes
 * back truncated, through node's own stub resolver, c-ares (`node:dns`
 * Resolver). c-ares does the exchange in C: ids, source ports, matching the
 * question, the TCP retry and moving on to the next server. `node:dgram`
 * would load node's cluster, child_process, net and stream modules on its
 * first bind (about 4 ms, more than the rest of resolve's start-up), and
 * node:dns is loaded in about 0.5 ms. What c-ares does not give is the raw
 * message: only the answer section's records of the type asked, so a server's
 * additional records are not used and addresses are always asked for.
 *
 * With no --server, c-ares reads /etc/resolv.conf itself (nameservers,
 * including link-local ones with a zone). --try-timeout is the first try's
 * timeout and the most any retry waits; --retries adds tries per server;
 * --timeout cancels whatever is still pending.
 */
import {Resolver, lookup} from 'node:dns'
import {DeadlineError, DnssdError, InputError} from '../core/errors.js'
import {ipVersion, isIPv6Zoned, normalizeName} from '../core/names.js'
import {type DnsFailure, DnsLookupError, type DnsSource, type SourceAnswer, queryName} from './client.js'
import {type Server, formatServer} from './server-address.js'
import {type QueryType, type Rr} from './wire.js'

export interface AresOptions {
  /** Servers to ask, in order; undefined: the system's (resolv.conf). */
  servers?: Server[]
  /** The first try's timeout, and the most any retry waits, ms. */
  tryTimeoutMs: number
  /** Tries per server. */
  attempts: number
  /** Epoch ms by which everything must be done. */
  deadline: number
  log?: (line: string) => void
}

/** What c-ares's error codes say about the servers, for the exit code and the message. */
const FAILURES: Record<string, {reason: DnsFailure; what: string}> = {
  ECONNREFUSED: {reason: 'UNREACHABLE', what: 'did not answer: port closed, nothing listens there'},
  ETIMEOUT: {reason: 'TIMEOUT', what: 'did not answer in time'},
  EREFUSED: {reason: 'REFUSED', what: 'refused the query (REFUSED)'},
  ESERVFAIL: {reason: 'SERVFAIL', what: 'answered SERVFAIL'},
  EFORMERR: {reason: 'SERVFAIL', what: 'answered FORMERR'},
  ENOTIMP: {reason: 'SERVFAIL', what: 'answered NOTIMP'},
  EBADRESP: {reason: 'MALFORMED', what: 'sent a malformed answer'},
}

type Raw = string[] | string[][] | {name: string; port: number; priority: number; weight: number}[]

export class AresClient implements DnsSource {
  /** Lookups asked (c-ares's own retries and TCP retries are not counted). */
  queries = 0
  /** One resolver for every lookup, however many are asked at once. */
  private resolver: Promise<Resolver> | undefined
  private label = ''

  constructor(private readonly options: AresOptions) {
    for (const s of options.servers ?? []) {
      // node's setServers drops an IPv6 zone (and the port with it) without a word.
      if (isIPv6Zoned(s.host) && s.host.includes('%')) {
        throw new InputError('--server', `"${formatServer(s)}": an IPv6 address with a zone cannot be given to the resolver; give a global address, or leave out --server to use the link-local nameserver of /etc/resolv.conf`)
      }
    }
  }

  private remaining(): number {
    return this.options.deadline - Date.now()
  }

  private open(): Promise<Resolver> {
    this.resolver ??= this.create()
    return this.resolver
  }

  /** The resolver, made on first use: host names given to --server are looked up once. */
  private async create(): Promise<Resolver> {
    const tryMs = Math.max(1, Math.round(this.options.tryTimeoutMs))
    const resolver = new Resolver({timeout: tryMs, tries: this.options.attempts, maxTimeout: tryMs} as ConstructorParameters<typeof Resolver>[0])
    const given = this.options.servers
    if (given) {
      useServers(resolver, await Promise.all(given.map(async (s) => ({host: await this.address(s.host), port: s.port}))))
      this.label = given.map(formatServer).join(', ')
    } else {
      this.label = `${resolver.getServers().join(', ')} (/etc/resolv.conf)`
    }
    return resolver
  }

  private address(host: string): Promise<string> {
    if (ipVersion(host)) return Promise.resolve(host)
    return new Promise((resolve, reject) =>
      lookup(host, (error, address) => (error ? reject(new InputError('--server', `"${host}" does not resolve to an address (${error.code ?? error.message})`)) : resolve(address))),
    )
  }

  /** NOERROR (possibly NODATA) and NXDOMAIN are answers; anything else throws. */
  async query(name: string, type: QueryType): Promise<SourceAnswer> {
    const qname = queryName(name)
    const what = `${qname} ${type}`
    if (this.remaining() <= 0) throw new DeadlineError(`no answer for ${what} before the --timeout deadline (no time left to ask); check --server or raise --timeout`)
    const resolver = await this.open()
    this.queries++
    this.options.log?.(`dns: call query ${qname} ${type} udp/tcp ${this.label}`)
    let raw: Raw
    try {
      raw = await this.ask(resolver, qname, type)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? ''
      if (code === 'ENOTFOUND') return {rcode: 'NXDOMAIN', answers: [], additionals: [], transport: 'udp/tcp'}
      if (code === 'ENODATA') return {rcode: 'NOERROR', answers: [], additionals: [], transport: 'udp/tcp'}
      throw this.failure(what, code, error as Error)
    }
    return {rcode: 'NOERROR', answers: toRecords(qname, type, raw), additionals: [], transport: 'udp/tcp'}
  }

  /** One lookup, cancelled (ECANCELLED) when the deadline comes first. */
  private ask(resolver: Resolver, name: string, type: QueryType): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolver.cancel(), this.remaining())
      resolver.resolve(name, type, (error: Error | null, records: unknown) => {
        clearTimeout(timer)
        if (error) reject(error)
        else resolve(records as Raw)
      })
    })
  }

  private failure(what: string, code: string, error: Error): DnssdError {
    const servers = this.label
    if (code === 'ECANCELLED' || (code === 'ETIMEOUT' && this.remaining() <= 0)) {
      return new DeadlineError(`no answer for ${what} before the --timeout deadline (${servers}); check --server or raise --timeout`)
    }
    const known = FAILURES[code]
    if (!known) return new DnsLookupError('SERVFAIL', `no usable answer for ${what} from ${servers}: ${error.message}`)
    switch (known.reason) {
      case 'UNREACHABLE':
        return new DnsLookupError('UNREACHABLE', `no DNS server answered ${what}: ${servers} ${known.what}; check --server HOST:PORT (dnssd serve listens on 127.0.0.1:5353 by default)`)
      case 'TIMEOUT':
        return new DnsLookupError('TIMEOUT', `no answer for ${what} (${servers} did not answer within ${this.options.tryTimeoutMs} ms, ${this.options.attempts} tries each); check --server or raise --timeout`)
      case 'REFUSED':
        return new DnsLookupError('REFUSED', `every server refused ${what} (${servers}); ask a server that is authoritative or recursive for it`)
      default:
        return new DnsLookupError(known.reason, `no usable answer for ${what} (${servers} ${known.what}); check the server's zone and logs`)
    }
  }
}

/**
 * Point the resolver at `servers` (addresses, not names). node's setServers
 * first checks each string against its IPv6 pattern, and that pattern's
 * first use costs about 3.5 ms of regular-expression compiling (measured on
 * Node 22 and 24), more than the rest of a resolve. These addresses are
 * already checked (ipVersion), so they go to the resolver's channel the way
 * setServers hands them over, [family, address, port], and the public
 * getServers() must then list exactly them; on any other outcome (another
 * node's internals) the public setServers does it.
 */
export function useServers(resolver: Resolver, servers: Server[]): void {
  const listed = servers.map((s) => (s.port === 53 ? s.host : formatServer(s)))
  const channel = (resolver as unknown as {_handle?: {setServers?: (list: [number, string, number][]) => number}})._handle
  try {
    if (typeof channel?.setServers === 'function' && channel.setServers(servers.map((s) => [ipVersion(s.host), s.host, s.port])) === 0) {
      const now = resolver.getServers()
      if (now.length === listed.length && now.every((s, i) => s === listed[i])) return
    }
  } catch {
    // not node's channel as known here: the public way below
  }
  resolver.setServers(listed)
}

/**
 * c-ares's records as the client's Rr (wire.ts), checked the way wire.ts
 * checks decoded ones. c-ares gives no TTL for these types (nothing here
 * reads one), TXT strings as Latin-1 (one character a byte), and the root
 * target of a "no service" SRV as "".
 */
export function toRecords(name: string, type: QueryType, raw: Raw): Rr[] {
  const out: Rr[] = []
  for (const item of raw as unknown[]) {
    switch (type) {
      case 'A':
      case 'AAAA':
        if (typeof item === 'string' && ipVersion(item) === (type === 'A' ? 4 : 6)) out.push({name, type, ttl: 0, data: item})
        break
      case 'PTR':
        if (typeof item === 'string' && item !== '') out.push({name, type, ttl: 0, data: normalizeName(item)})
        break
      case 'SRV': {
        const s = item as {name?: unknown; port?: unknown; priority?: unknown; weight?: unknown}
        if (typeof s.name !== 'string' || !u16(s.port) || !u16(s.priority) || !u16(s.weight)) break
        out.push({name, type, ttl: 0, data: {priority: s.priority, weight: s.weight, port: s.port, target: s.name === '' ? '.' : normalizeName(s.name)}})
        break
      }
      case 'TXT':
        if (Array.isArray(item) && item.every((s) => typeof s === 'string')) out.push({name, type, ttl: 0, data: (item as string[]).map((s) => Buffer.from(s, 'latin1'))})
        break
      default:
        break
    }
  }
  return out
}

const u16 = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 65_535
