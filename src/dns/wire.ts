/**
 * The client's thin wrapper around dns-packet 5.x that guards the pitfalls of
 * reference/dns.md D.4:
 * - names are checked before encoding (labels <= 63 octets, names <= 255,
 *   no label holding a dot, which dns-packet would silently split);
 * - decoding never throws past us and never "succeeds" with garbage: the
 *   header is read first, a truncated (TC) body is not trusted, and every
 *   decoded record is checked (addresses as node:net's isIP would, SRV numbers, names)
 *   before it is used; records that fail are dropped;
 * - TXT data always comes back as an array of Buffers, one per string;
 * - the client never encodes TXT or record data with dns-packet (its
 *   encoder mutates TXT input and writes `data: []` as RDLENGTH 0); the
 *   server has its own compressing writer (message.ts).
 */
import type * as DnsPacket from 'dns-packet'
import {createRequire} from 'node:module'
import {ipVersion, normalizeName} from '../core/names.js'
import {checkQueryName} from './names.js'

// require(), not import: Node's ESM loader scans a CommonJS module's source for
// its export names first, which for dns-packet's 45 kB index.js cost ~50 ms of
// start-up under load (measured: import ~75 ms, require ~22 ms).
const dnsPacket = createRequire(import.meta.url)('dns-packet') as typeof DnsPacket

export type QueryType = 'A' | 'AAAA' | 'SRV' | 'TXT' | 'PTR' | 'SOA' | 'NS' | 'CNAME'

export interface SrvData {
  priority: number
  weight: number
  port: number
  /** Lower-case, no trailing dot; "." for "no service". */
  target: string
}

export type Rr =
  | {name: string; type: 'A'; ttl: number; data: string}
  | {name: string; type: 'AAAA'; ttl: number; data: string}
  | {name: string; type: 'PTR'; ttl: number; data: string}
  | {name: string; type: 'CNAME'; ttl: number; data: string}
  | {name: string; type: 'NS'; ttl: number; data: string}
  | {name: string; type: 'SRV'; ttl: number; data: SrvData}
  | {name: string; type: 'TXT'; ttl: number; data: Buffer[]}
  | {name: string; type: 'SOA'; ttl: number; data: {mname: string; rname: string; serial: number; minimum: number}}

export interface Message {
  id: number
  rcode: string
  aa: boolean
  tc: boolean
  question?: {name: string; type: string}
  answers: Rr[]
  authorities: Rr[]
  additionals: Rr[]
}

export function encodeQuery(name: string, type: QueryType, options: {id: number; rd: boolean; ednsSize?: number}): Buffer {
  const packet: DnsPacket.Packet = {
    type: 'query',
    id: options.id,
    flags: options.rd ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{type, name: checkQueryName(name), class: 'IN'}],
    additionals: options.ednsSize ? [{type: 'OPT', name: '.', udpPayloadSize: options.ednsSize, flags: 0} as DnsPacket.Answer] : [],
  }
  return dnsPacket.encode(packet)
}

/** Header fields only: safe on any buffer of 12+ bytes. */
export function readHeader(buf: Buffer): {id: number; qr: boolean; tc: boolean; rcode: number} | undefined {
  if (buf.length < 12) return undefined
  const flags = buf.readUInt16BE(2)
  return {id: buf.readUInt16BE(0), qr: (flags & 0x8000) !== 0, tc: (flags & 0x0200) !== 0, rcode: flags & 0xf}
}

const u16ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 65_535

function sanitize(r: DnsPacket.Answer): Rr | undefined {
  if (r.type === 'OPT' || typeof r.name !== 'string') return undefined
  const name = normalizeName(r.name)
  const ttl = (r as {ttl?: number}).ttl ?? 0
  const data = (r as {data?: unknown}).data
  switch (r.type) {
    case 'A':
    case 'AAAA':
      if (typeof data !== 'string' || ipVersion(data) !== (r.type === 'A' ? 4 : 6)) return undefined
      return {name, type: r.type, ttl, data}
    case 'PTR':
    case 'CNAME':
    case 'NS':
      if (typeof data !== 'string' || data === '') return undefined
      return {name, type: r.type, ttl, data: normalizeName(data)}
    case 'SRV': {
      const d = data as Partial<DnsPacket.SrvData> | undefined
      if (!d || !u16ok(d.priority ?? 0) || !u16ok(d.weight ?? 0) || !u16ok(d.port) || typeof d.target !== 'string') return undefined
      return {name, type: 'SRV', ttl, data: {priority: d.priority ?? 0, weight: d.weight ?? 0, port: d.port, target: normalizeName(d.target)}}
    }
    case 'TXT': {
      const list = Array.isArray(data) ? data : [data]
      if (!list.every((s) => Buffer.isBuffer(s))) return undefined
      return {name, type: 'TXT', ttl, data: list as Buffer[]}
    }
    case 'SOA': {
      const d = data as Partial<DnsPacket.SoaData> | undefined
      if (!d || typeof d.mname !== 'string' || typeof d.rname !== 'string') return undefined
      return {name, type: 'SOA', ttl, data: {mname: normalizeName(d.mname), rname: normalizeName(d.rname), serial: d.serial ?? 0, minimum: d.minimum ?? 0}}
    }
    default:
      return undefined
  }
}

export class MalformedResponse extends Error {}

/**
 * Decode a response. A truncated response (TC) yields its header only: its
 * body may be cut anywhere, and dns-packet has been seen to "decode" cut
 * records into addresses like "1.2.undefined.undefined".
 */
export function decodeResponse(buf: Buffer): Message {
  const header = readHeader(buf)
  if (!header) throw new MalformedResponse(`response of ${buf.length} bytes is shorter than a DNS header`)
  if (!header.qr) throw new MalformedResponse('message is a query, not a response')
  let packet: DnsPacket.DecodedPacket
  try {
    packet = dnsPacket.decode(buf)
  } catch (error) {
    if (header.tc) return {id: header.id, rcode: 'NOERROR', aa: false, tc: true, answers: [], authorities: [], additionals: []}
    throw new MalformedResponse(`undecodable response: ${(error as Error).message}`)
  }
  const q = packet.questions?.[0]
  const message: Message = {
    id: header.id,
    rcode: (packet as {rcode?: string}).rcode ?? 'NOERROR',
    aa: packet.flag_aa === true,
    tc: header.tc,
    question: q ? {name: normalizeName(q.name), type: String(q.type)} : undefined,
    answers: [],
    authorities: [],
    additionals: [],
  }
  if (header.tc) return message
  for (const [from, to] of [
    [packet.answers, message.answers],
    [packet.authorities, message.authorities],
    [packet.additionals, message.additionals],
  ] as const) {
    for (const r of from ?? []) {
      const clean = sanitize(r)
      if (clean) to.push(clean)
    }
  }
  return message
}
