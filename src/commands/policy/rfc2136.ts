import {Flags} from '@oclif/core'
import {DnssdCommand} from '../../cli/base.js'
import {rfc2136Flags, zoneFlag} from '../../cli/flags.js'
import {InputError} from '../../core/errors.js'
import {parseZone} from '../../core/names.js'
import {type PolicyServer, rfc2136Policy} from '../../providers/rfc2136-policy.js'

export default class PolicyRfc2136 extends DnssdCommand {
  static override summary = "Print the primary's grant for dnssd's TSIG key (BIND update-policy or Knot ACL)"
  static override description = `Prints the configuration a self-hosted primary needs so that dnssd's key
may change only what dnssd writes in --zone: A/AAAA/TXT below the zone
(hosts, --a-record names, _dnssd markers), SRV/TXT/PTR under _tcp and _udp
service names, the _services._dns-sd._udp PTR; and transfer the zone, which
the rfc2136 provider reads by AXFR. The key's name comes from
--tsig-key-file (its secret is never printed) or --key-name.`

  static override examples = [
    '<%= config.bin %> policy rfc2136 --zone example.com --tsig-key-file /etc/dnssd/dnssd.key',
    '<%= config.bin %> policy rfc2136 --zone example.com --key-name dnssd --server-type knot',
  ]

  static override enableJsonFlag = false

  static override flags = {
    zone: zoneFlag,
    'tsig-key-file': rfc2136Flags['tsig-key-file'],
    'key-name': Flags.string({description: 'name of the TSIG key, when there is no key file to read it from'}),
    'server-type': Flags.string({description: 'the primary\'s software', options: ['bind', 'knot'], default: 'bind'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(PolicyRfc2136)
    if (flags.zone === undefined) throw new InputError('--zone', 'is required (the zone dnssd writes in)')
    const zone = parseZone(flags.zone)
    let keyName = flags['key-name']?.trim().toLowerCase()
    let algorithm = 'hmac-sha256'
    if (flags['tsig-key-file']) {
      const {readKeyFile} = await import('../../dns/tsig.js')
      const [key] = readKeyFile(flags['tsig-key-file'], '--tsig-key-file')
      keyName = key!.name
      algorithm = key!.algorithm
    }
    if (!keyName) throw new InputError('--tsig-key-file', 'or --key-name is required: the policy names the key')
    if (!/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/.test(keyName)) throw new InputError('--key-name', `"${keyName}" is not a key name (letters, digits, ".", "_", "-")`)
    this.log(rfc2136Policy({zone, keyName, algorithm}, flags['server-type'] as PolicyServer, flags['tsig-key-file']).trimEnd())
  }
}
