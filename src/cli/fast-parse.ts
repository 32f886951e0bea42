/**
 * oclif's flag parsing (@oclif/core's Parser and the flag checks of its
 * validate step), driven by a command's entry in the oclif manifest, so that
 * the start-up fast path (src/cli/fast-run.ts) runs join, leave, list and
 * resolve without loading @oclif/core and its own command classes.
 *
 * It gives a command the same flags and args oclif's parse would, then
 * applies the rules of DnssdCommand.parse (src/cli/input-rules.ts). Whatever
 * it does not handle for sure makes it answer "not mine" (undefined), and
 * oclif parses the same argv: help, `--`, unknown or repeated flags, missing
 * or invalid values, failed exclusive/required checks, extra positionals,
 * and manifest features it does not implement (aliases, delimiters,
 * relationships, deprecations, computed defaults). So help text and parse
 * errors stay oclif's, and only input rules (empty values, boolean
 * environment words) are reported here, the way DnssdCommand reports them.
 *
 * Limits of the manifest: it does not record a flag's parse function
 * (Flags.integer, custom parse), `allowStdin` or `multipleNonGreedy`. dnssd's
 * commands use plain Flags.string/Flags.boolean; test/unit/fast-parse.test.ts
 * compares this parser with oclif's for every flag of the commands it serves.
 */
import {checkBooleanEnv, rejectEmptyValues, splitListEnv} from './input-rules.js'

export interface ManifestFlag {
  name: string
  type: 'boolean' | 'option'
  char?: string
  env?: string
  multiple?: boolean
  allowNo?: boolean
  default?: unknown
  options?: string[]
  exclusive?: unknown[]
  required?: boolean
  hasDynamicHelp?: boolean
  [key: string]: unknown
}

export interface ManifestArg {
  name: string
  required?: boolean
  default?: unknown
  options?: string[]
  multiple?: boolean
  [key: string]: unknown
}

export interface ManifestCommand {
  id: string
  flags: Record<string, ManifestFlag>
  args: Record<string, ManifestArg>
  strict?: boolean
  [key: string]: unknown
}

export interface FastParsed {
  flags: Record<string, string | boolean | string[]>
  args: Record<string, string>
}

/** Flag properties whose behaviour this parser does not implement. */
const UNSUPPORTED_FLAG_KEYS = ['aliases', 'charAliases', 'delimiter', 'dependsOn', 'relationships', 'combinable', 'exactlyOne', 'atLeastOne', 'deprecated', 'deprecateAliases', 'noCacheDefault']
/** Command properties that change how oclif parses or what it prints first. */
const UNSUPPORTED_COMMAND_KEYS = ['deprecateAliases', 'deprecationOptions', 'state']

/** Thrown inside the parse loop for anything oclif would report (or do) itself. */
class NotMine extends Error {}

/** oclif's isTruthy: the words it reads as true from a boolean flag's environment variable. */
const envTruthy = (raw: string): boolean => ['1', 'true', 'y', 'yes'].includes(raw.toLowerCase())

