#!/usr/bin/env node
// Start-up path (CommonJS: bin/package.json, so no ESM loader for the light
// commands). After `npm run build`:
//  - dist/bundle/light.cjs runs --version, and join/leave/list/resolve when
//    they need neither oclif nor a cloud SDK (scripts/bundle/light.mjs);
//  - dist/bundle/main.js, the full program (ESM, chunks read when used),
//    runs everything else.
// Node's compile cache (in the OS temp dir) skips re-compiling them on the
// next run. Without a bundle (only `tsc` ran) the same entry runs from
// dist/main.js. See src/main.ts.
'use strict'
const {existsSync} = require('node:fs')
const module_ = require('node:module')
const {join} = require('node:path')
const {pathToFileURL} = require('node:url')

module_.enableCompileCache?.()
const root = join(__dirname, '..')
const argv = process.argv.slice(2)
const bundle = join(root, 'dist', 'bundle')
const full = async () => {
  const entry = existsSync(join(bundle, 'main.js')) ? join(bundle, 'main.js') : join(root, 'dist', 'main.js')
  const {main} = await import(pathToFileURL(entry).href)
  await main(argv, `${root}/`)
}
const light = join(bundle, 'light.cjs')
;(existsSync(light) ? require(light).runLight(argv, `${root}/`, full) : full()).catch((error) => {
  process.exitCode = 1
  throw error
})
