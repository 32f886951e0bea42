/**
 * What every command prints around its own output, with no oclif import, so
 * the oclif commands (src/cli/base.ts) and the start-up fast path
 * (src/cli/fast-run.ts) print the same bytes.
 */
import {type ErrorReport, oneLine, redactSecrets} from '../core/errors.js'

/** --verbose lines (or DEBUG=dnssd) go to stderr so stdout stays parseable. */
export function verboseLogger(enabled: boolean): (line: string) => void {
  return enabled || /\bdnssd\b/.test(process.env.DEBUG ?? '') ? (line) => process.stderr.write(`dnssd: ${oneLine(redactSecrets(line))}\n`) : () => {}
}

/** A --json document on stdout, as oclif's logJson prints it without a theme. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

/** The one error path (DESIGN §4): the exit code, and one line on stderr or `{error}` under --json. */
export function reportError(described: ErrorReport, err: unknown, json: boolean): void {
  process.exitCode = described.exitCode
  if (json) {
    printJson({error: described})
  } else {
    process.stderr.write(`dnssd: ${described.message}\n`)
    if (described.kind === 'internal' && process.env.DEBUG) process.stderr.write(`${redactSecrets((err as Error | undefined)?.stack ?? '')}\n`)
  }
}
