/**
 * The command edge: parsed flag values -> one typed request per command
 * (src/app/request.ts). Every value is checked here, before any I/O, so bad
 * input is exit 2 with nothing changed; the deadline (`--timeout`) starts
 * here, once. Nothing below this file sees a flag.
 */
import {type HealthGate, type LeaseRequest, type ListRequest, type MembershipRequest, type PendingMember, type ReapRequest, type SyncRequest} from '../app/request.js'
import {Deadline} from '../core/deadline.js'
import {InputError} from '../core/errors.js'
import {type Member, completeMember, memberSpec} from '../core/membership.js'
import {parseAddress, parseSeconds, parseService, parseZone} from '../core/names.js'
import {type ProviderFlags, checkMemberFor, chooseProvider, supports} from '../providers/catalog.js'
import {parseBatchSize} from '../providers/cloudflare-records.js'
import {type Registry, type RegistryOptions, parseRegistryUrl} from '../registry/registry.js'

export interface MembershipFlags extends ProviderFlags {
  zone?: string
  service?: string
  ip?: string
  'ip-source'?: string
  host?: string
  port?: string
  priority?: string
  weight?: string
  txt?: string[]
  jitter?: string
  timeout?: string
  'dry-run'?: boolean
  registry?: string
  lease?: string
  check?: string
  'check-timeout'?: string
}

const given = (v: string | undefined): v is string => v !== undefined && v !== ''

export function deadlineOf(timeout: string | undefined, fallback: number): Deadline {
  return new Deadline(timeout === undefined ? fallback : parseSeconds(timeout, '--timeout'))
}

/** `--jitter S`: a random 0..S seconds (0 or absent: none). */
export function jitterMs(value: string | undefined, random: () => number = Math.random): number {
  if (value === undefined || value.trim() === '' || /^0+(\.0+)?$/.test(value.trim())) return 0
  return Math.floor(random() * parseSeconds(value, '--jitter', 3600) * 1000)
}

export async function membershipRequest(action: 'join' | 'leave', flags: MembershipFlags): Promise<MembershipRequest> {
  const provider = await chooseProvider(flags, given(flags.zone) ? flags.zone : undefined)
  // `--ttl auto` is the provider's automatic TTL (Cloudflare stores it as 1); the catalog refused it elsewhere.
  const ttl = flags.ttl?.trim().toLowerCase() === 'auto' && supports(provider.kind, 'ttl-auto') ? '1' : flags.ttl
  const spec = memberSpec(action, {
    zone: flags.zone,
    service: flags.service,
    ip: flags.ip,
    host: flags.host,
    port: flags.port,
    priority: flags.priority,
    weight: flags.weight,
    ttl,
    txt: flags.txt,
    aRecord: flags['a-record'],
  })
  // --ip-source is checked even without --ip auto; the platform modules load only when either is given.
  const ipauto = spec.address === 'auto' || given(flags['ip-source']) ? await import('../platform/ipauto.js') : undefined
  const source = ipauto?.parseIpSource(flags['ip-source'])
  let member: Member | PendingMember
  if (spec.address === 'auto') {
    const resolveAutoAddress = ipauto!.resolveAutoAddress
    member = {
      pending: true,
      async find(log, timeoutMs) {
        const found = await resolveAutoAddress({source, log, timeoutMs})
        const complete = completeMember(spec, parseAddress(found.address))
        checkMemberFor(provider, complete)
        return {member: complete, from: found.from}
      },
    }
  } else {
    member = completeMember(spec, spec.address)
    checkMemberFor(provider, member)
  }
  return {
    action,
    member,
    gate: action === 'join' && given(flags.check) ? await healthGate(flags.check, flags['check-timeout']) : undefined,
    jitterMs: jitterMs(flags.jitter),
    dryRun: flags['dry-run'] === true,
    wait: flags.wait === true,
    deadline: deadlineOf(flags.timeout, action === 'join' ? 30 : 10),
    provider,
    lease: leaseRequest(action, flags),
  }
}

async function healthGate(check: string, timeout: string | undefined): Promise<HealthGate> {
  const {parseHealthTarget, waitHealthy} = await import('../platform/health.js')
  const target = parseHealthTarget(check)
  const seconds = parseSeconds(timeout ?? '60', '--check-timeout')
  return {wait: async (log) => void (await waitHealthy(target, seconds, log))}
}

