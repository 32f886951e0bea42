// The light part of dnssd, in both install forms: --version, and join,
// leave, list and resolve when they need neither oclif nor a cloud SDK,
// which is what a boot script and a client run. One CommonJS script
// (scripts/bundle.mjs: dist/bundle/light.cjs for bin/run.js, build/dnssd.cjs
// as the executables' main script): no ESM loader, one file to read and one
// code cache, so these commands start close to bare node. Every other command,
// and whatever the fast path leaves to oclif, goes to the full program before
// anything has been printed or changed.
import {fastParseOnce} from '../../dist/cli/fast-parse.js'
import {main, manifestCommand} from '../../dist/main.js'
import {setFullRunner} from './full-runner.mjs'

const LIGHT = new Set(['join', 'leave', 'list', 'resolve'])
const SDK_PROVIDERS = new Set(['route53', 'cloudflare'])

/** Can this part run argv to the end? Only the file provider and a file:// registry (or none) need no SDK. */
function light(argv, root) {
  const [id, ...rest] = argv
  if (id === '--version') return argv.length === 1
  if (!LIGHT.has(id)) return false
  let flags
  try {
    const command = manifestCommand(root, id)
    if (command === undefined) return false
    const parsed = fastParseOnce(command, rest)
    // Not the fast path's (help, oclif's parse errors): oclif, in the full program.
    if (parsed === undefined) return false
    flags = parsed.flags
  } catch {
    // Bad input by dnssd's own rules: main reports it here, as the full program would.
    return true
  }
  const provider = typeof flags.provider === 'string' ? flags.provider.trim().toLowerCase() : 'file'
  const registry = typeof flags.registry === 'string' ? flags.registry.trim() : ''
  return !SDK_PROVIDERS.has(provider) && !/^s3:/i.test(registry)
}

/** Run argv here when this part can, else with runFull (the full program's main on the same argv). */
export async function runLight(argv, root, runFull) {
  setFullRunner(runFull)
  if (light(argv, root)) await main(argv, root)
  else await runFull()
}
