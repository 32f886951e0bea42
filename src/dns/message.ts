/**
 * The server's side of the wire: a strict query parser and a response
 * writer WITH name compression (RFC 1035 §4.1.4). dns-packet writes every
 * name in full (mafintosh/dns-packet#55), which made a 30-instance PTR answer
 * about three times larger than BIND's; this writer compresses owner names
 * and the names inside NS, CNAME, PTR, MX and SOA data (RFC 3597 §4 lists
 * the types whose data may be compressed; SRV targets must not be, RFC 2782).
 * The parser checks the whole query, the OPT record's options included (RFC
 * 6891 §7), so FORMERR and NOTIMP are told apart the way BIND tells them.
 */
import {labelsKey, readName} from './names.js'

export const TYPE = {A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255} as const
/** Type mnemonics by number (zone transfers and updates name the types they carry). */
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
  /** RFC 7873 COOKIE option: the client cookie (8 octets) and the server cookie it sent back (8-32), if any. */
  cookie?: {client: Buffer; server?: Buffer}
}

export interface Query {
  kind: 'query'
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

/**
 * A message that gets a reply without records: FORMERR, NOTIMP, or NOERROR
 * to a query for a server cookie alone (no question, a COOKIE option; RFC
 * 7873 §5.4). With what of it could be read: the question to echo (when
 * there was exactly one and it parsed) and the OPT record (when the query had
 * a valid one, so the reply carries an OPT too; RFC 6891 §7).
 */
export interface BareReply {
  kind: 'bare'
  id: number
  opcode: number
  rd: boolean
  rcode: number
  reason: string
  questionEnd?: number
  labels?: Buffer[]
  edns?: Edns
}

export const OPTION_COOKIE = 10

/**
 * The OPT record's data: every option must lie inside it (RFC 6891 §6.1.2,
 * §7), else it throws (FORMERR, no OPT in the reply). A COOKIE option of the
 * wrong size (RFC 7873 §5.2.2) leaves the OPT itself sound: FORMERR with an
 * OPT, returned as `cookieError`.
 */
function parseOpt(klass: number, ttl: number, rdata: Buffer): {edns: Edns; cookieError?: string} {
  const edns: Edns = {udpSize: klass, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0}
  let at = 0
  let cookieError: string | undefined
  while (at < rdata.length) {
    if (at + 4 > rdata.length) throw new Error('an EDNS option header runs past the OPT data')
    const code = rdata.readUInt16BE(at)
    const len = rdata.readUInt16BE(at + 2)
    if (at + 4 + len > rdata.length) throw new Error(`EDNS option ${code} claims ${len} octets; the OPT data has ${rdata.length - at - 4} left`)
    if (code === OPTION_COOKIE && !edns.cookie && cookieError === undefined) {
      if (len === 8) edns.cookie = {client: rdata.subarray(at + 4, at + 12)}
      else if (len >= 16 && len <= 40) edns.cookie = {client: rdata.subarray(at + 4, at + 12), server: rdata.subarray(at + 12, at + 4 + len)}
      else cookieError = `a COOKIE option of ${len} octets (RFC 7873: 8, or 16 to 40)`
    }
    at += 4 + len
  }
  return {edns, cookieError}
}

/** One resource record at `offset`: owner, header fields, where its data lies, and where the next record starts. */
export function readRecord(buf: Buffer, offset: number): {labels: Buffer[]; type: number; klass: number; ttl: number; rdataAt: number; rdata: Buffer; next: number} {
  const {labels, next} = readName(buf, offset)
  if (next + 10 > buf.length) throw new Error('record header runs past the end')
  const type = buf.readUInt16BE(next)
  const klass = buf.readUInt16BE(next + 2)
  const ttl = buf.readUInt32BE(next + 4)
  const len = buf.readUInt16BE(next + 8)
  if (next + 10 + len > buf.length) throw new Error('record data runs past the end')
  return {labels, type, klass, ttl, rdataAt: next + 10, rdata: buf.subarray(next + 10, next + 10 + len), next: next + 10 + len}
}

/**
 * Parse a query. Returns undefined for messages that must be dropped
 * silently (too short for a header, or a response), a BareReply for one that
 * gets FORMERR or NOTIMP, else the Query. Never throws.
 */
export function parseQuery(buf: Buffer): Query | BareReply | undefined {
  if (buf.length < 12) return undefined
  const id = buf.readUInt16BE(0)
  const flags = buf.readUInt16BE(2)
  if (flags & FLAG_QR) return undefined
  const opcode = (flags >> 11) & 0xf
  const rd = (flags & FLAG_RD) !== 0
  const qd = buf.readUInt16BE(4)
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8)
  const ar = buf.readUInt16BE(10)
  let problem: string | undefined
  let question: {labels: Buffer[]; qtype: number; qclass: number; end: number} | undefined
  let pos = 12
  for (let i = 0; i < qd && problem === undefined; i++) {
    try {
      const q = readName(buf, pos)
      if (q.next + 4 > buf.length) throw new Error('question runs past the end')
      if (qd === 1) question = {labels: q.labels, qtype: buf.readUInt16BE(q.next), qclass: buf.readUInt16BE(q.next + 2), end: q.next + 4}
      pos = q.next + 4
    } catch (error) {
      problem = (error as Error).message
    }
  }
  let edns: Edns | undefined
  let optProblem: string | undefined
  for (let i = 0; i < records + ar && problem === undefined; i++) {
    try {
      const r = readRecord(buf, pos)
      pos = r.next
      if (r.type !== TYPE.OPT || i < records) continue
      if (edns) throw new Error('more than one OPT record (RFC 6891 §6.1.1)')
      if (r.labels.length !== 0) throw new Error('an OPT record not owned by the root')
      const opt = parseOpt(r.klass, r.ttl, r.rdata)
      edns = opt.edns
      optProblem = opt.cookieError
    } catch (error) {
      problem = (error as Error).message
      edns = undefined
    }
  }
  const echo = question ? {questionEnd: question.end, labels: question.labels} : {}
  const bare = (rcode: number, reason: string): BareReply => ({kind: 'bare', id, opcode, rd, rcode, reason, ...echo, edns})
  // Only QUERY is implemented: NOTIMP whatever the sections hold (RFC 1035 §4.1.1).
  if (opcode !== 0) return bare(RCODE.NOTIMP, `opcode ${opcode} is not implemented`)
  if (problem !== undefined) return bare(RCODE.FORMERR, problem)
  if (optProblem !== undefined) return bare(RCODE.FORMERR, optProblem)
  if (qd === 0 && edns?.cookie) return bare(RCODE.NOERROR, 'a query for a server cookie')
  if (qd !== 1 || !question) return bare(RCODE.FORMERR, `expected one question, got ${qd}`)
  return {kind: 'query', id, opcode, rd, labels: question.labels, key: labelsKey(question.labels), qtype: question.qtype, qclass: question.qclass, edns, questionEnd: question.end}
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
  question(query: Buffer, q: {questionEnd: number; labels: readonly Buffer[]}): void {
    this.bytes(query.subarray(12, q.questionEnd))
    let at = 12
    for (let i = 0; i < q.labels.length; i++) {
      this.remember(q.labels, i, at)
      at += 1 + q.labels[i]!.length
    }
    this.counts[0] = 1
  }

