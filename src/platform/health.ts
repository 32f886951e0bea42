/**
 * The health gate of `join --check`: wait until the local service answers
 * (HTTP 2xx/3xx, or a TCP connection accepted) before announcing it, with
 * capped exponential backoff inside a bounded wait.
 */
import {get as httpGet} from 'node:http'
import {get as httpsGet} from 'node:https'
import {connect} from 'node:net'
import {Deadline} from '../core/deadline.js'
import {DeadlineError, InputError} from '../core/errors.js'
import {type Backoff, backoffMs, retry} from '../core/retry.js'

export type HealthTarget = {kind: 'http'; url: string} | {kind: 'tcp'; host: string; port: number; url: string}

export function parseHealthTarget(value: string, input = '--check'): HealthTarget {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new InputError(input, `"${value}" is not a URL; give http://HOST:PORT/PATH, https://... or tcp://HOST:PORT`)
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return {kind: 'http', url: url.href}
  if (url.protocol === 'tcp:') {
    const port = Number(url.port)
    if (!url.hostname || !Number.isInteger(port) || port < 1) throw new InputError(input, `"${value}" needs a host and a port: tcp://HOST:PORT`)
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    return {kind: 'tcp', host, port, url: `tcp://${url.host}`}
  }
  throw new InputError(input, `"${value}": only http://, https:// and tcp:// checks exist`)
}

/** One probe: undefined when healthy, else what went wrong. */
async function probe(target: HealthTarget, timeoutMs: number): Promise<string | undefined> {
  if (target.kind === 'http') {
    // node:http rather than fetch: fetch refuses "bad ports" (6000, 6667, ...) a service may use.
    // Healthy means a 2xx/3xx answer whose body ends, all within the probe's time: a
    // server that sends headers and then stalls is not healthy, and the hard timer
    // (not the socket's idle timeout, which a trickling body resets) ends the probe.
    const get = target.url.startsWith('https:') ? httpsGet : httpGet
    return new Promise((resolve) => {
      let settled = false
      const finish = (problem: string | undefined): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        req.destroy()
        resolve(problem)
      }
      const req = get(target.url, {agent: false, headers: {'user-agent': 'dnssd-check'}}, (res) => {
        const status = res.statusCode ?? 0
        res.on('data', () => undefined)
        res.on('end', () => finish(status >= 200 && status < 400 ? undefined : `HTTP ${status}`))
        res.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message))
      })
      const timer = setTimeout(() => finish(`no complete answer within ${timeoutMs} ms`), timeoutMs)
      req.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message))
    })
  }
  return new Promise((resolve) => {
    const socket = connect({host: target.host, port: target.port})
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(`no TCP accept within ${timeoutMs} ms`)
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      resolve(error.code ?? error.message)
    })
  })
}

export interface HealthResult {
  attempts: number
  elapsedMs: number
}

/** Probes of the gate: 100 ms, 200 ms, ... up to 2 s apart (full jitter). */
const BACKOFF: Backoff = {baseMs: 100, capMs: 2000}

class NotHealthy extends Error {}

/** Wait until healthy or throw DeadlineError once `timeoutSeconds` have passed. */
export async function waitHealthy(target: HealthTarget, timeoutSeconds: number, log: (line: string) => void): Promise<HealthResult> {
  const started = Date.now()
  const deadline = new Deadline(timeoutSeconds, started)
  let attempts = 0
  let last = 'not tried'
  const unhealthy = (): DeadlineError =>
    new DeadlineError(
      `--check ${target.url}: not healthy within ${timeoutSeconds} s (last: ${last}, ${attempts} attempts); nothing was registered. Start the service or raise --check-timeout`,
    )
  return retry(
    async (attempt) => {
      attempts = attempt
      const problem = await probe(target, Math.max(50, Math.min(2000, deadline.remainingMs())))
      if (problem !== undefined) {
        last = problem
        log(`check: ${target.url} not healthy (${problem}), attempt ${attempt}`)
        throw new NotHealthy(problem)
      }
      log(`check: ${target.url} healthy after ${attempt} attempt${attempt === 1 ? '' : 's'} (${Date.now() - started} ms)`)
      return {attempts: attempt, elapsedMs: Date.now() - started}
    },
    {
      deadline,
      // The last probe happens at the deadline: a wait that would pass it is cut short to it.
      classify: (error, attempt) => (error instanceof NotHealthy && !deadline.passed() ? {waitMs: Math.min(backoffMs(attempt - 1, BACKOFF), Math.max(0, deadline.remainingMs() - 1)), why: error.message} : undefined),
      giveUp: unhealthy,
    },
  ).catch((error: unknown) => {
    throw error instanceof NotHealthy ? unhealthy() : error
  })
}
