/**
 * RFC 1035 §5 master files: parse into records with canonical values, and
 * write them back. Hand-made records of any type survive a round trip; for
 * the types whose data holds names (NS, CNAME, PTR, MX, SRV, SOA) names are
 * made absolute, other types keep their text and the $ORIGIN it was read
 * under. Comments and layout are not preserved: dnssd rewrites the file.
 *
 * Supported: $ORIGIN, $TTL, `@`, relative names, blank owners (previous
 * owner), TTL/class in either order, BIND TTL units (1h30m), parentheses,
 * comments, quoted strings with \X and \DDD escapes. $INCLUDE and $GENERATE
 * are refused (a dnssd zone is one self-contained file).
 */
import {InputError} from './errors.js'
import {canonicalIPv6, compareNames, isIPv4, normalizeName} from './names.js'
import {canonicalTxt} from './txt.js'

export interface ZoneRecord {
  name: string
  ttl: number
  type: string
  value: string
  /** For types whose data we keep verbatim: the origin relative names in it refer to. */
  origin?: string
}

export interface ZoneFile {
  origin: string
  records: ZoneRecord[]
}

export interface Token {
  text: string
  quoted: boolean
}

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS'])
const NAME_TYPES = new Set(['NS', 'CNAME', 'PTR', 'DNAME'])

export class ZoneSyntaxError extends InputError {
  constructor(file: string, line: number, message: string) {
    super(`${file} line ${line}`, message)
  }
}

/**
 * A run of characters up to the first unescaped stop (`\\X` is two
 * characters of the run, whatever X is; a backslash that ends the text is
 * one): sticky expressions, so a zone of many records is read by the
 * regular expression engine rather than one character at a time.
 */
