import {Flags} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'
import {InputError} from '../core/errors.js'
import {parseZone} from '../core/names.js'
import {defaultDataDir} from '../providers/file.js'
import {SERVE_DEFAULTS} from '../dns/limits.js'

function wholeNumber(flag: string, value: string, min: number, max: number, what: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) throw new InputError(flag, `"${value}" is not ${what} ${min}-${max}`)
  return Number(value)
}

function servedText(zones: readonly {zone: string; serial: number}[]): string {
  return zones.map((z) => `${z.zone} (serial ${z.serial})`).join(', ') || 'none yet'
}

/** oclif hands a multiple flag read from the environment over as one string. */
const many = (value: string | string[] | undefined): string[] =>
  (typeof value === 'string' ? value.split(/[\s,]+/) : (value ?? [])).map((v) => v.trim()).filter(Boolean)

async function primaryOptions(allowFlag: string | string[] | undefined, keyFile: string | undefined, notifyFlag: string | string[] | undefined) {
  const {addCidr, emptyPolicy} = await import('../dns/transfer.js')
  const {parseServer} = await import('../dns/server-address.js')
  const {isIP} = await import('node:net')
  const transfer = emptyPolicy()
  for (const cidr of many(allowFlag)) {
    if (!addCidr(transfer.allow, cidr)) throw new InputError('--allow-transfer', `"${cidr}" is not an address or CIDR (e.g. 192.0.2.0/24, ::1)`)
  }
  if (keyFile) {
    const {readKeyFile} = await import('../dns/tsig.js')
    transfer.keys = readKeyFile(keyFile, '--transfer-key-file')
  }
  const notify = many(notifyFlag).map((text) => {
    const target = parseServer(text, '--notify')
    if (isIP(target.host) === 0) throw new InputError('--notify', `"${text}" is not IP[:PORT]; give the secondary's address`)
    return target
  })
  return {transfer, notify}
}

