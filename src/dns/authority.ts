/**
 * The data `dnssd serve` answers from: zone files compiled into wire-ready
 * RRsets, and the authoritative answer logic (RFC 1034 §4.3.2 without
 * wildcards or delegation): NOERROR with data, NODATA and NXDOMAIN with the
 * SOA in the authority section (RFC 2308), empty non-terminals as existing
 * names (RFC 8020), REFUSED outside the zones, and the RFC 6763 §12
 * additional records for PTR and SRV answers.
 */
import {isIPv4} from 'node:net'
import {parseTxtPresentation} from '../core/txt.js'
import {type ZoneFile} from '../core/zonefile.js'
import {type Query, RCODE, type RdataPart, TYPE, type WireRecord} from './message.js'
import {labelsKey, nameToLabels} from './names.js'

export interface RRset {
  key: string
  type: number
  ttl: number
  records: WireRecord[]
  /** Names the data points at (targets), for additional-section processing. */
  targets: string[]
}

export interface Zone {
  origin: string
  key: string
  serial: number
  nodes: Map<string, Map<number, RRset>>
  /** Every name that exists: owners and their ancestors up to the apex (empty non-terminals). */
  existing: Set<string>
  /** The SOA as sent in negative answers: TTL = min(SOA TTL, MINIMUM) (RFC 2308 §5). */
  negativeSoa: RRset
  recordCount: number
}

/** An RRset for the additional section; `after`: only if that RRset made it into the message (an SRV's target addresses). */
export interface Extra {
  set: RRset
  after?: RRset
}

export interface Answer {
  rcode: number
  aa: boolean
  answer: RRset[]
  authority: RRset[]
  additional: Extra[]
}

/** CNAMEs followed before giving up with SERVFAIL: BIND 9.18's limit of restarts, so both agree on long chains. */
export const MAX_CNAME_CHAIN = 11

function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number))
}

export function ipv6Bytes(text: string): Buffer {
  let t = text
  const out = Buffer.alloc(16)
  if (t.includes('.')) {
    // Embedded IPv4 tail (::ffff:1.2.3.4): turn it into two hex groups.
    const at = t.lastIndexOf(':')
    const v4 = ipv4Bytes(t.slice(at + 1))
    t = `${t.slice(0, at + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`
  }
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined]
  const h = head ? head.split(':') : []
  const tl = tail === undefined ? [] : tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl]
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2))
  return out
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

/** Is the name with this key at or below the zone with that key? */
export const inZone = (key: string, zoneKey: string): boolean => key === zoneKey || key.endsWith(`.${zoneKey}`)

const nameOfValue = (v: string): string => (v === '.' ? '' : v)

/** Record data in wire parts, or undefined for a type this server does not encode. */
export function rdataOf(type: string, value: string): {parts: RdataPart[]; targets: string[]} | undefined {
  const words = value.trim().split(/\s+/)
  switch (type) {
    case 'A':
      if (!isIPv4(value)) throw new Error(`bad A data "${value}"`)
      return {parts: [ipv4Bytes(value)], targets: []}
    case 'AAAA':
      return {parts: [ipv6Bytes(value)], targets: []}
    case 'NS':
    case 'CNAME':
    case 'PTR': {
      const n = nameOfValue(value)
      return {parts: [{labels: nameToLabels(n), compress: true}], targets: [labelsKey(nameToLabels(n))]}
    }
    case 'DNAME':
      return {parts: [{labels: nameToLabels(nameOfValue(value)), compress: false}], targets: []}
    case 'MX': {
      const n = nameOfValue(words[1]!)
      return {parts: [u16(Number(words[0])), {labels: nameToLabels(n), compress: true}], targets: [labelsKey(nameToLabels(n))]}
    }
    case 'SRV': {
      const n = nameOfValue(words[3]!)
      const labels = nameToLabels(n)
      return {
        parts: [u16(Number(words[0])), u16(Number(words[1])), u16(Number(words[2])), {labels, compress: false}],
        targets: labels.length > 0 ? [labelsKey(labels)] : [],
      }
    }
    case 'TXT': {
      const strings = parseTxtPresentation(value)
      const parts: Buffer[] = []
      for (const s of strings.length > 0 ? strings : [Buffer.alloc(0)]) {
        if (s.length > 255) throw new Error('a TXT string is longer than 255 octets')
        parts.push(Buffer.from([s.length]), s)
      }
      return {parts, targets: []}
    }
    case 'SOA':
      return {
        parts: [
          {labels: nameToLabels(nameOfValue(words[0]!)), compress: true},
          {labels: nameToLabels(nameOfValue(words[1]!)), compress: true},
          ...words.slice(2, 7).map((w) => u32(Number(w))),
        ],
        targets: [],
      }
    default: {
      // RFC 3597 generic form: \# <length> <hex>
      const m = /^\\#\s+(\d+)\s*([0-9a-fA-F\s]*)$/.exec(value)
      if (!m) return undefined
      const data = Buffer.from(m[2]!.replace(/\s+/g, ''), 'hex')
      if (data.length !== Number(m[1])) throw new Error('generic data length does not match')
      return {parts: [data], targets: []}
    }
  }
}

