/**
 * One bound for one remote operation: the request, the response headers and
 * the whole response body. `work` gets an AbortSignal that fires at the
 * deadline, and the returned promise settles by then even when `work` does
 * not heed the signal (a body that stalls mid-way, a stream the SDK reads
 * later): a passed deadline is always `expired()` (exit 5), never the
 * transport's "operation aborted".
 */
export async function untilDeadline<T>(deadline: number, expired: (cause?: unknown) => Error, work: (signal: AbortSignal) => PromiseLike<T>): Promise<T> {
  const remaining = deadline - Date.now()
  if (remaining <= 0) throw expired()
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort()
      reject(expired())
    }, remaining)
  })
  try {
    return await Promise.race([work(controller.signal), late])
  } catch (error) {
    if (controller.signal.aborted || Date.now() >= deadline) throw expired(error)
    throw error
  } finally {
    clearTimeout(timer)
  }
}
