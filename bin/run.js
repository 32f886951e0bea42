#!/usr/bin/env node
// Start-up path: the bundle (dist/bundle/main.js, built by `npm run build`)
// is a few files that load in one go, and node's compile cache (in the OS
// temp dir) skips re-compiling them on the next run. Without a bundle (only
// `tsc` ran) the same entry runs from dist/main.js. See src/main.ts.
import {existsSync} from 'node:fs'
import module from 'node:module'
import {fileURLToPath} from 'node:url'

module.enableCompileCache?.()
const bundle = new URL('../dist/bundle/main.js', import.meta.url)
const {main} = await import(existsSync(bundle) ? bundle.href : '../dist/main.js')
await main(process.argv.slice(2), fileURLToPath(new URL('..', import.meta.url)))