function supported(cmd: ManifestCommand): boolean {
  if (cmd.strict === false || UNSUPPORTED_COMMAND_KEYS.some((k) => cmd[k] !== undefined)) return false
  for (const flag of Object.values(cmd.flags)) {
    if (UNSUPPORTED_FLAG_KEYS.some((k) => flag[k] !== undefined) || flag.hasDynamicHelp) return false
    if (flag.type !== 'boolean' && flag.type !== 'option') return false
    if (flag.exclusive?.some((e) => typeof e !== 'string')) return false
    if (flag.default !== undefined && (flag.type === 'boolean' ? typeof flag.default !== 'boolean' : flag.multiple ? !isStringArray(flag.default) : typeof flag.default !== 'string')) return false
  }
  return Object.values(cmd.args).every((a) => a.multiple !== true && a.default === undefined && !UNSUPPORTED_FLAG_KEYS.some((k) => a[k] !== undefined))
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string')

let last: {cmd: ManifestCommand; words: string; outcome: {parsed: FastParsed | undefined} | {error: unknown}} | undefined

/**
 * fastParse with this process's environment, once per command and argv:
 * the light part (scripts/bundle/light.mjs) parses to decide whether it can
 * run the command, then the fast path (src/cli/fast-run.ts) runs it with the
 * same outcome (the same flags, or the same error) instead of parsing again.
 */
export function fastParseOnce(cmd: ManifestCommand, argv: readonly string[]): FastParsed | undefined {
  const words = argv.join('\u0000')
  if (last?.cmd !== cmd || last.words !== words) {
    try {
      last = {cmd, words, outcome: {parsed: fastParse(cmd, argv)}}
    } catch (error) {
      last = {cmd, words, outcome: {error}}
    }
  }
  if ('error' in last.outcome) throw last.outcome.error
  return last.outcome.parsed
}

/**
 * Parse argv (the words after the command id) as oclif would for `cmd`, or
 * undefined when oclif should. Throws InputError for the input rules.
 */
export function fastParse(
  cmd: ManifestCommand,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  // A function: touching process.stdin sets up the stdin stream (a few ms), so only when an arg is missing.
  stdinIsTty: () => boolean = () => Boolean(process.stdin.isTTY),
): FastParsed | undefined {
  if (!supported(cmd)) return undefined
  // oclif shows help for these anywhere in argv; the rest of `--` handling is left to oclif too.
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--')) return undefined
  let tokens: ReturnType<typeof tokenize>
  let flags: FastParsed['flags']
  let args: FastParsed['args']
  try {
    tokens = tokenize(cmd, argv)
    args = assignArgs(cmd, tokens.positionals, stdinIsTty)
    flags = resolveFlags(cmd, tokens.raw, env)
  } catch (error) {
    if (error instanceof NotMine) return undefined
    throw error
  }
  // DnssdCommand.parse: the same rules, in the same order, after oclif's parse.
  rejectEmptyValues(tokens.raw.filter((t) => cmd.flags[t.flag]!.type === 'option').map(({flag, input}) => ({flag, input})))
  checkBooleanEnv(cmd.flags, env)
  splitListEnv(flags, cmd.flags)
  return {flags, args}
}

interface RawFlag {
  flag: string
  input: string
}

/** Parser.parse's loop: flags and their values, in order, and the positionals. */
function tokenize(cmd: ManifestCommand, argv: readonly string[]): {raw: RawFlag[]; positionals: string[]} {
  const defs = cmd.flags
  const find = (arg: string): {isLong: boolean; name?: string} => {
    const isLong = arg.startsWith('--')
    if (isLong) {
      const name = arg.slice(2)
      if (Object.hasOwn(defs, name)) return {isLong, name}
      if (arg.startsWith('--no-')) {
        const negated = arg.slice(5)
        if (Object.hasOwn(defs, negated) && defs[negated]!.type === 'boolean' && defs[negated]!.allowNo) return {isLong, name: negated}
      }
      return {isLong}
    }
    if (!arg.startsWith('-') || arg.length < 2) return {isLong}
    return {isLong, name: Object.keys(defs).find((k) => defs[k]!.char === arg[1])}
  }
  const queue = [...argv]
  const raw: RawFlag[] = []
  const positionals: string[] = []
  let current: ManifestFlag | undefined
  const parseFlag = (arg: string): boolean => {
    const {isLong, name} = find(arg)
    if (name === undefined) {
      const i = arg.indexOf('=')
      if (i === -1) return false
      queue.unshift(arg.slice(i + 1))
      if (!parseFlag(arg.slice(0, i))) {
        queue.shift()
        return false
      }
      // `--bool=value`: oclif takes the flag and leaves the value as a positional.
      if (defs[raw.at(-1)!.flag]!.type === 'boolean') throw new NotMine()
      return true
    }
    const flag = defs[name]!
    if (flag.type === 'option') {
      if (!flag.multiple && raw.some((t) => t.flag === name)) throw new NotMine()
      current = flag
      const input = isLong || arg.length < 3 ? queue.shift() : arg.slice(arg[2] === '=' ? 3 : 2)
      // No value, or a flag where the value should be: oclif's error. `-` may mean stdin (allowStdin).
      if (input === undefined || input === '-' || find(input).name !== undefined) throw new NotMine()
      raw.push({flag: name, input})
    } else {
      raw.push({flag: name, input: arg})
      if (!isLong && arg.length > 2) queue.unshift(`-${arg.slice(2)}`)
    }
    return true
  }
  while (queue.length > 0) {
    const input = queue.shift()!
    if (input.startsWith('-') && input !== '-') {
      if (parseFlag(input)) continue
      // An unknown flag (oclif's error) or a negative number: oclif decides.
      throw new NotMine()
    }
    // A multiple option takes every following word until the next flag.
    if (current?.multiple) raw.push({flag: current.name, input})
    else positionals.push(input)
  }
  return {raw, positionals}
}

function assignArgs(cmd: ManifestCommand, positionals: string[], stdinIsTty: () => boolean): FastParsed['args'] {
  const defs = Object.values(cmd.args)
  if (positionals.length > defs.length) throw new NotMine()
  const args: FastParsed['args'] = {}
  defs.forEach((def, i) => {
    const input = positionals[i]
    // oclif reads a missing arg from stdin when stdin is not a terminal.
    if (input === undefined) {
      if (def.required || !stdinIsTty()) throw new NotMine()
      return
    }
    if (def.options && !def.options.includes(input)) throw new NotMine()
    args[def.name] = input
  })
  return args
}

/** Parser._flags and validate's flag checks: tokens, then environment, then defaults. */
function resolveFlags(cmd: ManifestCommand, raw: RawFlag[], env: NodeJS.ProcessEnv): FastParsed['flags'] {
  const flags: FastParsed['flags'] = {}
  const defaulted = new Set<string>()
  const checkOption = (def: ManifestFlag, value: string): string => {
    if (def.options && !def.options.includes(value)) throw new NotMine()
    return value
  }
  for (const [name, def] of Object.entries(cmd.flags)) {
    const given = raw.filter((t) => t.flag === name)
    const fromEnv = def.env === undefined ? undefined : env[def.env]
    if (given.length > 0) {
      if (def.type === 'boolean') flags[name] = given.at(-1)!.input !== `--no-${name}`
      else if (def.multiple) flags[name] = given.map((t) => checkOption(def, t.input))
      else flags[name] = checkOption(def, given.at(-1)!.input)
    } else if (fromEnv) {
      // A multiple option read from its environment variable is one string in oclif.
      flags[name] = def.type === 'boolean' ? envTruthy(fromEnv) : checkOption(def, fromEnv)
    } else if (def.default !== undefined) {
      flags[name] = Array.isArray(def.default) ? [...(def.default as string[])] : (def.default as string | boolean)
      defaulted.add(name)
    }
  }
  for (const [name, def] of Object.entries(cmd.flags)) {
    if (flags[name] === undefined) {
      if (def.required) throw new NotMine()
      continue
    }
    if (defaulted.has(name)) continue
    for (const other of (def.exclusive ?? []) as string[]) {
      if (!defaulted.has(other) && flags[other] !== undefined) throw new NotMine()
    }
  }
  return flags
}
