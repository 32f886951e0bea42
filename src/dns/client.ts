/**
 * A small stub-resolver client for `dnssd resolve` (DESIGN §5): UDP with
 * EDNS0 (1232-byte buffer), the same query over TCP when the answer comes
 * back truncated, or DoH (RFC 8484 POST, application/dns-message). Servers
 * are tried in order with a per-try timeout, for a number of rounds, inside
 * one total deadline. Responses must match the query's id and question and
 * come from the server asked.
 */
import dgram from 'node:dgram'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import {BackendError, DeadlineError, DnssdError, InputError} from '../core/errors.js'
import {ipVersion, isIPv6Zoned, normalizeName} from '../core/names.js'
import {randomInt} from '../platform/random.js'
import {NameError} from './names.js'
import {type Server, formatServer} from './server-address.js'
import {FrameReader, frame} from './tcp.js'
import {MalformedResponse, type Message, type QueryType, decodeResponse, encodeQuery} from './wire.js'

export const EDNS_SIZE = 1232

export {type Server, formatServer, parseServer} from './server-address.js'

export interface ClientOptions {
  servers: Server[]
  /** DoH endpoint; when set, `servers` is not used. */
  doh?: string
  /** Timeout of one UDP/TCP/HTTP exchange, ms. */
  tryTimeoutMs: number
  /** Passes over the server list. */
  attempts: number
  /** Epoch ms by which everything must be done. */
  deadline: number
  /** Recursion desired (on for resolvers; harmless for authoritative servers). */
  rd?: boolean
  log?: (line: string) => void
}

export type DnsFailure = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'UNREACHABLE' | 'MALFORMED'

/** Socket errors that mean nothing answers at that address and port (ICMP unreachable, TCP RST). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET'])

/** A lookup that failed, and why: the reasons map to different exit codes. */
export class DnsLookupError extends DnssdError {
  constructor(
    readonly reason: DnsFailure,
    message: string,
  ) {
    // No server answering at all (silence or a closed port) is "no answer": exit 5, as for a timeout.
    super(reason === 'NXDOMAIN' || reason === 'NODATA' ? 'no-instance' : reason === 'TIMEOUT' || reason === 'UNREACHABLE' ? 'deadline' : 'backend-refused', message)
    this.name = 'DnsLookupError'
  }
}

export interface Response extends Message {
  transport: 'udp' | 'tcp' | 'doh'
  server: string
}

/** The `nameserver` lines of resolv.conf(5); glibc's default when there are none. */
export function parseResolvConf(text: string): Server[] {
  const servers: Server[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line)
    if (m && ipVersion(m[1]!.split('%')[0]!)) servers.push({host: m[1]!, port: 53})
  }
  return servers.length > 0 ? servers : [{host: '127.0.0.1', port: 53}]
}

export async function systemServers(path = '/etc/resolv.conf'): Promise<Server[]> {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'))
  } catch {
    return [{host: '127.0.0.1', port: 53}]
  }
}

class TryTimeout extends Error {}

export class DnsClient {
  /** Exchanges sent (each UDP, TCP or DoH request counts once). */
  queries = 0
  private readonly resolved = new Map<string, string>()

  constructor(private readonly options: ClientOptions) {}

  private log(line: string): void {
    this.options.log?.(line)
  }

  private remaining(): number {
    return this.options.deadline - Date.now()
  }

