/**
 * RFC 2136 dynamic updates to a self-hosted primary (BIND, Knot, PowerDNS),
 * TSIG-signed (RFC 8945).
 *
 * Reads are one AXFR (RFC 5936) over TCP: a join or leave must see the
 * marker, the instance, the browse PTR and the host, and the planner may ask
 * for more names once it has read the marker; one transfer answers all of it
 * in a single round trip, where queries would take one per name and type
 * (eight or more). The transfer and the update share one TCP connection.
 *
 * Writes are one UPDATE per attempt whose prerequisites make it a
 * compare-and-swap (RFC 2136 §2.4): every RRset the plan touches must still
 * hold exactly the values read ("RRset exists, value dependent"), or still be
 * absent ("RRset does not exist"). A concurrent writer makes the server
 * answer YXRRSET/NXRRSET and change nothing; we read, plan and try again with
 * jittered backoff inside the deadline (exit 5 when it passes). A refusal
 * (REFUSED, NOTAUTH, NOTZONE, a bad key) is exit 4 with what to fix.
 */
import {randomInt} from 'node:crypto'
import {BackendError, DeadlineError} from '../core/errors.js'
import {type Work} from '../core/planner.js'
import {type Backoff, backoffMs, sleep} from '../core/retry.js'
import {type Change, ZoneState, groupByRRset} from '../core/records.js'
import {readAndPlan} from '../core/transact.js'
import {TYPE} from '../dns/message.js'
import {formatServer} from '../dns/server-address.js'
import {ResponseVerifier, TSIG_ERROR_NAMES, describeKey, findTsig, signMessage} from '../dns/tsig.js'
import {
  ConnectionClosed,
  ExchangeTimeout,
  type Prerequisite,
  RCODE_NAMES,
  TcpChannel,
  type UpdateOp,
  encodePlainQuery,
  encodeUpdate,
  parseMessage,
} from '../dns/update.js'
import {type DnsProvider, type ProviderOptions, type TransactResult} from './provider.js'
import {type Rfc2136Settings} from './rfc2136-settings.js'

/** Conflict backoff: full jitter over min(cap, base x 2^n) ms. */
const BACKOFF: Backoff = {baseMs: 20, capMs: 1000}

/** The server said no: exit 4, never retried. */
class Refused extends BackendError {}

/** A server error worth another attempt (SERVFAIL, a dropped connection). */
class TransientError extends Error {}

/** Worth another attempt inside the deadline: a server error or a connection that failed (never a refusal). */
function isTransient(error: unknown): boolean {
  if (error instanceof Refused) return false
  return error instanceof TransientError || error instanceof ConnectionClosed || typeof (error as NodeJS.ErrnoException).code === 'string'
}

export class Rfc2136Provider implements DnsProvider {
  readonly kind = 'rfc2136'
  readonly settings: Rfc2136Settings
  private channel?: TcpChannel

  constructor(private readonly options: ProviderOptions<Rfc2136Settings>) {
    this.settings = options.settings
  }

  private get label(): string {
    return formatServer(this.settings.server)
  }

  private keyHint(): string {
    return this.settings.key ? `key ${describeKey(this.settings.key)} from ${this.settings.keyFile}` : 'no TSIG key (--tsig-key-file)'
  }

  private async connect(): Promise<TcpChannel> {
    if (this.channel) return this.channel
    try {
      this.channel = await TcpChannel.connect(this.settings.server.host, this.settings.server.port, this.options.deadline.at)
    } catch (error) {
      if (error instanceof ExchangeTimeout) throw new DeadlineError(`${this.label} did not accept a TCP connection before the deadline (--timeout); nothing was changed`)
      // A primary restarting refuses for a moment: retried inside the deadline like any transient failure.
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      throw new TransientError(`cannot connect to ${this.label} over TCP (${code}); check --server HOST[:PORT] and that the primary listens there`)
    }
    return this.channel
  }

  private drop(): void {
    this.channel?.close()
    this.channel = undefined
  }

  /** Send a (signed) message; returns the MAC for the answer's verification. */
  private send(channel: TcpChannel, message: Buffer): ResponseVerifier | undefined {
    if (!this.settings.key) {
      channel.send(message)
      return undefined
    }
    const {signed, mac} = signMessage(message, this.settings.key)
    channel.send(signed)
    return new ResponseVerifier(this.settings.key, mac)
  }

