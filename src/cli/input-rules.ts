/**
 * Rules every command applies to its raw flag values before anything else,
 * shared by the oclif base command and the `resolve` fast path (so this file
 * imports no oclif):
 * - a flag given with an empty value (`--host ''`, `--jitter=`) is bad input;
 *   silently falling back to the default hid typos in boot scripts;
 * - a boolean environment variable (DNSSD_WAIT, DNSSD_PROXIED, ...) must say
 *   true or false; oclif would read any other word as false;
 * - a repeatable flag read from its environment variable (DNSSD_TXT,
 *   DNSSD_SERVER, serve's DNSSD_ZONE) is one value as written, or several as
 *   a JSON array of strings when it starts with "[": single-line, so it fits
 *   a systemd EnvironmentFile, and a value keeps its spaces, commas and "=".
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

/**
 * The values of a repeatable flag given in its environment variable: the
 * whole text as one value, or a JSON array of strings when it starts with
 * "[" (`DNSSD_TXT='["path=/","tls"]'`). An empty array is bad input, as an
 * empty value is.
 */
export function parseListEnv(name: string, raw: string): string[] {
  if (!raw.trimStart().startsWith('[')) return [raw]
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    parsed = undefined
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((v) => typeof v === 'string')) {
    throw new InputError(name, 'starts with "[" but is not a JSON array of one or more strings; give one value as it is, or several as ["a=1","b"]')
  }
  if (parsed.some((v: string) => v.trim() === '')) throw new InputError(name, 'a value in the JSON array is empty; leave it out')
  return parsed as string[]
}

/**
 * Replace, in place, each repeatable flag that oclif read from its
 * environment variable (oclif hands it over as one string) by its values.
 */
export function splitListEnv(flags: Record<string, unknown>, defs: Record<string, {type: string; env?: string; multiple?: boolean}>): void {
  for (const [name, spec] of Object.entries(defs)) {
    const value = flags[name]
    if (spec.multiple && spec.env !== undefined && typeof value === 'string') flags[name] = parseListEnv(spec.env, value)
  }
}
