/**
 * The embedded authoritative server behind `dnssd serve` (DESIGN §6): UDP and
 * TCP on one address and port, answers from the file provider's zones, reloads
 * a zone within a second of its file changing, and never lets a packet —
 * however malformed — take it down. Exposed on a public address it is no
 * reflector worth using: UDP answers to clients without a valid DNS cookie
 * are size-bounded and rate-limited per client prefix (guard.ts), and TCP
 * clients cannot make it buffer without bound or hold all its connections.
 */
import dgram from 'node:dgram'
import {type FSWatcher, watch} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import net from 'node:net'
import {isIPv6} from 'node:net'
import {Deadline} from '../core/deadline.js'
import {type ZoneFile} from '../core/zonefile.js'
import {FileProvider, zoneFilePath} from '../providers/file.js'
import {type Answer, Authority, type RRset, type Zone, compileZone} from './authority.js'
import {CookieJar, RateLimiter} from './guard.js'
import {SERVE_DEFAULTS} from './limits.js'
import {FrameReader, frame} from './tcp.js'
import {type Server} from './server-address.js'
import {Notifier, type TransferPolicy, checkSigned, emptyPolicy, transferReplies, tsigErrorReply} from './transfer.js'
import {signMessage} from './tsig.js'
import {
  type BareReply,
  CLASS_ANY,
  CLASS_IN,
  FLAG_AA,
  FLAG_QR,
  FLAG_RD,
  FLAG_TC,
  MessageWriter,
  NoRoom,
  OPTION_COOKIE,
  type Query,
  RCODE,
  TYPE,
  optRecord,
  parseQuery,
} from './message.js'

/** What we advertise and the most we send over UDP: the DNS flag day 2020 size. */
export const SERVER_UDP_SIZE = 1232
const CACHE_LIMIT = 10_000

export interface ServerOptions {
  address: string
  port: number
  dataDir: string
  /** Only these zones; all `*.zone` files in dataDir when undefined. */
  zones?: string[]
  log: (line: string) => void
  /** How often zone files are checked for changes (a directory watch triggers earlier checks). */
  pollMs?: number
  /** Secret for server cookies (16 octets); a random one when undefined. */
  cookieSecret?: Buffer
  /** UDP responses per second per client prefix without a valid cookie; 0 turns the limit off. */
  rateLimit?: number
  /** Largest UDP response to a client without a valid server cookie (512-1232); larger answers go out TC=1. */
  udpSizeWithoutCookie?: number
  /** Open TCP connections at most; a new one closes the longest-idle one when full. */
  tcpClients?: number
  /** A TCP connection that sends no complete query for this long is closed. */
  tcpIdleMs?: number
  /** Who may transfer the zones (AXFR/IXFR over TCP); nobody when undefined. */
  transfer?: TransferPolicy
  /** Secondaries sent a NOTIFY whenever a zone's data changes. */
  notify?: Server[]
}

/** A response without its OPT, as built once for a question and reused; `rotations`: where round-robin sets sit. */
interface Body {
  bytes: Buffer
  rotations: {set: RRset; at: number[]}[]
}

interface Connection {
  socket: net.Socket
  /** When the last complete query arrived (or the connection opened). */
  active: number
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
  private readonly cache = new Map<string, Body>()
  private readonly turns = new WeakMap<RRset, number>()
  private readonly cookies: CookieJar
  private readonly limiter?: RateLimiter
  private readonly udpSizeWithoutCookie: number
  private readonly tcpClients: number
  private readonly tcpIdleMs: number
  private udp?: dgram.Socket
  private tcp?: net.Server
  private readonly connections = new Set<Connection>()
  private sweeper?: NodeJS.Timeout
  private poller?: NodeJS.Timeout
  private watcher?: FSWatcher
  private checking?: Promise<void>
  private recheck = false
  private readonly provider: FileProvider
  private readonly policy: TransferPolicy
  private readonly notifier?: Notifier
  readonly stats = {queries: 0}