const TYPE_NUMBER = new Map<string, number>(Object.entries(TYPE))

/** A type mnemonic or TYPEnnn as its number; undefined for a name this server does not know. */
export function typeNumber(type: string): number | undefined {
  const known = TYPE_NUMBER.get(type)
  if (known !== undefined) return known
  const m = /^TYPE(\d+)$/.exec(type)
  return m ? Number(m[1]) : undefined
}

/** Compile a parsed zone file. Records this server cannot encode are reported through `warn` and left out. */
export function compileZone(file: ZoneFile, warn: (line: string) => void = () => {}): Zone {
  const origin = file.origin
  const originLabels = nameToLabels(origin)
  const zoneKey = labelsKey(originLabels)
  const nodes = new Map<string, Map<number, RRset>>()
  const existing = new Set<string>([zoneKey])
  let soa: {ttl: number; value: string} | undefined
  let count = 0
  for (const r of file.records) {
    const type = typeNumber(r.type)
    let compiled: ReturnType<typeof rdataOf>
    let labels: Buffer[]
    try {
      labels = nameToLabels(r.name)
      compiled = type === undefined ? undefined : rdataOf(r.type, r.value)
    } catch (error) {
      warn(`${origin}: skipped ${r.name} ${r.type} "${r.value}": ${(error as Error).message}`)
      continue
    }
    if (type === undefined || compiled === undefined) {
      warn(`${origin}: skipped ${r.name} ${r.type}: type not served (write it as RFC 3597 "\\# len hex" to serve it)`)
      continue
    }
    const key = labelsKey(labels)
    if (!inZone(key, zoneKey)) {
      warn(`${origin}: skipped ${r.name} ${r.type}: outside the zone`)
      continue
    }
    if (r.type === 'SOA') {
      if (key !== zoneKey || soa) continue
      soa = {ttl: r.ttl, value: r.value}
    }
    let node = nodes.get(key)
    if (!node) nodes.set(key, (node = new Map()))
    let set = node.get(type)
    if (!set) node.set(type, (set = {key, type, ttl: r.ttl, records: [], targets: []}))
    set.records.push({labels, type, ttl: set.ttl, rdata: compiled.parts})
    set.targets.push(...compiled.targets)
    count++
    for (let i = 1; i < labels.length - originLabels.length; i++) existing.add(labelsKey(labels, i))
    existing.add(key)
  }
  if (!soa) {
    throw new Error(`${origin} has no SOA record at its apex`)
  }
  const words = soa.value.split(/\s+/)
  const minimum = Number(words[6])
  const soaSet = nodes.get(zoneKey)!.get(TYPE.SOA)!
  const negTtl = Math.min(soa.ttl, minimum)
  const negativeSoa: RRset = {...soaSet, ttl: negTtl, records: soaSet.records.map((r) => ({...r, ttl: negTtl}))}
  return {origin, key: zoneKey, serial: Number(words[2]), nodes, existing, negativeSoa, recordCount: count}
}

