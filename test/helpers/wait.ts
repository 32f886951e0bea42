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
