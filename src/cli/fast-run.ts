/**
 * Start-up fast path for join, leave, list and resolve (src/main.ts): these
 * run in boot scripts and on every connection attempt, and loading
 * @oclif/core and the command classes costs more than node's own start.
 * The flags come from the oclif manifest (src/cli/fast-parse.ts), the body is
 * the same function the oclif command runs, and the output, errors and exit
 * codes are printed the way DnssdCommand prints them (src/cli/output.ts).
 * When the parser says "not mine", or the environment asks oclif for
 * something of its own (debug output, DNSSD_CONTENT_TYPE), oclif runs the
 * command instead. DNSSD_NO_FAST_PATH=1 always leaves it to oclif (tests
 * compare the two paths).
 */
import {type AppEnv} from '../app/request.js'
import {errorReport} from '../core/errors.js'
import {type FastParsed, type ManifestCommand, fastParseOnce} from './fast-parse.js'
import {printJson, reportError, verboseLogger, writeDirectly, writeTo} from './output.js'
import {spinnerProgress} from './wait.js'

type Body = (parsed: FastParsed, json: boolean) => Promise<unknown>

const line = (text: string): void => {
  writeTo(1, `${text}\n`)
}

/** What DnssdCommand.appEnv gives the app functions. */
const appEnv = (flags: FastParsed['flags'], json: boolean): AppEnv => ({log: verboseLogger(flags.verbose === true), progress: spinnerProgress(json)})

function membership(action: 'join' | 'leave'): () => Promise<Body> {
  return async () => {
    const [app, {membershipRequest}, {renderMembership}] = await Promise.all([import('../app/membership.js'), import('./requests.js'), import('./render.js')])
    return async ({flags}, json) => {
      const result = await app[action](await membershipRequest(action, flags), appEnv(flags, json))
      if (!json) for (const text of renderMembership(result)) line(text)
      return result
    }
  }
}

/**
 * Each command's body, whose modules are loaded when it runs: the light part
 * of resolve (scripts/bundle.mjs) has none of join's, leave's and list's
 * (their requests, rendering and app functions), nor they resolve's DNS
 * client.
 */
const BODIES: Record<string, () => Promise<Body>> = {
  join: membership('join'),
  leave: membership('leave'),
  list: async () => {
    const [{list}, {listRequest}, {renderList}] = await Promise.all([import('../app/list.js'), import('./requests.js'), import('./render.js')])
    return async ({flags}, json) => {
      const result = await list(await listRequest(flags), appEnv(flags, json))
      if (!json) for (const text of await renderList(result)) line(text)
      return result
    }
  },
  resolve: async () => {
    const {runResolve} = await import('./resolve-run.js')
    return async ({args, flags}, json) =>
      runResolve(args.name, flags as never, {log: line, verbose: verboseLogger(flags.verbose === true), json})
  },
}

/** Settings oclif acts on before or around a command; with any of them set, oclif runs it. */
function oclifOwnsEnv(env: NodeJS.ProcessEnv): boolean {
  const debug = env.DEBUG ?? ''
  return Boolean(env.DNSSD_NO_FAST_PATH || env.DNSSD_CONTENT_TYPE || env.DNSSD_DEBUG || debug.includes('*') || debug.includes('oclif'))
}

/** Run `id` without oclif; false when oclif should run it (nothing was printed or changed). */
export async function runFast(id: string, argv: string[], command: ManifestCommand | undefined): Promise<boolean> {
  const body = Object.hasOwn(BODIES, id) ? BODIES[id] : undefined
  if (body === undefined || command === undefined || oclifOwnsEnv(process.env)) return false
  // oclif's jsonEnabled(): --json among the words (fastParse leaves `--` to oclif).
  const json = argv.includes('--json')
  try {
    const parsed = fastParseOnce(command, argv)
    if (parsed === undefined) return false
    writeDirectly()
    const result = await (await body())(parsed, json)
    if (result && json) printJson(result)
  } catch (error) {
    writeDirectly()
    reportError(errorReport(error), error, json)
  }
  return true
}
