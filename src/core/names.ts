/**
 * Validation and normalisation of every name dnssd accepts (RFC 1035/1123
 * host names, RFC 6335 service names, RFC 6763 service forms) and of the
 * numbers and addresses that go into records. Pure: no I/O.
 *
 * Internally a domain name is lower-case, absolute and written WITHOUT the
 * trailing dot ("_web._tcp.example.com"); record values that hold names carry
 * the trailing dot, as a zone file or `dig` shows them.
 */
import {createRequire} from 'node:module'
import {InputError} from './errors.js'

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const SERVICE_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9](?:[a-z0-9]|-(?!-))*$/
const MAX_NAME_OCTETS = 255

/**
 * The one normal form of a domain name: trimmed, lower-case, without its
 * trailing dot (an escaped `\.` is part of the last label and stays); the
 * root, "" or ".", is ".". Used for names given by users, read from zone
 * files and APIs, decoded from DNS messages and taken from record values.
 */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase()
  if (lower === '' || lower === '.') return '.'
  return lower.endsWith('.') && !lower.endsWith('\\.') ? lower.slice(0, -1) : lower
}

/**
 * The labels of a name in presentation form, split at the dots that are not
 * escaped: `a\\.b.example.com` has the three labels `a\\.b`, `example`, `com`.
 * Escapes stay as they are. The root ("." or "") has none.
 */
export function splitLabels(name: string): string[] {
  if (name === '' || name === '.') return []
  const labels: string[] = []
  let label = ''
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!
    if (c === '\\' && i + 1 < name.length) {
      label += c + name[i + 1]
      i++
    } else if (c === '.') {
      labels.push(label)
      label = ''
    } else label += c
  }
  labels.push(label)
  return labels
}

/**
 * DNS canonical order (RFC 4034 §6.1) of two normalised names: label by
 * label from the right, a name sorting before the names below it. This is
 * the order of a zone file dnssd writes. (Route 53 lists in its own order,
 * which route53-wire.ts keeps for paging.)
 */
export function compareNames(a: string, b: string): number {
  const la = splitLabels(a).reverse()
  const lb = splitLabels(b).reverse()
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return la[i]! < lb[i]! ? -1 : 1
  }
  return la.length - lb.length
}

/** Wire length of a name in octets (labels plus length bytes plus the root). */
export function wireLength(name: string): number {
  if (name === '' || name === '.') return 1
  return name.split('.').reduce((n, label) => n + 1 + Buffer.byteLength(label), 1)
}

