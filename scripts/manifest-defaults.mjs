#!/usr/bin/env node
// oclif's manifest keeps the default of option flags but not of boolean
// flags. The start-up fast path (src/cli/fast-parse.ts) parses argv from the
// manifest alone, and oclif hands a command `false` for an unset boolean
// flag declared with `default: false` but leaves out one declared without a
// default; this adds those defaults to oclif.manifest.json so both paths
// give a command the same flags. Run after `oclif manifest` (npm run build).
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const file = join(root, 'oclif.manifest.json')
const manifest = JSON.parse(readFileSync(file, 'utf8'))
const {COMMANDS} = await import(join(root, 'dist', 'commands.js'))
for (const [id, command] of Object.entries(COMMANDS)) {
  const cached = manifest.commands[id]
  if (!cached) throw new Error(`oclif.manifest.json has no command ${id}: run \`oclif manifest\` first`)
  for (const [name, flag] of Object.entries(command.flags ?? {})) {
    if (flag.type !== 'boolean' || flag.default === undefined) continue
    if (typeof flag.default !== 'boolean') throw new Error(`${id} --${name}: a computed boolean default cannot be written to the manifest`)
    cached.flags[name].default = flag.default
  }
}
writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
