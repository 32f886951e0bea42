// Main script of the single executables (build/dnssd.cjs): the light part
// (light.mjs); the full program is the executable's asset (sea-full.mjs).
// argv after the executable, as bin/run.js passes it; the root is the
// executable's directory (package.json, the manifest and the templates are
// compiled in).
import {dirname} from 'node:path'
import {runFull} from './sea-full.mjs'
import {runLight} from './light.mjs'

runLight(process.argv.slice(2), dirname(process.execPath), async () => runFull()).catch((error) => {
  process.stderr.write(`dnssd: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
