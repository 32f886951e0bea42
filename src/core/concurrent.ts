/**
 * `fn` over `items` with at most `limit` calls in flight, results in the
 * items' order. Registries read a thousand leases with it: one at a time
 * took most of a fleet apply's budget, all at once would open a thousand
 * files or sockets. Eight lines here rather than a dependency on the boot
 * path (p-map would do the same).
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!)
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}
