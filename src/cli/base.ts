/**
 * Base for every dnssd command: `--json` through oclif's enableJsonFlag, and
 * one error path so the documented exit codes (DESIGN §4) hold in text and
 * JSON mode alike. Plain oclif exits 1 for any error under --json.
 */
import {Command, Errors, type Interfaces} from '@oclif/core'
import {type ErrorReport, errorReport, oneLine} from '../core/errors.js'
import {checkBooleanEnv, rejectEmptyValues} from './input-rules.js'
import {printJson, reportError, verboseLogger} from './output.js'

export interface ErrorJson {
  error: ErrorReport
}

/** Map anything thrown to a DnssdError-like triple; oclif's parse errors are bad input. */
export function describeError(err: unknown): ErrorReport {
  if (err instanceof Errors.CLIError) {
    // oclif's own parse errors (unknown flag, missing value): bad input.
    const first = err.message.split('\n').find((l) => l.trim() !== '') ?? err.message
    const exitCode = err.oclif.exit === 1 || err.oclif.exit === undefined ? 2 : err.oclif.exit
    return {kind: exitCode === 2 ? 'bad-input' : 'internal', message: oneLine(`${first.trim()} (see --help)`), exitCode}
  }
  return errorReport(err)
}

export abstract class DnssdCommand extends Command {
  static override enableJsonFlag = true

  /** oclif's parse, then the rules every command shares (src/cli/input-rules.ts). */
  protected override async parse<F extends Record<string, any>, B extends Record<string, any>, A extends Record<string, any>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const output = await super.parse(options, argv)
    const defs = (options?.flags ?? this.ctor.flags ?? {}) as Record<string, {type: string; env?: string}>
    rejectEmptyValues(output.raw.flatMap((t) => (t.type === 'flag' && defs[t.flag]?.type === 'option' ? [{flag: t.flag, input: t.input}] : [])))
    checkBooleanEnv(defs)
    return output
  }

  /** Print a line for humans only (never under --json). */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) this.log(line)
  }

  /** --json output: plain JSON, the same bytes as the start-up fast path (no oclif theme colours). */
  protected override logJson(json: unknown): void {
    printJson(json)
  }

  /** --verbose lines go to stderr so stdout stays parseable. */
  protected verboseLogger(enabled: boolean): (line: string) => void {
    return verboseLogger(enabled)
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    reportError(describeError(err), err, this.jsonEnabled())
    return undefined
  }
}
