/**
 * The server's side of the wire: a strict query parser and a response
 * writer WITH name compression (RFC 1035 §4.1.4). dns-packet writes every
 * name in full (mafintosh/dns-packet#55), which made a 30-instance PTR answer
 * about three times larger than BIND's; this writer compresses owner names
 * and the names inside NS, CNAME, PTR, MX and SOA data (RFC 3597 §4 lists
 * the types whose data may be compressed; SRV targets must not be, RFC 2782).
 */
import {type NameError, labelsKey, readName} from './names.js'

export const TYPE = {A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255} as const
export const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k]))
export const CLASS_IN = 1
export const CLASS_ANY = 255

export const RCODE = {NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5} as const

export const FLAG_QR = 0x8000
export const FLAG_AA = 0x0400
export const FLAG_TC = 0x0200
export const FLAG_RD = 0x0100

/** A piece of record data: raw bytes, or a name (compressed where the type allows it). */
export type RdataPart = Buffer | {labels: Buffer[]; compress: boolean}

export interface WireRecord {
  /** Owner labels. */
  labels: Buffer[]
  type: number
  ttl: number
  rdata: RdataPart[]
}

export interface Edns {
  udpSize: number
  version: number
  dnssecOk: boolean
}

export interface Query {
  id: number
  opcode: number
  rd: boolean
  /** The question name exactly as sent (case kept, for the echo). */
  labels: Buffer[]
  key: string
  qtype: number
  qclass: number
  edns?: Edns
  /** Where the question section ends (the echo copies bytes 12..end). */
  questionEnd: number
}

export class FormatError extends Error {
  constructor(
    message: string,
    readonly id?: number,
    readonly opcode?: number,
  ) {
    super(message)
  }
}

function skipRecord(buf: Buffer, offset: number): {type: number; klass: number; ttl: number; rdata: Buffer; next: number; root: boolean} {
  const {labels, next} = readName(buf, offset)
  if (next + 10 > buf.length) throw new FormatError('record header runs past the end')
  const type = buf.readUInt16BE(next)
  const klass = buf.readUInt16BE(next + 2)
  const ttl = buf.readUInt32BE(next + 4)
  const len = buf.readUInt16BE(next + 8)
  if (next + 10 + len > buf.length) throw new FormatError('record data runs past the end')
  return {type, klass, ttl, rdata: buf.subarray(next + 10, next + 10 + len), next: next + 10 + len, root: labels.length === 0}
}

/**
 * Parse a query. Returns undefined for messages that must be dropped
 * silently (too short for a header, or a response). Throws FormatError
 * (with the id when the header was readable) for a malformed query.
 */
export function parseQuery(buf: Buffer): Query | undefined {
  if (buf.length < 12) return undefined
  const id = buf.readUInt16BE(0)
  const flags = buf.readUInt16BE(2)
  if (flags & FLAG_QR) return undefined
  const opcode = (flags >> 11) & 0xf
  const qd = buf.readUInt16BE(4)
  const an = buf.readUInt16BE(6)
  const ns = buf.readUInt16BE(8)
  const ar = buf.readUInt16BE(10)
  if (qd !== 1) throw new FormatError(`expected one question, got ${qd}`, id, opcode)
  let q: {labels: Buffer[]; next: number}
  try {
    q = readName(buf, 12)
  } catch (error) {
    throw new FormatError((error as NameError).message, id, opcode)
  }
  if (q.next + 4 > buf.length) throw new FormatError('question runs past the end', id, opcode)
  const qtype = buf.readUInt16BE(q.next)
  const qclass = buf.readUInt16BE(q.next + 2)
  const questionEnd = q.next + 4
  let pos = questionEnd
  let edns: Edns | undefined
  try {
    for (let i = 0; i < an + ns + ar; i++) {
      const r = skipRecord(buf, pos)
      pos = r.next
      if (r.type === TYPE.OPT && i >= an + ns) {
        if (edns || !r.root) throw new FormatError('bad OPT record', id, opcode)
        edns = {udpSize: r.klass, version: (r.ttl >>> 16) & 0xff, dnssecOk: (r.ttl & 0x8000) !== 0}
      }
    }
  } catch (error) {
    if (error instanceof FormatError) throw new FormatError(error.message, id, opcode)
    throw new FormatError((error as Error).message, id, opcode)
  }
  return {id, opcode, rd: (flags & FLAG_RD) !== 0, labels: q.labels, key: labelsKey(q.labels), qtype, qclass, edns, questionEnd}
}

