import {Args, Flags, type Interfaces} from '@oclif/core'
import {DnssdCommand} from '../cli/base.js'
import {type FlagSpec, RESOLVE_FLAGS, type ResolveFlags} from '../cli/resolve-flags.js'
import {type ResolveResult, runResolve} from '../cli/resolve-run.js'

function oclifFlag(spec: FlagSpec) {
  const common = {description: spec.description, env: spec.env, char: spec.char as 'a' | undefined}
  if (spec.type === 'boolean') return Flags.boolean({...common, default: spec.default as boolean | undefined})
  if (spec.multiple) return Flags.string({...common, multiple: true})
  return Flags.string({...common, options: spec.options, default: spec.default as string | undefined})
}

export default class Resolve extends DnssdCommand {
  static override summary = 'Find a live endpoint of a service: browse, SRV, RFC 2782 order'
  static override description = `Browses _svc._tcp.ZONE (PTR -> instances) or looks up an instance or pool
name (_v1._svc._tcp.ZONE) directly, then orders the SRV targets as RFC 2782
says: lowest priority first; within a priority a weighted random order in
which a target of weight w comes first with probability exactly w/W (W the
group's total weight; weight-0 targets only after all positive ones, in
random order). A lone "." target means the service is not available (exit 3).

Queries go through node's resolver (c-ares): UDP, again over TCP when the
answer is truncated, to the --server list or the nameservers of
/etc/resolv.conf; or to a DNS-over-HTTPS endpoint (RFC 8484) with --doh,
whose additional records are used. Addresses are asked only for the
targets printed: the first in order, or all with --all, --check or --json.`

  static override examples = [
    '<%= config.bin %> resolve _web._tcp.example.com --server 127.0.0.1:5353',
    '<%= config.bin %> resolve _v1._api._tcp.example.com --all',
    '<%= config.bin %> resolve --zone example.com --service _api._tcp --pool v1 --format url --scheme http',
    '<%= config.bin %> resolve _web._tcp.example.com --check tcp',
  ]

  static override args = {
    name: Args.string({description: 'service to browse (_web._tcp.example.com) or instance/pool name (_v1._web._tcp.example.com)'}),
  }

  static override flags: Interfaces.FlagInput = Object.fromEntries(Object.entries(RESOLVE_FLAGS).map(([k, spec]) => [k, oclifFlag(spec)]))

  async run(): Promise<ResolveResult> {
    const {args, flags} = await this.parse(Resolve)
    return runResolve(args.name, flags as unknown as ResolveFlags, {
      log: (line) => this.log(line),
      verbose: this.verboseLogger(Boolean(flags.verbose)),
      json: this.jsonEnabled(),
    })
  }
}
