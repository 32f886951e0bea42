/**
 * The wire side of the rfc2136 provider: UPDATE messages (RFC 2136 §2) with
 * their prerequisites, AXFR queries (RFC 5936), the records of a transfer
 * turned back into dnssd's canonical values, and one TCP connection that
 * carries a transfer and then the update (RFC 1035 §4.2.2 framing).
 *
 * Written by hand rather than through dns-packet: prerequisites need class
 * NONE/ANY records with empty data, which dns-packet cannot encode, and TSIG
 * needs the exact bytes sent.
 */
import net from 'node:net'
import {formatTxt} from '../core/txt.js'
import {typeNumber as knownTypeNumber, rdataOf} from './authority.js'
import {CLASS_IN, TYPE, TYPE_NAMES, readRecord} from './message.js'
import {labelsToName, nameToLabels, readName} from './names.js'

export const OPCODE_UPDATE = 5
export const CLASS_NONE = 254

/** RCODEs of RFC 1035 and RFC 2136 §2.2, and the TSIG ones of RFC 8945. */
export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
}

export function typeNumber(type: string): number {
  const n = knownTypeNumber(type)
  if (n === undefined) throw new Error(`record type ${type} cannot be sent`)
  return n
}

const typeName = (n: number): string => TYPE_NAMES[n] ?? `TYPE${n}`

export function nameWire(name: string): Buffer {
  const parts: Buffer[] = []
  for (const l of nameToLabels(name)) parts.push(Buffer.from([l.length]), l)
  parts.push(Buffer.from([0]))
  return Buffer.concat(parts)
}

/** A canonical value -> its record data (names uncompressed). */
export function valueToRdata(type: string, value: string): Buffer {
  const compiled = rdataOf(type, value)
  if (!compiled) throw new Error(`cannot encode ${type} "${value}"`)
  return Buffer.concat(compiled.parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.concat([...p.labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]))))
}

function record(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(10)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(klass, 2)
  head.writeUInt32BE(ttl >>> 0, 4)
  head.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([nameWire(name), head, rdata])
}

export type Prerequisite =
  /** RFC 2136 §2.4.2: the RRset exists with exactly these values. */
  | {kind: 'rrset-equals'; name: string; type: string; values: readonly string[]}
  /** §2.4.3: no RRset of this type at the name. */
  | {kind: 'rrset-absent'; name: string; type: string}

export type UpdateOp = {kind: 'add'; name: string; type: string; ttl: number; value: string} | {kind: 'delete'; name: string; type: string; value: string}

export function encodeUpdate(zone: string, id: number, prerequisites: readonly Prerequisite[], updates: readonly UpdateOp[]): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id, 0)
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2)
  const pre: Buffer[] = []
  for (const p of prerequisites) {
    if (p.kind === 'rrset-absent') pre.push(record(p.name, typeNumber(p.type), CLASS_NONE, 0, Buffer.alloc(0)))
    else for (const v of p.values) pre.push(record(p.name, typeNumber(p.type), CLASS_IN, 0, valueToRdata(p.type, v)))
  }
  const up: Buffer[] = []
  for (const u of updates) {
    if (u.kind === 'add') up.push(record(u.name, typeNumber(u.type), CLASS_IN, u.ttl, valueToRdata(u.type, u.value)))
    else up.push(record(u.name, typeNumber(u.type), CLASS_NONE, 0, valueToRdata(u.type, u.value)))
  }
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(pre.length, 6)
  header.writeUInt16BE(up.length, 8)
  const zoneQ = Buffer.concat([nameWire(zone), Buffer.from([0, TYPE.SOA, 0, CLASS_IN])])
  return Buffer.concat([header, zoneQ, ...pre, ...up])
}

/** A query for `type` (AXFR, SOA, ...) at `name`, opcode 0, no recursion. */
export function encodePlainQuery(name: string, type: number, id: number, opcode = 0): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id, 0)
  header.writeUInt16BE(opcode << 11, 2)
  header.writeUInt16BE(1, 4)
  const q = Buffer.alloc(4)
  q.writeUInt16BE(type, 0)
  q.writeUInt16BE(CLASS_IN, 2)
  return Buffer.concat([header, nameWire(name), q])
}

export interface ParsedRecord {
  /** Lower-case, no trailing dot. */
  name: string
  type: string
  klass: number
  ttl: number
  /** Canonical value (as the zone file parser writes it). */
  value: string
}

export interface ParsedMessage {
  id: number
  qr: boolean
  opcode: number
  rcode: number
  aa: boolean
  question?: {name: string; type: number}
  answers: ParsedRecord[]
}

const lowerName = (labels: readonly Buffer[]): string => labelsToName(labels).toLowerCase()
const nameValue = (labels: readonly Buffer[]): string => (labels.length === 0 ? '.' : `${lowerName(labels)}.`)

function ipv6Text(b: Buffer): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16))
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}