const WORD_RUN = /(?:[^ \t\r\n;()"\\]+|\\[\s\S]|\\$)*/y
const QUOTED_RUN = /(?:[^"\\]+|\\[\s\S]|\\$)*/y

/** The run at `from` (escapes kept as written), where it ends, and the newlines in it. */
function scan(text: string, from: number, run: RegExp): {text: string; end: number; newlines: number} {
  run.lastIndex = from
  const found = run.exec(text)![0]
  let newlines = 0
  for (let at = found.indexOf('\n'); at >= 0; at = found.indexOf('\n', at + 1)) newlines++
  return {text: found, end: from + found.length, newlines}
}

/** Split into logical lines of tokens, joining parenthesised continuations. */
export function tokenize(text: string, file: string): {line: number; leadingBlank: boolean; tokens: Token[]}[] {
  const out: {line: number; leadingBlank: boolean; tokens: Token[]}[] = []
  let tokens: Token[] = []
  let depth = 0
  let startLine = 1
  let leadingBlank = false
  let line = 1
  let i = 0
  let atLineStart = true
  const flush = (): void => {
    if (tokens.length > 0) out.push({line: startLine, leadingBlank, tokens})
    tokens = []
  }
  while (i < text.length) {
    const c = text[i]!
    if (atLineStart && depth === 0) {
      startLine = line
      leadingBlank = c === ' ' || c === '\t'
      atLineStart = false
    }
    if (c === '\n') {
      line++
      i++
      if (depth === 0) {
        flush()
        atLineStart = true
      }
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++
      continue
    }
    if (c === ';') {
      const eol = text.indexOf('\n', i)
      i = eol < 0 ? text.length : eol
      continue
    }
    if (c === '(') {
      depth++
      i++
      continue
    }
    if (c === ')') {
      if (depth === 0) throw new ZoneSyntaxError(file, line, 'unbalanced ")"')
      depth--
      i++
      continue
    }
    if (c === '"') {
      const quoted = scan(text, i + 1, QUOTED_RUN)
      line += quoted.newlines
      if (quoted.end >= text.length) throw new ZoneSyntaxError(file, line, 'unterminated quoted string')
      tokens.push({text: quoted.text, quoted: true})
      i = quoted.end + 1
      continue
    }
    const word = scan(text, i, WORD_RUN)
    line += word.newlines
    tokens.push({text: word.text, quoted: false})
    i = word.end
  }
  if (depth !== 0) throw new ZoneSyntaxError(file, line, 'unbalanced "("')
  flush()
  return out
}

const TTL_UNITS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800}

export function parseTtlText(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text)
  const re = /(\d+)([smhdw])/gi
  if (!/^(\d+[smhdw])+$/i.test(text)) return undefined
  let total = 0
  for (const m of text.matchAll(re)) total += Number(m[1]) * TTL_UNITS[m[2]!.toLowerCase()]!
  return total
}

function absolute(name: string, origin: string): string {
  if (name === '@') return origin
  if (name.endsWith('.') && !name.endsWith('\\.')) return normalizeName(name)
  const lower = name.toLowerCase()
  return origin === '' ? lower : `${lower}.${origin}`
}

const absValue = (name: string, origin: string): string => (name === '.' ? '.' : `${absolute(name, origin)}.`)

function canonicalData(type: string, data: Token[], origin: string, where: () => string): {value: string; origin?: string} {
  const words = data.map((t) => t.text)
  const bad = (rule: string): never => {
    throw new InputError(where(), `${type} record ${rule}`)
  }
  switch (type) {
    case 'A':
      if (words.length !== 1 || !isIPv4(words[0]!)) bad(`needs one IPv4 address, got "${words.join(' ')}"`)
      return {value: words[0]!}
    case 'AAAA': {
      const address = words.length === 1 ? canonicalIPv6(words[0]!) : undefined
      if (address === undefined) return bad(`needs one IPv6 address, got "${words.join(' ')}"`)
      return {value: address}
    }
    case 'TXT':
      if (data.length === 0) bad('needs at least one string')
      return {value: canonicalTxt(data.map((t) => `"${t.text}"`).join(' '))}
    case 'SRV': {
      if (words.length !== 4 || !words.slice(0, 3).every((w) => /^\d+$/.test(w))) bad('needs "priority weight port target"')
      return {value: `${Number(words[0])} ${Number(words[1])} ${Number(words[2])} ${absValue(words[3]!, origin)}`}
    }
    case 'MX':
      if (words.length !== 2 || !/^\d+$/.test(words[0]!)) bad('needs "preference exchange"')
      return {value: `${Number(words[0])} ${absValue(words[1]!, origin)}`}
    case 'SOA': {
      if (words.length !== 7) bad('needs "mname rname serial refresh retry expire minimum"')
      const times = words.slice(2).map((w) => parseTtlText(w))
      if (times.some((t) => t === undefined)) bad('has a malformed number')
      return {value: `${absValue(words[0]!, origin)} ${absValue(words[1]!, origin)} ${times.join(' ')}`}
    }
    default:
      if (NAME_TYPES.has(type)) {
        if (words.length !== 1) bad('needs one domain name')
        return {value: absValue(words[0]!, origin)}
      }
      return {value: data.map((t) => (t.quoted ? `"${t.text}"` : t.text)).join(' '), origin}
  }
}

/** Mnemonics of the IANA DNS parameters registry; any other type is written TYPEnnn (RFC 3597 §5). */
const KNOWN_TYPES = new Set(
  ('A NS MD MF CNAME SOA MB MG MR NULL WKS PTR HINFO MINFO MX TXT RP AFSDB X25 ISDN RT NSAP NSAP-PTR SIG KEY PX GPOS AAAA LOC NXT ' +
    'EID NIMLOC SRV ATMA NAPTR KX CERT A6 DNAME SINK APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA HIP ' +
    'NINFO RKEY TALINK CDS CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS DSYNC SPF UINFO UID GID UNSPEC NID L32 L64 LP EUI48 EUI64 ' +
    'URI CAA AVC DOA AMTRELAY RESINFO WALLET CLA IPN TA DLV').split(' '),
)
const TYPE_RE = /^TYPE\d+$/

/** Parse master-file text for `origin` (the zone apex). */
export function parseZoneFile(text: string, origin: string, file = `${origin}.zone`): ZoneFile {
  let currentOrigin = normalizeName(origin)
  let defaultTtl: number | undefined
  let lastOwner: string | undefined
  let lastTtl: number | undefined
  const records: ZoneRecord[] = []
  for (const {line, leadingBlank, tokens} of tokenize(text, file)) {
    const where = (): string => `${file} line ${line}`
    const first = tokens[0]!
    if (!first.quoted && first.text.startsWith('$')) {
      const directive = first.text.toUpperCase()
      if (directive === '$ORIGIN') {
        if (!tokens[1]) throw new ZoneSyntaxError(file, line, '$ORIGIN needs a name')
        currentOrigin = absolute(tokens[1].text.endsWith('.') ? tokens[1].text : `${tokens[1].text}`, currentOrigin)
      } else if (directive === '$TTL') {
        const ttl = tokens[1] ? parseTtlText(tokens[1].text) : undefined
        if (ttl === undefined) throw new ZoneSyntaxError(file, line, '$TTL needs a number of seconds')
        defaultTtl = ttl
      } else {
        throw new ZoneSyntaxError(file, line, `${first.text} is not supported; keep the zone in one file`)
      }
      continue
    }
    let rest = tokens
    let owner: string
    if (leadingBlank) {
      if (lastOwner === undefined) throw new ZoneSyntaxError(file, line, 'the first record needs an owner name')
      owner = lastOwner
    } else {
      owner = absolute(first.text, currentOrigin)
      rest = tokens.slice(1)
    }
    let ttl: number | undefined
    let i = 0
    for (; i < 2 && i < rest.length; i++) {
      const word = rest[i]!.text.toUpperCase()
      const asTtl = parseTtlText(rest[i]!.text)
      if (asTtl !== undefined && ttl === undefined) ttl = asTtl
      else if (!CLASSES.has(word)) break
    }
    const type = rest[i]?.text.toUpperCase()
    if (!type || !(KNOWN_TYPES.has(type) || TYPE_RE.test(type))) {
      throw new ZoneSyntaxError(file, line, `expected a record type, got "${rest[i]?.text ?? ''}" (a type without a mnemonic is written TYPEnnn, RFC 3597)`)
    }
    if (rest.length === i + 1) throw new ZoneSyntaxError(file, line, `${type} record has no data`)
    ttl ??= defaultTtl ?? lastTtl
    if (ttl === undefined) throw new ZoneSyntaxError(file, line, 'no TTL given and no $TTL before it')
    const data = canonicalData(type, rest.slice(i + 1), currentOrigin, where)
    const record: ZoneRecord = {name: owner, ttl, type, value: data.value}
    if (data.origin !== undefined && data.origin !== normalizeName(origin)) record.origin = data.origin
    records.push(record)
    lastOwner = owner
    lastTtl = ttl
  }
  return {origin: normalizeName(origin), records}
}

const TYPE_ORDER = ['SOA', 'NS', 'A', 'AAAA', 'PTR', 'SRV', 'TXT']
const typeRank = (t: string): number => (TYPE_ORDER.includes(t) ? TYPE_ORDER.indexOf(t) : TYPE_ORDER.length)

/** Write a zone file: SOA first, then owners in canonical order, names absolute. */
export function formatZoneFile(zone: ZoneFile, header?: string): string {
  const sorted = [...zone.records].sort(
    (a, b) => compareNames(a.name, b.name) || typeRank(a.type) - typeRank(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
  )
  const lines: string[] = []
  if (header) lines.push(...header.split('\n').map((l) => `; ${l}`))
  lines.push(`$ORIGIN ${zone.origin}.`)
  let origin = zone.origin
  for (const r of sorted) {
    const want = r.origin ?? zone.origin
    if (want !== origin) {
      lines.push(`$ORIGIN ${want}.`)
      origin = want
    }
    lines.push(`${r.name}.\t${r.ttl}\tIN\t${r.type}\t${r.value}`)
  }
  return `${lines.join('\n')}\n`
}

/** The SOA and NS a new dnssd zone starts with. `dnssd serve` answers for it on loopback. */
export function newZone(origin: string, serial: number): ZoneFile {
  return {
    origin,
    records: [
      {name: origin, ttl: 3600, type: 'SOA', value: `localhost. hostmaster.${origin}. ${serial} 3600 600 1209600 60`},
      {name: origin, ttl: 3600, type: 'NS', value: 'localhost.'},
    ],
  }
}

