/**
 * Route 53's wire forms and dnssd's canonical values, both ways (pure).
 *  - Names: Route 53 returns them lower-case with a trailing dot, every byte
 *    outside a-z 0-9 - _ as a three-digit OCTAL escape (`*` -> `\052`).
 *    dnssd names are lower-case without the dot, escapes decoded.
 *  - Order: names sort with their labels reversed and the trailing dot kept,
 *    in ASCII on the escaped form; then by type.
 *  - TXT: each character-string in double quotes, `\"` and `\\` escaped,
 *    other bytes outside printable ASCII as octal `\DDD`, at most 255 bytes a
 *    string. dnssd's canonical TXT (zone-file form) uses DECIMAL `\DDD`, so the
 *    two are converted through raw bytes, never textually.
 */
import {canonicalIPv6, normalizeName, splitLabels} from '../core/names.js'
import {type RecordType, fqdn, parseSrv, formatSrv} from '../core/records.js'
import {formatTxt, parseTxtPresentation, quoteTxtString} from '../core/txt.js'

/** A Route 53 name (escaped, any case, optional dot) -> dnssd form. */
export function nameFromWire(wire: string): string {
  const decoded = wire.replace(/\\([0-7]{3})/g, (_, oct: string) => {
    const ch = String.fromCharCode(parseInt(oct, 8))
    return ch === '.' ? '\\.' : ch
  })
  return normalizeName(decoded)
}

/** dnssd name -> Route 53 canonical wire form (escaped, trailing dot). */
export function nameToWire(name: string): string {
  const out = splitLabels(name).map((label) =>
    [...Buffer.from(label.replaceAll('\\.', '.'), 'utf8')]
      .map((b) => (b >= 0x41 && b <= 0x5a ? b + 32 : b))
      .map((b) => (/[a-z0-9_-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`))
      .join(''),
  )
  return `${out.join('.')}.`
}

/** The key Route 53 sorts names by. */
export function orderKey(name: string): string {
  const wire = nameToWire(name)
  return `${wire.slice(0, -1).split('.').reverse().join('.')}.`
}

/**
 * Route 53's listing order, which is not RFC 4034's: it compares the whole
 * reversed wire name as one ASCII string with the trailing dot kept, so
 * `a-b.example.com.` comes before `a.example.com.` ("-" < "."). Paging
 * through ListResourceRecordSets must agree with the service, so this is
 * not core/names.ts compareNames.
 */
export function compareRoute53Order(a: string, b: string): number {
  const ka = orderKey(a)
  const kb = orderKey(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

/** Quote one character-string the way Route 53 takes it (octal escapes). */
const quoteWireString = (bytes: Buffer): string => quoteTxtString(bytes, 8)

/** Parse a Route 53 TXT value into its strings (octal escapes, raw UTF-8 allowed). */
export const parseWireTxt = (text: string): Buffer[] => parseTxtPresentation(text, 8)

/** dnssd TXT presentation -> Route 53 value: octal escapes, strings split at 255 bytes. */
export function txtToWire(value: string): string {
  const strings = parseTxtPresentation(value)
  const pieces: Buffer[] = []
  for (const s of strings.length === 0 ? [Buffer.alloc(0)] : strings) {
    if (s.length <= 255) pieces.push(s)
    else for (let i = 0; i < s.length; i += 255) pieces.push(s.subarray(i, i + 255))
  }
  return pieces.map(quoteWireString).join(' ')
}

/** A value as Route 53 returned it -> dnssd canonical value. */
export function valueFromWire(type: RecordType, wire: string): string {
  switch (type) {
    case 'TXT':
    case 'SPF':
      return formatTxt(parseWireTxt(wire))
    case 'SRV': {
      const srv = parseSrv(wire)
      return srv ? formatSrv({...srv, target: srv.target === '.' ? '.' : fqdn(nameFromWire(srv.target))}) : wire
    }
    case 'PTR':
    case 'CNAME':
    case 'NS':
      return fqdn(nameFromWire(wire))
    case 'AAAA':
      return canonicalIPv6(wire) ?? wire
    default:
      return wire
  }
}

/** dnssd canonical value -> what dnssd sends to Route 53. */
export function valueToWire(type: RecordType, value: string): string {
  switch (type) {
    case 'TXT':
    case 'SPF':
      return txtToWire(value)
    case 'SRV': {
      const srv = parseSrv(value)
      return srv ? formatSrv({...srv, target: srv.target === '.' ? '.' : nameToWire(normalizeName(srv.target))}) : value
    }
    case 'PTR':
    case 'CNAME':
      return nameToWire(normalizeName(value))
    default:
      return value
  }
}

/**
 * InvalidChangeBatch carries all its messages in one `message`, bracketed and
 * joined by ", " (messages themselves contain ", "): split only before a known
 * message start.
 */
export function splitChangeBatchMessages(message: string): string[] {
  let text = message.trim()
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1)
  const starts = ['Tried to ', 'RRSet ', 'Invalid Resource Record', 'Duplicate Resource Record', 'The request contains', 'Cannot have', 'A HostedZone']
  const parts: string[] = []
  let current = ''
  const pieces = text.split(', ')
  for (const piece of pieces) {
    if (current !== '' && starts.some((s) => piece.startsWith(s))) {
      parts.push(current)
      current = piece
    } else current = current === '' ? piece : `${current}, ${piece}`
  }
  if (current !== '') parts.push(current)
  return parts
}

/** Messages that mean "someone else changed the RRset since we read it". */
export function isConcurrencyMessage(message: string): boolean {
  return /^Tried to (delete|create) resource record set .* but (it was not found|the values provided do not match the current values|it already exists)$/.test(message)
}

/** Route 53's limits on one ChangeBatch and one record set (reference §3.6); route53-batches.ts splits plans by them. */
export const ROUTE53_LIMITS = {valuesPerBatch: 1000, charactersPerBatch: 32_000, valuesPerSet: 400}
