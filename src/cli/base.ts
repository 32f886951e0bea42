/**
 * Base for every dnssd command: `--json` through oclif's enableJsonFlag, and
 * one error path so the documented exit codes (DESIGN §4) hold in text and
 * JSON mode alike. Plain oclif exits 1 for any error under --json.
 */
import {Command, Errors, type Interfaces} from '@oclif/core'
import {type AppEnv} from '../app/request.js'
import {type ErrorReport, errorReport, oneLine} from '../core/errors.js'
import {checkBooleanEnv, rejectEmptyValues, splitListEnv} from './input-rules.js'
import {printJson, reportError, verboseLogger} from './output.js'
import {spinnerProgress} from './wait.js'

export interface ErrorJson {
  error: ErrorReport
}

/** Map anything thrown to a DnssdError-like triple; oclif's parse errors are bad input. */
export function describeError(err: unknown): ErrorReport {
  if (err instanceof Errors.CLIError) {
    // oclif's own parse errors (unknown flag, missing value): bad input.
    const first = missingArgs(err) ?? err.message.split('\n').find((l) => l.trim() !== '') ?? err.message
    const exitCode = err.oclif.exit === 1 || err.oclif.exit === undefined ? 2 : err.oclif.exit
    return {kind: exitCode === 2 ? 'bad-input' : 'internal', message: oneLine(`${first.trim()} (see --help)`), exitCode}
  }
  return errorReport(err)
}

/** oclif's "Missing 1 required arg:" names the argument only on the lines after it: name it, and its choices. */
function missingArgs(err: Error): string | undefined {
  const args = (err as {args?: unknown}).args
  if (!/^Missing \d+ required arg/.test(err.message) || !Array.isArray(args)) return undefined
  return (args as {name?: string; options?: string[]}[])
    .map((a) => `${(a.name ?? 'argument').toUpperCase()}: missing${a.options ? `; give one of ${a.options.join(', ')}` : ''}`)
    .join('; ')
}

export abstract class DnssdCommand extends Command {
  static override enableJsonFlag = true

  /** oclif's parse, then the rules every command shares (src/cli/input-rules.ts). */
  protected override async parse<F extends Record<string, any>, B extends Record<string, any>, A extends Record<string, any>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const output = await super.parse(options, argv)
    const defs = (options?.flags ?? this.ctor.flags ?? {}) as Record<string, {type: string; env?: string; multiple?: boolean}>
    rejectEmptyValues(output.raw.flatMap((t) => (t.type === 'flag' && defs[t.flag]?.type === 'option' ? [{flag: t.flag, input: t.input}] : [])))
    checkBooleanEnv(defs)
    splitListEnv(output.flags, defs)
    return output
  }

  /** Print a line for humans only (never under --json). */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) this.log(line)
  }

  /** Print rendered lines for humans only (never under --json). */
  protected print(lines: readonly string[]): void {
    if (!this.jsonEnabled()) for (const line of lines) this.log(line)
  }

  /** --json output: plain JSON, the same bytes as the start-up fast path (no oclif theme colours). */
  protected override logJson(json: unknown): void {
    printJson(json)
  }

  /** --verbose lines go to stderr so stdout stays parseable. */
  protected verboseLogger(enabled: boolean): (line: string) => void {
    return verboseLogger(enabled)
  }

  /** What the app functions need from the command: the --verbose log and a spinner for long waits. */
  protected appEnv(verbose: boolean): AppEnv {
    return {log: this.verboseLogger(verbose), progress: spinnerProgress(this.jsonEnabled())}
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    reportError(describeError(err), err, this.jsonEnabled())
    return undefined
  }
}