  /**
   * Ask for `name`/`type`. Returns NOERROR (possibly NODATA) and NXDOMAIN
   * answers; a SERVFAIL/REFUSED/garbled answer or a timeout moves on to the
   * next server. Throws DnsLookupError when no server gave an answer.
   */
  async query(name: string, type: QueryType): Promise<Response> {
    let qname: string
    try {
      qname = normalizeName(name)
      encodeQuery(qname, type, {id: 0, rd: false})
    } catch (error) {
      if (error instanceof NameError) throw new InputError(name, error.message)
      throw error
    }
    const failures: string[] = []
    let lastReason: DnsFailure = 'TIMEOUT'
    const targets: (Server | string)[] = this.options.doh ? [this.options.doh] : this.options.servers
    // REFUSED is a policy answer and a closed port stays closed: asking again will not change either.
    const refused = new Set<Server | string>()
    let answered = false
    let unreachable = false
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      for (const target of targets) {
        if (this.remaining() <= 0) break
        if (refused.has(target)) continue
        const label = typeof target === 'string' ? target : formatServer(target)
        try {
          const response = typeof target === 'string' ? await this.viaDoh(target, qname, type) : await this.viaUdpThenTcp(target, qname, type)
          if (response.rcode === 'NOERROR' || response.rcode === 'NXDOMAIN') return response
          answered = true
          lastReason = response.rcode === 'REFUSED' ? 'REFUSED' : 'SERVFAIL'
          if (response.rcode === 'REFUSED') refused.add(target)
          failures.push(`${label} answered ${response.rcode}`)
        } catch (error) {
          if (error instanceof TryTimeout) {
            failures.push(`${label} did not answer within ${this.options.tryTimeoutMs} ms`)
            if (lastReason === 'TIMEOUT' || failures.length === 1) lastReason = 'TIMEOUT'
          } else if (typeof target !== 'string' && UNREACHABLE_CODES.has((error as NodeJS.ErrnoException).code ?? '')) {
            refused.add(target)
            unreachable = true
            const {code, syscall} = error as NodeJS.ErrnoException
            const why = code === 'ECONNREFUSED' ? 'port closed, nothing listens there' : code === 'ECONNRESET' ? 'connection reset' : `${code}: no route`
            failures.push(`${label} (${syscall === 'connect' ? 'TCP' : 'UDP'}) did not answer: ${why}`)
          } else if (error instanceof MalformedResponse) {
            answered = true
            lastReason = 'MALFORMED'
            failures.push(`${label} sent a malformed answer (${error.message})`)
          } else if (error instanceof DnssdError) {
            throw error
          } else {
            answered = true
            lastReason = lastReason === 'TIMEOUT' ? 'SERVFAIL' : lastReason
            failures.push(`${label}: ${(error as Error).message}`)
          }
        }
      }
    }
    const what = `${qname} ${type}`
    const detail = failures.length > 0 ? failures.slice(-3).join('; ') : 'no time left to ask'
    if (this.remaining() <= 0 && lastReason === 'TIMEOUT') {
      throw new DeadlineError(`no answer for ${what} before the --timeout deadline (${detail}); check --server or raise --timeout`)
    }
    if (!answered && unreachable) {
      throw new DnsLookupError('UNREACHABLE', `no DNS server answered ${what}: ${detail}; check --server HOST:PORT (dnssd serve listens on 127.0.0.1:5353 by default)`)
    }
    if (lastReason === 'TIMEOUT') throw new DnsLookupError('TIMEOUT', `no answer for ${what} (${detail}); check --server or raise --timeout`)
    if (lastReason === 'REFUSED') throw new DnsLookupError('REFUSED', `every server refused ${what} (${detail}); ask a server that is authoritative or recursive for it`)
    throw new DnsLookupError(lastReason, `no usable answer for ${what} (${detail}); check the server's zone and logs`)
  }

  private tryTimeout(): number {
    const left = this.remaining()
    if (left <= 0) throw new TryTimeout('deadline')
    return Math.min(this.options.tryTimeoutMs, left)
  }

  private async address(server: Server): Promise<string> {
    const bare = server.host.split('%')[0]!
    if (ipVersion(bare)) return server.host
    const known = this.resolved.get(server.host)
    if (known) return known
    const {lookup} = await import('node:dns/promises')
    const {address} = await lookup(server.host)
    this.resolved.set(server.host, address)
    return address
  }

  private async viaUdpThenTcp(server: Server, name: string, type: QueryType): Promise<Response> {
    const host = await this.address(server)
    const label = formatServer(server)
    let udp = await this.exchangeUdp(host, server.port, name, type, label, EDNS_SIZE)
    if (udp.rcode === 'FORMERR') {
      // A server from before EDNS0 (RFC 6891 §7): ask again without the OPT record.
      this.log(`dns: ${label} answered FORMERR to EDNS; retrying without it`)
      udp = await this.exchangeUdp(host, server.port, name, type, label, undefined)
    }
    if (!udp.tc) return {...udp, transport: 'udp', server: label}
    this.log(`dns: ${name} ${type}: answer truncated over UDP, retrying over TCP`)
    const tcp = await this.exchangeTcp(host, server.port, name, type, label)
    return {...tcp, transport: 'tcp', server: label}
  }

  private check(message: Message, id: number, name: string, type: string): boolean {
    if (message.id !== id) return false
    if (!message.question) return message.tc || message.rcode !== 'NOERROR'
    return message.question.name === name && message.question.type === type
  }

  /**
   * One query over a fresh socket, within one try's timeout. `open` sends
   * the query and passes replies to `settle`; the first settle wins and the
   * socket is closed whatever happened. UDP and TCP differ only in `open`.
   */
  private exchange(
    transport: 'udp' | 'tcp',
    name: string,
    type: QueryType,
    label: string,
    ednsSize: number | undefined,
    open: (query: Buffer, id: number, settle: (error: Error | undefined, message?: Message) => void) => () => void,
  ): Promise<Message> {
    const id = randomInt(65_536)
    const query = encodeQuery(name, type, {id, rd: this.options.rd ?? true, ednsSize})
    const timeout = this.tryTimeout()
    this.queries++
    this.log(`dns: call query ${name} ${type} ${transport} ${label}`)
    return new Promise((resolve, reject) => {
      let done = false
      let close = (): void => undefined
      const settle = (error: Error | undefined, message?: Message): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        close()
        if (error) reject(error)
        else resolve(message!)
      }
      const timer = setTimeout(() => settle(new TryTimeout('timeout')), timeout)
      close = open(query, id, settle)
    })
  }

  private exchangeUdp(host: string, port: number, name: string, type: QueryType, label: string, ednsSize: number | undefined): Promise<Message> {
    return this.exchange('udp', name, type, label, ednsSize, (query, id, settle) => {
      const socket = dgram.createSocket(isIPv6Zoned(host.split('%')[0]!) ? 'udp6' : 'udp4')
      socket.on('error', (error) => settle(error))
      socket.on('message', (msg) => {
        // connect() already filters the source address and port.
        let message: Message
        try {
          message = decodeResponse(msg)
        } catch (error) {
          if (msg.length >= 2 && msg.readUInt16BE(0) === id) settle(error as Error)
          return
        }
        if (this.check(message, id, name, type)) settle(undefined, message)
      })
      socket.connect(port, host, () => socket.send(query, (error) => error && settle(error)))
      return () => socket.close()
    })
  }

  private exchangeTcp(host: string, port: number, name: string, type: QueryType, label: string): Promise<Message> {
    return this.exchange('tcp', name, type, label, EDNS_SIZE, (query, id, settle) => {
      const socket = net.connect({host, port})
      const frames = new FrameReader()
      socket.on('error', (error) => settle(error))
      socket.on('close', () => settle(new MalformedResponse('connection closed before a whole answer arrived')))
      socket.on('connect', () => socket.write(frame(query)))
      socket.on('data', (chunk: Buffer) => {
        frames.push(chunk)
        for (let msg = frames.next(); msg; msg = frames.next()) {
          try {
            const message = decodeResponse(msg)
            if (this.check(message, id, name, type)) return settle(undefined, message)
          } catch (error) {
            return settle(error as Error)
          }
        }
      })
      return () => socket.destroy()
    })
  }

  /** RFC 8484 §4.1: POST the wire query; id 0 so caches can share answers. */
  private async viaDoh(url: string, name: string, type: QueryType): Promise<Response> {
    const query = encodeQuery(name, type, {id: 0, rd: this.options.rd ?? true, ednsSize: EDNS_SIZE})
    const timeout = this.tryTimeout()
    this.queries++
    this.log(`dns: call query ${name} ${type} doh ${url}`)
    let res: globalThis.Response
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {'content-type': 'application/dns-message', accept: 'application/dns-message'},
        body: query,
        signal: AbortSignal.timeout(timeout),
      })
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw new TryTimeout('timeout')
      throw new Error(`DoH request failed: ${(error as Error).message}`)
    }
    if (res.status !== 200) throw new BackendError(`DoH server ${url} answered HTTP ${res.status}; check --doh`)
    const contentType = res.headers.get('content-type') ?? ''
    if (!contentType.startsWith('application/dns-message')) throw new MalformedResponse(`content-type is "${contentType}", not application/dns-message`)
    const message = decodeResponse(Buffer.from(await res.arrayBuffer()))
    if (!this.check(message, 0, name, type)) throw new MalformedResponse('answer does not match the question')
    if (message.tc) throw new MalformedResponse('truncated answer over DoH')
    return {...message, transport: 'doh', server: url}
  }
}

