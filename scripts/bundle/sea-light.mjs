// The light part of the single executables (build/dnssd-light-GROUP.js, one
// asset per group of commands, that sea-boot.mjs compiles with a code
// cache): light.mjs, with the full
// program as the executable's other asset (sea-full.mjs). argv after the
// executable, as bin/run.js passes it; the root is the executable's
// directory (package.json, the manifest and the templates are compiled in).
// `done` settles when the command has run (scripts/dist.mjs waits on it when
// it runs commands to make the code cache).
import {dirname} from 'node:path'
import {runFull} from './sea-full.mjs'
import {runLight} from './light.mjs'

export const done = runLight(process.argv.slice(2), dirname(process.execPath), async () => runFull()).catch((error) => {
  process.stderr.write(`dnssd: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
