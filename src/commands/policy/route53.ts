import {Flags} from '@oclif/core'
import {DnssdCommand} from '../../cli/base.js'
import {providerFlags, zoneFlag} from '../../cli/flags.js'
import {InputError} from '../../core/errors.js'
import {parseZone} from '../../core/names.js'
import {type PolicyDocument, route53Policy} from '../../providers/route53-policy.js'

export default class PolicyRoute53 extends DnssdCommand {
  static override summary = 'Print the least-privilege IAM policy dnssd needs on one Route 53 hosted zone'
  static override description = `Prints an IAM policy document (JSON) that allows exactly what dnssd does:
list the zone's record sets, CREATE and DELETE (never UPSERT) A, AAAA, PTR,
SRV and TXT record sets whose names are the ones dnssd writes in --zone, and
poll GetChange for --wait. Attach it to the instance role of your fleet.
Without --zone the names cannot be pinned and only actions and types are.`

  static override examples = [
    '<%= config.bin %> policy route53 --zone-id Z0123456789ABCDEFGHIJ --zone example.com',
    '<%= config.bin %> policy route53 --zone-id Z0123456789ABCDEFGHIJ --zone example.com --service _v1._web._tcp --a-record www',
    '<%= config.bin %> policy route53 --zone-id Z0123456789ABCDEFGHIJ --zone example.com --host "web*" --by-name',
  ]

  static override flags = {
    'zone-id': providerFlags['zone-id'],
    zone: zoneFlag,
    service: Flags.string({char: 's', multiple: true, description: 'pin the service names (repeatable) [default: any _x._tcp/_x._udp]'}),
    host: Flags.string({multiple: true, description: 'host names or IAM patterns the SRV records target (repeatable) [default: *-*, the address-derived names]'}),
    'a-record': Flags.string({multiple: true, description: 'round-robin names joined with --a-record (repeatable)'}),
    'by-name': Flags.boolean({description: 'also allow ListHostedZonesByName (account-wide) for joins without --zone-id', default: false}),
    partition: Flags.string({description: 'AWS partition of the ARNs', options: ['aws', 'aws-cn', 'aws-us-gov'], default: 'aws'}),
  }

  async run(): Promise<PolicyDocument> {
    const {flags} = await this.parse(PolicyRoute53)
    const id = (flags['zone-id'] ?? '').trim().replace(/^\/?hostedzone\//, '')
    if (!/^[A-Z0-9]{1,32}$/.test(id)) throw new InputError('--zone-id', `${id === '' ? 'is required' : `"${flags['zone-id']}" is not a hosted zone id`} (e.g. Z0123456789ABCDEFGHIJ)`)
    const zone = flags.zone === undefined ? undefined : parseZone(flags.zone)
    if (!zone && (flags.service || flags.host || flags['a-record'])) throw new InputError('--zone', 'is needed to pin --service, --host or --a-record names')
    const policy = route53Policy({
      zoneId: id,
      zone,
      services: flags.service,
      hosts: flags.host,
      aRecords: flags['a-record'],
      byName: flags['by-name'],
      partition: flags.partition,
    })
    if (!this.jsonEnabled()) this.log(JSON.stringify(policy, null, 2))
    return policy
  }
}
