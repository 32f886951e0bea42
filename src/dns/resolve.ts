/**
 * DNS-SD resolution (DESIGN §5): browse `_svc._proto.Z` (PTR -> instances,
 * asked together with an SRV at the same name, which a plain RFC 2782 name
 * such as `_ldap._tcp.Z` has instead) or take an instance/pool name
 * directly, then SRV (+TXT when asked); the SRV targets are put in RFC 2782
 * order and only then are addresses looked up: for the first target alone
 * on a plain resolve, for all of them, in parallel, when every endpoint is
 * wanted. Records in the additional section are used as they are (RFC 6763
 * §12) when the source gives them: DoH does; node's resolver, which asks
 * classic DNS (src/dns/ares.ts), gives the answer section only.
 * The ordering itself is the pure RFC 2782 function in core/selection.ts.
 */
import {NoInstanceError} from '../core/errors.js'
import {normalizeName, serviceTypeOf} from '../core/names.js'
import {type RandomInt, isNoServiceTarget, orderByPriorityWeight} from '../core/selection.js'
import {formatTxt, txtToAttributes} from '../core/txt.js'
import {type DnsSource, DnsLookupError, type SourceAnswer} from './client.js'
import {type QueryType, type Rr} from './wire.js'

/** Queries in flight at once within one round. */
const MAX_PARALLEL = 32

export interface Endpoint {
  instance: string
  /** Lower-case, no trailing dot. */
  target: string
  port: number
  priority: number
  weight: number
  addresses: string[]
}

export interface Instance {
  name: string
  srv: {priority: number; weight: number; port: number; target: string}[]
  txt?: {strings: string; attributes: Record<string, string | true>}
}

export interface Resolution {
  name: string
  kind: 'browse' | 'instance'
  instances: Instance[]
  /** Usable endpoints in fail-over order (RFC 2782). */
  order: Endpoint[]
  /** DNS exchanges sent, and sequential rounds of them. */
  queries: number
  rounds: number
  transport: string[]
  notes: string[]
}

/** `_svc._tcp.Z` / `_svc._udp.Z` is browsed; anything else is an instance (or pool) name. */
export function isBrowseName(name: string): boolean {
  const n = normalizeName(name)
  return n.split('.').length >= 3 && serviceTypeOf(n) === n
}

class Records {
  private readonly sets = new Map<string, Rr[]>()
  /** Names known not to exist, or to have no data of a type. */
  private readonly negative = new Set<string>()
  /** Names a server answered NXDOMAIN for. */
  readonly nxdomain = new Set<string>()

  add(response: SourceAnswer): void {
    for (const r of [...response.answers, ...response.additionals]) {
      const k = `${r.name}/${r.type}`
      const list = this.sets.get(k)
      if (!list) this.sets.set(k, [r])
      else if (!list.some((x) => JSON.stringify(x.data) === JSON.stringify(r.data))) list.push(r)
    }
  }

  markMissing(name: string, type: string): void {
    this.negative.add(`${name}/${type}`)
  }

  get<T extends Rr['type']>(name: string, type: T): Extract<Rr, {type: T}>[] | undefined {
    if (this.negative.has(`${name}/${type}`)) return []
    return this.sets.get(`${name}/${type}`) as Extract<Rr, {type: T}>[] | undefined
  }
}

export interface ResolveOptions {
  /** Fetch TXT records too (for --json). */
  txt: boolean
  randomInt: RandomInt
  /**
   * Which targets' addresses to look up: `first` goes down the RFC 2782
   * order and stops at the first target with an address (a plain resolve);
   * `all` looks up every target, in order and in parallel (--all, --check,
   * --json). Addresses the server already sent are never asked for.
   */
  addresses?: 'first' | 'all'
}

type Candidate = Omit<Endpoint, 'addresses'>

