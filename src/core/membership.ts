/**
 * A membership: one host serving one service in one zone, with every name
 * derived as DESIGN §1 lays out. Built from raw flag values; every input is
 * validated here so commands and providers receive only good values.
 */
import {InputError} from './errors.js'
import {
  type Address,
  type ServiceName,
  hostLabelForAddress,
  parseAddress,
  parseHost,
  parsePort,
  parsePriority,
  parseRoundRobin,
  parseService,
  parseTtl,
  parseWeight,
  parseZone,
  relativeTo,
  wireLength,
} from './names.js'
import {formatTxt, parseTxtPairs} from './txt.js'

export interface MembershipInput {
  zone?: string
  service?: string
  port?: string | number
  ip?: string
  host?: string
  priority?: string | number
  weight?: string | number
  ttl?: string | number
  /** undefined: not given (a pool keeps its metadata); []: explicitly empty. */
  txt?: readonly string[]
  aRecord?: string
}

export interface Member {
  zone: string
  service: ServiceName
  /** `_web._tcp.example.com`: where the browse PTR lives. */
  serviceType: string
  /** `_v1._web._tcp.example.com` (pool) or `10-0-0-1._web._tcp.example.com` (plain). */
  instance: string
  /** Host name the SRV targets; carries the address record. */
  host: string
  address?: Address
  port?: number
  priority: number
  weight: number
  ttl: number
  /** TXT presentation form, undefined when no --txt was given. */
  txt?: string
  /** Round-robin address name (`www.example.com`). */
  aRecord?: string
}

export const DEFAULT_TTL = 60

/**
 * A member as the command edge can know it before any I/O: every given value
 * validated, the address possibly still `auto` (found by the app layer), so
 * the host name and the instance name may not be derived yet.
 */
export interface MemberSpec extends Omit<Member, 'host' | 'instance' | 'address' | 'port'> {
  port?: number
  /** `--host` as given, made absolute. */
  host?: string
  address?: Address | 'auto'
}

/**
 * Validate every given value (exit 2 on the first bad one). `join` needs a
 * port and an address (or `auto`); `leave` needs an address or a host.
 */
export function memberSpec(action: 'join' | 'leave', input: MembershipInput): MemberSpec {
  const zone = parseZone(input.zone)
  const service = parseService(input.service, zone)
  const auto = typeof input.ip === 'string' && input.ip.trim().toLowerCase() === 'auto'
  const address = input.ip === undefined || input.ip === '' ? undefined : auto ? 'auto' : parseAddress(input.ip)
  const spec: MemberSpec = {
    zone,
    service,
    serviceType: `${service.type}.${zone}`,
    address,
    priority: input.priority === undefined ? 0 : parsePriority(input.priority),
    weight: input.weight === undefined ? 0 : parseWeight(input.weight),
    ttl: input.ttl === undefined ? DEFAULT_TTL : parseTtl(input.ttl),
    txt: input.txt === undefined ? undefined : formatTxt(parseTxtPairs(input.txt)),
    aRecord: input.aRecord === undefined || input.aRecord === '' ? undefined : parseRoundRobin(input.aRecord, zone),
    host: input.host !== undefined && input.host !== '' ? parseHost(input.host, zone) : undefined,
  }
  if (action === 'join') {
    if (input.port === undefined || input.port === '') throw new InputError('--port', 'a port is required for join (1-65535)')
    if (!address) throw new InputError('--ip', 'an address is required for join (IPv4 or IPv6, or auto)')
  }
  if (input.port !== undefined && input.port !== '') spec.port = parsePort(input.port)
  if (!address && spec.host === undefined) throw new InputError('--ip', 'give the member address (--ip ADDR) or its host name (--host NAME)')
  // Derive the names now where nothing is left to find, so a bad one is refused before any I/O.
  if (address !== 'auto' || spec.host !== undefined) completeMember(spec, address === 'auto' ? undefined : address)
  return spec
}

/** The member with its address known: host and instance names derived. */
export function completeMember(spec: MemberSpec, address: Address | undefined): Member {
  const {host: givenHost, address: _given, ...common} = spec
  const host = givenHost ?? (address ? parseHost(hostLabelForAddress(address.address), spec.zone, '--ip') : undefined)
  if (host === undefined) throw new InputError('--ip', 'give the member address (--ip ADDR) or its host name (--host NAME)')
  return {...common, host, address, instance: instanceFor(spec.service, spec.zone, host)}
}

function instanceFor(service: ServiceName, zone: string, host: string): string {
  const serviceName = `${service.type}.${zone}`
  if (service.incarnation) return `${service.incarnation}.${serviceName}`
  // Plain RFC 6763 form: the instance label is the host's name within the zone.
  const label = relativeTo(host, zone).replaceAll('.', '-')
  if (label.length > 63) throw new InputError('--host', `instance label "${label}" would exceed 63 octets (RFC 6763 §4.1.1)`)
  const instance = `${label}.${serviceName}`
  if (wireLength(instance) > 255) throw new InputError('--host', `instance name "${instance}" exceeds 255 octets`)
  return instance
}

/** Everything `join` needs, from concrete values (a lease, a test): the address and the port are required. */
export function memberForJoin(input: MembershipInput): Member {
  const spec = memberSpec('join', input)
  if (spec.address === 'auto') throw new InputError('--ip', 'auto is resolved by the command, not here')
  return completeMember(spec, spec.address)
}

/** `leave` identifies the member by zone, service and host (or address). */
export function memberForLeave(input: MembershipInput): Member {
  const spec = memberSpec('leave', input)
  if (spec.address === 'auto') throw new InputError('--ip', 'auto is resolved by the command, not here')
  return completeMember(spec, spec.address)
}
