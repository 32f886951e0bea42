/**
 * The one entry of every form of the CLI: bin/run.js (npm install, a clone)
 * and the single executables (scripts/dist.mjs) call main().
 *
 * Start-up: `--version` (`-v`, `version`) answers from package.json alone, and `resolve` takes
 * its own fast path (src/cli/fast-resolve.ts); neither loads oclif. In a
 * bundle (scripts/bundle.mjs) package.json and oclif.manifest.json are
 * compiled in (DNSSD_PJSON, DNSSD_MANIFEST) and oclif gets the command
 * classes from COMMANDS (src/commands.ts), so it reads no file at all
 * (src/oclif-entry.ts).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {COMMAND_LOADERS} from './commands-lazy.js'

interface PackageJson {
  name: string
  version: string
  [key: string]: unknown
}
declare const DNSSD_PJSON: PackageJson | undefined
declare const DNSSD_MANIFEST: Record<string, unknown> | undefined

const bundled = typeof DNSSD_PJSON !== 'undefined'

function packageJson(root: string): PackageJson {
  return bundled ? DNSSD_PJSON! : (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson)
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
    process.stdout.write(`${versionLine(packageJson(root))}\n`)
    return
  }
  if (argv[0] !== undefined && !argv[0].startsWith('-') && (!Object.hasOwn(COMMAND_LOADERS, argv[0]) || argv[0] === 'help')) {
    const {unknownCommand, writeError} = await import('./cli/conventions.js')
    const unknown = await unknownCommand(argv)
    if (unknown) return writeError(unknown, argv.includes('--json'))
  }
  if (argv[0] === 'resolve') {
    const {fastResolve} = await import('./cli/fast-resolve.js')
    if (await fastResolve(argv.slice(1))) return
  }
  const oclif = await import('./oclif-entry.js')
  if (bundled) await oclif.runBundled(argv, root, DNSSD_PJSON!, DNSSD_MANIFEST)
  else await oclif.runFromDisk(argv, root)
}