  /** Write one record; returns where its data starts (round-robin rotation patches it there). */
  record(r: WireRecord, section: 1 | 2 | 3): number {
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
    return lenAt + 2
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

/**
 * The reply's OPT record (RFC 6891 §6.1.2): our UDP size, the upper bits of
 * an extended RCODE, version 0, the DO bit copied from the query (RFC 3225
 * §3), and the options given (the COOKIE, RFC 7873).
 */
export function optRecord(udpSize: number, extendedRcode: number, dnssecOk: boolean, options: readonly {code: number; data: Buffer}[] = []): Buffer {
  const rdlen = options.reduce((n, o) => n + 4 + o.data.length, 0)
  const out = Buffer.alloc(11 + rdlen)
  out.writeUInt16BE(TYPE.OPT, 1)
  out.writeUInt16BE(udpSize, 3)
  out.writeUInt32BE((((extendedRcode & 0xff) << 24) | (dnssecOk ? 0x8000 : 0)) >>> 0, 5)
  out.writeUInt16BE(rdlen, 9)
  let at = 11
  for (const o of options) {
    out.writeUInt16BE(o.code, at)
    out.writeUInt16BE(o.data.length, at + 2)
    o.data.copy(out, at + 4)
    at += 4 + o.data.length
  }
  return out
}
