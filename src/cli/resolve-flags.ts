/**
 * The flags of `dnssd resolve`, which the oclif command turns into oclif
 * flags, and their parsed shape (ResolveFlags) that runResolve takes. The
 * start-up fast path reads them from the oclif manifest like every other
 * command's (src/cli/fast-parse.ts).
 */
export interface FlagSpec {
  type: 'string' | 'boolean'
  description: string
  char?: string
  env?: string
  multiple?: boolean
  default?: string | boolean
  options?: string[]
}

export const RESOLVE_FLAGS = {
  zone: {type: 'string', char: 'z', env: 'DNSSD_ZONE', description: 'zone, with --service instead of NAME'},
  service: {type: 'string', char: 's', env: 'DNSSD_SERVICE', description: 'service (_web._tcp or _v1._web._tcp), with --zone'},
  pool: {type: 'string', description: 'pool label, with --service _web._tcp: v1 -> _v1._web._tcp.ZONE'},
  server: {
    type: 'string',
    env: 'DNSSD_SERVER',
    multiple: true,
    description: 'DNS server HOST[:PORT] or [IPv6]:PORT (repeatable) [default: nameservers of /etc/resolv.conf]',
  },
  doh: {type: 'string', env: 'DNSSD_DOH', description: 'ask this DNS-over-HTTPS endpoint (RFC 8484) instead of --server'},
  all: {type: 'boolean', char: 'a', default: false, description: 'print every usable endpoint in fail-over order'},
  format: {type: 'string', options: ['target', 'url', 'json'], default: 'target', description: 'output: TARGET:PORT, a URL, or JSON (same as --json)'},
  scheme: {type: 'string', description: 'URL scheme for --format url [default: the service name, e.g. http for _http._tcp]'},
  check: {type: 'string', options: ['tcp'], description: 'connect down the order and print the first endpoint that accepts'},
  'check-timeout': {type: 'string', default: '1', description: 'seconds to wait for each --check connection'},
  timeout: {type: 'string', env: 'DNSSD_TIMEOUT', default: '5', description: 'give up after this many seconds in total (exit 5)'},
  'try-timeout': {type: 'string', default: '1', description: 'seconds to wait for one answer before asking again or the next server'},
  retries: {type: 'string', default: '1', description: 'passes over the server list after the first'},
  verbose: {type: 'boolean', char: 'v', default: false, description: 'list every DNS query on stderr'},
} as const satisfies Record<string, FlagSpec>

export interface ResolveFlags {
  zone?: string
  service?: string
  pool?: string
  server?: string[]
  doh?: string
  all: boolean
  format: string
  scheme?: string
  check?: string
  'check-timeout': string
  timeout: string
  'try-timeout': string
  retries: string
  verbose: boolean
}
