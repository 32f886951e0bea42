import {join} from '../app/membership.js'
import {type MembershipResult} from '../app/membership.js'
import {DnssdCommand} from '../cli/base.js'
import {cloudflareWriteFlags, checkFlags, dryRunFlag, identityFlags, leaseFlag, portFlag, providerFlags, recordFlags, registryFlag, route53Flags, rfc2136Flags, timeoutFlag, waitFlag} from '../cli/flags.js'
import {renderMembership} from '../cli/render.js'
import {membershipRequest} from '../cli/requests.js'

export default class Join extends DnssdCommand {
  static override summary = 'Announce this instance: add its SRV, TXT, PTR and address records'
  static override description = `Writes the RFC 6763 records for one member of a service (DESIGN §1): the host's
address record, the SRV (and TXT) at the instance name, the browse PTR and the
service-type enumeration entry, in that order. Running join again changes
nothing (a timer may simply re-run it); changed flags update the member.

With --registry the join first records its intent there (its lease), then
takes the zone's apply lease and applies every pending intent of the zone in
one change, or waits, reading the registry, until another member's apply
included it: a fleet joining at once costs a few API calls, not thousands.`

  static override examples = [
    '<%= config.bin %> join --zone example.com --service _v1._web._tcp --port 8080 --ip 10.0.0.1',
    '<%= config.bin %> join -z example.com -s _http._tcp -p 80 --ip 2001:db8::7 --txt path=/ --txt tls',
    '<%= config.bin %> join -z example.com -s _v1._api._tcp -p 9000 --ip 10.0.0.2 --a-record api --dry-run',
    '<%= config.bin %> join -z example.com -s _v1._web._tcp -p 8080 --ip auto --check http://127.0.0.1:8080/health',
    'DNSSD_ZONE=example.com DNSSD_SERVICE=_v1._web._tcp DNSSD_PORT=8080 DNSSD_IP=10.0.0.3 <%= config.bin %> join --json',
    '<%= config.bin %> join -z example.com -s _v1._web._tcp -p 8080 --ip 10.0.0.1 --registry s3://my-bucket/dnssd --lease 300',
  ]

  static override flags = {
    ...identityFlags,
    port: portFlag(),
    ...recordFlags,
    ...providerFlags,
    timeout: timeoutFlag(30),
    'dry-run': dryRunFlag,
    ...route53Flags,
    ...rfc2136Flags,
    ...cloudflareWriteFlags,
    wait: waitFlag,
    registry: registryFlag,
    lease: leaseFlag,
    ...checkFlags,
  }

  async run(): Promise<MembershipResult> {
    const {flags} = await this.parse(Join)
    const result = await join(await membershipRequest('join', flags), this.appEnv(flags.verbose))
    this.print(renderMembership(result))
    return result
  }
}
