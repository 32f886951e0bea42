/**
 * `serve` as a primary for real secondaries: zone transfers out (AXFR, RFC
 * 5936; IXFR answered with the whole zone, which RFC 1995 §4 allows), to
 * addresses in --allow-transfer or to requests signed with a key from
 * --transfer-key-file (RFC 8945), REFUSED otherwise; TSIG-signed answers to
 * signed queries (a secondary signs its SOA checks too); and NOTIFY (RFC
 * 1996) to each --notify target whenever a zone's data changes.
 */
import {randomInt} from 'node:crypto'
import dgram from 'node:dgram'
import net from 'node:net'
import {type Zone} from './authority.js'
import {FLAG_AA, FLAG_QR, MessageWriter, type Query, RCODE, TYPE} from './message.js'
import {labelsToName} from './names.js'
import {type Server, formatServer} from './server-address.js'
import {nameWire} from './update.js'
import {TSIG_ALGORITHMS, TSIG_ERROR, type TsigKey, describeKey, signMessage, verifyRequest} from './tsig.js'

/** Largest transfer message; leaves room for the TSIG record under 64 KiB. */
const TRANSFER_MESSAGE_LIMIT = 16_384

export interface TransferPolicy {
  /** Client networks allowed to transfer without a key. */
  allow: net.BlockList
  /** Keys whose signed requests may transfer (and whose signed queries get signed answers). */
  keys: TsigKey[]
}

export function emptyPolicy(): TransferPolicy {
  return {allow: new net.BlockList(), keys: []}
}

/** "10.0.0.0/8", "127.0.0.1", "::1/128" -> added to the list; false when it is not a CIDR. */
export function addCidr(list: net.BlockList, text: string): boolean {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim())
  if (!m) return false
  const family = net.isIP(m[1]!)
  if (family === 0) return false
  const bits = m[2] === undefined ? (family === 4 ? 32 : 128) : Number(m[2])
  if (bits > (family === 4 ? 32 : 128)) return false
  list.addSubnet(m[1]!, bits, family === 4 ? 'ipv4' : 'ipv6')
  return true
}

