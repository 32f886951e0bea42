import {Flags} from '@oclif/core'
import {type ReapResult, reap} from '../app/reap.js'
import {DnssdCommand} from '../cli/base.js'
import {cloudflareWriteFlags, dryRunFlag, providerFlags, registryFlag, rfc2136Flags, serviceFlag, timeoutFlag, zoneFlag} from '../cli/flags.js'
import {renderReap} from '../cli/render.js'
import {reapRequest} from '../cli/requests.js'

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
    ...cloudflareWriteFlags,
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
    const result = await reap(await reapRequest(flags), this.appEnv(flags.verbose))
    this.print(renderReap(result))
    const failed = result.items.filter((i) => i.status === 'failed')
    if (failed.length > 0) {
      if (!this.jsonEnabled()) for (const f of failed) process.stderr.write(`dnssd: could not reap ${f.service} ${f.host}: ${f.error}\n`)
      process.exitCode = Math.max(...failed.map((f) => f.exitCode ?? 4))
    }
    return result
  }
}
