import {Args, Flags} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'
import {InputError, NoInstanceError} from '../core/errors.js'
import {parseSeconds, parseService, parseZone} from '../core/names.js'
import {DnsClient, parseServer, systemServers} from '../dns/client.js'
import {type Endpoint, type Resolution, resolveService} from '../dns/resolve.js'

export interface ResolveResult extends Resolution {
  chosen: Endpoint
  checked?: {endpoint: Endpoint; address: string}
}

export default class Resolve extends DnssdCommand {
  static override summary = 'Find a live endpoint of a service: browse, SRV, RFC 2782 order'
  static override description = `Browses _svc._tcp.ZONE (PTR -> instances) or looks up an instance or pool
name (_v1._svc._tcp.ZONE) directly, then orders the SRV targets as RFC 2782
says: lowest priority first; within a priority a weighted random order in
which a target of weight w comes first with probability exactly w/W (W the
group's total weight; weight-0 targets only after all positive ones, in
random order). A lone "." target means the service is not available (exit 3).

Queries go over UDP with EDNS0 (1232 bytes), over TCP when the answer is
truncated, or over DoH (RFC 8484) with --doh. Records in the additional
section are used, so a server that sends them (dnssd serve, BIND for SRV)
answers in one round trip.`

  static override examples = [
    '<%= config.bin %> resolve _web._tcp.example.com --server 127.0.0.1:5353',
    '<%= config.bin %> resolve _v1._api._tcp.example.com --all',
    '<%= config.bin %> resolve --zone example.com --service _api._tcp --version v1 --format url --scheme http',
    '<%= config.bin %> resolve _web._tcp.example.com --check tcp',
  ]

  static override args = {
    name: Args.string({description: 'service to browse (_web._tcp.example.com) or instance/pool name (_v1._web._tcp.example.com)'}),
  }

  static override flags = {
    zone: Flags.string({char: 'z', env: 'DNSSD_ZONE', description: 'zone, with --service instead of NAME'}),
    service: Flags.string({char: 's', env: 'DNSSD_SERVICE', description: 'service (_web._tcp or _v1._web._tcp), with --zone'}),
    version: Flags.string({description: 'pool label, with --service _web._tcp: v1 -> _v1._web._tcp.ZONE'}),
    server: Flags.string({
      env: 'DNSSD_SERVER',
      multiple: true,
      description: 'DNS server HOST[:PORT] or [IPv6]:PORT (repeatable) [default: nameservers of /etc/resolv.conf]',
    }),
    doh: Flags.string({env: 'DNSSD_DOH', description: 'ask this DNS-over-HTTPS endpoint (RFC 8484) instead of --server'}),
    all: Flags.boolean({char: 'a', description: 'print every usable endpoint in fail-over order', default: false}),
    format: Flags.string({description: 'output: TARGET:PORT, a URL, or JSON (same as --json)', options: ['target', 'url', 'json'], default: 'target'}),
    scheme: Flags.string({description: 'URL scheme for --format url [default: the service name, e.g. http for _http._tcp]'}),
    check: Flags.string({description: 'connect down the order and print the first endpoint that accepts', options: ['tcp']}),
    'check-timeout': Flags.string({description: 'seconds to wait for each --check connection', default: '1'}),
    timeout: Flags.string({env: 'DNSSD_TIMEOUT', description: 'give up after this many seconds in total (exit 5)', default: '5'}),
    'try-timeout': Flags.string({description: 'seconds to wait for one answer before asking again or the next server', default: '1'}),
    retries: Flags.string({description: 'passes over the server list after the first', default: '1'}),
    verbose: Flags.boolean({char: 'v', description: 'list every DNS query on stderr', default: false}),
  }