function leaseRequest(action: 'join' | 'leave', flags: MembershipFlags): LeaseRequest | undefined {
  if (!given(flags.registry)) {
    if (action === 'join' && flags.lease !== undefined) throw new InputError('--lease', 'needs --registry URL (file:///dir or s3://bucket/prefix) to keep the lease in')
    return undefined
  }
  const location = parseRegistryUrl(flags.registry)
  const open = async (options: RegistryOptions): Promise<Registry> => (await import('../registry/open.js')).openRegistry(location, options)
  if (action === 'leave') return {open}
  if (!given(flags.lease)) {
    throw new InputError('--lease', 'join with --registry needs --lease SECONDS: how long the member stays without renewing (re-run join before it ends)')
  }
  return {open, seconds: parseSeconds(flags.lease, '--lease', 30 * 86_400), txt: flags.txt}
}

export interface ListFlags extends ProviderFlags {
  zone?: string
  service?: string
  timeout?: string
  registry?: string
}

export async function listRequest(flags: ListFlags): Promise<ListRequest> {
  const zone = parseZone(flags.zone)
  return {
    zone,
    serviceType: flags.service === undefined ? undefined : `${parseService(flags.service, zone).type}.${zone}`,
    deadline: deadlineOf(flags.timeout, 30),
    provider: await chooseProvider(flags, zone),
    registry: given(flags.registry) ? parseRegistryUrl(flags.registry) : undefined,
  }
}

export interface ReapFlags extends ProviderFlags {
  zone?: string
  service?: string
  registry?: string
  grace?: string
  timeout?: string
  'dry-run'?: boolean
}

export async function reapRequest(flags: ReapFlags): Promise<ReapRequest> {
  const zone = parseZone(flags.zone)
  const service = flags.service === undefined ? undefined : parseService(flags.service, zone).relative
  return {zone, service, ...(await zoneWideEdge('reap', zone, flags)), deadline: deadlineOf(flags.timeout, 60)}
}

/**
 * What reap and sync share: the registry, --grace, --dry-run and the
 * provider per lease. --provider takes every member through one provider:
 * its flags are checked now. Without it, each lease names its own provider,
 * and each takes the provider flags it supports.
 */
async function zoneWideEdge(
  command: string,
  zone: string,
  flags: ProviderFlags & {registry?: string; grace?: string; 'dry-run'?: boolean},
): Promise<Pick<ReapRequest, 'registry' | 'graceMs' | 'dryRun' | 'provider'>> {
  if (!given(flags.registry)) throw new InputError('--registry', `${command} needs the lease registry: file:///dir or s3://bucket/prefix (or DNSSD_REGISTRY)`)
  const registry = parseRegistryUrl(flags.registry)
  const grace = flags.grace === undefined || flags.grace === '0' ? 0 : parseSeconds(flags.grace, '--grace')
  const fixed = flags.provider === undefined ? undefined : await chooseProvider(flags, zone)
  // Without --provider, only Cloudflare leases use --batch-size: a bad value is still bad input now, not mid-cycle.
  if (fixed === undefined && given(flags['batch-size'])) parseBatchSize(flags['batch-size'])
  return {
    registry,
    graceMs: grace * 1000,
    dryRun: flags['dry-run'] === true,
    provider: async (kind) => fixed ?? chooseProvider({...flags, provider: kind}, zone, {lenient: true}),
  }
}

export interface SyncFlags extends ProviderFlags {
  zone?: string
  registry?: string
  grace?: string
  timeout?: string
  interval?: string
  once?: boolean
  'dry-run'?: boolean
}

export async function syncRequest(flags: SyncFlags): Promise<SyncRequest> {
  const zone = parseZone(flags.zone)
  return {
    zone,
    ...(await zoneWideEdge('sync', zone, flags)),
    timeoutSeconds: flags.timeout === undefined ? 60 : parseSeconds(flags.timeout, '--timeout'),
    intervalSeconds: flags.interval === undefined ? 30 : parseSeconds(flags.interval, '--interval', 86_400),
    once: flags.once === true,
  }
}
