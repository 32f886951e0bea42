/**
 * Start-up fast path for `dnssd resolve` (bin/run.js): a client that runs on
 * every connection attempt should start about as fast as bare node, and
 * importing @oclif/core alone costs more than node's own start. The flags
 * are the same declarations the oclif command uses (resolve-flags.ts),
 * parsed with node:util; anything this path does not handle itself (help,
 * unknown flags, bad option values) returns false and oclif takes over, so
 * help text and parse errors stay oclif's.
 */
import {parseArgs} from 'node:util'
import {writeError} from './conventions.js'
import {parseBooleanEnv, parseListEnv, rejectEmptyValues} from './input-rules.js'
import {type FlagSpec, RESOLVE_FLAGS, type ResolveFlags} from './resolve-flags.js'
import {runResolve} from './resolve-run.js'

export async function fastResolve(argv: string[]): Promise<boolean> {
  if (argv.some((a) => a === '--help' || a === '-h')) return false
  const specs = Object.entries(RESOLVE_FLAGS) as [string, FlagSpec][]
  const options: Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}> = {json: {type: 'boolean'}}
  for (const [name, s] of specs) options[name] = {type: s.type, ...(s.char ? {short: s.char} : {}), ...(s.multiple ? {multiple: true} : {})}
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({args: argv, options, allowPositionals: true, strict: true})
  } catch {
    return false
  }
  if (parsed.positionals.length > 1) return false
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>
  const json = values.json === true
  try {
    rejectEmptyValues(specs.flatMap(([flag]) => [values[flag]].flat().flatMap((v) => (typeof v === 'string' ? [{flag, input: v}] : []))))
    for (const [name, s] of specs) {
      if (values[name] === undefined && s.env && process.env[s.env] !== undefined && process.env[s.env] !== '') {
        const raw = process.env[s.env]!
        values[name] = s.type === 'boolean' ? parseBooleanEnv(s.env, raw) : s.multiple ? parseListEnv(s.env, raw) : raw
      }
      if (values[name] === undefined && s.default !== undefined) values[name] = s.default
      const v = values[name]
      if (s.options && typeof v === 'string' && !s.options.includes(v)) return false
    }
    const verbose = values.verbose === true || /\bdnssd\b/.test(process.env.DEBUG ?? '')
    const result = await runResolve(parsed.positionals[0], values as unknown as ResolveFlags, {
      log: (line) => process.stdout.write(`${line}\n`),
      verbose: verbose ? (line) => process.stderr.write(`dnssd: ${line}\n`) : () => {},
      json,
    })
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } catch (error) {
    writeError(error, json)
  }
  return true
}
