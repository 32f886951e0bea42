/**
 * Unpredictable numbers from the kernel's /dev/urandom (node:crypto where
 * there is none: Windows, a bare chroot): lock tokens, temp file names, DNS
 * query ids, the RFC 2782 weighted draw. node:crypto is not loaded for these:
 * its load is a large share of the start-up of join and resolve (README,
 * start-up). Bytes are read 256 at a time and each is used once.
 */
import {closeSync, openSync, readSync} from 'node:fs'
import {createRequire} from 'node:module'

const POOL = 256
let pool: Buffer = Buffer.alloc(0)
let used = 0

function fromKernel(n: number): Buffer | undefined {
  const buf = Buffer.alloc(n)
  try {
    const fd = openSync('/dev/urandom', 'r')
    try {
      return readSync(fd, buf, 0, n, null) === n ? buf : undefined
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
}

/** `n` random bytes. */
export function randomBytes(n: number): Buffer {
  if (used + n > pool.length) {
    const size = Math.max(POOL, n)
    const fresh = fromKernel(size) ?? (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomBytes(size)
    pool = fresh
    used = 0
  }
  const out = Buffer.from(pool.subarray(used, used + n))
  pool.fill(0, used, used + n)
  used += n
  return out
}

/** `n` random bytes in hex. */
export const randomHex = (n: number): string => randomBytes(n).toString('hex')

/** A whole number in [0, max), every value equally likely (1 <= max <= 2^32). */
export function randomInt(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > 2 ** 32) throw new RangeError(`randomInt: max ${max} is not a whole number 1-2^32`)
  // Draws past the last whole multiple of max are redrawn, so no value is favoured.
  const limit = 2 ** 32 - (2 ** 32 % max)
  for (;;) {
    const draw = randomBytes(4).readUInt32BE(0)
    if (draw < limit) return draw % max
  }
}
