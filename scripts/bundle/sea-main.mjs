// Entry of the executables' full program (bundled by `node scripts/bundle.mjs
// --cjs` into build/dnssd-full.js, an asset that sea-full.mjs runs): every
// command, oclif and the SDKs included. argv after the executable, as
// bin/run.js passes it; the root is the executable's directory (oclif keeps
// no files there; package.json, the manifest and the templates are compiled in).
import {dirname} from 'node:path'
import {main} from '../../dist/main.js'

main(process.argv.slice(2), dirname(process.execPath)).catch((error) => {
  process.stderr.write(`dnssd: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