/** Answers queries from a set of compiled zones. Immutable: a reload builds a new one. */
export class Authority {
  private readonly zones = new Map<string, Zone>()

  constructor(zones: Iterable<Zone>) {
    for (const z of zones) this.zones.set(z.key, z)
  }

  list(): Zone[] {
    return [...this.zones.values()]
  }

  private zoneFor(labels: readonly Buffer[]): Zone | undefined {
    for (let i = 0; i < labels.length; i++) {
      const z = this.zones.get(labelsKey(labels, i))
      if (z) return z
    }
    return undefined
  }

  private rrset(key: string, type: number): RRset | undefined {
    for (const z of this.zones.values()) {
      if (inZone(key, z.key)) {
        const s = z.nodes.get(key)?.get(type)
        if (s) return s
      }
    }
    return undefined
  }

  answer(q: Query): Answer {
    const zone = this.zoneFor(q.labels)
    if (!zone) return {rcode: RCODE.REFUSED, aa: false, answer: [], authority: [], additional: []}
    const answer: RRset[] = []
    const nodata = (rcode: number): Answer => ({rcode, aa: true, answer, authority: [zone.negativeSoa], additional: []})
    let key = q.key
    // Follow in-zone CNAMEs (hand-made records; dnssd writes none).
    for (;;) {
      const node = zone.nodes.get(key)
      // NXDOMAIN and NODATA are about the last name of the chain, with the SOA either way (RFC 2308 §2.1, §2.2; RFC 6604).
      if (!node) return nodata(zone.existing.has(key) ? RCODE.NOERROR : RCODE.NXDOMAIN)
      if (q.qtype === TYPE.ANY) {
        answer.push(...node.values())
        break
      }
      const hit = node.get(q.qtype)
      if (hit) {
        answer.push(hit)
        break
      }
      const cname = node.get(TYPE.CNAME)
      if (!cname || q.qtype === TYPE.CNAME) return nodata(RCODE.NOERROR)
      // A loop, or a chain longer than BIND follows: SERVFAIL with the chain so far, each CNAME once (as BIND).
      if (answer.includes(cname)) return {rcode: RCODE.SERVFAIL, aa: true, answer, authority: [], additional: []}
      answer.push(cname)
      if (answer.length > MAX_CNAME_CHAIN) return {rcode: RCODE.SERVFAIL, aa: true, answer, authority: [], additional: []}
      key = cname.targets[0]!
      if (!inZone(key, zone.key)) return {rcode: RCODE.NOERROR, aa: true, answer, authority: [], additional: []}
    }
    return {rcode: RCODE.NOERROR, aa: true, answer, authority: [], additional: this.additionalFor(answer)}
  }

  /**
   * RFC 6763 §12: PTR -> SRV, TXT, and the SRV targets' addresses; SRV/MX/NS
   * -> addresses. Per instance, so whole instances fit first; a target's
   * addresses only follow an SRV set that fitted.
   */
  private additionalFor(answer: readonly RRset[]): Extra[] {
    const seen = new Set<string>(answer.map((s) => `${s.key}/${s.type}`))
    const out: Extra[] = []
    const add = (key: string, type: number, after?: RRset): RRset | undefined => {
      const s = this.rrset(key, type)
      if (!s) return undefined
      // The same address set may follow several SRV sets; each gets its chance.
      const id = after ? `${key}/${type}/${after.key}` : `${key}/${type}`
      if (seen.has(id) || seen.has(`${key}/${type}`)) return s
      seen.add(id)
      out.push({set: s, after})
      return s
    }
    const addresses = (key: string, after?: RRset): void => {
      add(key, TYPE.A, after)
      add(key, TYPE.AAAA, after)
    }
    for (const set of answer) {
      if (set.type === TYPE.PTR) {
        for (const instance of set.targets) {
          const srv = add(instance, TYPE.SRV)
          add(instance, TYPE.TXT)
          for (const t of srv?.targets ?? []) addresses(t, srv)
        }
      } else if (set.type === TYPE.SRV || set.type === TYPE.MX || set.type === TYPE.NS) {
        for (const t of set.targets) addresses(t)
      }
    }
    return out
  }
}