export async function resolveService(client: DnsSource, input: string, options: ResolveOptions): Promise<Resolution> {
  const name = normalizeName(input)
  let kind: Resolution['kind'] = isBrowseName(name) ? 'browse' : 'instance'
  const records = new Records()
  const notes: string[] = []
  const transports = new Set<string>()
  let rounds = 0

  /** One round: every query in parallel, sent in the order given. NXDOMAIN/NODATA are remembered, not thrown. */
  const round = async (wanted: {name: string; type: QueryType}[]): Promise<void> => {
    if (wanted.length === 0) return
    rounds++
    const results: {w: {name: string; type: QueryType}; response: SourceAnswer}[] = []
    const queue = [...wanted]
    const worker = async (): Promise<void> => {
      for (let w = queue.shift(); w; w = queue.shift()) results.push({w, response: await client.query(w.name, w.type)})
    }
    // Bounded: a 300-target SRV set without additional data must not open 600 sockets at once.
    await Promise.all(Array.from({length: Math.min(MAX_PARALLEL, wanted.length)}, worker))
    for (const {w, response} of results) {
      transports.add(response.transport)
      records.add(response)
      const has = response.answers.some((r) => r.name === w.name && r.type === w.type)
      if (!has) records.markMissing(w.name, w.type)
      if (response.rcode === 'NXDOMAIN') records.nxdomain.add(w.name)
      if (response.rcode === 'NXDOMAIN') for (const t of ['SRV', 'TXT', 'A', 'AAAA', 'PTR']) records.markMissing(w.name, t)
    }
  }

  let instanceNames: string[]
  if (kind === 'browse') {
    // `_ldap._tcp.Z` may be a browse name (PTR) or a plain RFC 2782 name with
    // its SRV set right there: ask both in the same round trip.
    await round([
      {name, type: 'PTR'},
      {name, type: 'SRV'},
    ])
    const ptrs = records.get(name, 'PTR') ?? []
    if (ptrs.length > 0) {
      instanceNames = [...new Set(ptrs.map((p) => p.data))]
    } else if ((records.get(name, 'SRV') ?? []).length > 0) {
      kind = 'instance'
      notes.push(`${name} has no PTR records but an SRV set: resolved as an RFC 2782 name`)
      instanceNames = [name]
    } else {
      const nx = records.nxdomain.has(name)
      throw new DnsLookupError(nx ? 'NXDOMAIN' : 'NODATA', `no instances of ${name}: it ${nx ? 'does not exist (NXDOMAIN)' : 'has neither PTR nor SRV records (NODATA)'}`)
    }
  } else {
    instanceNames = [name]
  }

  const missing: {name: string; type: QueryType}[] = []
  for (const inst of instanceNames) {
    if (!records.get(inst, 'SRV')) missing.push({name: inst, type: 'SRV'})
    if (options.txt && !records.get(inst, 'TXT')) missing.push({name: inst, type: 'TXT'})
  }
  await round(missing)

  const instances: Instance[] = instanceNames.map((inst) => {
    const srv = (records.get(inst, 'SRV') ?? []).map((r) => r.data)
    const txt = records.get(inst, 'TXT')
    const strings = txt?.[0]?.data
    return {
      name: inst,
      srv,
      txt: strings ? {strings: formatTxt(strings), attributes: txtToAttributes(strings)} : undefined,
    }
  })
  const why = (n: string): string => (records.nxdomain.has(n) ? 'does not exist (NXDOMAIN)' : 'has no SRV records (NODATA)')
  for (const i of instances) if (i.srv.length === 0) notes.push(`${i.name} ${why(i.name)}; skipped`)

  const allSrv = instances.flatMap((i) => i.srv)
  if (allSrv.length > 0 && allSrv.every((s) => isNoServiceTarget(s.target))) {
    throw new NoInstanceError(`${name} is decidedly not available: its only SRV target is "." (RFC 2782)`)
  }
  if (allSrv.length === 0) {
    if (kind === 'instance') throw new DnsLookupError(records.nxdomain.has(name) ? 'NXDOMAIN' : 'NODATA', `${name} ${why(name)}`)
    throw new NoInstanceError(`no instance of ${name} has an SRV record`)
  }

  // Order first, look up addresses after: RFC 2782's weighted order is
  // Luce's choice model, so dropping a target found without addresses
  // leaves the others in exactly the order they would have had without it.
  const candidates: Candidate[] = instances.flatMap((i) =>
    i.srv.filter((s) => !isNoServiceTarget(s.target)).map((s) => ({instance: i.name, target: s.target, port: s.port, priority: s.priority, weight: s.weight})),
  )
  const ordered = orderByPriorityWeight(candidates, options.randomInt)
  const known = (t: string): boolean => records.get(t, 'A') !== undefined || records.get(t, 'AAAA') !== undefined
  const lookup = (targets: string[]): {name: string; type: QueryType}[] =>
    [...new Set(targets)].filter((t) => !known(t)).flatMap((t) => [{name: t, type: 'A' as const}, {name: t, type: 'AAAA' as const}])

  const order: Endpoint[] = []
  const skipped = new Set<string>()
  if (options.addresses !== 'first') await round(lookup(ordered.map((c) => c.target)))
  for (const c of ordered) {
    if (options.addresses === 'first') await round(lookup([c.target]))
    const addresses = [...(records.get(c.target, 'A') ?? []), ...(records.get(c.target, 'AAAA') ?? [])].map((r) => r.data)
    if (addresses.length === 0) {
      const key = `${c.target}:${c.port}`
      if (!skipped.has(key)) notes.push(`${c.target} (port ${c.port}) ${records.nxdomain.has(c.target) ? 'does not exist' : 'has no address records'}; skipped`)
      skipped.add(key)
      continue
    }
    order.push({...c, addresses})
    if (options.addresses === 'first') break
  }
  if (order.length === 0) throw new NoInstanceError(`no usable instance of ${name}: ${notes.join('; ')}`)
  return {
    name,
    kind,
    instances,
    order,
    queries: client.queries,
    rounds,
    transport: [...transports],
    notes,
  }
}
