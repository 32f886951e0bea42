/**
 * Two start-of-command steps of join/leave that are not core logic:
 * - `--ttl auto`: Cloudflare's "automatic" TTL, stored as 1. Only the
 *   cloudflare provider knows it; elsewhere `auto` stays a bad TTL (exit 2).
 * - `--jitter S`: wait a random 0..S seconds before the first API call, so a
 *   fleet that boots at the same second spreads its requests (every
 *   provider; skipped with --dry-run). --timeout counts from after the wait.
 */
import {parseSeconds} from '../core/names.js'

export function ttlForProvider<T extends {provider?: string; ttl?: string}>(flags: T): T {
  const auto = flags.ttl?.trim().toLowerCase() === 'auto'
  return auto && flags.provider?.trim().toLowerCase() === 'cloudflare' ? {...flags, ttl: '1'} : flags
}

/** Validate --jitter (0 or absent: no wait) and return the delay in ms. */
export function jitterDelayMs(value: string | undefined, random: () => number = Math.random): number {
  if (value === undefined || value.trim() === '' || /^0+(\.0+)?$/.test(value.trim())) return 0
  return Math.floor(random() * parseSeconds(value, '--jitter', 3600) * 1000)
}

export async function waitJitter(ms: number, dryRun: boolean, log: (line: string) => void): Promise<void> {
  if (ms === 0 || dryRun) return
  log(`jitter: waiting ${ms} ms before the first API call`)
  await new Promise((resolve) => setTimeout(resolve, ms))
}
