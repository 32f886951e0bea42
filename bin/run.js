#!/usr/bin/env node
// Start-up path (CommonJS: bin/package.json, so no ESM loader for the light
// commands). After `npm run build`:
//  - dist/bundle/light-zone.cjs runs join/leave/list, light-resolve.cjs
//    resolve, when they need neither oclif nor a cloud SDK
//    (scripts/bundle/light.mjs);
//  - dist/bundle/main.js, the full program (ESM, chunks read when used),
//    runs everything else.
// Node's compile cache (in the OS temp dir) skips re-compiling the full
// program on the next run. Its cache is made when a script is compiled, so
// it holds only the top level; the light part is compiled here instead, with
// a V8 code cache per command written after the first run of that command
// (cacheDir below), which holds every function the command called.
// Without a bundle (only `tsc` ran) the same entry runs from dist/main.js.
// See src/main.ts.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  // oclif's --version line (versionLine in src/main.ts), before any bundle is read.
  // write(2) as process.stdout would, without making the stream (node's stream
  // modules); what write(2) refuses is left to the stream (writeTo in src/cli/output.ts).
  const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  let rest = Buffer.from(`${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
  try {
    while (rest.length > 0) rest = rest.subarray(fs.writeSync(1, rest))
  } catch {
    process.stdout.write(rest)
  }
  return
}
const bundle = path.join(root, 'dist', 'bundle')
const full = async () => {
  // node:module (and with it node's ESM loader modules) only here: the light
  // parts need neither.
  const nodeModule = require('node:module')
  const {pathToFileURL} = require('node:url')
  nodeModule.enableCompileCache?.()
  const entry = fs.existsSync(path.join(bundle, 'main.js')) ? path.join(bundle, 'main.js') : path.join(root, 'dist', 'main.js')
  const {main} = await import(pathToFileURL(entry).href)
  await main(argv, `${root}/`)
}

/**
 * A light part compiled with the code cache of this command (made after its
 * first run), run like require(). Read as Latin-1: the parts are ASCII
 * (scripts/bundle.mjs), and that is the quickest way to a V8 string.
 */
function loadLight(file, command) {
  const {Script} = require('node:vm')
  const source = fs.readFileSync(file, 'latin1')
  const dir = cacheDir()
  const st = fs.statSync(file)
  const cacheFile = dir && path.join(dir, `dnssd-light-${command}-${st.size}-${Math.trunc(st.mtimeMs)}.cache`)
  let cachedData
  try {
    cachedData = cacheFile ? fs.readFileSync(cacheFile) : undefined
  } catch {
    cachedData = undefined
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, cachedData})
  const module = {exports: {}}
  // Its require() loads node's built-ins only (everything else is bundled).
  script.runInThisContext()(module.exports, require, module, file, path.dirname(file))
  const saveCache = () => {
    if (!cacheFile || (cachedData && !script.cachedDataRejected)) return
    try {
      if (!fs.existsSync(dir)) fs.mkdirSync(dir, {mode: 0o700})
      if (!privateDir(dir)) return
      const temp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(temp, script.createCachedData())
      fs.renameSync(temp, cacheFile)
      // The caches of this command's earlier builds are of no more use.
      const stale = `dnssd-light-${command}-`
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith(stale) && name !== path.basename(cacheFile) && name.endsWith('.cache')) fs.rmSync(path.join(dir, name), {force: true})
      }
    } catch {
      // A cache is an optimisation: a read-only or full disk changes nothing.
    }
  }
  return {runLight: async (...args) => module.exports.runLight(...args).finally(saveCache)}
}

/**
 * Where the light parts' code caches live: TMPDIR/dnssd-light-cache-UID,
 * made 0700. A code cache is compiled code that this process runs, so one is
 * used only from a directory of this user that nobody else can write to
 * (dnssd runs as root from boot scripts, and /tmp is everyone's). Node's
 * compile cache, which the full program uses, is not needed here: enabling
 * it costs the light commands a module load.
 */
function cacheDir() {
  const uid = process.getuid?.()
  if (uid === undefined) return undefined
  const dir = path.join(process.env.TMPDIR || '/tmp', `dnssd-light-cache-${uid}`)
  return !fs.existsSync(dir) || privateDir(dir) ? dir : undefined
}

function privateDir(dir) {
  try {
    const st = fs.lstatSync(dir)
    return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o077) === 0
  } catch {
    return false
  }
}

// The light part of each group of commands (LIGHT_GROUPS in scripts/bundle.mjs);
// every other command goes to the full program at once.
const GROUPS = {join: 'zone', leave: 'zone', list: 'zone', resolve: 'resolve'}
const group = Object.hasOwn(GROUPS, argv[0] ?? '') ? GROUPS[argv[0]] : undefined
const light = group && path.join(bundle, `light-${group}.cjs`)
;(light && fs.existsSync(light) ? loadLight(light, argv[0]).runLight(argv, `${root}/`, full) : full()).catch((error) => {
  process.exitCode = 1
  throw error
})
