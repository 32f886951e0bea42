/**
 * Raw DNS exchanges for the `serve` tests: hand-made datagrams (the cases dig
 * cannot send), a header/OPT summary of a reply to compare ours with BIND's,
 * and DNS cookies as dig shows them.
 */
import dgram from 'node:dgram'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import {FrameReader, frame} from '../../src/dns/tcp.js'
import {dig} from './dns.js'

/** Send one datagram from a fresh socket; the reply, or undefined after timeoutMs. */
export function udpExchange(port: number, msg: Buffer, timeoutMs = 10_000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4')
    const timer = setTimeout(() => (socket.close(), resolve(undefined)), timeoutMs)
    socket.on('message', (reply) => {
      clearTimeout(timer)
      socket.close()
      resolve(reply)
    })
    socket.send(msg, port, '127.0.0.1')
  })
}

/** One query over a fresh TCP connection; its first whole reply. */
export function tcpExchange(port: number, query: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host: '127.0.0.1', port})
    const frames = new FrameReader()
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('tcp exchange timed out'))), timeoutMs)
    socket.on('connect', () => socket.write(frame(query)))
    socket.on('data', (d: Buffer) => {
      frames.push(d)
      const reply = frames.next()
      if (reply) (clearTimeout(timer), socket.destroy(), resolve(reply))
    })
    socket.on('error', (error) => (clearTimeout(timer), reject(error)))
  })
}

export interface ReplySummary {
  opcode: number
  rcode: number
  tc: boolean
  counts: number[]
  /** The OPT record of the reply, if any: its DO bit and option codes. */
  opt?: {do: boolean; options: number[]}
}

/** Header fields and the OPT record, read by hand so a malformed reply cannot hide. */
export function summarize(reply: Buffer): ReplySummary {
  const flags = reply.readUInt16BE(2)
  const counts = [4, 6, 8, 10].map((o) => reply.readUInt16BE(o))
  let at = 12
  const skipName = (): void => {
    for (;;) {
      const len = reply[at]!
      if (len === 0) return void at++
      if ((len & 0xc0) === 0xc0) return void (at += 2)
      at += 1 + len
    }
  }
  for (let i = 0; i < counts[0]!; i++) (skipName(), (at += 4))
  let opt: ReplySummary['opt']
  for (let i = 0; i < counts[1]! + counts[2]! + counts[3]!; i++) {
    skipName()
    const type = reply.readUInt16BE(at)
    const ttl = reply.readUInt32BE(at + 4)
    const len = reply.readUInt16BE(at + 8)
    if (type === 41) {
      const options: number[] = []
      for (let o = at + 10; o < at + 10 + len; o += 4 + reply.readUInt16BE(o + 2)) options.push(reply.readUInt16BE(o))
      opt = {do: (ttl & 0x8000) !== 0, options}
    }
    at += 10 + len
  }
  return {opcode: (flags >> 11) & 0xf, rcode: flags & 0xf, tc: (flags & 0x0200) !== 0, counts, ...(opt ? {opt} : {})}
}

/** A query for `example.com A` with the given OPT RDATA (hex), or no OPT when `optRdata` is undefined. */
export function rawQuery(optRdata: string | undefined, opts: {qd?: number; opcode?: number; dnssecOk?: boolean} = {}): Buffer {
  const qd = opts.qd ?? 1
  const header = Buffer.alloc(12)
  header.writeUInt16BE(0x1234, 0)
  header.writeUInt16BE((opts.opcode ?? 0) << 11, 2)
  header.writeUInt16BE(qd, 4)
  header.writeUInt16BE(optRdata === undefined ? 0 : 1, 10)
  const question = Buffer.from('076578616d706c6503636f6d0000010001', 'hex')
  const parts = [header, ...Array<Buffer>(qd).fill(question)]
  if (optRdata !== undefined) {
    const rdata = Buffer.from(optRdata, 'hex')
    const opt = Buffer.alloc(11)
    opt.writeUInt16BE(41, 1)
    opt.writeUInt16BE(1232, 3)
    opt.writeUInt32BE(opts.dnssecOk ? 0x8000 : 0, 5)
    opt.writeUInt16BE(rdata.length, 9)
    parts.push(opt, rdata)
  }
  return Buffer.concat(parts)
}

/** The COOKIE dig printed (client + server cookie, hex), or undefined. */
export function digCookieOf(out: string): string | undefined {
  return /; COOKIE: ([0-9a-f]+)/.exec(out)?.[1]
}

/** A fresh server cookie from `port`: one small query with dig's client cookie. */
export function fetchCookie(port: number): string {
  const cookie = digCookieOf(dig(port, ['+cookie', 'example.com', 'SOA']))
  if (!cookie) throw new Error(`no COOKIE from port ${port}`)
  return cookie
}

/** Resident set size of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) / 1024
}
