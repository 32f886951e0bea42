/**
 * The one deadline of a command (`--timeout`), started once at the command
 * edge and handed down to every provider, registry and lookup. Waits that
 * `--timeout` does not cover (the `--check` gate has `--check-timeout`, the
 * `--jitter` spread comes before the first API call) run through
 * `excluding()`, which moves the end by the time they took, so no layer
 * below ever does deadline arithmetic of its own.
 */
export class Deadline {
  private end: number

  constructor(
    /** The budget as given (`--timeout` seconds), for messages. */
    readonly seconds: number,
    now = Date.now(),
  ) {
    this.end = now + seconds * 1000
  }

  /** No deadline (a long-running server's own reads). */
  static never(): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY)
  }

  /** Epoch milliseconds by which everything must have finished. */
  get at(): number {
    return this.end
  }

  remainingMs(now = Date.now()): number {
    return Math.max(0, this.end - now)
  }

  passed(now = Date.now()): boolean {
    return now >= this.end
  }

  /** Whether waiting `ms` more would reach the deadline. */
  wouldPass(ms: number, now = Date.now()): boolean {
    return now + ms >= this.end
  }

  /** Run a wait that `--timeout` does not count; the deadline moves by its length. */
  async excluding<T>(wait: () => Promise<T>): Promise<T> {
    const started = Date.now()
    try {
      return await wait()
    } finally {
      this.end += Date.now() - started
    }
  }

  /**
   * One bound for one remote operation: the request, the response headers and
   * the whole response body. `work` gets an AbortSignal that fires at the
   * deadline, and the returned promise settles by then even when `work` does
   * not heed the signal (a body that stalls mid-way, a stream the SDK reads
   * later): a passed deadline is always `expired()` (exit 5), never the
   * transport's "operation aborted".
   */
  async bound<T>(expired: (cause?: unknown) => Error, work: (signal: AbortSignal) => PromiseLike<T>): Promise<T> {
    const remaining = this.end - Date.now()
    if (remaining <= 0) throw expired()
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      // An infinite deadline never fires (setTimeout would take it as 1 ms).
      if (Number.isFinite(remaining)) {
        timer = setTimeout(() => {
          controller.abort()
          reject(expired())
        }, remaining)
      }
    })
    try {
      return await Promise.race([work(controller.signal), late])
    } catch (error) {
      if (controller.signal.aborted || this.passed()) throw expired(error)
      throw error
    } finally {
      clearTimeout(timer)
    }
  }
}
