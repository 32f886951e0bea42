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
// a V8 code cache per command and install written after the first run of
// that command and once more after its second (cacheDir below), which holds
// every function the command called.
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

// How each light part begins (scripts/bundle.mjs writes it).
const CJS_WRAPPER = '(function (exports, require, module, __filename, __dirname) {'

/**
 * A light part compiled with the code cache of this command (made after its
 * first runs), run like require(); undefined when there is no such part. The
 * file is already the function that a CommonJS module's code is wrapped in
 * (scripts/bundle.mjs), so its text is compiled as read, without making a
 * second copy of it. Read as Latin-1: the parts are ASCII, and that is the
 * quickest way to a V8 string. One open file gives the text and the size
 * and time the cache's name needs.
 */
function loadLight(file, command) {
  let fd
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return undefined
  }
  let source
  let st
  try {
    st = fs.fstatSync(fd)
    const bytes = Buffer.allocUnsafe(st.size)
    let length = 0
    while (length < bytes.length) {
      const n = fs.readSync(fd, bytes, length, bytes.length - length, length)
      if (n === 0) break
      length += n
    }
    source = bytes.toString('latin1', 0, length)
  } finally {
    fs.closeSync(fd)
  }
  // A part built before the parts were written as that function: the full program runs.
  if (!source.startsWith(CJS_WRAPPER)) return undefined
  const {Script} = require('node:vm')
  const cache = cacheDir()
  const own = cache && `dnssd-light-${command}-${installKey(file)}-`
  const base = cache && path.join(cache.dir, `${own}${st.size}-${Math.trunc(st.mtimeMs)}`)
  // The cache made after the command's second run (NAME.cache), else the
  // one made after its first (NAME.first.cache): a first run often takes a
  // path of its own (the first join of a zone creates its file and reads
  // none), so the second run's cache, made with the first's loaded, holds
  // both.
  let cachedData
  let first = false
  if (base) {
    try {
      cachedData = fs.readFileSync(`${base}.cache`)
    } catch {
      try {
        cachedData = fs.readFileSync(`${base}.first.cache`)
        first = true
      } catch {
        cachedData = undefined
      }
    }
  }
  const script = new Script(source, {filename: file, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, builtinRequire(), module, file, path.dirname(file))
  const saveCache = () => {
    if (!base || (cachedData && !script.cachedDataRejected && !first)) return
    // No cache, or one V8 refused (another node): this is a first run again.
    const cacheFile = cachedData && !script.cachedDataRejected ? `${base}.cache` : `${base}.first.cache`
    try {
      if (!cache.exists) {
        try {
          fs.mkdirSync(cache.dir, {mode: 0o700})
        } catch {
          // Made meanwhile by another run: checked below like any other.
        }
        if (!privateDir(fs.lstatSync(cache.dir))) return
      }
      const temp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(temp, script.createCachedData())
      fs.renameSync(temp, cacheFile)
      // This install's other caches of the command (earlier builds, the
      // first-run one) are of no more use, nor those named the way versions
      // before the install key named them (command, size, time). Another
      // install's caches are its own.
      const old = new RegExp(`^dnssd-light-${command}-\\d+-\\d+\\.cache$`)
      for (const name of fs.readdirSync(cache.dir)) {
        if (name.endsWith('.cache') && name !== path.basename(cacheFile) && (name.startsWith(own) || old.test(name))) fs.rmSync(path.join(cache.dir, name), {force: true})
      }
    } catch {
      // A cache is an optimisation: a read-only or full disk changes nothing.
    }
  }
  return {runLight: async (...args) => module.exports.runLight(...args).finally(saveCache)}
}

/**
 * The require() a light part gets. It loads node's built-ins only
 * (everything else is bundled), and each of its modules asks for node:fs or
 * node:path again; node's require() resolves the name anew every time, this
 * one once per name.
 */
function builtinRequire() {
  const loaded = new Map()
  return (id) => {
    let exports = loaded.get(id)
    if (exports === undefined) {
      exports = require(id)
      loaded.set(id, exports)
    }
    return exports
  }
}

/**
 * Which install a light part belongs to: FNV-1a of its path, in hex. Each
 * install (a global npm install, a project's own, a clone) keeps its own
 * caches beside the others' in the one cache directory, instead of each
 * run of one replacing the other's as a stale build.
 */
function installKey(file) {
  let hash = 0x811c9dc5
  for (let i = 0; i < file.length; i++) hash = Math.imul(hash ^ file.charCodeAt(i), 0x01000193) >>> 0
  return hash.toString(16).padStart(8, '0')
}

/**
 * Where the light parts' code caches live: TMPDIR/dnssd-light-cache-UID,
 * made 0700 (`exists` false: made when the first cache is saved). A code
 * cache is compiled code that this process runs, so one is used only from a
 * directory of this user that nobody else can write to (dnssd runs as root
 * from boot scripts, and /tmp is everyone's). Node's compile cache, which
 * the full program uses, is not needed here: enabling it costs the light
 * commands a module load.
 */
function cacheDir() {
  const uid = process.getuid?.()
  if (uid === undefined) return undefined
  const dir = path.join(process.env.TMPDIR || '/tmp', `dnssd-light-cache-${uid}`)
  let st
  try {
    st = fs.lstatSync(dir, {throwIfNoEntry: false})
  } catch {
    return undefined
  }
  if (st === undefined) return {dir, exists: false}
  return privateDir(st) ? {dir, exists: true} : undefined
}

/** A directory of this user's that nobody else can write to (from its lstat). */
function privateDir(st) {
  return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o077) === 0
}

// The light part of each group of commands (LIGHT_GROUPS in scripts/bundle.mjs);
// every other command goes to the full program at once.
const GROUPS = {join: 'zone', leave: 'zone', list: 'zone', resolve: 'resolve'}
const group = Object.hasOwn(GROUPS, argv[0] ?? '') ? GROUPS[argv[0]] : undefined
const light = group && loadLight(path.join(bundle, `light-${group}.cjs`), argv[0])
let handedOver = !light
const runFull = () => {
  handedOver = true
  return full()
}
;(light ? light.runLight(argv, `${root}/`, runFull) : full()).then(
  () => {
    // A command the light part ran itself is over when node's event loop is
    // empty (its output written, nothing pending): the process ends there
    // with its exit code, as it would anyway, but without first freeing its
    // heap and environment piece by piece (the kernel frees a process whole).
    if (!handedOver) process.once('beforeExit', () => process.exit())
  },
  (error) => {
    process.exitCode = 1
    throw error
  },
)
