import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

/**
 * Makes DIR and puts in it one shell stub per name that appends a line
 * "NAME ARG ARG ..." to LOG and exits 0, for sandboxed runs of the templates.
 */
export async function writeRecordingStubs(dir: string, names: readonly string[], log: string): Promise<void> {
  await mkdir(dir, {recursive: true})
  for (const name of names) {
    await writeFile(join(dir, name), `#!/bin/sh\nprintf '%s' ${name} >> '${log}'\nfor a in "$@"; do printf ' %s' "$a" >> '${log}'; done\necho >> '${log}'\n`)
    await chmod(join(dir, name), 0o755)
  }
}
