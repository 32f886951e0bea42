/**
 * What `dnssd resolve` asks DNS through: src/dns/resolve.ts takes any
 * DnsSource, which is node's resolver for classic DNS over UDP and TCP
 * (src/dns/ares.ts) or the DNS-over-HTTPS client for --doh (src/dns/doh.ts,
 * loaded only then); and the failures they report.
 */
import {DnssdError, InputError} from '../core/errors.js'
import {NameError, checkQueryName} from './names.js'
import {type QueryType, type Rr} from './wire.js'

export {type Server, formatServer, parseServer} from './server-address.js'

/** One lookup's outcome: an answer (NOERROR, possibly with no records, or NXDOMAIN). */
export interface SourceAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN'
  answers: Rr[]
  additionals: Rr[]
  /** How it was asked: udp/tcp (node's resolver) or doh. */
  transport: string
}

/** A way to ask DNS: failures other than NXDOMAIN/NODATA are thrown (DnsLookupError, DeadlineError). */
export interface DnsSource {
  /** Lookups sent so far. */
  queries: number
  query(name: string, type: QueryType): Promise<SourceAnswer>
}

export type DnsFailure = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'UNREACHABLE' | 'MALFORMED'

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

/** A name to ask for, normalised; a name no query can carry is bad input (exit 2), named as given. */
export function queryName(name: string): string {
  try {
    return checkQueryName(name)
  } catch (error) {
    if (error instanceof NameError) throw new InputError(name, error.message)
    throw error
  }
}
