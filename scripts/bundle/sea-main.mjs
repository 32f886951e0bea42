// Script of the single executables (bundled by `node scripts/bundle.mjs --cjs`):
// argv after the executable, as bin/run.js passes it; the root is the
// executable's directory (oclif keeps no files there; package.json,
// the manifest and the templates are compiled in).
import {dirname} from 'node:path'
import {main} from '../../dist/main.js'

main(process.argv.slice(2), dirname(process.execPath)).catch((error) => {
  process.stderr.write(`dnssd: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
