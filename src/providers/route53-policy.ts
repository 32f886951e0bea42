/**
 * The least-privilege IAM policy for dnssd on one Route 53 hosted zone
 * (reference §8). Pure: builds the JSON document.
 *  - ListResourceRecordSets on the zone ARN (all dnssd reads);
 *  - ChangeResourceRecordSets on the zone ARN, limited by the multi-valued
 *    condition keys to CREATE/DELETE (dnssd never UPSERTs), the types it
 *    writes, and the names it writes (normalised: lower case, no trailing dot;
 *    IAM `*` patterns under StringLike where names are per host);
 *  - GetChange on change/* (ids are not known in advance; --wait);
 *  - ListHostedZonesByName (Resource "*", account-wide) only with --by-name.
 */
import {parseHost, parseRoundRobin, parseService} from '../core/names.js'
import {markerName, servicesName} from '../core/planner.js'

export interface PolicyInput {
  zoneId: string
  zone?: string
  services?: readonly string[]
  hosts?: readonly string[]
  aRecords?: readonly string[]
  byName?: boolean
  partition?: string
}

export interface PolicyDocument {
  Version: '2012-10-17'
  Statement: Record<string, unknown>[]
}

/** IAM normalised names: lower case, no dot, bytes outside a-z 0-9 - _ . * as \DDD octal. */
function normalised(name: string): string {
  return [...Buffer.from(name.toLowerCase(), 'utf8')]
    .map((b) => (/[a-z0-9_.*-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`))
    .join('')
}

/** The names dnssd writes in `zone`, as IAM StringLike patterns. */
export function writtenNames(input: PolicyInput): string[] {
  const zone = input.zone!
  const names = new Set<string>([servicesName(zone)])
  if (input.services && input.services.length > 0) {
    for (const s of input.services) {
      const svc = parseService(s, zone)
      names.add(`${svc.type}.${zone}`)
      // Pool form: one shared instance name; plain form: one instance per host.
      names.add(svc.incarnation ? `${svc.incarnation}.${svc.type}.${zone}` : `*.${svc.type}.${zone}`)
    }
  } else {
    names.add(`_*._tcp.${zone}`).add(`_*._udp.${zone}`).add(`*._tcp.${zone}`).add(`*._udp.${zone}`)
  }
  // Hosts default to the address with . or : as - (10-0-0-1, 2001-db8--1).
  const hosts = input.hosts && input.hosts.length > 0 ? input.hosts.map((h) => (h.includes('*') ? `${h.replace(/\.$/, '')}` : parseHost(h, zone))) : [`*-*`]
  for (const h of hosts) {
    const abs = h.endsWith(`.${zone}`) || h === zone ? h : `${h}.${zone}`
    names.add(abs)
    names.add(markerName(abs))
  }
  for (const rr of input.aRecords ?? []) names.add(parseRoundRobin(rr, zone))
  return [...names].map(normalised).sort()
}

export function route53Policy(input: PolicyInput): PolicyDocument {
  const arn = `arn:${input.partition ?? 'aws'}:route53:::`
  const zoneArn = `${arn}hostedzone/${input.zoneId}`
  const condition: Record<string, Record<string, string[]>> = {
    'ForAllValues:StringEquals': {
      'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'AAAA', 'PTR', 'SRV', 'TXT'],
      'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
    },
  }
  if (input.zone) condition['ForAllValues:StringLike'] = {'route53:ChangeResourceRecordSetsNormalizedRecordNames': writtenNames(input)}
  const statements: Record<string, unknown>[] = [
    {Sid: 'ReadZone', Effect: 'Allow', Action: ['route53:ListResourceRecordSets'], Resource: zoneArn},
    {Sid: 'WriteOwnRecords', Effect: 'Allow', Action: ['route53:ChangeResourceRecordSets'], Resource: zoneArn, Condition: condition},
    {Sid: 'PollChanges', Effect: 'Allow', Action: ['route53:GetChange'], Resource: `${arn}change/*`},
  ]
  if (input.byName) statements.push({Sid: 'FindZoneByName', Effect: 'Allow', Action: ['route53:ListHostedZonesByName'], Resource: '*'})
  return {Version: '2012-10-17', Statement: statements}
}
