#!/usr/bin/env node
// Start-up path (CommonJS: bin/package.json, so no ESM loader for the light
// commands). After `npm run build`:
//  - dist/bundle/light.cjs runs --version, and join/leave/list/resolve when
//    they need neither oclif nor a cloud SDK (scripts/bundle/light.mjs);
//  - dist/bundle/main.js, the full program (ESM, chunks read when used),
//    runs everything else.
// Node's compile cache (in the OS temp dir) skips re-compiling the full
// program on the next run. Its cache is made when a script is compiled, so
// it holds only the top level; the light part is compiled here instead, with
// a V8 code cache per command written into the same directory after the
// first run of that command, which holds every function the command called.
// Without a bundle (only `tsc` ran) the same entry runs from dist/main.js.
// See src/main.ts.
'use strict'
const fs = require('node:fs')
const nodeModule = require('node:module')
const path = require('node:path')
const {pathToFileURL} = require('node:url')

const root = path.join(__dirname, '..')
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  // oclif's --version line (versionLine in src/main.ts), before any bundle is read.
  const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  process.stdout.write(`${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
  return
}
nodeModule.enableCompileCache?.()
const bundle = path.join(root, 'dist', 'bundle')
const full = async () => {
  const entry = fs.existsSync(path.join(bundle, 'main.js')) ? path.join(bundle, 'main.js') : path.join(root, 'dist', 'main.js')
  const {main} = await import(pathToFileURL(entry).href)
  await main(argv, `${root}/`)
}

/** light.cjs compiled with the code cache of this command (made after its first run), run like require(). */
function loadLight(file) {
  const {Script} = require('node:vm')
  const source = fs.readFileSync(file, 'utf8')
  const dir = nodeModule.getCompileCacheDir?.()
  const st = fs.statSync(file)
  const command = /^(--version|join|leave|list|resolve)$/.test(argv[0] ?? '') ? argv[0] : 'other'
  const cacheFile = dir && path.join(dir, `dnssd-light-${command}-${st.size}-${Math.trunc(st.mtimeMs)}.cache`)
  let cachedData
  try {
    cachedData = cacheFile ? fs.readFileSync(cacheFile) : undefined
  } catch {
    cachedData = undefined
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, nodeModule.createRequire(file), module, file, path.dirname(file))
  const saveCache = () => {
    if (!cacheFile || (cachedData && !script.cachedDataRejected)) return
    try {
      const temp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(temp, script.createCachedData())
      fs.renameSync(temp, cacheFile)
    } catch {
      // A cache is an optimisation: a read-only or full disk changes nothing.
    }
  }
  return {runLight: async (...args) => module.exports.runLight(...args).finally(saveCache)}
}

const light = path.join(bundle, 'light.cjs')
;(fs.existsSync(light) ? loadLight(light).runLight(argv, `${root}/`, full) : full()).catch((error) => {
  process.exitCode = 1
  throw error
})
