import {type ListResult, list} from '../app/list.js'
import {DnssdCommand} from '../cli/base.js'
import {providerFlags, registryFlag, route53Flags, rfc2136Flags, serviceFlag, timeoutFlag, zoneFlag} from '../cli/flags.js'
import {renderList} from '../cli/render.js'
import {listRequest} from '../cli/requests.js'

export default class List extends DnssdCommand {
  static override summary = 'Show the services in a zone: types, instances, targets and TXT'
  static override description = `Reads the zone as a DNS-SD browser would: the _services._dns-sd._udp
enumeration and each service type's PTR set, then every instance's SRV
targets (priority, weight, port, addresses) and TXT attributes.`

  static override examples = [
    '<%= config.bin %> list --zone example.com',
    '<%= config.bin %> list --zone example.com --service _web._tcp',
    '<%= config.bin %> list --zone example.com --json',
    '<%= config.bin %> list --zone example.com --registry s3://my-bucket/dnssd',
  ]

  static override flags = {
    zone: zoneFlag,
    service: serviceFlag,
    ...providerFlags,
    timeout: timeoutFlag(30),
    ...route53Flags,
    ...rfc2136Flags,
    registry: registryFlag,
  }

  async run(): Promise<ListResult> {
    const {flags} = await this.parse(List)
    const result = await list(await listRequest(flags), this.appEnv(flags.verbose))
    this.print(await renderList(result))
    return result
  }
}
