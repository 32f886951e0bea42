import {cleanEnv, runCli} from './cli.js'

/**
 * Wait on a condition instead of sleeping a fixed time: poll `check` until it
 * holds, and fail naming `what` only after a deadline generous enough for a
 * loaded 2-core machine (it costs nothing when the condition comes fast).
 */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** Wait until the wall clock is past `time` (ms since the epoch): a lease's expiresAt, say. */
export async function untilPast(time: number): Promise<void> {
  await waitFor(() => Date.now() > time, `the clock to pass ${new Date(time).toISOString()}`, Math.max(0, time - Date.now()) + 30_000)
}

/** The expiresAt of the lease in `join --json` output, in ms since the epoch. */
export function leaseExpiry(joinStdout: string): number {
  const at = Date.parse((JSON.parse(joinStdout) as {lease?: {expiresAt?: string}}).lease?.expiresAt ?? '')
  if (Number.isNaN(at)) throw new Error(`no lease.expiresAt in: ${joinStdout}`)
  return at
}

/**
 * An upper bound for a command that must give up at its --timeout: the
 * timeout, plus start-up and exit. "+ 1 s" is the budget on a quiet machine;
 * on a loaded one start-up alone takes longer, so the allowance is the larger
 * of 1 s and twice the wall time of a command that does nothing, measured just
 * before (twice: the cloud providers load more code than that command).
 */
export async function deadlineBoundMs(timeoutSeconds: number): Promise<number> {
  const started = Date.now()
  const r = await runCli(['leave', '--zone', 'example.com', '--service', '_v1._web._tcp', '--ip', '10.0.0.9', '--dry-run', '--data-dir', '/nonexistent-dnssd-baseline'], {env: cleanEnv()})
  if (r.exitCode !== 0) throw new Error(`the baseline command failed: ${r.stderr}`)
  return timeoutSeconds * 1000 + Math.max(1000, 2 * (Date.now() - started) + 300)
}