/** Thrown when a write would pass the size limit; the caller rolls back. */
export class NoRoom extends Error {}

const SCRATCH = Buffer.alloc(65_535)

/**
 * Writes one response into a scratch buffer with a hard size limit. Callers
 * take a mark() before an RRset and rollback() when it did not fit, so no
 * partial RRset is ever sent (RFC 2181 §9).
 */
export class MessageWriter {
  private readonly buf = SCRATCH
  private off = 12
  private limit: number
  /** Compression targets: name key -> offset, plus the order they were added in. */
  private readonly names = new Map<string, number>()
  private readonly added: string[] = []
  readonly counts = [0, 0, 0, 0]

  constructor(limit: number) {
    this.limit = Math.min(limit, SCRATCH.length)
  }

  /** Raise the limit (the room reserved for the OPT record). */
  extend(n: number): void {
    this.limit = Math.min(this.limit + n, SCRATCH.length)
  }

  get length(): number {
    return this.off
  }

  private room(n: number): void {
    if (this.off + n > this.limit) throw new NoRoom()
  }

  private u16(v: number): void {
    this.room(2)
    this.buf.writeUInt16BE(v, this.off)
    this.off += 2
  }

  private u32(v: number): void {
    this.room(4)
    this.buf.writeUInt32BE(v >>> 0, this.off)
    this.off += 4
  }

  private bytes(b: Buffer): void {
    this.room(b.length)
    b.copy(this.buf, this.off)
    this.off += b.length
  }

  private remember(labels: readonly Buffer[], from: number, at: number): void {
    if (at >= 0x4000) return
    const key = labelsKey(labels, from)
    if (!this.names.has(key)) {
      this.names.set(key, at)
      this.added.push(key)
    }
  }

  name(labels: readonly Buffer[], compress: boolean): void {
    for (let i = 0; i < labels.length; i++) {
      if (compress) {
        const at = this.names.get(labelsKey(labels, i))
        if (at !== undefined) {
          this.u16(0xc000 | at)
          return
        }
      }
      const start = this.off
      this.room(1 + labels[i]!.length)
      this.buf[this.off++] = labels[i]!.length
      this.bytes(labels[i]!)
      // Uncompressed names (SRV targets) may still be pointed at by later names.
      this.remember(labels, i, start)
    }
    this.room(1)
    this.buf[this.off++] = 0
  }

  /** The question, echoed byte for byte from the query. */
  question(query: Buffer, q: Query): void {
    this.bytes(query.subarray(12, q.questionEnd))
    let at = 12
    for (let i = 0; i < q.labels.length; i++) {
      this.remember(q.labels, i, at)
      at += 1 + q.labels[i]!.length
    }
    this.counts[0] = 1
  }

  record(r: WireRecord, section: 1 | 2 | 3): void {
    this.name(r.labels, true)
    this.u16(r.type)
    this.u16(CLASS_IN)
    this.u32(r.ttl)
    this.room(2)
    const lenAt = this.off
    this.off += 2
    for (const part of r.rdata) {
      if (Buffer.isBuffer(part)) this.bytes(part)
      else this.name(part.labels, part.compress)
    }
    this.buf.writeUInt16BE(this.off - lenAt - 2, lenAt)
    this.counts[section]!++
  }

  opt(udpSize: number, extendedRcode = 0): void {
    this.room(11)
    this.buf[this.off++] = 0
    this.u16(TYPE.OPT)
    this.u16(udpSize)
    this.u32((extendedRcode & 0xff) << 24)
    this.u16(0)
    this.counts[3]!++
  }

  mark(): {off: number; counts: number[]; added: number} {
    return {off: this.off, counts: [...this.counts], added: this.added.length}
  }

  rollback(m: {off: number; counts: number[]; added: number}): void {
    this.off = m.off
    for (let i = 0; i < 4; i++) this.counts[i] = m.counts[i]!
    while (this.added.length > m.added) this.names.delete(this.added.pop()!)
  }

  finish(id: number, flags: number): Buffer {
    this.buf.writeUInt16BE(id, 0)
    this.buf.writeUInt16BE(flags, 2)
    for (let i = 0; i < 4; i++) this.buf.writeUInt16BE(this.counts[i]!, 4 + 2 * i)
    return Buffer.from(this.buf.subarray(0, this.off))
  }
}
