/**
 * The body and text output of `dnssd list`, without oclif: the command and
 * the start-up fast path (src/cli/fast-run.ts) both run it.
 */
import {type InventoryService, inventory} from '../core/inventory.js'
import {parseService, parseZone} from '../core/names.js'
import {type LeaseDrift, leaseDrift} from '../registry/drift.js'
import {openRegistry, parseRegistryUrl} from '../registry/registry.js'
import {type BackendFlags, openBackend} from './context.js'

export interface ListResult {
  zone: string
  provider: string
  services: InventoryService[]
  leases?: LeaseDrift
}

export interface ListFlags extends BackendFlags {
  zone?: string
  service?: string
  registry?: string
}

export async function runList(flags: ListFlags, log: (line: string) => void): Promise<ListResult> {
  const zone = parseZone(flags.zone)
  const only = flags.service === undefined ? undefined : `${parseService(flags.service, zone).type}.${zone}`
  const location = flags.registry ? parseRegistryUrl(flags.registry) : undefined
  const backend = await openBackend(flags, log)
  let services: InventoryService[]
  let leases: LeaseDrift | undefined
  try {
    const state = await backend.provider.read(zone, 'all')
    services = inventory(state, zone, only)
    if (location) {
      const registry = await openRegistry(location, {deadline: backend.deadline, log})
      try {
        leases = leaseDrift(state, zone, await registry.list(zone), registry.url, only)
      } finally {
        await registry.close()
      }
    }
  } finally {
    await backend.provider.close()
  }
  return {zone, provider: backend.kind, services, ...(leases ? {leases} : {})}
}

export async function renderList(result: ListResult, log: (line: string) => void): Promise<void> {
  log(await renderInventory(result))
  if (result.leases) log(await renderLeases(result.leases))
}

export async function renderInventory(result: ListResult): Promise<string> {
  const instances = result.services.reduce((n, s) => n + s.instances.length, 0)
  if (result.services.length === 0) return `no services in ${result.zone} (${result.provider} provider)`
  const rows: string[][] = []
  for (const s of result.services) {
    const type = s.type.slice(0, -(result.zone.length + 1))
    for (const i of s.instances) {
      const inst = i.name.slice(0, -(result.zone.length + 1))
      const txt = Object.entries(i.txt).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(' ')
      const targets = i.targets.length > 0 ? i.targets : [undefined]
      targets.forEach((t, n) =>
        rows.push([
          n === 0 ? type : '',
          n === 0 ? inst : '',
          t ? t.target : '(no SRV)',
          t ? String(t.priority) : '',
          t ? String(t.weight) : '',
          t ? String(t.port) : '',
          t ? t.addresses.join(' ') || '(none)' : '',
          n === 0 ? txt : '',
        ]),
      )
    }
  }
  const targets = result.services.reduce((n, s) => n + s.instances.reduce((m, i) => m + i.targets.length, 0), 0)
  const table = await renderTable(['SERVICE', 'INSTANCE', 'TARGET', 'PRIO', 'WEIGHT', 'PORT', 'ADDRESS', 'TXT'], rows)
  return `${table}\n${result.services.length} service type(s), ${instances} instance(s), ${targets} target(s) in ${result.zone}`
}

export async function renderLeases(d: LeaseDrift): Promise<string> {
  if (d.members.length === 0) return `\nno members and no leases (${d.registry})`
  const rows = d.members.map((m) => {
    const left = m.lease ? (m.lease.secondsLeft >= 0 ? `in ${m.lease.secondsLeft}s` : `${-m.lease.secondsLeft}s ago`) : ''
    return [m.service, m.host, m.inDns ? 'yes' : 'no', m.lease ? m.lease.state : '(none)', m.lease ? `${m.lease.expiresAt} (${left})` : '', m.lease?.provider ?? '']
  })
  const lines = [`\nleases in ${d.registry}:`, await renderTable(['SERVICE', 'HOST', 'DNS', 'LEASE', 'EXPIRES', 'PROVIDER'], rows)]
  const describe = (rows: typeof d.members): string => rows.map((r) => `${r.service} ${r.host}`).join(', ')
  lines.push(
    d.dnsWithoutLease.length > 0
      ? `drift: ${d.dnsWithoutLease.length} member(s) in DNS with no lease: ${describe(d.dnsWithoutLease)}`
      : 'drift: every member in DNS has a lease',
    d.leasesWithoutDns.length > 0
      ? `drift: ${d.leasesWithoutDns.length} lease(s) with no DNS values: ${describe(d.leasesWithoutDns)}`
      : 'drift: every lease has its values in DNS',
  )
  return lines.join('\n')
}

/** Printable ASCII: one character is one column, so the table needs no width library. */
const PLAIN = /^[\x20-\x7e]*$/

/**
 * The borderless table of `list`: each cell padded by one space on either
 * side to its column's width, columns two spaces apart. cli-table3 draws it
 * (display widths of any Unicode, multi-line cells); plain ASCII, which is
 * what DNS names, addresses and most TXT values are, is laid out here with
 * the same result and without loading it (test/unit/list-table.test.ts).
 */
export async function renderTable(head: string[], rows: string[][]): Promise<string> {
  if ([head, ...rows].every((row) => row.every((cell) => PLAIN.test(cell)))) {
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
    return [head, ...rows].map((row) => widths.map((w, c) => ` ${(row[c] ?? '').padEnd(w)} `).join('  ')).join('\n')
  }
  const {default: Table} = await import('cli-table3')
  const table = new Table({
    head,
    style: {head: [], border: [], compact: true},
    chars: {top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  '},
  })
  table.push(...rows)
  return table.toString()
}