function allowed(policy: TransferPolicy, client: string | undefined): boolean {
  if (!client) return false
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(client)
  const address = mapped ? mapped[1]! : client
  const family = net.isIP(address)
  return family !== 0 && policy.allow.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

export type SignedCheck =
  /** Not signed: answer as usual. */
  | {kind: 'unsigned'}
  /** Signed with a key we hold and verified: sign the answer with it. */
  | {kind: 'signed'; key: TsigKey; mac: Buffer}
  /** Signed, but not verifiable: NOTAUTH with this TSIG error (RFC 8945 §5.2). */
  | {kind: 'bad'; error: number; detail: string; keyName: string; algorithm: string}

/** Check a query's TSIG against the keys; cheap for unsigned queries only when no keys are configured. */
export function checkSigned(msg: Buffer, keys: readonly TsigKey[]): SignedCheck {
  if (keys.length === 0) return {kind: 'unsigned'}
  let check
  try {
    check = verifyRequest(msg, keys)
  } catch {
    return {kind: 'unsigned'}
  }
  if (!check.found) return {kind: 'unsigned'}
  if (check.result.ok && check.key) return {kind: 'signed', key: check.key, mac: check.result.mac}
  const error = check.result.ok ? TSIG_ERROR.BADKEY : check.result.failure === 'BADKEY' ? TSIG_ERROR.BADKEY : check.result.failure === 'BADTIME' ? TSIG_ERROR.BADTIME : TSIG_ERROR.BADSIG
  return {kind: 'bad', error, detail: check.result.ok ? 'unknown key' : check.result.detail, keyName: check.found.keyName, algorithm: check.found.fields.algorithm}
}

/**
 * The NOTAUTH answer to a query whose TSIG failed: the question, and a TSIG
 * record with an empty MAC and the error (RFC 8945 §5.2; BADTIME would carry
 * our time in Other Data, which a client only needs to report).
 */
export function tsigErrorReply(msg: Buffer, q: Query, error: number, keyName: string, algorithm: string): Buffer {
  // An algorithm we do not implement cannot even be echoed through our signer: answer with one we do.
  if (!TSIG_ALGORITHMS.includes(algorithm)) algorithm = 'hmac-sha256'
  const w = new MessageWriter(65_535)
  w.question(msg, q)
  const body = w.finish(q.id, FLAG_QR | RCODE_NOTAUTH)
  // An unsigned TSIG: sign with a throwaway secret, then blank the MAC.
  const {signed} = signMessage(body, {name: keyName, algorithm, secret: Buffer.alloc(32)}, {error})
  return blankMac(signed, body.length)
}

const RCODE_NOTAUTH = 9

function blankMac(signed: Buffer, tsigAt: number): Buffer {
  // Skip the owner name, the fixed header and the algorithm name to the MAC size.
  let at = tsigAt
  const skipName = (): void => {
    while (signed[at]! !== 0) at += 1 + signed[at]!
    at++
  }
  skipName()
  const rdlenAt = at + 8
  at += 10
  skipName()
  const macSizeAt = at + 8
  const macSize = signed.readUInt16BE(macSizeAt)
  const out = Buffer.concat([signed.subarray(0, macSizeAt), Buffer.from([0, 0]), signed.subarray(macSizeAt + 2 + macSize)])
  out.writeUInt16BE(signed.readUInt16BE(rdlenAt) - macSize, rdlenAt)
  return out
}

/**
 * Answer an AXFR or IXFR query over TCP: the messages to send, in order, or
 * one REFUSED message. IXFR gets the whole zone, AXFR-style.
 */
export function transferReplies(
  msg: Buffer,
  q: Query,
  zone: Zone | undefined,
  policy: TransferPolicy,
  client: string | undefined,
  log: (line: string) => void,
): Buffer[] {
  const what = `${q.qtype === TYPE.IXFR ? 'IXFR' : 'AXFR'} ${labelsToName(q.labels)} from ${client ?? 'unknown'}`
  const signed = checkSigned(msg, policy.keys)
  if (signed.kind === 'bad') {
    log(`refused ${what}: TSIG ${signed.detail}`)
    return [tsigErrorReply(msg, q, signed.error, signed.keyName, signed.algorithm)]
  }
  const refuse = (why: string): Buffer[] => {
    log(`refused ${what}: ${why}`)
    const w = new MessageWriter(65_535)
    w.question(msg, q)
    const body = w.finish(q.id, FLAG_QR | RCODE.REFUSED)
    return [signed.kind === 'signed' ? signMessage(body, signed.key, {requestMac: signed.mac}).signed : body]
  }
  if (!zone) return refuse('not a zone served here')
  if (signed.kind !== 'signed' && !allowed(policy, client)) {
    return refuse(policy.keys.length > 0 ? 'not signed with a transfer key and not in --allow-transfer' : 'not in --allow-transfer')
  }
  const soa = zone.nodes.get(zone.key)?.get(TYPE.SOA)
  if (!soa) return refuse('zone has no SOA')
  const sets = [soa]
  for (const node of zone.nodes.values()) for (const set of node.values()) if (set !== soa) sets.push(set)
  sets.push(soa)
  const bodies: Buffer[] = []
  let w = new MessageWriter(TRANSFER_MESSAGE_LIMIT)
  w.question(msg, q)
  let inMessage = 0
  for (const set of sets) {
    for (const record of set === soa ? soa.records.slice(0, 1) : set.records) {
      const mark = w.mark()
      try {
        w.record(record, 1)
        inMessage++
      } catch {
        w.rollback(mark)
        if (inMessage === 0) throw new Error('a record larger than a transfer message')
        bodies.push(w.finish(q.id, FLAG_QR | FLAG_AA))
        // Later messages need no question (RFC 5936 §2.2.1); compression restarts with each.
        w = new MessageWriter(TRANSFER_MESSAGE_LIMIT)
        w.record(record, 1)
        inMessage = 1
      }
    }
  }
  bodies.push(w.finish(q.id, FLAG_QR | FLAG_AA))
  log(`${what}: serial ${zone.serial}, ${zone.recordCount + 1} records in ${bodies.length} messages${signed.kind === 'signed' ? ` signed with ${describeKey(signed.key)}` : ''}`)
  if (signed.kind !== 'signed') return bodies
  const out: Buffer[] = []
  let prior: Buffer | undefined
  for (const body of bodies) {
    const s = prior ? signMessage(body, signed.key, {priorMac: prior}) : signMessage(body, signed.key, {requestMac: signed.mac})
    prior = s.mac
    out.push(s.signed)
  }
  return out
}

/**
 * Sends NOTIFY for a zone to every target over UDP and retries each until it
 * answers (RFC 1996 §3.6), a few times: a secondary that misses every NOTIFY
 * still catches up at its SOA refresh interval.
 */
export class Notifier {
  private readonly socket4 = dgram.createSocket('udp4')
  private readonly pending = new Map<number, () => void>()
  private readonly ready: Promise<void>
  private closed = false

  constructor(
    private readonly targets: readonly Server[],
    private readonly log: (line: string) => void,
    private readonly retryMs = 250,
    private readonly tries = 8,
  ) {
    this.socket4.on('message', (msg) => {
      if (msg.length < 12) return
      this.pending.get(msg.readUInt16BE(0))?.()
    })
    this.socket4.on('error', (error) => this.log(`notify: ${error.message}`))
    this.ready = new Promise((resolve) => this.socket4.bind(0, resolve))
    this.socket4.unref()
  }

  notify(zoneName: string, serial: number): void {
    for (const target of this.targets) void this.notifyOne(target, zoneName, serial)
  }

  private async notifyOne(target: Server, zoneName: string, serial: number): Promise<void> {
    await this.ready
    let id = randomInt(0, 65_536)
    while (this.pending.has(id)) id = (id + 1) % 65_536
    const message = encodeNotify(zoneName, id)
    const label = formatServer(target)
    let answered = false
    try {
      for (let i = 0; i < this.tries && !answered && !this.closed; i++) {
        this.socket4.send(message, target.port, target.host)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.retryMs * 2 ** i)
          timer.unref()
          this.pending.set(id, () => {
            answered = true
            clearTimeout(timer)
            resolve()
          })
        })
      }
    } finally {
      this.pending.delete(id)
    }
    this.log(answered ? `notify ${zoneName} serial ${serial} -> ${label}: acknowledged` : `notify ${zoneName} serial ${serial} -> ${label}: no answer`)
  }

  close(): void {
    this.closed = true
    this.socket4.close()
  }
}

/** NOTIFY (opcode 4) with AA and the zone's SOA as the question (RFC 1996 §3.7). */
export function encodeNotify(zoneName: string, id: number): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id, 0)
  header.writeUInt16BE((4 << 11) | FLAG_AA, 2)
  header.writeUInt16BE(1, 4)
  return Buffer.concat([header, nameWire(zoneName), Buffer.from([0, TYPE.SOA, 0, 1])])
}
