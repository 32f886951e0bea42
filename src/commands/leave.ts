import {type MembershipResult, leave} from '../app/membership.js'
import {DnssdCommand} from '../cli/base.js'
import {cloudflareWriteFlags, dryRunFlag, identityFlags, portFlag, providerFlags, recordFlags, registryFlag, route53Flags, rfc2136Flags, timeoutFlag, waitFlag} from '../cli/flags.js'
import {renderMembership} from '../cli/render.js'
import {membershipRequest} from '../cli/requests.js'

export default class Leave extends DnssdCommand {
  static override summary = 'Withdraw this instance: remove exactly the records its join added'
  static override description = `Removes this member's SRV value, then whatever became empty (the TXT and PTR
when it was the last member, the service-type entry when it was the last
instance) and finally its address, unless the host still serves another
service. Values dnssd did not write are never removed. Leaving when not a
member succeeds with a note, so shutdown scripts can always run it.

With --registry the leave first writes a tombstone there (one conditional
write) and succeeds once it is written: the removal itself is applied by this
member or by whichever member applies the zone's intents next (or dnssd sync),
so a fleet shutting down at once fits in a few seconds.`

  static override examples = [
    '<%= config.bin %> leave --zone example.com --service _v1._web._tcp --ip 10.0.0.1',
    '<%= config.bin %> leave -z example.com -s _http._tcp --host web1 --timeout 5',
    '<%= config.bin %> leave -z example.com -s _v1._web._tcp --ip 10.0.0.1 --dry-run --json',
    '<%= config.bin %> leave -z example.com -s _v1._web._tcp --ip 10.0.0.1 --registry s3://my-bucket/dnssd --timeout 5',
  ]

  static override flags = {
    ...identityFlags,
    ...recordFlags,
    port: portFlag('accepted so boot scripts can pass the same flags; leave reads the port from what join wrote'),
    ...providerFlags,
    timeout: timeoutFlag(10),
    'dry-run': dryRunFlag,
    ...route53Flags,
    ...rfc2136Flags,
    ...cloudflareWriteFlags,
    wait: waitFlag,
    registry: registryFlag,
  }

  async run(): Promise<MembershipResult> {
    const {flags} = await this.parse(Leave)
    const result = await leave(await membershipRequest('leave', flags), this.appEnv(flags.verbose))
    this.print(renderMembership(result))
    return result
  }
}
