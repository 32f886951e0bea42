/**
 * The embedded authoritative server behind `dnssd serve` (DESIGN §6): UDP and
 * TCP on one address and port, answers from the file provider's zones, reloads
 * a zone within a second of its file changing, and never lets a packet —
 * however malformed — take it down.
 */
import dgram from 'node:dgram'
import {type FSWatcher, watch} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import net from 'node:net'
import {isIPv6} from 'node:net'
import {type ZoneFile} from '../core/zonefile.js'
import {FileProvider, zoneFilePath} from '../providers/file.js'
import {type Answer, Authority, type RRset, type Zone, compileZone} from './authority.js'
import {
  CLASS_ANY,
  CLASS_IN,
  FLAG_AA,
  FLAG_QR,
  FLAG_RD,
  FLAG_TC,
  FormatError,
  MessageWriter,
  NoRoom,
  type Query,
  RCODE,
  TYPE,
  parseQuery,
} from './message.js'

/** What we advertise and the most we send over UDP: the DNS flag day 2020 size. */
export const SERVER_UDP_SIZE = 1232
const CACHE_LIMIT = 10_000
const TCP_IDLE_MS = 10_000
const MAX_TCP_CONNECTIONS = 256

export interface ServerOptions {
  address: string
  port: number
  dataDir: string
  /** Only these zones; all `*.zone` files in dataDir when undefined. */
  zones?: string[]
  log: (line: string) => void
  /** How often zone files are checked for changes (a directory watch triggers earlier checks). */
  pollMs?: number
}

interface FileStamp {
  mtimeMs: number
  size: number
  ino: number
}

export class AuthoritativeServer {
  private authority = new Authority([])
  private readonly stamps = new Map<string, string>()
  private readonly compiled = new Map<string, Zone>()
  private readonly cache = new Map<string, Buffer>()
  private udp?: dgram.Socket
  private tcp?: net.Server
  private readonly sockets = new Set<net.Socket>()
  private poller?: NodeJS.Timeout
  private watcher?: FSWatcher
  private checking?: Promise<void>
  private recheck = false
  private readonly provider: FileProvider
  readonly stats = {queries: 0, dropped: 0, formerr: 0, reloads: 0}

  constructor(private readonly options: ServerOptions) {
    this.provider = new FileProvider({deadline: Number.POSITIVE_INFINITY, log: () => {}, dataDir: options.dataDir})
  }

  zones(): Zone[] {
    return this.authority.list()
  }

