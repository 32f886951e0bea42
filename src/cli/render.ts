/**
 * Every human-readable rendering of the app layer's results, in one place.
 * Each function returns lines; the commands print them (never under --json).
 */
import {type ListResult} from '../app/list.js'
import {type MembershipResult} from '../app/membership.js'
import {type ReapResult} from '../app/reap.js'
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
  if (r.inSyncMs !== undefined) lines.push(`${r.changeId} is INSYNC on every name server after ${(r.inSyncMs / 1000).toFixed(1)} s`)
  if (r.lease) lines.push(`lease ${r.lease.action}: ${r.lease.registry}${r.lease.expiresAt ? ` (expires ${r.lease.expiresAt})` : ''}`)
  return lines
}

const BORDERLESS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
}

async function table(head: string[]): Promise<{push: (row: string[]) => void; toString: () => string}> {
  const {default: Table} = await import('cli-table3')
  return new Table({head, style: {head: [], border: [], compact: true}, chars: BORDERLESS})
}

export async function renderList(result: ListResult): Promise<string[]> {
  const lines = [await renderInventory(result)]
  if (result.leases) lines.push(await renderLeases(result.leases))
  return lines
}

async function renderInventory(result: ListResult): Promise<string> {
  const instances = result.services.reduce((n, s) => n + s.instances.length, 0)
  if (result.services.length === 0) return `no services in ${result.zone} (${result.provider} provider)`
  const t = await table(['SERVICE', 'INSTANCE', 'TARGET', 'PRIO', 'WEIGHT', 'PORT', 'ADDRESS', 'TXT'])
  for (const s of result.services) {
    const type = s.type.slice(0, -(result.zone.length + 1))
    for (const i of s.instances) {
      const inst = i.name.slice(0, -(result.zone.length + 1))
      const txt = Object.entries(i.txt).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(' ')
      const rows = i.targets.length > 0 ? i.targets : [undefined]
      rows.forEach((tg, n) =>
        t.push([
          n === 0 ? type : '',
          n === 0 ? inst : '',
          tg ? tg.target : '(no SRV)',
          tg ? String(tg.priority) : '',
          tg ? String(tg.weight) : '',
          tg ? String(tg.port) : '',
          tg ? tg.addresses.join(' ') || '(none)' : '',
          n === 0 ? txt : '',
        ]),
      )
    }
  }
  const targets = result.services.reduce((n, s) => n + s.instances.reduce((m, i) => m + i.targets.length, 0), 0)
  return `${t.toString()}\n${result.services.length} service type(s), ${instances} instance(s), ${targets} target(s) in ${result.zone}`
}

async function renderLeases(d: LeaseDrift): Promise<string> {
  if (d.members.length === 0) return `\nno members and no leases (${d.registry})`
  const t = await table(['SERVICE', 'HOST', 'DNS', 'LEASE', 'EXPIRES', 'PROVIDER'])
  for (const m of d.members) {
    const left = m.lease ? (m.lease.secondsLeft >= 0 ? `in ${m.lease.secondsLeft}s` : `${-m.lease.secondsLeft}s ago`) : ''
    t.push([m.service, m.host, m.inDns ? 'yes' : 'no', m.lease ? m.lease.state : '(none)', m.lease ? `${m.lease.expiresAt} (${left})` : '', m.lease?.provider ?? ''])
  }
  const lines = [`\nleases in ${d.registry}:`, t.toString()]
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
