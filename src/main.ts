/**
 * The one entry of every form of the CLI: bin/run.js (npm install, a clone)
 * and the single executables (scripts/dist.mjs) call main().
 *
 * Start-up: `--version` (`-v`, `version`) answers from package.json alone,
 * a mistyped command is answered from the manifest's command ids, and join,
 * leave, list and resolve take the fast path (src/cli/fast-run.ts), which
 * parses their flags from the oclif manifest; none of these loads oclif. In a
 * bundle (scripts/bundle.mjs) package.json and oclif.manifest.json are
 * compiled in (DNSSD_PJSON_TEXT, DNSSD_MANIFEST_TEXT) and oclif gets the command
 * classes from COMMANDS (src/commands.ts), so it reads no file at all
 * (src/oclif-entry.ts).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {type ManifestCommand} from './cli/fast-parse.js'

interface PackageJson {
  name: string
  version: string
  [key: string]: unknown
}
// The text of package.json and oclif.manifest.json: string literals in the
// bundle, parsed when needed (an object would be a module of its own).
declare const DNSSD_PJSON_TEXT: string | undefined
declare const DNSSD_MANIFEST_TEXT: string | undefined

const bundled = typeof DNSSD_PJSON_TEXT !== 'undefined'

function packageJson(root: string): PackageJson {
  return JSON.parse(bundled ? DNSSD_PJSON_TEXT! : readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson
}

interface Manifest {
  commands?: Record<string, ManifestCommand>
}

let manifest: {root: string; value: Manifest | undefined} | undefined

/** The manifest, read and parsed once. */
function readManifest(root: string): Manifest | undefined {
  if (manifest?.root === root) return manifest.value
  let value: Manifest | undefined
  try {
    value = JSON.parse(bundled ? DNSSD_MANIFEST_TEXT! : readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as Manifest
  } catch {
    value = undefined
  }
  manifest = {root, value}
  return value
}

/** The oclif manifest's entry for a command id, or undefined without a manifest. */
export function manifestCommand(root: string, id: string): ManifestCommand | undefined {
  const manifest = readManifest(root)
  return manifest?.commands && Object.hasOwn(manifest.commands, id) ? manifest.commands[id] : undefined
}

/** oclif's own --version line (config.userAgent), without loading oclif. */
export function versionLine(pjson: PackageJson): string {
  return `${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`
}

export async function main(argv: string[], root: string): Promise<void> {
  // @oclif/core checks its own engines range on import, loading semver and its
  // package.json; package.json "engines" already states what dnssd needs.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= 'true'
  // CLI conventions before any command (src/cli/conventions.ts): the version
  // line, and one line naming the nearest command for a mistyped one.
  if (argv.length === 1 && ['-v', '--version', 'version'].includes(argv[0]!)) {
    const {writeDirectly, writeTo} = await import('./cli/output.js')
    writeDirectly()
    writeTo(1, `${versionLine(packageJson(root))}\n`)
    return
  }
  const ids = Object.keys(readManifest(root)?.commands ?? {})
  if (ids.length > 0 && argv[0] !== undefined && !argv[0].startsWith('-') && (!ids.includes(argv[0]) || argv[0] === 'help')) {
    const {unknownCommand} = await import('./cli/conventions.js')
    const unknown = await unknownCommand(argv, ids)
    if (unknown) {
      const {reportError} = await import('./cli/output.js')
      const {errorReport} = await import('./core/errors.js')
      return reportError(errorReport(unknown), unknown, argv.includes('--json'))
    }
  }
  if (argv[0] === 'join' || argv[0] === 'leave' || argv[0] === 'list' || argv[0] === 'resolve') {
    const {runFast} = await import('./cli/fast-run.js')
    if (await runFast(argv[0], argv.slice(1), manifestCommand(root, argv[0]))) return
  }
  const oclif = await import('./oclif-entry.js')
  if (bundled) await oclif.runBundled(argv, root, packageJson(root), readManifest(root))
  else await oclif.runFromDisk(argv, root)
}