export function isSubdomain(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`)
}

/** The part of `name` in front of `zone` ("" at the apex). */
export function relativeTo(name: string, zone: string): string {
  if (name === zone) return ''
  return name.slice(0, -(zone.length + 1))
}

function checkHostLabels(input: string, name: string, labels: string[]): void {
  for (const label of labels) {
    if (label.length === 0) throw new InputError(input, `"${name}" has an empty label (two dots in a row)`)
    if (label.length > 63) throw new InputError(input, `label "${label}" is longer than 63 characters (RFC 1035)`)
    if (!HOST_LABEL.test(label)) {
      throw new InputError(
        input,
        `label "${label}" of "${name}" must be letters, digits and inner hyphens (RFC 1123 host name)`,
      )
    }
  }
}

/** A zone: an RFC 1123 host name of two or more labels or a single label. */
export function parseZone(value: string | undefined, input = '--zone'): string {
  if (value === undefined || value.trim() === '') throw new InputError(input, 'a zone is required (e.g. example.com)')
  const zone = normalizeName(value)
  if (zone === '' || zone === '.') throw new InputError(input, 'the root zone cannot be managed; give a domain such as example.com')
  const labels = zone.split('.')
  for (const label of labels) {
    // Zones may hold underscore labels only in odd setups; keep them host names.
    if (label.length === 0) throw new InputError(input, `"${value}" has an empty label (two dots in a row)`)
  }
  checkHostLabels(input, zone, labels)
  // Leave room for `_services._dns-sd._udp.` and a 63-octet instance label.
  if (wireLength(zone) > 170) throw new InputError(input, `"${zone}" is too long: at most 170 octets leave room for service names (RFC 6763 §7.2)`)
  return zone
}

/** `_web._tcp`: a service type's two labels as dnssd writes them (RFC 6763 §7, RFC 6335 names). */
const SERVICE_TYPE_LABELS = /^_[a-z0-9-]+\._(tcp|udp)$/

/** Is `name` a service type directly under `zone` (`_web._tcp.example.com`), where a browse PTR set lives? */
export function isServiceTypeName(name: string, zone: string): boolean {
  return name.endsWith(`.${zone}`) && SERVICE_TYPE_LABELS.test(relativeTo(name, zone))
}

/**
 * The service type a name belongs to, from its first `_svc._tcp` or
 * `_svc._udp` label pair on: `_web._tcp.example.com` for the pool
 * `_v1._web._tcp.example.com`, the instance `host._web._tcp.example.com` and
 * the type itself; relative names too (`_v1._web._tcp` -> `_web._tcp`).
 * Undefined when the name has no such pair.
 */
export function serviceTypeOf(name: string): string | undefined {
  const labels = name.split('.')
  const at = labels.findIndex((l, i) => i > 0 && (l === '_tcp' || l === '_udp') && labels[i - 1]!.startsWith('_'))
  return at > 0 ? labels.slice(at - 1).join('.') : undefined
}

export interface ServiceName {
  /** "_v1" for the incarnation (pool) form, undefined for the plain form. */
  incarnation?: string
  /** RFC 6335 service name without underscore, e.g. "web". */
  name: string
  proto: 'tcp' | 'udp'
  /** "_web._tcp" */
  type: string
  /** As given, normalised and relative: "_v1._web._tcp" or "_web._tcp". */
  relative: string
}

function checkServiceLabel(input: string, label: string): string {
  if (!label.startsWith('_')) throw new InputError(input, `"${label}" must start with "_" (RFC 6763 §7: _service._proto)`)
  const name = label.slice(1)
  if (!SERVICE_NAME.test(name) || name.endsWith('-')) {
    throw new InputError(
      input,
      `service name "${name}" must be 1-15 letters, digits or hyphens with at least one letter, no leading, trailing or double hyphen (RFC 6335 §5.1)`,
    )
  }
  return name
}

/**
 * `_web._tcp` (plain RFC 6763 form) or `_v1._web._tcp` (incarnation pool),
 * optionally followed by the zone (`_web._tcp.example.com`).
 */
export function parseService(value: string | undefined, zone: string, input = '--service'): ServiceName {
  if (value === undefined || value.trim() === '') throw new InputError(input, 'a service is required (e.g. _web._tcp or _v1._web._tcp)')
  let rel = normalizeName(value)
  const protoAt = rel.search(/\._(tcp|udp)(\.|$)/)
  if (protoAt < 0) throw new InputError(input, `"${value}" needs a protocol label: _tcp or _udp (RFC 6763 §7)`)
  const protoEnd = protoAt + 5
  const rest = rel.slice(protoEnd)
  if (rest !== '') {
    const suffix = rest.slice(1)
    if (suffix !== zone) throw new InputError(input, `"${value}" is not under the zone ${zone} (services live directly under --zone)`)
    rel = rel.slice(0, protoEnd)
  }
  const labels = rel.split('.')
  const proto = labels.at(-1) === '_udp' ? 'udp' : 'tcp'
  if (labels.length < 2 || labels.length > 3) {
    throw new InputError(input, `"${value}" must be _service._proto or _instance._service._proto`)
  }
  const name = checkServiceLabel(input, labels[labels.length - 2]!)
  let incarnation: string | undefined
  if (labels.length === 3) {
    incarnation = labels[0]!
    if (!/^_[a-z0-9](?:[a-z0-9-]{0,60}[a-z0-9])?$/.test(incarnation)) {
      throw new InputError(input, `pool label "${incarnation}" must be "_" then 1-62 letters, digits or inner hyphens (e.g. _v1)`)
    }
  }
  return {incarnation, name, proto, type: `_${name}._${proto}`, relative: rel}
}

/**
 * `--host`: relative to the zone unless it ends with the zone or a dot.
 * Returns the absolute host name.
 */
export function parseHost(value: string, zone: string, input = '--host'): string {
  const trimmed = value.trim()
  if (trimmed === '') throw new InputError(input, 'must not be empty')
  const absolute = trimmed.endsWith('.') || isSubdomain(normalizeName(trimmed), zone)
  const name = absolute ? normalizeName(trimmed) : `${normalizeName(trimmed)}.${zone}`
  if (!isSubdomain(name, zone) || name === zone) {
    throw new InputError(input, `"${value}" is not under the zone ${zone}; the address record is written in the zone`)
  }
  checkHostLabels(input, name, relativeTo(name, zone).split('.'))
  if (wireLength(name) > MAX_NAME_OCTETS) throw new InputError(input, `"${name}" is longer than 255 octets`)
  return name
}

/** A round-robin label such as `www` (or `www.example.com`). */
export function parseRoundRobin(value: string, zone: string, input = '--a-record'): string {
  const trimmed = value.trim()
  if (trimmed === '@') return zone
  return parseHost(trimmed, zone, input)
}

export interface Address {
  address: string
  family: 'A' | 'AAAA'
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

/**
 * Dotted-quad IPv4 as node:net's isIPv4 accepts it: four decimal numbers
 * 0-255 without leading zeros. Written here because node:net, loaded for
 * this alone, is a large share of the start-up of join and list (README,
 * start-up); test/unit/names.test.ts compares the two on random input.
 */
export function isIPv4(text: string): boolean {
  const parts = text.split('.')
  return parts.length === 4 && parts.every((p) => DECIMAL_OCTET.test(p) && Number(p) <= 255)
}

/**
 * IPv6 text (RFC 4291 §2.2: eight groups of 1-4 hex digits, one "::" for a
 * run of zero groups, a dotted IPv4 address as the last two) as node:net's
 * isIPv6 accepts it, except that a zone index (fe80::1%eth0) is refused:
 * no caller can use one. Compared with node:net in test/unit/names.test.ts.
 */
export function isIPv6(text: string): boolean {
  const halves = text.split('::')
  if (halves.length > 2) return false
  let groups = 0
  for (const [h, half] of halves.entries()) {
    if (half === '') continue
    const words = half.split(':')
    for (const [w, word] of words.entries()) {
      // A dotted IPv4 address only as the very last word of the text.
      if (h === halves.length - 1 && w === words.length - 1 && word.includes('.')) {
        if (!isIPv4(word)) return false
        groups += 2
      } else if (HEX_GROUP.test(word)) groups += 1
      else return false
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8
}

const ZONE_INDEX = /^[0-9a-zA-Z.:-]+$/

/**
 * node:net's isIPv6 itself: isIPv6, or an IPv6 address with a zone index
 * (fe80::1%eth0: letters, digits, "-", "." and ":"), for the DNS client's
 * server addresses. node:net's own test compiles a large regular expression
 * on first use, a noticeable part of a `dnssd resolve`.
 */
export function isIPv6Zoned(text: string): boolean {
  const at = text.indexOf('%')
  return at < 0 ? isIPv6(text) : isIPv6(text.slice(0, at)) && ZONE_INDEX.test(text.slice(at + 1))
}

/** node:net's isIP: 4, 6 (a zone index allowed) or 0. */
export const ipVersion = (text: string): 0 | 4 | 6 => (isIPv4(text) ? 4 : isIPv6Zoned(text) ? 6 : 0)

/** Why an IPv4 address cannot be a member's address, or undefined when it can. */
function unusableIPv4(address: string): string | undefined {
  const first = Number(address.split('.')[0])
  if (first === 0) return 'is in 0.0.0.0/8 ("this network", RFC 1122), not a host address'
  if (first >= 224 && first <= 239) return 'is a multicast address (224.0.0.0/4), not a host address'
  if (first >= 240) return 'is reserved (240.0.0.0/4, RFC 1112) or the broadcast address, not a host address'
  return undefined
}

/**
 * The RFC 5952 text of an IPv6 address (lower case, leading zeros dropped,
 * the longest run of zero groups as "::"), or undefined when `text` is not
 * an IPv6 address or carries a zone index (fe80::1%eth0), which a record
 * cannot hold. The one place values of AAAA records are made comparable:
 * user input, zone files, Route 53 and Cloudflare answers.
 */
export function canonicalIPv6(text: string): string | undefined {
  const bare = text.trim()
  if (!isIPv6(bare)) return undefined
  // WHATWG URL serialises an IPv6 host exactly as RFC 5952 §4 asks.
  return new URL(`http://[${bare}]/`).hostname.slice(1, -1)
}

