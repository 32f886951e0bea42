/**
 * The body of `dnssd resolve`, shared by the oclif command and the start-up
 * fast path: flags -> DNS client -> DNS-SD resolution -> RFC 2782 order ->
 * (optional TCP check) -> output lines.
 */
import {InputError, NoInstanceError} from '../core/errors.js'
import {normalizeName, parseSeconds, serviceTypeOf, parseService, parseZone} from '../core/names.js'
import {AresClient} from '../dns/ares.js'
import {type DnsSource} from '../dns/client.js'
import {parseServer} from '../dns/server-address.js'
import {type Endpoint, type Resolution, resolveService} from '../dns/resolve.js'
import {randomInt} from '../platform/random.js'
import {type ResolveFlags} from './resolve-flags.js'

export interface ResolveResult extends Resolution {
  chosen: Endpoint
  checked?: {endpoint: Endpoint; address: string}
}

export interface ResolveIo {
  /** A line on stdout. */
  log: (line: string) => void
  /** A --verbose line on stderr. */
  verbose: (line: string) => void
  /** --json: the caller prints the returned result. */
  json: boolean
}

export async function runResolve(arg: string | undefined, flags: ResolveFlags, io: ResolveIo): Promise<ResolveResult> {
  const timeout = parseSeconds(flags.timeout, '--timeout')
  const deadline = Date.now() + timeout * 1000
  const tryTimeout = parseSeconds(flags['try-timeout'], '--try-timeout', 60)
  if (!/^\d{1,2}$/.test(flags.retries)) throw new InputError('--retries', `"${flags.retries}" is not a number 0-99`)
  const name = targetName(arg, flags)
  if (flags.doh !== undefined && !/^https?:\/\/[^/]/.test(flags.doh)) throw new InputError('--doh', `"${flags.doh}" is not an http(s) URL`)
  const given = flags.server ?? []
  // --server wins over the system's nameservers; --doh over both.
  const servers = given.length > 0 ? given.map((s) => parseServer(s)) : undefined
  const log = io.verbose
  const timing = {tryTimeoutMs: tryTimeout * 1000, attempts: Number(flags.retries) + 1, deadline, log}
  // The DoH client (and dns-packet with it) is loaded only for --doh.
  const client: DnsSource = flags.doh ? new (await import('../dns/doh.js')).DohClient({url: flags.doh, ...timing}) : new AresClient({servers, ...timing})
  const json = io.json || flags.format === 'json'
  // A plain resolve looks up the addresses of the first target it will print; --all, --check and --json need them all.
  const addresses = flags.all || flags.check === 'tcp' || json ? 'all' : 'first'
  const resolution = await resolveService(client, name, {txt: json, randomInt, addresses})
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
  if (flags.format === 'json' && !io.json) io.log(JSON.stringify(result, null, 2))
  else if (!io.json) {
    const scheme = flags.scheme ?? /^_([^.]+)\./.exec(serviceTypeOf(name) ?? name)?.[1] ?? 'http'
    const show = (e: Endpoint): string => (flags.format === 'url' ? `${scheme}://${e.target}:${e.port}/` : `${e.target}:${e.port}`)
    const list = flags.all && !checked ? resolution.order : [chosen]
    io.log(list.map(show).join('\n'))
  }
  return result
}

function targetName(arg: string | undefined, flags: {zone?: string; service?: string; pool?: string}): string {
  if (arg !== undefined) {
    // NAME wins over --zone/--service (which boot scripts may set through DNSSD_* for join).
    const name = normalizeName(arg)
    const labels = name.split('.')
    // eslint-disable-next-line no-control-regex
    if (labels.length < 2 || labels.some((l) => l.length === 0 || l.length > 63 || /[\u0000-\u0020\u007f-\u009f]/.test(l)) || name.length > 253) {
      throw new InputError('NAME', `"${arg}" is not a domain name such as _web._tcp.example.com (two or more labels of 1-63 characters, no spaces or control characters)`)
    }
    return name
  }
  if (flags.zone === undefined && flags.service === undefined) {
    throw new InputError('NAME', 'give a name to resolve (e.g. _web._tcp.example.com) or --zone and --service')
  }
  const zone = parseZone(flags.zone)
  const service = parseService(flags.service, zone)
  if (flags.pool !== undefined) {
    if (service.incarnation) throw new InputError('--pool', `--service ${service.relative} already names a pool`)
    const label = flags.pool.startsWith('_') ? flags.pool : `_${flags.pool}`
    if (!/^_[a-z0-9](?:[a-z0-9-]{0,60}[a-z0-9])?$/i.test(label)) throw new InputError('--pool', `"${flags.pool}" must be letters, digits and inner hyphens (e.g. v1)`)
    return `${label.toLowerCase()}.${service.type}.${zone}`
  }
  return `${service.relative}.${zone}`
}
