/**
 * The boot-time steps around a join or leave: `--ip auto`, the `--check`
 * health gate, and a deadline message that says what may be left behind.
 * Kept out of src/cli/context.ts so that file only calls these.
 */
import {DeadlineError} from '../core/errors.js'
import {type Member} from '../core/membership.js'
import {parseSeconds} from '../core/names.js'
import {type HealthTarget} from './health.js'

export interface BootFlags {
  ip?: string
  'ip-source'?: unknown
  check?: unknown
  'check-timeout'?: unknown
  [key: string]: unknown
}

export interface Prepared<F> {
  /** The flags with `--ip auto` replaced by the address found. */
  flags: F
  /** The health gate; resolves at once when no --check was given. */
  gate: () => Promise<void>
}

/**
 * Check the boot flags, resolve `--ip auto`; the gate runs after validation.
 * The modules load only when their flag is given: a plain join pays nothing.
 */
export async function prepareBoot<F extends BootFlags>(action: 'join' | 'leave', flags: F, log: (line: string) => void): Promise<Prepared<F>> {
  const begun = performance.now()
  let target: HealthTarget | undefined
  let checkTimeout = 60
  const health = action === 'join' && typeof flags.check === 'string' && flags.check !== '' ? await import('./health.js') : undefined
  if (health) {
    target = health.parseHealthTarget(flags.check as string)
    checkTimeout = parseSeconds((flags['check-timeout'] as string | undefined) ?? '60', '--check-timeout')
  }
  const timeout = parseSeconds((flags.timeout as string | undefined) ?? '30', '--timeout')
  let resolved = flags
  const auto = typeof flags.ip === 'string' && flags.ip.trim().toLowerCase() === 'auto'
  if (auto || (flags['ip-source'] !== undefined && flags['ip-source'] !== '')) {
    const {parseIpSource, resolveAutoAddress} = await import('./ipauto.js')
    const source = parseIpSource(flags['ip-source'])
    if (auto) {
      const started = performance.now()
      // The lookup is part of --timeout: each metadata request gets at most a third of it.
      const found = await resolveAutoAddress({source, log, timeoutMs: Math.min(1000, Math.max(50, Math.floor((timeout * 1000) / 3)))})
      log(`ip: auto -> ${found.address} from ${found.from} (${Math.round(performance.now() - started)} ms)`)
      resolved = {...flags, ip: found.address}
    }
  }
  // The address lookup is inside --timeout; the --check wait is not (it has --check-timeout).
  const left = Math.max(0.001, timeout - (performance.now() - begun) / 1000)
  return {flags: {...resolved, timeout: left.toFixed(3)}, gate: gateFor(target, checkTimeout, log, health)}
}

function gateFor(
  target: HealthTarget | undefined,
  seconds: number,
  log: (line: string) => void,
  health: typeof import('./health.js') | undefined,
): () => Promise<void> {
  return async () => {
    if (target && health) await health.waitHealthy(target, seconds, log)
  }
}

/** Rewrite a DeadlineError so the operator knows what state the zone may be in. */
export function explainDeadline(error: unknown, action: 'join' | 'leave', member: Member): unknown {
  if (!(error instanceof DeadlineError)) return error
  const what =
    action === 'leave'
      ? `${member.instance} may still list ${member.host} (its SRV, PTR, TXT and address records may be left behind); run the same leave again, it is safe to repeat`
      : `the join of ${member.host} to ${member.instance} may be missing or partly written (at most an address record without its SRV); run the same join again to finish it, or leave to undo it`
  return new DeadlineError(`${error.message}. ${what}`, {cause: error})
}
