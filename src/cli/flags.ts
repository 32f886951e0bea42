/**
 * Flags shared by commands. Every flag a boot script sets also reads an
 * environment variable (DNSSD_*). Numbers are taken as strings and checked by
 * the core, so every bad value gets the same one-line message and exit 2.
 */
import {Flags} from '@oclif/core'

export const zoneFlag = Flags.string({char: 'z', env: 'DNSSD_ZONE', description: 'DNS zone the service lives in (e.g. example.com)', helpGroup: 'IDENTITY'})

export const serviceFlag = Flags.string({
  char: 's',
  env: 'DNSSD_SERVICE',
  description: 'service: _v1._web._tcp (a pool sharing one SRV set) or _web._tcp (one RFC 6763 instance per host)',
  helpGroup: 'IDENTITY',
})

export const identityFlags = {
  zone: zoneFlag,
  service: serviceFlag,
  ip: Flags.string({
    env: 'DNSSD_IP',
    description: 'address of this member (IPv4 or IPv6), or auto: EC2 IMDSv2, Joyent mdata-get, else the default-route interface',
    helpGroup: 'IDENTITY',
  }),
  'ip-source': Flags.string({
    env: 'DNSSD_IP_SOURCE',
    description: 'with --ip auto: public or private address [default: public when the instance has one]',
    helpGroup: 'IDENTITY',
  }),
  host: Flags.string({
    env: 'DNSSD_HOST',
    description: 'host name the SRV record targets (relative to the zone unless it ends with it) [default: the address with . or : as -]',
    helpGroup: 'IDENTITY',
  }),
}

export const portFlag = (description = 'port the service listens on (1-65535)') =>
  Flags.string({char: 'p', env: 'DNSSD_PORT', description, helpGroup: 'RECORD'})

export const timeoutFlag = (seconds: number) =>
  Flags.string({env: 'DNSSD_TIMEOUT', description: 'give up after this many seconds (exit 5)', default: String(seconds), helpGroup: 'BACKEND'})

export const recordFlags = {
  priority: Flags.string({env: 'DNSSD_PRIORITY', description: 'SRV priority, lower is preferred (0-65535)', default: '0', helpGroup: 'RECORD'}),
  weight: Flags.string({env: 'DNSSD_WEIGHT', description: 'SRV weight within a priority (0-65535)', default: '0', helpGroup: 'RECORD'}),
  ttl: Flags.string({env: 'DNSSD_TTL', description: 'TTL of the records written, seconds (cloudflare also takes auto)', default: '60', helpGroup: 'RECORD'}),
  txt: Flags.string({
    env: 'DNSSD_TXT',
    multiple: true,
    description: 'TXT attribute key=value or boolean key (repeatable; RFC 6763 §6)',
    helpGroup: 'RECORD',
  }),
  'a-record': Flags.string({env: 'DNSSD_A_RECORD', description: 'also add the address to this round-robin name (e.g. www)', helpGroup: 'RECORD'}),
  proxied: Flags.boolean({env: 'DNSSD_PROXIED', description: 'cloudflare: proxy the --a-record name through Cloudflare (public addresses only)', helpGroup: 'RECORD'}),
  jitter: Flags.string({env: 'DNSSD_JITTER', description: 'wait a random 0..S seconds before the first API call (fleet boot; --timeout starts after it)', helpGroup: 'BACKEND'}),
}

export const providerFlags = {
  provider: Flags.string({
    env: 'DNSSD_PROVIDER',
    description: 'where the records live',
    options: ['file', 'route53', 'cloudflare', 'rfc2136'],
    default: 'file',
    helpGroup: 'BACKEND',
  }),
  'data-dir': Flags.string({
    env: 'DNSSD_DATA_DIR',
    description: 'file provider: directory of <zone>.zone files [default: $XDG_DATA_HOME/dnssd or ~/.local/share/dnssd]',
    helpGroup: 'BACKEND',
  }),
  'zone-id': Flags.string({
    env: 'DNSSD_ZONE_ID',
    description:
      'route53: hosted zone id (saves the ListHostedZonesByName call and its account-wide permission); cloudflare: zone id (skips the lookup by --zone; the token then needs only DNS:Edit)',
    helpGroup: 'BACKEND',
  }),
  'api-token-file': Flags.string({
    env: 'DNSSD_API_TOKEN_FILE',
    description: 'cloudflare: file holding the API token [default: $CLOUDFLARE_API_TOKEN]',
    helpGroup: 'BACKEND',
  }),
  verbose: Flags.boolean({char: 'v', description: 'list every API call and step on stderr', default: false}),
}

/** Cloudflare provider settings for the commands that write (passed to the provider by flag name). */
export const cloudflareWriteFlags = {
  'batch-size': Flags.string({
    env: 'DNSSD_BATCH_SIZE',
    description:
      'cloudflare: operations per batch request, compare-and-swap guards included (5-3500; the Free plan allows 200, paid plans 3,500); a larger change is sent as several batches in order [default: 200]',
    helpGroup: 'CLOUDFLARE',
  }),
}

export const dryRunFlag = Flags.boolean({char: 'n', description: 'print the planned changes and change nothing', default: false})

/** Route 53 provider settings (passed to the provider by flag name). */
export const route53Flags = {
  private: Flags.boolean({description: 'route53: use the private hosted zone of --zone', exclusive: ['public'], default: false, helpGroup: 'ROUTE 53'}),
  public: Flags.boolean({description: 'route53: use the public hosted zone of --zone', exclusive: ['private'], default: false, helpGroup: 'ROUTE 53'}),
}

/** RFC 2136 provider settings (passed to the provider by flag name; checked by providers/rfc2136-settings). */
export const rfc2136Flags = {
  server: Flags.string({
    env: 'DNSSD_SERVER',
    description: 'rfc2136: the primary to send dynamic updates to, HOST[:PORT] (port 53 by default)',
    helpGroup: 'RFC 2136',
  }),
  'tsig-key-file': Flags.string({
    env: 'DNSSD_TSIG_KEY_FILE',
    description: 'rfc2136: TSIG key file as tsig-keygen writes it (key "name" { algorithm hmac-sha256; secret "..."; };)',
    helpGroup: 'RFC 2136',
  }),
}

export const waitFlag = Flags.boolean({
  env: 'DNSSD_WAIT',
  description: 'route53: wait until the change is INSYNC on every Route 53 name server (raise --timeout: it usually takes under 60 s)',
  default: false,
  helpGroup: 'ROUTE 53',
})
export const registryFlag = Flags.string({
  env: 'DNSSD_REGISTRY',
  description: 'lease registry: file:///dir (local directory) or s3://bucket/prefix (endpoint from AWS_ENDPOINT_URL_S3); join and leave record their intent there and one member at a time applies every pending intent of the zone',
  helpGroup: 'LEASE',
})

export const leaseFlag = Flags.string({
  env: 'DNSSD_LEASE',
  description: 'with --registry: write or renew this member\'s lease for this many seconds after joining (re-run join before it ends)',
  helpGroup: 'LEASE',
})

export const checkFlags = {
  check: Flags.string({
    env: 'DNSSD_CHECK',
    description: 'register only once this answers: http(s)://HOST:PORT/PATH (2xx/3xx) or tcp://HOST:PORT (accepts)',
    helpGroup: 'HEALTH',
  }),
  'check-timeout': Flags.string({
    env: 'DNSSD_CHECK_TIMEOUT',
    description: 'seconds to wait for --check before giving up with exit 5 (nothing registered)',
    default: '60',
    helpGroup: 'HEALTH',
  }),
}