  constructor(private readonly options: ServerOptions) {
    this.provider = new FileProvider({deadline: Deadline.never(), log: () => {}, settings: {dataDir: options.dataDir}})
    this.cookies = new CookieJar(options.cookieSecret ?? CookieJar.generateSecret())
    const rate = options.rateLimit ?? SERVE_DEFAULTS.rateLimit
    if (rate > 0) this.limiter = new RateLimiter(rate)
    this.udpSizeWithoutCookie = Math.min(Math.max(512, options.udpSizeWithoutCookie ?? SERVE_DEFAULTS.udpSizeWithoutCookie), SERVER_UDP_SIZE)
    this.tcpClients = options.tcpClients ?? SERVE_DEFAULTS.tcpClients
    this.tcpIdleMs = options.tcpIdleMs ?? SERVE_DEFAULTS.tcpIdleMs
    this.policy = options.transfer ?? emptyPolicy()
    if (options.notify && options.notify.length > 0) this.notifier = new Notifier(options.notify, options.log)
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
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(100, Math.min(1000, this.tcpIdleMs / 4)))
    this.sweeper.unref()
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
    if (this.sweeper) clearInterval(this.sweeper)
    this.watcher?.close()
    this.notifier?.close()
    for (const c of this.connections) c.socket.destroy()
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

  /** Reload every zone whose file changed (size, mtime or inode: every write renames a new file into place). */
  async checkFiles(): Promise<void> {
    const names = await this.zoneNames()
    let changed = false
    const reloaded: Zone[] = []
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
        const previous = this.compiled.get(zone)
        if (previous) keepSerialIncreasing(compiled, previous.serial, this.options.log)
        this.compiled.set(zone, compiled)
        reloaded.push(compiled)
        this.stamps.set(zone, stamp)
        changed = true
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
    for (const z of reloaded) this.notifier?.notify(z.origin, z.serial)
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let reply: Buffer | undefined
    try {
      reply = this.respond(msg, 'udp', rinfo.address)
    } catch (error) {
      this.options.log(`dropped a datagram from ${rinfo.address}: ${(error as Error).message}`)
      return
    }
    if (reply) this.udp?.send(reply, rinfo.port, rinfo.address)
  }

