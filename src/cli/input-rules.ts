/**
 * Rules every command applies to its raw flag values before anything else,
 * shared by the oclif base command and the `resolve` fast path (so this file
 * imports no oclif):
 * - a flag given with an empty value (`--host ''`, `--jitter=`) is bad input;
 *   silently falling back to the default hid typos in boot scripts;
 * - a boolean environment variable (DNSSD_WAIT, DNSSD_PROXIED, ...) must say
 *   true or false; oclif would read any other word as false.
 * An empty environment variable is treated as unset, as shells and env files
 * commonly leave `DNSSD_HOST=` behind.
 */
import {InputError} from '../core/errors.js'

// The words oclif reads as true; the false ones are their opposites.
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'y'])
const FALSE_WORDS = new Set(['0', 'false', 'no', 'n'])

/** `--NAME VALUE` as given on the command line, for the option (non-boolean) flags. */
export interface GivenValue {
  flag: string
  input: string
}

export function rejectEmptyValues(given: readonly GivenValue[]): void {
  for (const {flag, input} of given) {
    if (input.trim() === '') throw new InputError(`--${flag}`, 'an empty value is not allowed; leave the flag out to use its default')
  }
}

/** The value of a boolean environment variable, or bad input naming it. */
export function parseBooleanEnv(name: string, raw: string): boolean {
  const word = raw.trim().toLowerCase()
  if (TRUE_WORDS.has(word)) return true
  if (FALSE_WORDS.has(word)) return false
  throw new InputError(name, `${JSON.stringify(raw)} is not a boolean; use true or false (also 1/0, yes/no)`)
}

/** Check every set, non-empty boolean environment variable among `flags`. */
export function checkBooleanEnv(flags: Record<string, {type: string; env?: string}>, env: NodeJS.ProcessEnv = process.env): void {
  for (const spec of Object.values(flags)) {
    const raw = spec.env === undefined ? undefined : env[spec.env]
    if (spec.type === 'boolean' && raw !== undefined && raw !== '') parseBooleanEnv(spec.env!, raw)
  }
}