export default class Serve extends DnssdCommand {
  static override summary = "Answer DNS queries for the file provider's zones (authoritative, UDP and TCP)"
  static override description = `Serves every zone in the data directory (or only the --zone ones) as an
authoritative name server: AA set, SOA in the authority section of NXDOMAIN
and NODATA answers, SRV/TXT/address records in the additional section of
PTR and SRV answers (RFC 6763 §12), TC over UDP when an answer does not fit
the client's EDNS buffer, REFUSED for names outside its zones. Zone files
changed by join/leave are picked up within a second. Stops cleanly on
SIGINT/SIGTERM.

Safe to expose: DNS cookies (RFC 7873); UDP answers to clients without a
valid server cookie are at most --udp-size-without-cookie bytes (larger ones
go out truncated, TC=1) and at most --rrl a second per /24 or /56 (beyond
that every second answer is a TC=1 reply, the rest are dropped); at most
--tcp-clients TCP connections, each closed after --tcp-idle seconds without a
query, the longest-idle one closed when a new one needs room.`

  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --zone example.com --port 5353',
    'dig @127.0.0.1 -p 5353 _web._tcp.example.com PTR',
  ]

  static override flags = {
    zone: Flags.string({char: 'z', env: 'DNSSD_ZONE', multiple: true, description: 'serve only this zone (repeatable) [default: every <zone>.zone in the data directory]'}),
    address: Flags.string({env: 'DNSSD_SERVE_ADDRESS', description: 'address to listen on (UDP and TCP)', default: '127.0.0.1'}),
    port: Flags.string({env: 'DNSSD_SERVE_PORT', description: 'port to listen on (UDP and TCP); 0 picks a free one', default: '5353'}),
    'data-dir': Flags.string({
      env: 'DNSSD_DATA_DIR',
      description: 'directory of <zone>.zone files [default: $XDG_DATA_HOME/dnssd or ~/.local/share/dnssd]',
    }),
    workers: Flags.string({env: 'DNSSD_SERVE_WORKERS', description: 'processes answering on the same port (node:cluster), e.g. one per core', default: '1'}),
    rrl: Flags.string({env: 'DNSSD_SERVE_RRL', description: 'UDP responses per second per client /24 (IPv4) or /56 (IPv6) without a valid DNS cookie; 0 turns the limit off', default: String(SERVE_DEFAULTS.rateLimit)}),
    'udp-size-without-cookie': Flags.string({
      env: 'DNSSD_SERVE_UDP_SIZE_WITHOUT_COOKIE',
      description: 'largest UDP answer, in bytes (512-1232), to a client without a valid DNS cookie; larger ones are sent truncated (TC=1) so it retries over TCP',
      default: String(SERVE_DEFAULTS.udpSizeWithoutCookie),
    }),
    'cookie-secret': Flags.string({
      env: 'DNSSD_COOKIE_SECRET',
      description: 'server cookie secret, 32 hex digits (e.g. openssl rand -hex 16); servers sharing it accept each other\'s cookies. Prefer the environment variable: arguments show in ps [default: random per start]',
    }),
    'tcp-clients': Flags.string({env: 'DNSSD_SERVE_TCP_CLIENTS', description: 'open TCP connections at most; a new one closes the longest-idle', default: String(SERVE_DEFAULTS.tcpClients)}),
    'tcp-idle': Flags.string({env: 'DNSSD_SERVE_TCP_IDLE', description: 'seconds a TCP connection may stay without sending a query', default: String(SERVE_DEFAULTS.tcpIdleMs / 1000)}),
    'allow-transfer': Flags.string({
      env: 'DNSSD_SERVE_ALLOW_TRANSFER',
      multiple: true,
      description: 'let this address or CIDR transfer the zones (AXFR/IXFR over TCP) without a key (repeatable) [default: nobody]',
      helpGroup: 'PRIMARY',
    }),
    'transfer-key-file': Flags.string({
      env: 'DNSSD_TRANSFER_KEY_FILE',
      description: 'TSIG key file (as tsig-keygen writes); requests signed with one of its keys may transfer, and signed queries get signed answers',
      helpGroup: 'PRIMARY',
    }),
    notify: Flags.string({
      env: 'DNSSD_SERVE_NOTIFY',
      multiple: true,
      description: 'send NOTIFY to this secondary, IP[:PORT], whenever a zone changes (repeatable)',
      helpGroup: 'PRIMARY',
    }),
    verbose: Flags.boolean({char: 'v', description: 'log zone loads and dropped packets on stderr', default: false}),
  }

  /** A state change: the line for humans, or under --json one JSON object on one line (a log reader takes it line by line). */
  private announce(text: string, event: Record<string, unknown>): void {
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(event)}\n`)
    else this.log(text)
  }

  /** A worker reports its error to the primary and leaves, so the primary can exit with its code. */
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const result = await super.catch(err)
    const {default: cluster} = await import('node:cluster')
    if (cluster.isWorker) {
      process.send?.({type: 'failed', exitCode: Number(process.exitCode ?? 1)})
      cluster.worker?.disconnect()
    }
    return result
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    const {isIP} = await import('node:net')
    const zones = flags.zone?.map((z) => parseZone(z))
    if (isIP(flags.address) === 0) throw new InputError('--address', `"${flags.address}" is not an IPv4 or IPv6 address`)
    if (!/^\d+$/.test(flags.port) || Number(flags.port) > 65_535) throw new InputError('--port', `"${flags.port}" is not a port; give 0-65535`)
    if (!/^\d{1,2}$/.test(flags.workers) || Number(flags.workers) < 1) throw new InputError('--workers', `"${flags.workers}" is not a number of processes 1-99`)
    const rateLimit = wholeNumber('--rrl', flags.rrl, 0, 1_000_000, 'a number of responses per second')
    const udpSizeWithoutCookie = wholeNumber('--udp-size-without-cookie', flags['udp-size-without-cookie'], 512, 1232, 'a size in bytes')
    const tcpClients = wholeNumber('--tcp-clients', flags['tcp-clients'], 1, 100_000, 'a number of connections')
    if (!/^\d{1,4}(\.\d{1,3})?$/.test(flags['tcp-idle']) || Number(flags['tcp-idle']) < 0.1 || Number(flags['tcp-idle']) > 3600) {
      throw new InputError('--tcp-idle', `"${flags['tcp-idle']}" is not a number of seconds 0.1-3600`)
    }
    const tcpIdleMs = Number(flags['tcp-idle']) * 1000
    const secretText = flags['cookie-secret']
    // The value is a secret: the message names the rule, never the value.
    if (secretText !== undefined && !/^[0-9a-fA-F]{32}$/.test(secretText)) throw new InputError('--cookie-secret', 'not 32 hex digits (16 octets, e.g. openssl rand -hex 16)')
    const primary = await primaryOptions(flags['allow-transfer'], flags['transfer-key-file'], flags.notify)
    const dataDir = flags['data-dir'] ?? defaultDataDir()
    const verbose = this.verboseLogger(flags.verbose)
    const {default: cluster} = await import('node:cluster')
    const workers = Number(flags.workers)
    if (workers > 1 && cluster.isPrimary) {
      const {freePort, runPrimary, workerArgs} = await import('../dns/workers.js')
      const port = flags.port === '0' ? await freePort(flags.address) : Number(flags.port)
      const host = flags.address.includes(':') ? `[${flags.address}]` : flags.address
      // One secret for all workers, so a cookie one of them made is valid at the others.
      const {CookieJar} = await import('../dns/guard.js')
      const secret = secretText ?? CookieJar.generateSecret().toString('hex')
      const result = await runPrimary(workers, workerArgs(process.argv.slice(2), port), {DNSSD_COOKIE_SECRET: secret}, (bound, zones) => {
        this.announce(`dnssd serve: listening on ${host}:${bound} udp+tcp (${workers} workers); zones: ${servedText(zones)}; data dir ${dataDir}`, {
          event: 'listening',
          address: flags.address,
          port: bound,
          workers,
          zones,
          dataDir,
        })
      }, verbose)
      if (result.exitCode !== 0) {
        process.exitCode = result.exitCode
        return
      }
      this.announce(`dnssd serve: stopped after ${result.queries} queries`, {event: 'stopped', queries: result.queries})
      return
    }
    const {AuthoritativeServer} = await import('../dns/server.js')
    const server = new AuthoritativeServer({
      address: flags.address,
      port: Number(flags.port),
      dataDir,
      zones,
      log: verbose,
      cookieSecret: secretText === undefined ? undefined : Buffer.from(secretText, 'hex'),
      rateLimit,
      udpSizeWithoutCookie,
      tcpClients,
      tcpIdleMs,
      transfer: primary.transfer,
      // Every worker reloads the same files; one of them is enough to tell the secondaries.
      notify: cluster.isWorker && cluster.worker?.id !== 1 ? [] : primary.notify,
    })
    let bound: {address: string; port: number}
    try {
      bound = await server.start()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE') throw new InputError('--port', `${flags.address} port ${flags.port} is already in use; pick another --port`)
      if (code === 'EACCES') throw new InputError('--port', `no permission to listen on port ${flags.port}; use a port above 1023`)
      if (code === 'EADDRNOTAVAIL') throw new InputError('--address', `${flags.address} is not an address of this machine`)
      throw error
    }
    const host = bound.address.includes(':') ? `[${bound.address}]` : bound.address
    const served = server.zones().map((z) => ({zone: z.origin, serial: z.serial}))
    // The handlers go in before "listening" is said: a signal sent as soon as
    // that line is read must find them, or the kernel's default action ends
    // the process without a clean stop.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
        verbose(`${signal}: stopping`)
        void server.stop().then(resolve)
      }
      const onInt = (): void => stop('SIGINT')
      const onTerm = (): void => stop('SIGTERM')
      process.on('SIGINT', onInt)
      process.on('SIGTERM', onTerm)
    })
    if (cluster.isWorker) process.send!({type: 'listening', port: bound.port, zones: served})
    else {
      this.announce(`dnssd serve: listening on ${host}:${bound.port} udp+tcp; zones: ${servedText(served)}; data dir ${dataDir}`, {
        event: 'listening',
        address: bound.address,
        port: bound.port,
        workers: 1,
        zones: served,
        dataDir,
      })
    }
    await stopped
    if (cluster.isWorker) {
      process.send!({type: 'stopped', queries: server.stats.queries})
      cluster.worker?.disconnect()
    } else this.announce(`dnssd serve: stopped after ${server.stats.queries} queries`, {event: 'stopped', queries: server.stats.queries})
  }
}
