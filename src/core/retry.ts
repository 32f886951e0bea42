/**
 * The one retry policy: every remote call that may be retried (Route 53,
 * Cloudflare, S3, the `--check` health gate, metadata lookups) goes through
 * `retry()`. Each caller says how to classify a failure; the waits are full
 * jitter exponential backoff (random(0, min(cap, base x 2^n))), and no wait
 * ever runs past the command's deadline: when the next wait would, the
 * caller's `giveUp` error is thrown at once (exit 5 with what is left behind).
 *
 * Why not p-retry: its delay depends on the attempt number alone, while we
 * need one backoff per failure class (a Route 53 conflict spreads writers
 * out widely, a throttled change batch retries soon) and a server's
 * retry-after honoured only while it fits before the deadline; and it counts
 * retries, where we count time left. What is left is about 30 lines.
 */
import {type Deadline} from './deadline.js'

export interface Backoff {
  baseMs: number
  capMs: number
}

/** Full jitter for the n-th retry (n counts from 0). */
export function backoffMs(n: number, b: Backoff, random: () => number = Math.random): number {
  return random() * Math.min(b.capMs, b.baseMs * 2 ** Math.min(n, 16))
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** What to do after a failed attempt: wait this long and try again. */
export interface RetryStep {
  waitMs: number
  /** For the log line and the give-up message: "throttled", "503", ... */
  why: string
}

export interface RetryOptions {
  deadline: Deadline
  /** undefined: not retriable, the error is thrown as it is. `attempt` counts from 1. */
  classify: (error: unknown, attempt: number) => RetryStep | undefined
  /** The error to throw when the next wait would pass the deadline. */
  giveUp: (error: unknown, step: RetryStep) => Error
  onRetry?: (error: unknown, step: RetryStep, attempt: number) => void
}

export async function retry<T>(op: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt)
    } catch (error) {
      const step = o.classify(error, attempt)
      if (step === undefined) throw error
      if (o.deadline.wouldPass(step.waitMs)) throw o.giveUp(error, step)
      o.onRetry?.(error, step, attempt)
      await sleep(step.waitMs)
    }
  }
}