/**
 * IPv4 or IPv6 of a host that can be reached: not unspecified, multicast or
 * reserved. IPv6 is canonicalised (RFC 5952: lower case, compressed); an
 * IPv4-mapped IPv6 address (::ffff:10.0.0.1) is the IPv4 address it maps
 * and is registered as an A record.
 */
export function parseAddress(value: string | undefined, input = '--ip'): Address {
  if (value === undefined || value.trim() === '') throw new InputError(input, 'an address is required (IPv4 or IPv6)')
  const text = value.trim()
  if (isIPv4(text)) {
    const why = unusableIPv4(text)
    if (why) throw new InputError(input, `${text} ${why}`)
    return {address: text, family: 'A'}
  }
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  const canonical = canonicalIPv6(bare)
  if (canonical !== undefined) {
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical)
    if (mapped) {
      const n = (parseInt(mapped[1]!, 16) << 16) | parseInt(mapped[2]!, 16)
      return parseAddress([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), input)
    }
    if (canonical === '::') throw new InputError(input, ':: is the unspecified address, not a host address')
    if (canonical.startsWith('ff')) throw new InputError(input, `${canonical} is a multicast address (ff00::/8), not a host address`)
    return {address: canonical, family: 'AAAA'}
  }
  throw new InputError(input, `"${value}" is not an IPv4 or IPv6 address`)
}

