/**
 * What every command prints around its own output, with no oclif import, so
 * the oclif commands (src/cli/base.ts) and the start-up fast path
 * (src/cli/fast-run.ts) print the same bytes.
 */
import {fstatSync, statSync, writeSync} from 'node:fs'
import {type ErrorReport, oneLine, redactSecrets} from '../core/errors.js'

let direct = false

/**
 * From now on writeTo() writes with write(2) as text comes, as
 * process.stdout and process.stderr do for files, pipes and terminals on
 * POSIX; but making those streams loads node's stream modules, a large share
 * of the start-up of a short command (README, start-up). The start-up fast
 * path (src/cli/fast-run.ts) calls this before it prints anything; oclif's
 * commands keep the streams, which oclif writes to as well.
 */
export function writeDirectly(): void {
  direct = true
}

/**
 * Text on stdout (1) or stderr (2). What write(2) refuses (EAGAIN on a
 * non-blocking pipe, EPIPE, ...) is left to the stream, so it behaves
 * exactly as it would have.
 */
export function writeTo(fd: 1 | 2, text: string): void {
  const stream = (): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr)
  if (!direct) {
    stream().write(text)
    return
  }
  let rest = Buffer.from(text)
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest))
  } catch {
    stream().write(rest)
  }
}

/**
 * process.stderr.isTTY, without making the stream when stderr cannot be a
 * terminal: not a character device, or /dev/null (`2>/dev/null` in a boot
 * script).
 */
export function stderrIsTerminal(): boolean {
  try {
    const st = fstatSync(2)
    if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return false
  } catch {
    // not open, or no /dev/null: the stream says what it is
  }
  return process.stderr.isTTY === true
}

/** --verbose lines (or DEBUG=dnssd) go to stderr so stdout stays parseable. */
export function verboseLogger(enabled: boolean): (line: string) => void {
  return enabled || /\bdnssd\b/.test(process.env.DEBUG ?? '') ? (line) => writeTo(2, `dnssd: ${oneLine(redactSecrets(line))}\n`) : () => {}
}

/** A --json document on stdout, as oclif's logJson prints it without a theme. */
export function printJson(value: unknown): void {
  writeTo(1, `${JSON.stringify(value, null, 2)}\n`)
}

/** The one error path (DESIGN §4): the exit code, and one line on stderr or `{error}` under --json. */
export function reportError(described: ErrorReport, err: unknown, json: boolean): void {
  process.exitCode = described.exitCode
  if (json) {
    printJson({error: described})
  } else {
    writeTo(2, `dnssd: ${described.message}\n`)
    if (described.kind === 'internal' && process.env.DEBUG) writeTo(2, `${redactSecrets((err as Error | undefined)?.stack ?? '')}\n`)
  }
}
