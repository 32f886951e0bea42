/**
 * How one plan becomes Cloudflare batch requests when it holds more
 * operations than one batch may carry (reference §3.8: 200 on the Free plan,
 * 3,500 on paid plans). Pure: no SDK, no I/O, so it is unit tested alone.
 *
 * The operations come in the plan's phase order (planner.ts `phaseOf`), and
 * batches take them in that order, so every batch boundary is a prefix of
 * the plan: no SRV is published before the address and claim it needs, and
 * none outlives its address. Each batch is atomic by itself.
 *
 * Guards (see cloudflare.ts) count as operations. A batch that changes a
 * shared name deletes that name's guard by id and, while the name keeps
 * dnssd values, writes it anew. Batches are chained: each also consumes the
 * guards the batch before it wrote for the names that batch changed (delete
 * by the id from that batch's answer, write again), so a writer that
 * changed one of those names in between makes the next batch fail (81044):
 * the provider then re-reads, re-plans what is left and continues, and the
 * batches already applied stay applied. A re-written chained guard is not
 * carried further: chaining every guard to the end would make the last
 * batches all guards.
 *
 * To let every batch make progress, a batch changes at most
 * (size - RESERVE) / 2 guarded names: the next batch then has room for the
 * chained guards (2 operations each) and one more change with its guard.
 */

/** One record operation of the plan. */
export interface BatchOp {
  /** The owner name of the record written or deleted. */
  name: string
  kind: 'post' | 'delete'
}

export interface ChunkInput {
  ops: readonly BatchOp[]
  /** Names whose changes are guarded (Work.shared). */
  shared: ReadonlySet<string>
  /** Guard records present now, per shared name (normally 0 or 1). */
  guards: ReadonlyMap<string, number>
  /** dnssd's own records per name now (a guard stays while its name has any). */
  marked: ReadonlyMap<string, number>
  /** Operations per batch, guards included. */
  size: number
}

export interface Chunk {
  /** Indexes into ChunkInput.ops, in order. */
  ops: number[]
  /** Shared names this batch changes: their guards are deleted, and written again where `writes` says. */
  guarded: string[]
  /** Names the batch before wrote guards for and this one does not change: deleted and written again. */
  chained: string[]
  /** Of `guarded`, the names whose guard this batch writes (they keep dnssd values). */
  writes: string[]
  /** Guard records this batch deletes, per name (as far as the plan knows). */
  guardDeletes: Map<string, number>
  /** Operations in the request. */
  size: number
}

/** Least room a batch must leave beside the chained guards: one change, its guard's delete and its write. */
export const RESERVE = 3

export class ChunkTooSmall extends Error {
  constructor(
    readonly needed: number,
    readonly size: number,
  ) {
    super(`one change needs ${needed} operations with its guards, more than a batch of ${size}`)
  }
}

export function chunkPlan(input: ChunkInput): Chunk[] {
  const {ops, shared, size} = input
  const guards = new Map(input.guards)
  const marked = new Map(input.marked)
  const count = (m: Map<string, number>, name: string): number => m.get(name) ?? 0
  const chunks: Chunk[] = []

  const open = (carry: readonly string[]): Chunk & {chainedSet: Set<string>; guardedSet: Set<string>} => {
    const guardDeletes = new Map<string, number>()
    let cost = 0
    for (const name of carry) {
      guardDeletes.set(name, count(guards, name))
      cost += count(guards, name) + 1
    }
    return {ops: [], guarded: [], chained: [...carry], writes: [], guardDeletes, size: cost, chainedSet: new Set(carry), guardedSet: new Set()}
  }

  const close = (c: ReturnType<typeof open>): string[] => {
    for (const name of c.guarded) {
      if (count(marked, name) > 0) {
        c.writes.push(name)
        guards.set(name, 1)
      } else {
        // The name holds no dnssd value any more: its guard goes without a successor.
        c.size -= 1
        guards.set(name, 0)
      }
    }
    c.chained = c.chained.filter((n) => c.chainedSet.has(n))
    for (const name of c.chained) guards.set(name, 1)
    const {chainedSet: _c, guardedSet: _g, ...chunk} = c
    chunks.push(chunk)
    return c.writes
  }

  let current = open([])
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!
    const cost = (c: ReturnType<typeof open>): {extra: number; guardedAfter: number} => {
      const newGuard = shared.has(op.name) && !c.guardedSet.has(op.name)
      const extra = 1 + (newGuard && !c.chainedSet.has(op.name) ? count(guards, op.name) + 1 : 0)
      return {extra, guardedAfter: c.guarded.length + (newGuard ? 1 : 0)}
    }
    const here = cost(current)
    let extra = here.extra
    if (current.ops.length > 0 && (current.size + extra > size || 2 * here.guardedAfter + RESERVE > size)) {
      current = open(close(current))
      extra = cost(current).extra
    }
    // A fresh batch always takes its first change (the chained guards left room for it), unless the
    // change has more guard records to delete than that room: the batch size is then too small.
    if (current.size + extra > size) throw new ChunkTooSmall(current.size + extra, size)
    if (shared.has(op.name) && !current.guardedSet.has(op.name)) {
      if (current.chainedSet.has(op.name)) current.chainedSet.delete(op.name)
      else current.guardDeletes.set(op.name, count(guards, op.name))
      current.guardedSet.add(op.name)
      current.guarded.push(op.name)
    }
    current.ops.push(i)
    current.size += extra
    marked.set(op.name, count(marked, op.name) + (op.kind === 'post' ? 1 : -1))
  }
  if (current.ops.length > 0) close(current)
  return chunks
}