  /**
   * One TCP client (RFC 7766): queries are answered in order while the
   * socket's write buffer is below its high-water mark; above it the server
   * stops reading from the client until the buffer drains, so a client that
   * never reads holds at most one buffer of answers, and then nothing reads
   * its queries. A connection without a complete query for tcpIdleMs is
   * closed; when tcpClients are open, a new one closes the longest-idle.
   */
  private onConnection(socket: net.Socket): void {
    if (this.connections.size >= this.tcpClients) {
      let oldest: Connection | undefined
      for (const c of this.connections) if (!oldest || c.active < oldest.active) oldest = c
      if (oldest) {
        this.connections.delete(oldest)
        oldest.socket.destroy()
      }
    }
    const conn: Connection = {socket, active: performance.now()}
    this.connections.add(conn)
    socket.setNoDelay(true)
    const frames = new FrameReader()
    let blocked = false
    const pump = (): void => {
      while (!blocked && !socket.destroyed) {
        const len = frames.nextLength()
        if (len === undefined) return
        if (len < 12) {
          // Not a DNS message; nothing sensible can follow on this stream.
          socket.destroy()
          return
        }
        const msg = frames.next()
        if (!msg) return
        conn.active = performance.now()
        let replies: Buffer[]
        try {
          replies = this.transfer(msg, socket.remoteAddress) ?? [this.respond(msg, 'tcp', socket.remoteAddress)].filter((r) => r !== undefined)
        } catch (error) {
          this.options.log(`dropped a TCP message: ${(error as Error).message}`)
          socket.destroy()
          return
        }
        for (const reply of replies) {
          if (!socket.write(frame(reply))) {
            blocked = true
            socket.pause()
          }
        }
      }
    }
    socket.on('data', (chunk: Buffer) => {
      frames.push(chunk)
      pump()
    })
    socket.on('drain', () => {
      if (!blocked) return
      blocked = false
      pump()
      if (!blocked) socket.resume()
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.connections.delete(conn))
  }

  private closeIdle(): void {
    const before = performance.now() - this.tcpIdleMs
    for (const c of this.connections) {
      if (c.active < before) {
        this.connections.delete(c)
        c.socket.destroy()
      }
    }
  }

  /**
   * One query in, one response out (or undefined: drop). `client` is the
   * sender's address (cookies and rate limiting need it; in-process callers
   * may leave it out). Public for tests and the fuzzer.
   */
  respond(msg: Buffer, transport: 'udp' | 'tcp', client?: string): Buffer | undefined {
    if (this.policy.keys.length === 0) return this.answer(msg, transport, client)
    // A signed query (a secondary checking the SOA) gets a signed answer, or NOTAUTH when its TSIG fails.
    const signed = checkSigned(msg, this.policy.keys)
    if (signed.kind === 'unsigned') return this.answer(msg, transport, client)
    if (signed.kind === 'bad') {
      this.stats.queries++
      const p = parseQuery(msg)
      if (!p || p.kind !== 'query') return undefined
      this.options.log(`NOTAUTH to a query from ${client ?? 'unknown'}: TSIG ${signed.detail}`)
      return tsigErrorReply(msg, p, signed.error, signed.keyName, signed.algorithm)
    }
    const reply = this.answer(msg, transport, client)
    return reply && signMessage(reply, signed.key, {requestMac: signed.mac}).signed
  }

  /** An AXFR or IXFR query: the transfer's messages (or its refusal); undefined for any other message. */
  private transfer(msg: Buffer, client: string | undefined): Buffer[] | undefined {
    if (msg.length < 12) return undefined
    const p = parseQuery(msg)
    if (!p || p.kind !== 'query' || (p.qtype !== TYPE.AXFR && p.qtype !== TYPE.IXFR)) return undefined
    this.stats.queries++
    const zone = [...this.compiled.values()].find((z) => z.key === p.key)
    return transferReplies(msg, p, zone, this.policy, client, this.options.log)
  }

  private answer(msg: Buffer, transport: 'udp' | 'tcp', client?: string): Buffer | undefined {
    this.stats.queries++
    const p = parseQuery(msg)
    if (!p) return undefined
    const cookie = p.edns?.cookie && client !== undefined ? this.cookies.check(p.edns.cookie, client) : undefined
    // A valid server cookie proves the client's address (RFC 7873 §1), as does TCP.
    const proven = transport === 'tcp' || cookie?.valid === true
    let slip = false
    if (!proven && this.limiter && client !== undefined) {
      const decision = this.limiter.take(client)
      if (decision !== 'send') {
        if (decision === 'drop') return undefined
        slip = true
      }
    }
    const opt = p.edns ? (extendedRcode = 0): Buffer => optRecord(SERVER_UDP_SIZE, extendedRcode, p.edns!.dnssecOk, cookie ? [{code: OPTION_COOKIE, data: cookie.reply}] : []) : undefined
    if (p.kind === 'bare') return this.bare(msg, p, opt?.())
    // RFC 6891 §6.1.3: only version 0; BADVERS is extended RCODE 16 = 1 << 4 in the OPT.
    if (p.edns && p.edns.version > 0) return this.headerOnly(msg, p, 0, opt!(1))
    if (slip) return this.headerOnly(msg, p, FLAG_TC, opt?.())
    let limit = transport === 'tcp' ? 65_535 : p.edns ? Math.min(Math.max(512, p.edns.udpSize), SERVER_UDP_SIZE) : 512
    if (!proven) limit = Math.min(limit, this.udpSizeWithoutCookie)
    const optBytes = opt?.()
    const room = limit - (optBytes?.length ?? 0)
    // Everything but the id and the OPT follows from the question, RD and the room (for the current zone data).
    const key = `${room}|${p.rd ? 1 : 0}|${msg.toString('latin1', 12, p.questionEnd)}`
    let body = this.cache.get(key)
    if (!body) {
      body = this.build(msg, p, room)
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
      this.cache.set(key, body)
    }
    return this.assemble(body, p.id, optBytes)
  }

  /** The cached body with this query's id, the round-robin sets turned one step, and the OPT appended. */
  private assemble(body: Body, id: number, opt: Buffer | undefined): Buffer {
    const out = Buffer.allocUnsafe(body.bytes.length + (opt?.length ?? 0))
    body.bytes.copy(out)
    out.writeUInt16BE(id, 0)
    for (const {set, at} of body.rotations) {
      const turn = this.turns.get(set) ?? 0
      this.turns.set(set, (turn + 1) % set.records.length)
      // Every record of an A or AAAA set has data of one size, so turning the set is moving the data.
      for (let i = 0; i < at.length; i++) (set.records[(i + turn) % set.records.length]!.rdata[0] as Buffer).copy(out, at[i]!)
    }
    if (opt) {
      opt.copy(out, body.bytes.length)
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10)
    }
    return out
  }

