import {DnssdCommand} from '../cli/base.js'
import {type MembershipResult, runMembership} from '../cli/context.js'
import {dryRunFlag, identityFlags, portFlag, providerFlags, recordFlags, registryFlag, route53Flags, timeoutFlag, waitFlag} from '../cli/flags.js'
import {renderMembership} from '../cli/membership-render.js'

export default class Leave extends DnssdCommand {
  static override summary = 'Withdraw this instance: remove exactly the records its join added'
  static override description = `Removes this member's SRV value, then whatever became empty (the TXT and PTR
when it was the last member, the service-type entry when it was the last
instance) and finally its address, unless the host still serves another
service. Values dnssd did not write are never removed. Leaving when not a
member succeeds with a note, so shutdown scripts can always run it.`

  static override examples = [
    '<%= config.bin %> leave --zone example.com --service _v1._web._tcp --ip 10.0.0.1',
    '<%= config.bin %> leave -z example.com -s _http._tcp --host web1 --timeout 5',
    '<%= config.bin %> leave -z example.com -s _v1._web._tcp --ip 10.0.0.1 --dry-run --json',
  ]

  static override flags = {
    ...identityFlags,
    ...recordFlags,
    port: portFlag('accepted so boot scripts can pass the same flags; leave reads the port from what join wrote'),
    ...providerFlags,
    timeout: timeoutFlag(10),
    'dry-run': dryRunFlag,
    ...route53Flags,
    wait: waitFlag,
    registry: registryFlag,
  }

  async run(): Promise<MembershipResult> {
    const {flags} = await this.parse(Leave)
    const result = await runMembership('leave', flags, this.verboseLogger(flags.verbose))
    renderMembership(this, result)
    return result
  }
}
