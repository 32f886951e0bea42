/**
 * The oclif side of src/main.ts, in its own module so main.ts loads oclif
 * only when a command needs it. Static imports: @oclif/core is CommonJS, and
 * only a static import gives a bundle (scripts/bundle.mjs) its named exports.
 */
import {Config, Plugin, execute} from '@oclif/core'
import {COMMANDS} from './commands.js'

/** Run through oclif, which reads package.json and oclif.manifest.json under root. */
export async function runFromDisk(argv: string[], root: string): Promise<void> {
  await execute({args: argv, dir: `${root}/package.json`})
}

/**
 * Run through oclif with the compiled-in package.json and manifest and the
 * command classes: a root plugin whose manifest and command cache are given,
 * so neither is looked for on disk (an executable has no disk copy).
 */
export async function runBundled(argv: string[], root: string, pjson: {name: string}, manifest: unknown): Promise<void> {
  const plugin = new Plugin({root, pjson: pjson as never, isRoot: true, type: 'core'})
  // Both are private in oclif's typings: the command cache, which explicit
  // discovery fills by importing its target file, and _manifest(), which
  // reads oclif.manifest.json.
  Object.assign(plugin, {
    commandCache: COMMANDS,
    _manifest: async () => {
      plugin.hasManifest = true
      return manifest
    },
  })
  await plugin.load()
  const config = await Config.load({root, pjson: pjson as never, plugins: new Map([[pjson.name, plugin]])})
  await execute({args: argv, loadOptions: config})
}
