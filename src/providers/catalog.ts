/**
 * What each provider supports, and its settings schema (octoDNS's SUPPORTS
 * is the model). This file is light (no SDK): the command edge uses it to
 * refuse a flag the chosen provider does not support (exit 2, naming both)
 * and to turn the provider's own flags into typed settings, before any I/O.
 * The provider module itself is imported only by `open`.
 */
import {type Member} from '../core/membership.js'
import {InputError} from '../core/errors.js'
import {isPublicAddress, parseRoundRobin} from '../core/names.js'
import {DEFAULT_BATCH_SIZE, checkCloudflareTtl, parseBatchSize} from './cloudflare-records.js'
import {type DnsProvider, type ProviderKind, type ProviderOptions} from './provider.js'
import {type Rfc2136Settings} from './rfc2136-settings.js'

/** Provider-specific features, each named by the flag that asks for it. */
export type Feature =
  | 'data-dir'
  | 'zone-id'
  | 'api-token-file'
  | 'batch-size'
  | 'private'
  | 'public'
  | 'wait'
  | 'proxied'
  | 'ttl-auto'
  | 'server'
  | 'tsig-key-file'

/** The raw values of the provider flags, as the command edge has them. */
export interface ProviderFlags {
  provider?: string
  'data-dir'?: string
  'zone-id'?: string
  'api-token-file'?: string
  'batch-size'?: string
  private?: boolean
  public?: boolean
  wait?: boolean
  proxied?: boolean
  ttl?: string
  'a-record'?: string
  server?: string
  'tsig-key-file'?: string
}

export interface FileSettings {
  /** Directory of `<zone>.zone` files; undefined: the default data directory. */
  dataDir?: string
}

export interface Route53Settings {
  zoneId?: string
  visibility?: 'private' | 'public'
}

export interface CloudflareSettings {
  zoneId?: string
  apiTokenFile?: string
  /** The round-robin name to proxy (`--proxied` with `--a-record`). */
  proxiedName?: string
  /** Operations per batch request, guards included (`--batch-size`; the plan's limit). */
  batchSize: number
}

export interface SettingsByKind {
  file: FileSettings
  route53: Route53Settings
  cloudflare: CloudflareSettings
  rfc2136: Rfc2136Settings
}

/** A provider chosen and configured: what the app layer opens. */
export type ProviderChoice = {[K in ProviderKind]: {kind: K; settings: SettingsByKind[K]}}[ProviderKind]

export interface ProviderSpec<K extends ProviderKind> {
  kind: K
  supports: ReadonlySet<Feature>
  /** The provider's own flags as typed settings; bad values are InputError (exit 2). */
  settings(flags: ProviderFlags, zone: string | undefined): SettingsByKind[K] | Promise<SettingsByKind[K]>
  /** Checks that need the member with its address known (after `--ip auto`). */
  checkMember?(settings: SettingsByKind[K], member: Member): void
  open(options: ProviderOptions<SettingsByKind[K]>): Promise<DnsProvider>
}

const given = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim())

const FILE: ProviderSpec<'file'> = {
  kind: 'file',
  supports: new Set(['data-dir']),
  settings: (flags) => ({dataDir: given(flags['data-dir'])}),
  open: async (options) => new (await import('./file.js')).FileProvider(options),
}

