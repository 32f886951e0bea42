import {Flags} from '@oclif/core'
import {type SyncCycle, syncLoop, syncOnce} from '../app/sync.js'
import {DnssdCommand} from '../cli/base.js'
import {cloudflareWriteFlags, dryRunFlag, providerFlags, registryFlag, rfc2136Flags, timeoutFlag, zoneFlag} from '../cli/flags.js'
import {renderSync} from '../cli/render.js'
import {syncRequest} from '../cli/requests.js'

export default class Sync extends DnssdCommand {
  static override summary = 'Apply the registry to DNS: pending joins and leaves, expired leases, lost values'
  static override description = `The one-writer mode. Members that join or leave with --registry record their
intent there; sync applies every pending intent of the zone in one combined
change per provider (as few API calls as the provider's limits allow), removes
members whose lease expired (what reap does), and puts back values of live
members that went missing from DNS. It holds the zone's apply lease in the
registry while it works, so it never races the members' own applies.

Runs a cycle every --interval seconds until interrupted; --once runs one cycle
and exits with its result. --json prints one JSON object per cycle.`

  static override examples = [
    '<%= config.bin %> sync --zone example.com --registry s3://my-bucket/dnssd --provider route53 --once',
    '<%= config.bin %> sync --zone example.com --registry file:///var/lib/dnssd/leases --interval 15',
    '<%= config.bin %> sync --zone example.com --registry s3://my-bucket/dnssd --dry-run --once --json',
  ]

  static override flags = {
    zone: zoneFlag,
    registry: registryFlag,
    once: Flags.boolean({description: 'run one cycle and exit', default: false}),
    interval: Flags.string({env: 'DNSSD_INTERVAL', description: 'seconds between cycles (without --once)', default: '30'}),
    grace: Flags.string({env: 'DNSSD_GRACE', description: 'remove only leases expired for longer than this many seconds', default: '0', helpGroup: 'LEASE'}),
    ...providerFlags,
    ...rfc2136Flags,
    ...cloudflareWriteFlags,
    provider: Flags.string({
      env: 'DNSSD_PROVIDER',
      description: 'apply through this provider instead of the one named in each lease',
      options: providerFlags.provider.options,
      helpGroup: 'BACKEND',
    }),
    timeout: timeoutFlag(60),
    'dry-run': dryRunFlag,
  }

  async run(): Promise<SyncCycle | undefined> {
    const {flags} = await this.parse(Sync)
    const request = await syncRequest(flags)
    const env = this.appEnv(flags.verbose)
    if (request.once) {
      const result = await syncOnce(request, env)
      this.print(renderSync(result))
      return result
    }
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    await syncLoop(
      request,
      env,
      (result) => {
        if ('error' in result) {
          if (this.jsonEnabled()) printJsonLine({cycle: result.cycle, error: result.error})
          else process.stderr.write(`dnssd: sync cycle ${result.cycle} failed: ${result.error.message}\n`)
          return
        }
        if (this.jsonEnabled()) printJsonLine(result)
        else for (const line of renderSync(result)) this.log(line)
      },
      stop.signal,
    )
    return undefined
  }
}

/** In the loop, one JSON object per line, so a reader can follow the stream. */
function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}
