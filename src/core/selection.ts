/**
 * RFC 2782 target ordering. Pure: the random source is a parameter, so tests
 * can enumerate every draw.
 *
 * Semantics (reference/dns.md C.1): ascending priority; within a priority,
 * repeated weighted draws where a record of weight w is picked with
 * probability exactly w/W among the records not yet ordered (W their total
 * weight). The RFC's literal text draws from 0..W inclusive, which gives W+1
 * outcomes and over-weights the first record; we draw from 0..W-1 and pick
 * the first record whose running sum is strictly greater than the draw, as Go's
 * net package does. Weight-0 records are never picked while a positive
 * weight remains; once only weight-0 records are left they follow in a
 * uniformly random order (an all-zero group is a uniform shuffle).
 */

export interface Weighted {
  priority: number
  weight: number
}

/** Returns a uniformly distributed integer in [0, n). Called only with n >= 1. */
export type RandomInt = (n: number) => number

export function orderByPriorityWeight<T extends Weighted>(records: readonly T[], randomInt: RandomInt): T[] {
  const groups = new Map<number, T[]>()
  for (const r of records) {
    const g = groups.get(r.priority)
    if (g) g.push(r)
    else groups.set(r.priority, [r])
  }
  const out: T[] = []
  for (const priority of [...groups.keys()].sort((a, b) => a - b)) {
    out.push(...shuffleByWeight(groups.get(priority)!, randomInt))
  }
  return out
}

/** One priority group: exact w/W draws, then the weight-0 rest shuffled. */
export function shuffleByWeight<T extends Weighted>(group: readonly T[], randomInt: RandomInt): T[] {
  const rest = [...group]
  const out: T[] = []
  let total = rest.reduce((n, r) => n + r.weight, 0)
  while (total > 0) {
    const draw = randomInt(total)
    if (!Number.isInteger(draw) || draw < 0 || draw >= total) throw new RangeError(`random source returned ${draw}, expected 0..${total - 1}`)
    let running = 0
    let i = 0
    for (; i < rest.length; i++) {
      running += rest[i]!.weight
      if (running > draw) break
    }
    const [picked] = rest.splice(i, 1)
    out.push(picked!)
    total -= picked!.weight
  }
  // Only weight-0 records remain: Fisher-Yates with the same source.
  for (let i = rest.length - 1; i > 0; i--) {
    const j = randomInt(i + 1)
    ;[rest[i], rest[j]] = [rest[j]!, rest[i]!]
  }
  out.push(...rest)
  return out
}

/** RFC 2782: a target of "." means the service is decidedly not available. */
export function isNoServiceTarget(target: string): boolean {
  return target === '.' || target === ''
}
