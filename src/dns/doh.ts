/**
 * The DNS-over-HTTPS client of `dnssd resolve --doh` (RFC 8484 POST,
 * application/dns-message). A DoH answer is the whole message, so the
 * server's additional records are used (RFC 6763 §12); it must answer our
 * question; the endpoint is asked again up to --retries times, each try
 * within --try-timeout, all within --timeout.
 */
import {BackendError, DeadlineError, DnssdError} from '../core/errors.js'
import {type DnsFailure, DnsLookupError, type DnsSource, type SourceAnswer, queryName} from './client.js'
import {MalformedResponse, type Message, type QueryType, decodeResponse, encodeQuery} from './wire.js'

/** EDNS0 buffer size asked for (the DNS flag day 2020 value). */
const EDNS_SIZE = 1232

export interface DohOptions {
  url: string
  /** Timeout of one HTTP exchange, ms. */
  tryTimeoutMs: number
  /** Tries of the endpoint. */
  attempts: number
  /** Epoch ms by which everything must be done. */
  deadline: number
  log?: (line: string) => void
}

class TryTimeout extends Error {}

export class DohClient implements DnsSource {
  queries = 0

  constructor(private readonly options: DohOptions) {}

  private remaining(): number {
    return this.options.deadline - Date.now()
  }

  /**
   * Ask for `name`/`type`. Returns NOERROR (possibly NODATA) and NXDOMAIN
   * answers; a SERVFAIL/REFUSED/garbled answer or a timeout is tried again.
   * Throws DnsLookupError when no try gave an answer.
   */
  async query(name: string, type: QueryType): Promise<SourceAnswer> {
    const qname = queryName(name)
    const {url} = this.options
    const failures: string[] = []
    let lastReason: DnsFailure = 'TIMEOUT'
    for (let attempt = 0; attempt < this.options.attempts && this.remaining() > 0; attempt++) {
      try {
        const response = await this.exchange(url, qname, type)
        if (response.rcode === 'NOERROR' || response.rcode === 'NXDOMAIN') return {...response, rcode: response.rcode, transport: 'doh'}
        lastReason = response.rcode === 'REFUSED' ? 'REFUSED' : 'SERVFAIL'
        failures.push(`${url} answered ${response.rcode}`)
        // REFUSED is a policy answer: asking again will not change it.
        if (response.rcode === 'REFUSED') break
      } catch (error) {
        if (error instanceof TryTimeout) {
          failures.push(`${url} did not answer within ${this.options.tryTimeoutMs} ms`)
        } else if (error instanceof MalformedResponse) {
          lastReason = 'MALFORMED'
          failures.push(`${url} sent a malformed answer (${error.message})`)
        } else if (error instanceof DnssdError) {
          throw error
        } else {
          lastReason = lastReason === 'TIMEOUT' ? 'SERVFAIL' : lastReason
          failures.push(`${url}: ${(error as Error).message}`)
        }
      }
    }
    const what = `${qname} ${type}`
    const detail = failures.length > 0 ? failures.slice(-3).join('; ') : 'no time left to ask'
    if (this.remaining() <= 0 && lastReason === 'TIMEOUT') {
      throw new DeadlineError(`no answer for ${what} before the --timeout deadline (${detail}); check --doh or raise --timeout`)
    }
    if (lastReason === 'TIMEOUT') throw new DnsLookupError('TIMEOUT', `no answer for ${what} (${detail}); check --doh or raise --timeout`)
    if (lastReason === 'REFUSED') throw new DnsLookupError('REFUSED', `the DoH server refused ${what} (${detail}); ask a server that is authoritative or recursive for it`)
    throw new DnsLookupError(lastReason, `no usable answer for ${what} (${detail}); check the server's zone and logs`)
  }

  /** RFC 8484 §4.1: POST the wire query; id 0 so caches can share answers. */
  private async exchange(url: string, name: string, type: QueryType): Promise<Message> {
    const left = this.remaining()
    if (left <= 0) throw new TryTimeout('deadline')
    const timeout = Math.min(this.options.tryTimeoutMs, left)
    const query = encodeQuery(name, type, {id: 0, rd: true, ednsSize: EDNS_SIZE})
    this.queries++
    this.options.log?.(`dns: call query ${name} ${type} doh ${url}`)
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
    if (!matches(message, name, type)) throw new MalformedResponse('answer does not match the question')
    if (message.tc) throw new MalformedResponse('truncated answer over DoH')
    return message
  }
}

/** The answer is to our query (id 0, RFC 8484 §4.1): a message without a question only as an error or a truncation. */
function matches(message: Message, name: string, type: string): boolean {
  if (message.id !== 0) return false
  if (!message.question) return message.tc || message.rcode !== 'NOERROR'
  return message.question.name === name && message.question.type === type
}
