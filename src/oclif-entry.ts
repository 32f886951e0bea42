/**
 * The oclif side of src/main.ts, in its own module so main.ts loads oclif
 * only when a command needs it. Static imports: @oclif/core is CommonJS, and
 * only a static import gives a bundle (scripts/bundle.mjs) its named exports.
 */
import {Config, Plugin, execute} from '@oclif/core'
import {COMMAND_LOADERS} from './commands-lazy.js'

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
  // Only the command this argv names is loaded (help and unknown ids read the
  // manifest); a space-separated topic ("policy route53") is tried too.
  const commands: Record<string, unknown> = {}
  const ids = argv[0] === undefined ? [] : [argv[0], argv.slice(0, 2).join(':')]
  const wanted = ids.filter((id) => Object.hasOwn(COMMAND_LOADERS, id))
  for (const id of wanted.length > 0 ? wanted : Object.keys(COMMAND_LOADERS)) commands[id] = (await COMMAND_LOADERS[id]!()).default
  // Both are private in oclif's typings: the command cache, which explicit
  // discovery fills by importing its target file, and _manifest(), which
  // reads oclif.manifest.json.
  Object.assign(plugin, {
    commandCache: commands,
    _manifest: async () => {
      plugin.hasManifest = true
      return manifest
    },
  })
  await plugin.load()
  const config = await Config.load({root, pjson: pjson as never, plugins: new Map([[pjson.name, plugin]])})
  await execute({args: argv, loadOptions: config})
}