const ROUTE53: ProviderSpec<'route53'> = {
  kind: 'route53',
  supports: new Set(['zone-id', 'private', 'public', 'wait']),
  settings(flags) {
    let zoneId: string | undefined
    const id = given(flags['zone-id'])
    if (id !== undefined) {
      zoneId = id.replace(/^\/?hostedzone\//, '')
      if (!/^[A-Z0-9]{1,32}$/.test(zoneId)) {
        throw new InputError('--zone-id', `"${id}" is not a Route 53 hosted zone id (upper-case letters and digits, e.g. Z0123456789ABCDEFGHIJ)`)
      }
    }
    if (flags.private === true && flags.public === true) throw new InputError('--private', 'give --private or --public, not both')
    return {zoneId, visibility: flags.private === true ? 'private' : flags.public === true ? 'public' : undefined}
  },
  open: async (options) => new (await import('./route53.js')).Route53Provider(options),
}

const CLOUDFLARE: ProviderSpec<'cloudflare'> = {
  kind: 'cloudflare',
  supports: new Set(['zone-id', 'api-token-file', 'batch-size', 'proxied', 'ttl-auto']),
  settings(flags, zone) {
    const zoneId = given(flags['zone-id'])
    if (zoneId !== undefined && !/^[0-9a-f]{32}$/.test(zoneId)) {
      throw new InputError('--zone-id', `"${zoneId}" is not a Cloudflare zone id (32 lower-case hex digits, shown on the zone's Overview page)`)
    }
    let proxiedName: string | undefined
    if (flags.proxied === true) {
      const rr = given(flags['a-record'])
      if (rr === undefined) throw new InputError('--proxied', 'proxies the round-robin name only; give --a-record NAME too')
      if (zone !== undefined) proxiedName = parseRoundRobin(rr, zone)
    }
    const size = given(flags['batch-size'])
    return {zoneId, apiTokenFile: given(flags['api-token-file']), proxiedName, batchSize: size === undefined ? DEFAULT_BATCH_SIZE : parseBatchSize(size)}
  },
  checkMember(settings, member) {
    const ttlProblem = checkCloudflareTtl(member.ttl)
    if (ttlProblem) throw new InputError('--ttl', ttlProblem)
    if (settings.proxiedName !== undefined && member.address && !isPublicAddress(member.address.address)) {
      throw new InputError('--proxied', `${member.address.address} is not a public address; Cloudflare proxies only A/AAAA records pointing at public addresses`)
    }
  },
  open: async (options) => new (await import('./cloudflare.js')).CloudflareProvider(options),
}

const RFC2136: ProviderSpec<'rfc2136'> = {
  kind: 'rfc2136',
  supports: new Set(['server', 'tsig-key-file']),
  // Loaded only for this provider: the key file reader brings node:crypto.
  settings: async (flags) => (await import('./rfc2136-settings.js')).parseRfc2136Settings({server: flags.server, 'tsig-key-file': flags['tsig-key-file']}),
  open: async (options) => new (await import('./rfc2136.js')).Rfc2136Provider(options),
}

export const PROVIDERS: {[K in ProviderKind]: ProviderSpec<K>} = {file: FILE, route53: ROUTE53, cloudflare: CLOUDFLARE, rfc2136: RFC2136}
export const PROVIDER_KINDS = Object.keys(PROVIDERS) as ProviderKind[]

/** The flags each feature is asked for with, for the refusal message. */
const FEATURE_FLAG: Record<Feature, string> = {
  'data-dir': '--data-dir',
  'zone-id': '--zone-id',
  'api-token-file': '--api-token-file',
  'batch-size': '--batch-size',
  private: '--private',
  public: '--public',
  wait: '--wait',
  proxied: '--proxied',
  'ttl-auto': '--ttl auto',
  server: '--server',
  'tsig-key-file': '--tsig-key-file',
}

function asked(flags: ProviderFlags): Feature[] {
  const out: Feature[] = []
  for (const f of ['data-dir', 'zone-id', 'api-token-file', 'batch-size', 'server', 'tsig-key-file'] as const) if (given(flags[f]) !== undefined) out.push(f)
  for (const f of ['private', 'public', 'wait', 'proxied'] as const) if (flags[f] === true) out.push(f)
  if (flags.ttl?.trim().toLowerCase() === 'auto') out.push('ttl-auto')
  return out
}

export function parseProviderKind(value: string | undefined): ProviderKind {
  const kind = (value ?? 'file').trim().toLowerCase()
  if (!(PROVIDER_KINDS as string[]).includes(kind)) {
    throw new InputError('--provider', `"${value}" is not a provider; use one of ${PROVIDER_KINDS.join(', ')}`)
  }
  return kind as ProviderKind
}

/**
 * The provider the flags choose, with typed settings. A provider-specific
 * flag that the provider does not support is bad input naming both, so a
 * boot script never believes `--wait` or `--zone-id` did something.
 */
export async function chooseProvider(flags: ProviderFlags, zone: string | undefined, opts: {lenient?: boolean} = {}): Promise<ProviderChoice> {
  const kind = parseProviderKind(flags.provider)
  const spec = PROVIDERS[kind] as ProviderSpec<ProviderKind>
  // lenient: flags meant for other providers are left aside (reap through the provider each lease names).
  for (const feature of opts.lenient ? [] : asked(flags)) {
    if (spec.supports.has(feature)) continue
    const others = PROVIDER_KINDS.filter((k) => PROVIDERS[k].supports.has(feature))
    throw new InputError(FEATURE_FLAG[feature], `is not supported by the ${kind} provider (only by ${others.join(', ')}); leave it out or choose --provider ${others[0]}`)
  }
  return {kind, settings: await spec.settings(flags, zone)} as ProviderChoice
}

export function supports(kind: ProviderKind, feature: Feature): boolean {
  return PROVIDERS[kind].supports.has(feature)
}

export function checkMemberFor(choice: ProviderChoice, member: Member): void {
  const spec = PROVIDERS[choice.kind] as ProviderSpec<ProviderKind>
  spec.checkMember?.(choice.settings as never, member)
}

export async function openProvider(choice: ProviderChoice, options: Omit<ProviderOptions<unknown>, 'settings'>): Promise<DnsProvider> {
  const spec = PROVIDERS[choice.kind] as ProviderSpec<ProviderKind>
  return spec.open({...options, settings: choice.settings as never})
}