  async run(): Promise<ResolveResult> {
    const {args, flags} = await this.parse(Resolve)
    const timeout = parseSeconds(flags.timeout, '--timeout')
    const deadline = Date.now() + timeout * 1000
    const tryTimeout = parseSeconds(flags['try-timeout'], '--try-timeout', 60)
    if (!/^\d{1,2}$/.test(flags.retries)) throw new InputError('--retries', `"${flags.retries}" is not a number 0-99`)
    const name = targetName(args.name, flags)
    if (flags.doh !== undefined && !/^https?:\/\/[^/]/.test(flags.doh)) throw new InputError('--doh', `"${flags.doh}" is not an http(s) URL`)
    const servers = flags.server?.length ? flags.server.map((s) => parseServer(s)) : flags.doh ? [] : await systemServers()
    const log = this.verboseLogger(flags.verbose)
    const client = new DnsClient({servers, doh: flags.doh, tryTimeoutMs: tryTimeout * 1000, attempts: Number(flags.retries) + 1, deadline, log})
    const json = this.jsonEnabled() || flags.format === 'json'
    const {randomInt} = await import('node:crypto')
    const resolution = await resolveService(client, name, {txt: json, randomInt: (n) => randomInt(n)})
    for (const note of resolution.notes) log(note)
    log(`${resolution.queries} queries in ${resolution.rounds} round(s) over ${resolution.transport.join('+')}`)
    let chosen = resolution.order[0]!
    let checked: ResolveResult['checked']
    if (flags.check === 'tcp') {
      const perTry = parseSeconds(flags['check-timeout'], '--check-timeout', 60) * 1000
      const {firstAccepting} = await import('../dns/check.js')
      checked = await firstAccepting(resolution.order, {perTryMs: perTry, deadline, log})
      if (!checked) throw new NoInstanceError(`none of the ${resolution.order.length} endpoint(s) of ${name} accepted a TCP connection`)
      chosen = checked.endpoint
    }
    const result: ResolveResult = {...resolution, chosen, ...(checked ? {checked} : {})}
    if (flags.format === 'json' && !this.jsonEnabled()) this.log(JSON.stringify(result, null, 2))
    else if (!this.jsonEnabled()) {
      const scheme = flags.scheme ?? /^_([^.]+)\./.exec(serviceOf(name))?.[1] ?? 'http'
      const show = (e: Endpoint): string => (flags.format === 'url' ? `${scheme}://${e.target}:${e.port}/` : `${e.target}:${e.port}`)
      const list = flags.all && !checked ? resolution.order : [chosen]
      this.log(list.map(show).join('\n'))
    }
    return result
  }
}

/** `_web._tcp.example.com` from `_v1._web._tcp.example.com` or `inst._web._tcp.example.com`. */
function serviceOf(name: string): string {
  const labels = name.split('.')
  const at = labels.findIndex((l, i) => i > 0 && (l === '_tcp' || l === '_udp'))
  return at > 0 ? labels.slice(at - 1).join('.') : name
}

function targetName(arg: string | undefined, flags: {zone?: string; service?: string; version?: string}): string {
  if (arg !== undefined) {
    if (flags.service !== undefined || flags.version !== undefined) throw new InputError('NAME', 'give either NAME or --zone/--service/--version, not both')
    const name = arg.trim().toLowerCase().replace(/\.$/, '')
    if (!/^[^.\s]+(\.[^.\s]+)+$/.test(name)) throw new InputError('NAME', `"${arg}" is not a domain name such as _web._tcp.example.com`)
    return name
  }
  if (flags.zone === undefined && flags.service === undefined) {
    throw new InputError('NAME', 'give a name to resolve (e.g. _web._tcp.example.com) or --zone and --service')
  }
  const zone = parseZone(flags.zone)
  const service = parseService(flags.service, zone)
  if (flags.version !== undefined) {
    if (service.incarnation) throw new InputError('--version', `--service ${service.relative} already names a pool`)
    const label = flags.version.startsWith('_') ? flags.version : `_${flags.version}`
    if (!/^_[a-z0-9](?:[a-z0-9-]{0,60}[a-z0-9])?$/i.test(label)) throw new InputError('--version', `"${flags.version}" must be letters, digits and inner hyphens (e.g. v1)`)
    return `${label.toLowerCase()}.${service.type}.${zone}`
  }
  return `${service.relative}.${zone}`
}
