// Main script of the single executables (bundled by `node scripts/bundle.mjs
// --cjs` into build/dnssd.cjs): --version, and join, leave, list and resolve
// when they need neither oclif nor a cloud SDK, which is what a boot script
// and a client run. Everything else runs the full program (build/dnssd-full.js,
// an asset of the executable: sea-full.mjs), so a plain command does not pay
// for starting the 6 MB script that carries oclif and the SDKs.
// argv after the executable, as bin/run.js passes it; the root is the
// executable's directory (package.json, the manifest and the templates are
// compiled in).
import {dirname} from 'node:path'
import {fastParse} from '../../dist/cli/fast-parse.js'
import {main} from '../../dist/main.js'
import {runFull} from './sea-full.mjs'

const LIGHT = new Set(['join', 'leave', 'list', 'resolve'])
const SDK_PROVIDERS = new Set(['route53', 'cloudflare'])

/** Can this part run argv to the end? Only the file provider and a file:// registry (or none) need no SDK. */
function light(argv) {
  const [id, ...rest] = argv
  if (id === '--version') return argv.length === 1
  if (!LIGHT.has(id)) return false
  let flags
  try {
    const parsed = fastParse(JSON.parse(DNSSD_MANIFEST_TEXT).commands[id], rest)
    // Not the fast path's (help, oclif's parse errors): oclif in the full program.
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

const argv = process.argv.slice(2)
if (light(argv)) {
  main(argv, dirname(process.execPath)).catch((error) => {
    process.stderr.write(`dnssd: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  })
} else {
  runFull()
}
