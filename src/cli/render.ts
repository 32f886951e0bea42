/**
 * Every human-readable rendering of the app layer's results, in one place.
 * Each function returns lines; the commands print them (never under --json).
 */
import {type ListResult} from '../app/list.js'
import {type MembershipResult} from '../app/membership.js'
import {type ReapResult} from '../app/reap.js'
import {type SyncCycle} from '../app/sync.js'
import {type Change} from '../core/records.js'
import {type LeaseDrift} from '../registry/drift.js'

export function formatChange(c: Change): string {
  return `${c.action === 'add' ? '+' : '-'} ${c.name}. ${c.ttl} IN ${c.type} ${c.value}`
}

export function renderMembership(r: MembershipResult): string[] {
  const lines: string[] = []
  const verb = r.action === 'join' ? 'joined' : 'left'
  if (r.dryRun) lines.push(`dry run: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'} would be made (nothing was written)`)
  for (const c of r.changes) lines.push(formatChange(c))
  if (r.dryRun && r.request !== undefined) lines.push(`request that would be sent:\n${JSON.stringify(r.request, null, 2)}`)
  for (const n of r.notes) lines.push(`note: ${n}`)
  if (!r.dryRun && r.changes.length > 0) {
    lines.push(`${r.host} ${verb} ${r.instance} (${r.changes.length} changes, ${r.provider} provider, ${r.elapsedMs} ms)`)
  }
  if (r.coalesced) {
    const pending = r.coalesced.appliedBy === 'pending'
    lines.push(`${r.host} ${verb} ${r.instance}${pending ? ' in the registry (DNS removal pending)' : ''} (${r.provider} provider, through the registry, ${r.elapsedMs} ms)`)
  }
  if (r.inSyncMs !== undefined) lines.push(`${r.changeId} is INSYNC on every name server after ${(r.inSyncMs / 1000).toFixed(1)} s`)
  if (r.lease) lines.push(`lease ${r.lease.action}: ${r.lease.registry}${r.lease.expiresAt ? ` (expires ${r.lease.expiresAt})` : ''}`)
  return lines
}

export async function renderList(result: ListResult): Promise<string[]> {
  const lines = [await renderInventory(result)]
  if (result.leases) lines.push(await renderLeases(result.leases))
  return lines
}

async function renderInventory(result: ListResult): Promise<string> {
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

async function renderLeases(d: LeaseDrift): Promise<string> {
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

export function renderReap(r: ReapResult): string[] {
  const lines: string[] = []
  for (const i of r.items) {
    const verb = {removed: 'removed', 'already-gone': 'already gone', renewed: 'renewed during reap, kept', 'would-remove': 'would remove', failed: 'FAILED'}[i.status]
    lines.push(`${verb}: ${i.service} ${i.host} (lease expired ${i.expiresAt}, ${i.provider} provider, ${i.changes.length} change(s), lease ${i.lease})`)
    for (const c of i.changes) lines.push(`  ${formatChange(c)}`)
    for (const c of i.restored ?? []) lines.push(`  restored ${formatChange(c)}`)
  }
  const what = r.dryRun ? 'would reap' : 'reaped'
  lines.push(`${what} ${r.dryRun ? r.expired : r.removed} of ${r.expired} expired member(s); ${r.leases} lease(s) in ${r.registry} for ${r.zone} (${r.elapsedMs} ms)`)
  return lines
}

export function renderSync(r: SyncCycle): string[] {
  const lines: string[] = []
  if (r.waitedMs > 1000) lines.push(`waited ${(r.waitedMs / 1000).toFixed(1)} s for a member's apply to finish`)
  for (const {provider, report: a} of r.providers) {
    for (const k of a.skipped.filter((k) => k.kind === 'invalid')) lines.push(`skipped ${k.host} ${k.service}: ${k.why}`)
    const verb = r.dryRun ? 'would apply' : 'applied'
    const parts = [`${a.joined.length} joined`, `${a.left.length} left`, `${a.expired.length} expired removed`]
    if (a.superseded > 0) parts.push(`${a.superseded} rewritten meanwhile (next cycle)`)
    lines.push(`${provider}: ${verb} ${a.changes} change(s) in ${a.attempts} attempt(s); ${r.dryRun ? `${a.pending} pending intent(s)` : parts.join(', ')}`)
  }
  if (r.providers.length === 0) lines.push(`no leases in ${r.registry} for ${r.zone}`)
  lines.push(`sync cycle ${r.cycle}: ${r.leases} lease(s) in ${r.registry} for ${r.zone} (${r.elapsedMs} ms)`)
  return lines
}