/** Record data -> canonical value; RFC 3597 `\# len hex` for types dnssd does not model. */
function rdataValue(msg: Buffer, type: number, start: number, len: number): string {
  const rd = msg.subarray(start, start + len)
  const generic = (): string => `\\# ${len}${len > 0 ? ` ${rd.toString('hex')}` : ''}`
  try {
    switch (type) {
      case TYPE.A:
        return len === 4 ? [...rd].join('.') : generic()
      case TYPE.AAAA:
        return len === 16 ? ipv6Text(rd) : generic()
      case TYPE.NS:
      case TYPE.CNAME:
      case TYPE.PTR:
      case TYPE.DNAME:
        return nameValue(readName(msg, start).labels)
      case TYPE.MX:
        return `${rd.readUInt16BE(0)} ${nameValue(readName(msg, start + 2).labels)}`
      case TYPE.SRV:
        return `${rd.readUInt16BE(0)} ${rd.readUInt16BE(2)} ${rd.readUInt16BE(4)} ${nameValue(readName(msg, start + 6).labels)}`
      case TYPE.TXT: {
        const strings: Buffer[] = []
        let at = 0
        while (at < len) {
          const n = rd[at]!
          if (at + 1 + n > len) return generic()
          strings.push(rd.subarray(at + 1, at + 1 + n))
          at += 1 + n
        }
        return formatTxt(strings)
      }
      case TYPE.SOA: {
        const m = readName(msg, start)
        const r = readName(msg, m.next)
        const nums = [0, 4, 8, 12, 16].map((o) => msg.readUInt32BE(r.next + o))
        return `${nameValue(m.labels)} ${nameValue(r.labels)} ${nums.join(' ')}`
      }
      default:
        return generic()
    }
  } catch {
    return generic()
  }
}

/** Parse a response's header, question and answer section. Throws on a malformed message. */
export function parseMessage(msg: Buffer): ParsedMessage {
  if (msg.length < 12) throw new Error('shorter than a DNS header')
  const flags = msg.readUInt16BE(2)
  const qd = msg.readUInt16BE(4)
  const an = msg.readUInt16BE(6)
  let pos = 12
  let question: ParsedMessage['question']
  for (let i = 0; i < qd; i++) {
    const q = readName(msg, pos)
    if (q.next + 4 > msg.length) throw new Error('question runs past the end')
    if (i === 0) question = {name: lowerName(q.labels), type: msg.readUInt16BE(q.next)}
    pos = q.next + 4
  }
  const answers: ParsedRecord[] = []
  for (let i = 0; i < an; i++) {
    const r = readRecord(msg, pos)
    answers.push({name: lowerName(r.labels), type: typeName(r.type), klass: r.klass, ttl: r.ttl, value: rdataValue(msg, r.type, r.rdataAt, r.rdata.length)})
    pos = r.next
  }
  return {id: msg.readUInt16BE(0), qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rcode: flags & 0xf, aa: (flags & 0x0400) !== 0, question, answers}
}

export class ConnectionClosed extends Error {}
export class ExchangeTimeout extends Error {}

/**
 * One TCP connection to a DNS server: send framed messages, receive framed
 * messages in order. Every wait is bounded by the caller's deadline.
 */
export class TcpChannel {
  private buf: Buffer = Buffer.alloc(0)
  private readonly queue: Buffer[] = []
  private waiter?: {resolve: (m: Buffer) => void; reject: (e: Error) => void}
  private failure?: Error

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0)
        this.push(Buffer.from(this.buf.subarray(2, 2 + len)))
        this.buf = this.buf.subarray(2 + len)
      }
    })
    socket.on('error', (error) => this.fail(error))
    socket.on('close', () => this.fail(new ConnectionClosed('the server closed the connection')))
  }

  static connect(host: string, port: number, deadline: number): Promise<TcpChannel> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({host, port})
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new ExchangeTimeout(`no TCP connection to ${host}:${port} before the deadline`))
      }, Math.max(1, deadline - Date.now()))
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        socket.setNoDelay(true)
        resolve(new TcpChannel(socket))
      })
      socket.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  private push(message: Buffer): void {
    if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve(message)
    } else this.queue.push(message)
  }

  private fail(error: Error): void {
    if (this.failure) return
    this.failure = error
    if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      w.reject(error)
    }
  }

  send(message: Buffer): void {
    if (this.failure) throw this.failure
    const framed = Buffer.alloc(2 + message.length)
    framed.writeUInt16BE(message.length, 0)
    message.copy(framed, 2)
    this.socket.write(framed)
  }

  receive(deadline: number): Promise<Buffer> {
    const queued = this.queue.shift()
    if (queued) return Promise.resolve(queued)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        reject(new ExchangeTimeout('no answer before the deadline'))
      }, Math.max(1, deadline - Date.now()))
      this.waiter = {
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
    })
  }

  close(): void {
    this.socket.destroy()
  }
}