type BlockList = import('node:net').BlockList
let notGlobalBlocks: {net: typeof import('node:net'); blocks: BlockList} | undefined

/**
 * Blocks whose addresses are not globally reachable: "Globally Reachable:
 * False" in the IANA special-purpose address registries (RFC 6890 and its
 * updates), plus multicast and the reserved 240.0.0.0/4. The documentation
 * blocks are among them (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 by
 * RFC 5737 §3; 2001:db8::/32, 3fff::/20): they "SHOULD NOT appear on the
 * public Internet", so an address in them is never public. As node:net's
 * BlockList, built when first needed: node:net is slow to load, and join
 * and list (unless --ip auto) never need it.
 */
function notGlobal(): {net: typeof import('node:net'); blocks: BlockList} {
  if (notGlobalBlocks) return notGlobalBlocks
  const net = createRequire(import.meta.url)('node:net') as typeof import('node:net')
  const blocks = new net.BlockList()
  for (const [subnet, bits] of [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
    ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ] as const) blocks.addSubnet(subnet, bits, 'ipv4')
  for (const [subnet, bits] of [
    // (No ::ffff:0:0/96 rule: BlockList would apply it to every IPv4 address; parseAddress maps those to IPv4.)
    ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['3fff::', 20],
    ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
  ] as const) blocks.addSubnet(subnet, bits, 'ipv6')
  notGlobalBlocks = {net, blocks}
  return notGlobalBlocks
}

/**
 * Is the address reachable from the internet? The one test for both uses:
 * `--ip auto` calling an interface address public or private, and
 * Cloudflare, which proxies only records that point at public addresses.
 */
export function isPublicAddress(address: string): boolean {
  const {net, blocks} = notGlobal()
  if (net.isIPv4(address)) return !blocks.check(address, 'ipv4')
  if (net.isIPv6(address)) return !blocks.check(address, 'ipv6')
  return false
}

/**
 * The host label derived from an address: each . or : becomes -
 * (10.0.0.1 -> 10-0-0-1, 2001:db8::1 -> 2001-db8--1). Where that would not
 * be a valid RFC 1123 label the omitted zero groups are written out: a
 * leading "::" starts with 0 (::1 -> 0--1), a trailing one ends with 0
 * (fe80:: -> fe80--0), and a first group of two digits followed by
 * "::" is padded to four (fd::1 -> 00fd--1), so that "--" never sits in
 * positions 3-4, which IDNA reserves (RFC 5891 §4.2.3.1). Each still names
 * the same address.
 */
export function hostLabelForAddress(address: string): string {
  let label = address.replace(/[.:]/g, '-')
  if (label.startsWith('-')) label = `0${label}`
  if (label.endsWith('-')) label = `${label}0`
  if (label.slice(2, 4) === '--') label = label.split('-')[0]!.padStart(4, '0') + label.slice(label.indexOf('-'))
  return label
}

/** A whole number from `min` to `max` given as text; `rule`, the end of the message, says what the input must be. */
export function parseWholeNumber(value: string | number | undefined, input: string, min: number, max: number, rule: string): number {
  const text = String(value ?? '').trim()
  if (!/^\d+$/.test(text)) throw new InputError(input, `"${value ?? ''}" is not a whole number; ${rule}`)
  const n = Number(text)
  if (n < min || n > max) throw new InputError(input, `${text} is out of range; ${rule}`)
  return n
}

const parseInteger = (value: string | number | undefined, input: string, min: number, max: number, what: string): number =>
  parseWholeNumber(value, input, min, max, `${what} must be ${min}-${max}`)

export const parsePort = (v: string | number | undefined, input = '--port'): number =>
  parseInteger(v, input, 1, 65_535, 'a port')
export const parsePriority = (v: string | number | undefined, input = '--priority'): number =>
  parseInteger(v, input, 0, 65_535, 'an SRV priority (RFC 2782)')
export const parseWeight = (v: string | number | undefined, input = '--weight'): number =>
  parseInteger(v, input, 0, 65_535, 'an SRV weight (RFC 2782)')
/** RFC 2181 §8: TTLs are 31-bit unsigned. */
export const parseTtl = (v: string | number | undefined, input = '--ttl'): number =>
  parseInteger(v, input, 0, 2_147_483_647, 'a TTL in seconds')

/** A duration in seconds (decimals allowed), e.g. --timeout. */
export function parseSeconds(value: string | number | undefined, input: string, max = 86_400): number {
  const text = String(value ?? '').trim()
  if (!/^\d+(\.\d+)?$/.test(text)) throw new InputError(input, `"${value ?? ''}" is not a number of seconds`)
  const n = Number(text)
  if (n <= 0 || n > max) throw new InputError(input, `${text} is out of range; give more than 0 and at most ${max} seconds`)
  return n
}