  /** FORMERR, NOTIMP, or a server cookie alone: the question when there was one to echo, an OPT when the query had a valid one. */
  private bare(msg: Buffer, p: BareReply, opt: Buffer | undefined): Buffer {
    const w = new MessageWriter(65_535)
    if (p.questionEnd !== undefined && p.labels) w.question(msg, {questionEnd: p.questionEnd, labels: p.labels})
    return this.assemble({bytes: w.finish(p.id, FLAG_QR | (p.opcode << 11) | (p.rd ? FLAG_RD : 0) | p.rcode), rotations: []}, p.id, opt)
  }

  /** Header and question only: BADVERS, or a rate-limited client's TC=1 "slip" reply. */
  private headerOnly(msg: Buffer, q: Query, flags: number, opt: Buffer | undefined): Buffer {
    const w = new MessageWriter(65_535)
    w.question(msg, q)
    return this.assemble({bytes: w.finish(q.id, FLAG_QR | (q.rd ? FLAG_RD : 0) | flags), rotations: []}, q.id, opt)
  }

  private build(msg: Buffer, q: Query, room: number): Body {
    const rd = q.rd ? FLAG_RD : 0
    const rotations: Body['rotations'] = []
    const writer = (): MessageWriter => {
      const w = new MessageWriter(room)
      w.question(msg, q)
      return w
    }
    const finish = (w: MessageWriter, flags: number): Body => ({bytes: w.finish(0, FLAG_QR | rd | flags), rotations})
    if (q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) return finish(writer(), RCODE.REFUSED)
    if (q.qtype === TYPE.AXFR || q.qtype === TYPE.IXFR || q.qtype === TYPE.OPT) return finish(writer(), q.qtype === TYPE.OPT ? RCODE.FORMERR : RCODE.REFUSED)
    const a: Answer = this.authority.answer(q)
    const w = writer()
    const written = new Set<RRset>()
    const put = (set: RRset, section: 1 | 2 | 3): void => {
      const at = set.records.map((r) => w.record(r, section))
      written.add(set)
      if ((set.type === TYPE.A || set.type === TYPE.AAAA) && at.length > 1) rotations.push({set, at})
    }
    try {
      for (const s of a.answer) put(s, 1)
      for (const s of a.authority) put(s, 2)
    } catch (error) {
      if (!(error instanceof NoRoom)) throw error
      // No partial RRsets (RFC 2181 §9): header, question and TC; the client retries over TCP.
      rotations.length = 0
      return finish(writer(), (a.aa ? FLAG_AA : 0) | FLAG_TC | a.rcode)
    }
    for (const {set, after} of a.additional) {
      if (written.has(set) || (after && !written.has(after))) continue
      const m = w.mark()
      const turning = rotations.length
      try {
        put(set, 3)
      } catch (error) {
        if (!(error instanceof NoRoom)) throw error
        w.rollback(m)
        written.delete(set)
        rotations.length = turning
      }
    }
    return finish(w, (a.aa ? FLAG_AA : 0) | a.rcode)
  }
}

/**
 * Secondaries transfer only when the serial grows (RFC 1982 arithmetic): a
 * zone file edited without raising it is served with the previous serial + 1.
 */
function keepSerialIncreasing(zone: Zone, previous: number, log: (line: string) => void): void {
  const ahead = (zone.serial - previous + 2 ** 32) % 2 ** 32
  if (ahead > 0 && ahead < 2 ** 31) return
  const serial = (previous + 1) % 2 ** 32
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(serial)
  // The SOA data is [mname, rname, serial, ...]; negative answers share these arrays.
  for (const r of zone.nodes.get(zone.key)?.get(TYPE.SOA)?.records ?? []) r.rdata[2] = bytes
  log(`${zone.origin}: the zone file's serial ${zone.serial} is not above ${previous}; serving serial ${serial}`)
  zone.serial = serial
}
