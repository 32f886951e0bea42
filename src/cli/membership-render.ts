/**
 * The text output of join and leave, without oclif: the commands and the
 * start-up fast path (src/cli/fast-run.ts) both print through it.
 */
import {type MembershipResult, formatChange} from './context.js'

export function renderMembership(cmd: {log: (s: string) => void; jsonEnabled: () => boolean}, r: MembershipResult): void {
  if (cmd.jsonEnabled()) return
  const verb = r.action === 'join' ? 'joined' : 'left'
  if (r.dryRun) cmd.log(`dry run: ${r.changes.length} change${r.changes.length === 1 ? '' : 's'} would be made (nothing was written)`)
  for (const c of r.changes) cmd.log(formatChange(c))
  if (r.dryRun && r.request !== undefined) cmd.log(`request that would be sent:\n${JSON.stringify(r.request, null, 2)}`)
  for (const n of r.notes) cmd.log(`note: ${n}`)
  if (!r.dryRun && r.changes.length > 0) {
    cmd.log(`${r.host} ${verb} ${r.instance} (${r.changes.length} changes, ${r.provider} provider, ${r.elapsedMs} ms)`)
  }
  if (r.inSyncMs !== undefined) cmd.log(`${r.changeId} is INSYNC on every name server after ${(r.inSyncMs / 1000).toFixed(1)} s`)
  if (r.lease) cmd.log(`lease ${r.lease.action}: ${r.lease.registry}${r.lease.expiresAt ? ` (expires ${r.lease.expiresAt})` : ''}`)
}