  /** Check an answer's signature; a refusal of our key is exit 4 naming the key, never the secret. */
  private checkSigned(verifier: ResponseVerifier | undefined, message: Buffer, what: string): void {
    const rcode = message.readUInt16BE(2) & 0xf
    if (!verifier) {
      let tsigError: number | undefined
      try {
        tsigError = findTsig(message)?.fields.error
      } catch {
        tsigError = undefined
      }
      if (rcode === 9 || (tsigError !== undefined && tsigError !== 0)) {
        throw new Refused(`${this.label} refused the unsigned ${what} (NOTAUTH); give the TSIG key the server expects with --tsig-key-file`)
      }
      return
    }
    const result = verifier.verify(message)
    if (result.ok) return
    // An unsigned error answer (Knot's NOTAUTH for a zone it does not serve) says what went wrong in its
    // RCODE; believing it can only make us stop, never change anything.
    if (result.failure === 'UNSIGNED' && rcode !== 0) return
    if (result.error !== 0 && TSIG_ERROR_NAMES[result.error]) {
      const why =
        result.error === 17
          ? 'the server does not know this key, or its ACL does not let it make this change (BADKEY): check the key name and algorithm, and the grant (`dnssd policy rfc2136`)'
          : result.error === 18
            ? 'the clocks differ by more than the fudge (BADTIME): set the clock (NTP) on this host or the server'
            : 'the signature did not verify (BADSIG): the secret differs from the server\'s'
      throw new Refused(`${this.label} refused the ${what} signed with ${this.keyHint()}: ${why}`)
    }
    throw new Refused(`the answer from ${this.label} to the ${what} is not correctly signed with ${this.keyHint()} (${result.failure}: ${result.detail}); is another server answering there?`)
  }

  /** AXFR the zone over the connection: one round trip for every name the planner may ask for. */
  private async transfer(zone: string): Promise<ZoneState> {
    const channel = await this.connect()
    const id = randomInt(0, 65_536)
    this.options.log(`rfc2136: call AXFR ${zone} tcp ${this.label}`)
    const verifier = this.send(channel, encodePlainQuery(zone, TYPE.AXFR, id))
    const state = new ZoneState(zone, 'all')
    let soaSeen = 0
    let records = 0
    let first = true
    while (soaSeen < 2) {
      const raw = await channel.receive(this.options.deadline.at)
      let msg
      try {
        msg = parseMessage(raw)
      } catch (error) {
        throw new Refused(`${this.label} sent a malformed zone transfer message (${(error as Error).message}); is a DNS server listening at --server?`)
      }
      if (msg.id !== id) continue
      this.checkSigned(verifier, raw, 'zone transfer')
      if (msg.rcode !== 0) {
        const name = RCODE_NAMES[msg.rcode] ?? `RCODE ${msg.rcode}`
        if (msg.rcode === 5 || msg.rcode === 9) {
          const who = this.settings.key ? `key ${this.settings.key.name}` : 'this address'
          throw new Refused(
            `${this.label} refused the zone transfer of ${zone} (${name}): it is not the primary of ${zone}, or does not let ${who} transfer it (dnssd reads the zone by AXFR; BIND: allow-transfer { key NAME; }; Knot: an acl with action transfer); check --zone and --server`,
          )
        }
        if (msg.rcode === 3 || msg.rcode === 10) throw new Refused(`${this.label} is not authoritative for ${zone} (${name}); check --zone and --server`)
        throw new TransientError(`${this.label} answered the zone transfer with ${name}`)
      }
      if (first && (msg.answers[0]?.type !== 'SOA' || msg.answers[0].name !== zone)) {
        throw new Refused(`${this.label} sent a zone transfer of ${zone} that does not start with its SOA; is it authoritative for ${zone}?`)
      }
      first = false
      for (const r of msg.answers) {
        // The transfer starts and ends with the SOA (RFC 5936 §2.2).
        if (r.type === 'SOA' && r.name === zone && ++soaSeen === 2) break
        records++
        state.addValue(r.name, r.type, r.ttl, r.value)
      }
    }
    this.options.log(`rfc2136: AXFR ${zone}: ${records} records`)
    return state
  }

  async read(zone: string, _names: readonly string[] | 'all'): Promise<ZoneState> {
    try {
      let failures = 0
      for (;;) {
        const state = await this.transferOrWhy(zone)
        if (state instanceof ZoneState) return state
        await this.backoff(failures++, `could not read ${zone}: ${state}`)
      }
    } finally {
      this.drop()
    }
  }

  /** One transfer, or why it failed this time when trying again may help. */
  private async transferOrWhy(zone: string): Promise<ZoneState | string> {
    try {
      return await this.withConnection(() => this.transfer(zone))
    } catch (error) {
      if (!isTransient(error)) throw error
      this.drop()
      this.options.log(`rfc2136: ${(error as Error).message}; trying again`)
      return (error as Error).message
    }
  }

  /** Run an exchange; a connection the server closed between exchanges is opened again once. */
  private async withConnection<T>(exchange: () => Promise<T>): Promise<T> {
    try {
      return await exchange()
    } catch (error) {
      if (error instanceof ExchangeTimeout) throw new DeadlineError(`${this.label} did not answer before the deadline (--timeout)`)
      if (!(error instanceof ConnectionClosed || (error as NodeJS.ErrnoException).code === 'EPIPE' || (error as NodeJS.ErrnoException).code === 'ECONNRESET')) throw error
      this.drop()
      return await exchange()
    }
  }

