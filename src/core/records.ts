/**
 * The value-level record model shared by the planner and every provider.
 *
 * A value is the canonical zone-file presentation of one record's data, the
 * way `dig` prints it: "10.0.0.1", "2001:db8::1", "0 0 8080 host.example.com.",
 * "\"k=v\" \"flag\"", "inst._web._tcp.example.com.". Providers translate their
 * API's shapes to and from these strings, so values compare with `===`.
 */
export type RecordType = 'A' | 'AAAA' | 'SRV' | 'TXT' | 'PTR' | (string & {})

export interface RRset {
  /** Absolute, lower-case, no trailing dot. */
  name: string
  type: RecordType
  ttl: number
  values: string[]
}

export interface Change {
  action: 'add' | 'remove'
  name: string
  type: RecordType
  ttl: number
  value: string
  /** The member whose work made this change, when several members' works are combined (Cloudflare marks records with it). */
  owner?: string
}

export interface SrvValue {
  priority: number
  weight: number
  port: number
  /** Absolute with trailing dot, or "." for "no service". */
  target: string
}

export function formatSrv(v: SrvValue): string {
  return `${v.priority} ${v.weight} ${v.port} ${v.target}`
}

export function parseSrv(value: string): SrvValue | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s*$/.exec(value)
  if (!m) return undefined
  const target = m[4]!.toLowerCase()
  return {
    priority: Number(m[1]),
    weight: Number(m[2]),
    port: Number(m[3]),
    target: fqdn(target),
  }
}

/** A name as a record value: absolute with the trailing dot. */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`
}

const key = (name: string, type: string): string => `${name}\u0000${type}`

/**
 * What a provider read of a zone: the RRsets at the names it was asked for
 * (or at every name, for a whole-zone read). Knows which names it covers so
 * the planner can ask for more.
 */
export class ZoneState {
  readonly zone: string
  private readonly sets = new Map<string, RRset>()
  private readonly covered: Set<string> | 'all'

  constructor(zone: string, covered: Iterable<string> | 'all', rrsets: Iterable<RRset> = []) {
    this.zone = zone
    this.covered = covered === 'all' ? 'all' : new Set(covered)
    for (const s of rrsets) {
      for (const v of s.values) this.addValue(s.name, s.type, s.ttl, v)
    }
  }

  covers(name: string): boolean {
    return this.covered === 'all' || this.covered.has(name)
  }

  get(name: string, type: RecordType): RRset | undefined {
    return this.sets.get(key(name, type))
  }

  values(name: string, type: RecordType): string[] {
    return this.sets.get(key(name, type))?.values ?? []
  }

  has(name: string, type: RecordType, value: string): boolean {
    return this.values(name, type).includes(value)
  }

  /** Every RRset, in insertion order. */
  rrsets(): RRset[] {
    return [...this.sets.values()]
  }

  /** Adds a value (no duplicates). The RRset keeps its first TTL. */
  addValue(name: string, type: RecordType, ttl: number, value: string): void {
    const k = key(name, type)
    const set = this.sets.get(k)
    if (!set) this.sets.set(k, {name, type, ttl, values: [value]})
    else if (!set.values.includes(value)) set.values.push(value)
  }

  removeValue(name: string, type: RecordType, value: string): void {
    const k = key(name, type)
    const set = this.sets.get(k)
    if (!set) return
    set.values = set.values.filter((v) => v !== value)
    if (set.values.length === 0) this.sets.delete(k)
  }

  apply(changes: readonly Change[]): void {
    for (const c of changes) {
      if (c.action === 'add') this.addValue(c.name, c.type, c.ttl, c.value)
      else this.removeValue(c.name, c.type, c.value)
    }
  }

  clone(): ZoneState {
    const copy = new ZoneState(this.zone, this.covered === 'all' ? 'all' : this.covered)
    for (const s of this.rrsets()) for (const v of s.values) copy.addValue(s.name, s.type, s.ttl, v)
    return copy
  }

  /** This state plus the RRsets (and coverage) of another read. */
  merge(other: ZoneState): ZoneState {
    const covered = this.covered === 'all' || other.covered === 'all' ? 'all' : [...this.covered, ...other.covered]
    const merged = new ZoneState(this.zone, covered)
    for (const s of [...this.rrsets(), ...other.rrsets()]) for (const v of s.values) merged.addValue(s.name, s.type, s.ttl, v)
    return merged
  }
}

/** Group value-level changes by RRset, keeping first-seen order. */
export function groupByRRset(changes: readonly Change[]): {name: string; type: RecordType; changes: Change[]}[] {
  const groups = new Map<string, {name: string; type: RecordType; changes: Change[]}>()
  for (const c of changes) {
    const k = key(c.name, c.type)
    let g = groups.get(k)
    if (!g) groups.set(k, (g = {name: c.name, type: c.type, changes: []}))
    g.changes.push(c)
  }
  return [...groups.values()]
}
