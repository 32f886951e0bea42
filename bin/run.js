#!/usr/bin/env node
// Start-up path: the bundle (dist/bundle/main.js, built by `npm run build`)
// is a few files that load in one go, and node's compile cache (in the OS
// temp dir) skips re-compiling them on the next run. Without a bundle (only
// `tsc` ran) the same entry runs from dist/main.js. See src/main.ts.
// Node's built-ins come through getBuiltinModule: an ESM import of node:fs
// builds its whole export list, which loads the fs streams (a few ms).
const builtin = async (id) => process.getBuiltinModule?.(id) ?? (await import(id)).default
const [fs, module] = await Promise.all([builtin('node:fs'), builtin('node:module')])
module.enableCompileCache?.()
const bundle = new URL('../dist/bundle/main.js', import.meta.url)
const {main} = await import(fs.existsSync(bundle) ? bundle.href : '../dist/main.js')
await main(process.argv.slice(2), decodeURIComponent(new URL('..', import.meta.url).pathname))
