/**
 * The one source of randomness for tests that kill, crash or fuzz at random:
 * the seed comes from DNSSD_TEST_SEED or is drawn, and is printed at start,
 * so a failure can be replayed with `DNSSD_TEST_SEED=N node scripts/test.mjs FILE`.
 */

export interface SeededRandom {
  seed: number
  /** A number in [0, 1). */
  (): number
  /** A whole number in [0, n). */
  int: (n: number) => number
}

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export function seededRandom(name: string, fromEnv: string | undefined = process.env.DNSSD_TEST_SEED): SeededRandom {
  const seed = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32) >>> 0
  console.log(`# ${name}: seed ${seed} (DNSSD_TEST_SEED=${seed} repeats it)`)
  let state = seed
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  return Object.assign(next, {seed, int: (n: number) => Math.floor(next() * n)})
}
