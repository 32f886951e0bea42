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

function buildCommon(input: MembershipInput): Omit<Member, 'host' | 'instance' | 'address' | 'port'> & {address?: Address} {
  const zone = parseZone(input.zone)
  const service = parseService(input.service, zone)
  const address = input.ip === undefined || input.ip === '' ? undefined : parseAddress(input.ip)
  return {
    zone,
    service,
    serviceType: `${service.type}.${zone}`,
    address,
    priority: input.priority === undefined ? 0 : parsePriority(input.priority),
    weight: input.weight === undefined ? 0 : parseWeight(input.weight),
    ttl: input.ttl === undefined ? DEFAULT_TTL : parseTtl(input.ttl),
    txt: input.txt === undefined ? undefined : formatTxt(parseTxtPairs(input.txt)),
    aRecord: input.aRecord === undefined || input.aRecord === '' ? undefined : parseRoundRobin(input.aRecord, zone),
  }
}

function hostFor(input: MembershipInput, zone: string, address: Address | undefined): string {
  if (input.host !== undefined && input.host !== '') return parseHost(input.host, zone)
  if (!address) throw new InputError('--ip', 'give the member address (--ip ADDR) or its host name (--host NAME)')
  return parseHost(hostLabelForAddress(address.address), zone, '--ip')
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

/** Everything `join` needs: the address and the port are required. */
export function memberForJoin(input: MembershipInput): Member {
  const common = buildCommon(input)
  if (input.port === undefined || input.port === '') throw new InputError('--port', 'a port is required for join (1-65535)')
  const port = parsePort(input.port)
  if (!common.address) throw new InputError('--ip', 'an address is required for join (IPv4 or IPv6)')
  const host = hostFor(input, common.zone, common.address)
  return {...common, host, port, instance: instanceFor(common.service, common.zone, host)}
}

/** `leave` identifies the member by zone, service and host (or address). */
export function memberForLeave(input: MembershipInput): Member {
  const common = buildCommon(input)
  const port = input.port === undefined || input.port === '' ? undefined : parsePort(input.port)
  const host = hostFor(input, common.zone, common.address)
  return {...common, host, port, instance: instanceFor(common.service, common.zone, host)}
}
