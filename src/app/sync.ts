/**
 * `sync`: the coalesced apply as a reconcile loop, for operators who want
 * one writer per zone. Each cycle takes the zone's apply lease (waiting while
 * a member holds it), then, per provider named in the leases, applies every
 * pending intent, removes members whose lease expired (what `reap` does) and
 * re-asserts every live member, in one combined plan per provider.
 */
import {Deadline} from '../core/deadline.js'
import {DeadlineError, errorReport} from '../core/errors.js'
import {sleep} from '../core/retry.js'
import {openProvider, parseProviderKind} from '../providers/catalog.js'
import {type ProviderKind} from '../providers/provider.js'
import {openRegistry} from '../registry/open.js'
import {type ApplyReport, applyPending, takeApplyTurn} from './apply.js'
import {type AppEnv, type SyncRequest} from './request.js'

export interface SyncCycle {
  cycle: number
  zone: string
  registry: string
  dryRun: boolean
  leases: number
  /** Milliseconds spent waiting for a member's apply to finish first. */
  waitedMs: number
  providers: {provider: ProviderKind; report: ApplyReport}[]
  elapsedMs: number
}

const TURN_POLL_MS = 250

export async function syncOnce(request: SyncRequest, env: AppEnv, cycle = 1): Promise<SyncCycle> {
  const started = Date.now()
  const deadline = new Deadline(request.timeoutSeconds)
  const {log} = env
  const registry = await openRegistry(request.registry, {deadline, log})
  try {
    const holder = `sync pid ${process.pid} ${Math.random().toString(36).slice(2, 8)}`
    let turn = request.dryRun ? undefined : await takeApplyTurn(registry, request.zone, holder, log)
    const shown = !request.dryRun && !turn ? env.progress?.(`waiting for a member's apply in ${request.zone} to finish`) : undefined
    while (!request.dryRun && !turn) {
      if (deadline.remainingMs() <= TURN_POLL_MS) {
        shown?.done(false, 'the apply lease stayed taken')
        throw new DeadlineError(`sync: another applier held the apply lease of ${request.zone} in ${registry.url} until the deadline (--timeout ${request.timeoutSeconds} s)`)
      }
      await sleep(TURN_POLL_MS)
      turn = await takeApplyTurn(registry, request.zone, holder, log)
    }
    const waitedMs = Date.now() - started
    shown?.done(true, `apply lease taken after ${(waitedMs / 1000).toFixed(1)} s`)
    try {
      const leases = await registry.list(request.zone)
      const kinds = [...new Set(leases.map((s) => s.lease.provider))]
      const providers: SyncCycle['providers'] = []
      for (const name of kinds.sort()) {
        const choice = await request.provider(parseProviderKind(name))
        const provider = await openProvider(choice, {deadline, log})
        const progress = env.progress?.(`applying ${request.zone} through ${choice.kind}`)
        try {
          const report = await applyPending({zone: request.zone, registry, provider, deadline, log, reconcile: true, expire: true, graceMs: request.graceMs, dryRun: request.dryRun})
          progress?.done(true, `${choice.kind}: ${report.changes} change(s)`)
          providers.push({provider: choice.kind, report})
        } catch (error) {
          progress?.done(false, `${choice.kind}: ${errorReport(error).message}`)
          throw error
        } finally {
          await provider.close()
        }
      }
      return {cycle, zone: request.zone, registry: registry.url, dryRun: request.dryRun, leases: leases.length, waitedMs, providers, elapsedMs: Date.now() - started}
    } finally {
      await turn?.release()
    }
  } finally {
    await registry.close()
  }
}

/**
 * Cycles every `intervalSeconds` until `signal` aborts. A failed cycle is
 * reported through `onCycle` and the loop goes on; the next cycle retries.
 */
export async function syncLoop(
  request: SyncRequest,
  env: AppEnv,
  onCycle: (result: SyncCycle | {cycle: number; error: ReturnType<typeof errorReport>}) => void,
  signal: AbortSignal,
): Promise<number> {
  let cycle = 0
  while (!signal.aborted) {
    cycle++
    try {
      onCycle(await syncOnce(request, env, cycle))
    } catch (error) {
      onCycle({cycle, error: errorReport(error)})
    }
    if (signal.aborted) break
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, request.intervalSeconds * 1000)
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {once: true})
    })
  }
  return cycle
}