  /** Load the zones, bind UDP and TCP on the same port (an ephemeral one for port 0), start watching. */
  async start(): Promise<{address: string; port: number}> {
    await this.checkFiles()
    const type = isIPv6(this.options.address) ? 'udp6' : 'udp4'
    let port = this.options.port
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({type})
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject)
        udp.bind(port, this.options.address, () => {
          udp.off('error', reject)
          resolve()
        })
      })
      const bound = udp.address().port
      try {
        this.tcp = await this.listenTcp(bound)
        this.udp = udp
        port = bound
        break
      } catch (error) {
        udp.close()
        // Port 0: the kernel's UDP port may be taken for TCP; try another.
        if (this.options.port !== 0 || attempt >= 20) throw error
      }
    }
    this.udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo))
    this.udp.on('error', (error) => this.options.log(`udp error: ${error.message}`))
    this.poller = setInterval(() => void this.scheduleCheck(), this.options.pollMs ?? 250)
    this.poller.unref()
    try {
      this.watcher = watch(this.options.dataDir, {persistent: false}, () => void this.scheduleCheck())
      this.watcher.on('error', () => undefined)
    } catch {
      // No directory yet: the poll picks the zones up once it exists.
    }
    return {address: this.options.address, port}
  }

  private listenTcp(port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.onConnection(socket))
      server.maxConnections = MAX_TCP_CONNECTIONS
      server.once('error', reject)
      server.listen(port, this.options.address, () => {
        server.off('error', reject)
        server.on('error', (error) => this.options.log(`tcp error: ${error.message}`))
        resolve(server)
      })
    })
  }

  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller)
    this.watcher?.close()
    for (const s of this.sockets) s.destroy()
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve())),
    ])
    await this.checking
  }

  private scheduleCheck(): Promise<void> {
    if (this.checking) {
      this.recheck = true
      return this.checking
    }
    this.checking = (async () => {
      try {
        do {
          this.recheck = false
          await this.checkFiles()
        } while (this.recheck)
      } catch (error) {
        this.options.log(`reload failed: ${(error as Error).message}`)
      } finally {
        this.checking = undefined
      }
    })()
    return this.checking
  }

  private async zoneNames(): Promise<string[]> {
    if (this.options.zones) return this.options.zones
    try {
      const entries = await readdir(this.options.dataDir)
      return entries.filter((e) => e.endsWith('.zone') && e.length > 5).map((e) => e.slice(0, -5).toLowerCase())
    } catch {
      return []
    }
  }

  /** Reload every zone whose file changed (size, mtime or inode: write-file-atomic renames). */
  async checkFiles(): Promise<void> {
    const names = await this.zoneNames()
    let changed = false
    for (const zone of names) {
      let stamp: string | undefined
      try {
        const s: FileStamp = await stat(zoneFilePath(this.options.dataDir, zone))
        stamp = `${s.mtimeMs}/${s.size}/${s.ino}`
      } catch {
        stamp = undefined
      }
      if (stamp === this.stamps.get(zone)) continue
      if (stamp === undefined) {
        this.stamps.delete(zone)
        if (this.compiled.delete(zone)) {
          this.options.log(`${zone}: zone file removed; no longer served`)
          changed = true
        }
        continue
      }
      let file: ZoneFile | undefined
      try {
        file = await this.provider.load(zone)
        if (!file) continue
        const compiled = compileZone(file, this.options.log)
        this.compiled.set(zone, compiled)
        this.stamps.set(zone, stamp)
        changed = true
        this.stats.reloads++
        this.options.log(`${zone}: loaded serial ${compiled.serial}, ${compiled.recordCount} records`)
      } catch (error) {
        // Keep answering from the last good copy; try again when the file changes.
        this.stamps.set(zone, stamp)
        this.options.log(`${zone}: not reloaded, keeping the previous data: ${(error as Error).message}`)
      }
    }
    for (const zone of [...this.compiled.keys()]) {
      if (!names.includes(zone)) {
        this.compiled.delete(zone)
        this.stamps.delete(zone)
        changed = true
      }
    }
    if (changed) {
      this.authority = new Authority(this.compiled.values())
      this.cache.clear()
    }
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let reply: Buffer | undefined
    try {
      reply = this.respond(msg, 'udp')
    } catch (error) {
      this.stats.dropped++
      this.options.log(`dropped a datagram from ${rinfo.address}: ${(error as Error).message}`)
      return
    }
    if (reply) this.udp?.send(reply, rinfo.port, rinfo.address)
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy())
    socket.setNoDelay(true)
    let buf: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0)
        if (len < 12) {
          // Not a DNS message; nothing sensible can follow on this stream.
          this.stats.dropped++
          socket.destroy()
          return
        }
        if (buf.length < 2 + len) break
        const msg = buf.subarray(2, 2 + len)
        buf = buf.subarray(2 + len)
        let reply: Buffer | undefined
        try {
          reply = this.respond(msg, 'tcp')
        } catch (error) {
          this.stats.dropped++
          this.options.log(`dropped a TCP message: ${(error as Error).message}`)
          socket.destroy()
          return
        }
        if (reply) {
          const framed = Buffer.allocUnsafe(2 + reply.length)
          framed.writeUInt16BE(reply.length, 0)
          reply.copy(framed, 2)
          socket.write(framed)
        }
      }
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.sockets.delete(socket))
  }

  /** One query in, one response out (or undefined: drop). Public for tests and the fuzzer. */
  respond(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    this.stats.queries++
    // Everything after the id determines the response (for the current zone
    // data), so a repeated query skips parsing: copy and patch the id.
    const rawKey = msg.length >= 12 && msg.length <= 512 ? `${transport}|${msg.toString('latin1', 2)}` : undefined
    const hit = rawKey === undefined ? undefined : this.cache.get(rawKey)
    if (hit) {
      const out = Buffer.allocUnsafe(hit.length)
      hit.copy(out)
      out.writeUInt16BE(msg.readUInt16BE(0), 0)
      return out
    }
    const reply = this.respondUncached(msg, transport)
    if (reply && rawKey !== undefined) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
      this.cache.set(rawKey, reply)
    }
    return reply
  }

  private respondUncached(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    let q: Query | undefined
    try {
      q = parseQuery(msg)
    } catch (error) {
      if (!(error instanceof FormatError) || error.id === undefined) throw error
      this.stats.formerr++
      const w = new MessageWriter(512)
      return w.finish(error.id, FLAG_QR | ((error.opcode ?? 0) << 11) | RCODE.FORMERR)
    }
    if (!q) {
      this.stats.dropped++
      return undefined
    }
    const limit = transport === 'tcp' ? 65_535 : q.edns ? Math.min(Math.max(512, q.edns.udpSize), SERVER_UDP_SIZE) : 512
    return this.build(msg, q, limit)
  }

  private build(msg: Buffer, q: Query, limit: number): Buffer {
    const rd = q.rd ? FLAG_RD : 0
    const opcodeBits = q.opcode << 11
    const optRoom = q.edns ? 11 : 0
    const writer = (): MessageWriter => {
      const w = new MessageWriter(limit - optRoom)
      w.question(msg, q)
      return w
    }
    const finish = (w: MessageWriter, flags: number, extendedRcode = 0): Buffer => {
      if (q.edns) {
        w.extend(optRoom)
        w.opt(SERVER_UDP_SIZE, extendedRcode)
      }
      return w.finish(q.id, FLAG_QR | opcodeBits | rd | flags)
    }
    if (q.opcode !== 0) return finish(writer(), RCODE.NOTIMP)
    // RFC 6891 §6.1.3: only version 0; BADVERS is extended RCODE 16 = 1 << 4 in the OPT.
    if (q.edns && q.edns.version > 0) return finish(writer(), 0, 1)
    if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return finish(writer(), RCODE.REFUSED)
    if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR || q.qtype === TYPE.OPT) return finish(writer(), q.qtype === TYPE.OPT ? RCODE.FORMERR : RCODE.REFUSED)
    const a: Answer = this.authority.answer(q)
    const w = writer()
    try {
      writeSets(w, a.answer, 1)
      writeSets(w, a.authority, 2)
    } catch (error) {
      if (!(error instanceof NoRoom)) throw error
      // No partial RRsets (RFC 2181 §9): header, question and TC; the client retries over TCP.
      return finish(writer(), (a.aa ? FLAG_AA : 0) | FLAG_TC | a.rcode)
    }
    for (const set of a.additional) {
      const m = w.mark()
      try {
        writeSets(w, [set], 3)
      } catch (error) {
        if (!(error instanceof NoRoom)) throw error
        w.rollback(m)
      }
    }
    return finish(w, (a.aa ? FLAG_AA : 0) | a.rcode)
  }
}

function writeSets(w: MessageWriter, sets: readonly RRset[], section: 1 | 2 | 3): void {
  for (const s of sets) for (const r of s.records) w.record(r, section)
}