  /** The compare-and-swap guard: every touched RRset as read. */
  private prerequisites(state: ZoneState, changes: readonly Change[]): Prerequisite[] {
    return groupByRRset(changes).map(({name, type}) => {
      const values = state.values(name, type)
      return values.length > 0 ? {kind: 'rrset-equals', name, type, values: [...values]} : {kind: 'rrset-absent', name, type}
    })
  }

  private async update(zone: string, prerequisites: Prerequisite[], ops: UpdateOp[]): Promise<'applied' | 'conflict'> {
    const channel = await this.connect()
    const id = randomInt(0, 65_536)
    this.options.log(`rfc2136: call UPDATE ${zone} tcp ${this.label} (${prerequisites.length} prerequisites, ${ops.length} updates)`)
    const verifier = this.send(channel, encodeUpdate(zone, id, prerequisites, ops))
    for (;;) {
      const raw = await channel.receive(this.options.deadline.at)
      let msg
      try {
        msg = parseMessage(raw)
      } catch (error) {
        throw new Refused(`${this.label} sent a malformed answer to the update (${(error as Error).message}); is a DNS server listening at --server?`)
      }
      if (msg.id !== id) continue
      this.checkSigned(verifier, raw, 'update')
      const name = RCODE_NAMES[msg.rcode] ?? `RCODE ${msg.rcode}`
      switch (msg.rcode) {
        case 0:
          return 'applied'
        case 6:
        case 7:
        case 8:
          this.options.log(`rfc2136: UPDATE ${zone}: ${name} (another writer changed a touched RRset)`)
          return 'conflict'
        case 5:
          throw new Refused(`${this.label} refused the update of ${zone} (REFUSED) with ${this.keyHint()}; grant it in the zone's update-policy (see \`dnssd policy rfc2136\` / README "Self-hosted DNS")`)
        case 9:
          throw new Refused(`${this.label} is not authoritative for ${zone} or did not accept ${this.keyHint()} (NOTAUTH); check --zone, --server (the primary) and the key`)
        case 10:
          throw new Refused(`${this.label}: a name is outside the zone ${zone} (NOTZONE); check --zone and --host`)
        case 4:
          throw new Refused(`${this.label} does not implement dynamic updates (NOTIMP); point --server at the primary with updates enabled`)
        default:
          throw new TransientError(`${this.label} answered the update with ${name}`)
      }
    }
  }

  async transact({zone, names, plan}: Work, opts: {dryRun: boolean}): Promise<TransactResult> {
    let conflicts = 0
    let sent: {changes: Change[]; notes: string[]} | undefined
    const leftBehind = (): string =>
      sent ? 'an update was sent but its answer was lost, so it may or may not have been applied; run the same command again: it is idempotent' : 'nothing was changed; run the same command again'
    try {
      for (let attempt = 1; ; attempt++) {
        const state = await this.transferOrWhy(zone)
        if (!(state instanceof ZoneState)) {
          await this.backoff(conflicts++, `${state}; ${leftBehind()}`)
          continue
        }
        const outcome = await readAndPlan(async () => state, names, plan)
        if (outcome.changes.length === 0) {
          if (sent) return {changes: sent.changes, notes: [...sent.notes, 'the answer to the update was lost, but a fresh transfer shows it was applied'], applied: true, attempts: attempt}
          return {changes: [], notes: outcome.notes, applied: false, attempts: attempt}
        }
        const prerequisites = this.prerequisites(outcome.state, outcome.changes)
        const ops: UpdateOp[] = outcome.changes.map((c) =>
          c.action === 'add' ? {kind: 'add', name: c.name, type: c.type, ttl: c.ttl, value: c.value} : {kind: 'delete', name: c.name, type: c.type, value: c.value},
        )
        const request = {server: this.label, zone, key: this.settings.key?.name, prerequisites, updates: ops}
        if (opts.dryRun) return {changes: outcome.changes, notes: outcome.notes, applied: false, attempts: attempt, request}
        let result: 'applied' | 'conflict'
        try {
          result = await this.update(zone, prerequisites, ops)
        } catch (error) {
          if (!(isTransient(error) || error instanceof ExchangeTimeout)) throw error
          // The update may have landed: the next transfer tells.
          sent = {changes: outcome.changes, notes: outcome.notes}
          this.drop()
          await this.backoff(conflicts++, `${(error as Error).message}; ${leftBehind()}`)
          continue
        }
        if (result === 'applied') return {changes: outcome.changes, notes: outcome.notes, applied: true, attempts: attempt, request}
        await this.backoff(conflicts++, `the update kept conflicting with other writers; ${leftBehind()}`)
      }
    } finally {
      this.drop()
    }
  }

  private async backoff(n: number, why: string): Promise<void> {
    const delay = backoffMs(n, BACKOFF)
    if (this.options.deadline.wouldPass(delay)) {
      throw new DeadlineError(`${this.label}: no success before the deadline (--timeout): ${why}`)
    }
    await sleep(delay)
  }

  async close(): Promise<void> {
    this.drop()
  }
}
