import {Flags} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'
import {formatChange, openBackend} from '../cli/context.js'
import {dryRunFlag, providerFlags, registryFlag, rfc2136Flags, serviceFlag, timeoutFlag, zoneFlag} from '../cli/flags.js'
import {InputError} from '../core/errors.js'
import {parseSeconds, parseService, parseZone} from '../core/names.js'
import {type DnsProvider} from '../providers/provider.js'
import {type ReapResult, reap} from '../registry/reap.js'
import {openRegistry, parseRegistryUrl} from '../registry/registry.js'

export default class Reap extends DnssdCommand {
  static override summary = 'Remove members whose lease expired (instances that died without leave)'
  static override description = `Reads the leases of a zone from the registry that join --lease writes to. For
each lease past its expiry (plus --grace), removes that member's values exactly
as its own leave would, through the provider named in the lease, then deletes
the lease only if it is still the one read (a member that renewed meanwhile is
left alone, and put back if its values were already removed). Safe to run from
every instance at once: a second reaper finds nothing left to do.`

  static override examples = [
    '<%= config.bin %> reap --zone example.com --registry s3://my-bucket/dnssd',
    '<%= config.bin %> reap --zone example.com --service _v1._web._tcp --registry file:///var/lib/dnssd/leases --grace 30',
    '<%= config.bin %> reap --zone example.com --registry s3://my-bucket/dnssd --dry-run --json',
  ]

  static override flags = {
    zone: zoneFlag,
    service: serviceFlag,
    registry: registryFlag,
    grace: Flags.string({env: 'DNSSD_GRACE', description: 'reap only leases expired for longer than this many seconds', default: '0', helpGroup: 'LEASE'}),
    ...providerFlags,
    ...rfc2136Flags,
    provider: Flags.string({
      env: 'DNSSD_PROVIDER',
      description: 'remove through this provider instead of the one named in each lease',
      options: providerFlags.provider.options,
      helpGroup: 'BACKEND',
    }),
    timeout: timeoutFlag(60),
    'dry-run': dryRunFlag,
  }

  async run(): Promise<ReapResult> {
    const {flags} = await this.parse(Reap)
    const zone = parseZone(flags.zone)
    const service = flags.service === undefined ? undefined : parseService(flags.service, zone).relative
    if (!flags.registry) throw new InputError('--registry', 'reap needs the lease registry: file:///dir or s3://bucket/prefix (or DNSSD_REGISTRY)')
    const location = parseRegistryUrl(flags.registry)
    const grace = flags.grace === '0' ? 0 : parseSeconds(flags.grace, '--grace')
    const log = this.verboseLogger(flags.verbose)
    const deadline = Date.now() + parseSeconds(flags.timeout, '--timeout') * 1000
    // One provider per kind named in the leases, opened on first use.
    const providers = new Map<string, Promise<{provider: DnsProvider}>>()
    const providerFor = async (kind: string): Promise<DnsProvider> => {
      const chosen = flags.provider ?? kind
      if (!providers.has(chosen)) providers.set(chosen, openBackend({...flags, provider: chosen}, log))
      return (await providers.get(chosen)!).provider
    }
    const registry = await openRegistry(location, {deadline, log})
    let result: ReapResult
    try {
      result = await reap({zone, service, registry, graceMs: grace * 1000, dryRun: flags['dry-run'], provider: providerFor, log})
    } finally {
      await registry.close()
      for (const p of providers.values()) await p.then((b) => b.provider.close()).catch(() => undefined)
    }
    const failed = result.items.filter((i) => i.status === 'failed')
    if (!this.jsonEnabled()) this.renderText(result)
    if (failed.length > 0) {
      if (!this.jsonEnabled()) for (const f of failed) process.stderr.write(`dnssd: could not reap ${f.service} ${f.host}: ${f.error}\n`)
      process.exitCode = Math.max(...failed.map((f) => (/deadline/.test(f.error ?? '') ? 5 : 4)))
    }
    return result
  }

  private renderText(r: ReapResult): void {
    for (const i of r.items) {
      const verb = {removed: 'removed', 'already-gone': 'already gone', renewed: 'renewed during reap, kept', 'would-remove': 'would remove', failed: 'FAILED'}[i.status]
      this.log(`${verb}: ${i.service} ${i.host} (lease expired ${i.expiresAt}, ${i.provider} provider, ${i.changes.length} change(s), lease ${i.lease})`)
      for (const c of i.changes) this.log(`  ${formatChange(c)}`)
      for (const c of i.restored ?? []) this.log(`  restored ${formatChange(c)}`)
    }
    const what = r.dryRun ? 'would reap' : 'reaped'
    this.log(`${what} ${r.dryRun ? r.expired : r.removed} of ${r.expired} expired member(s); ${r.leases} lease(s) in ${r.registry} for ${r.zone} (${r.elapsedMs} ms)`)
  }
}
