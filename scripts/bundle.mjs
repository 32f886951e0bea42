#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from tsc) with esbuild, with package.json,
// oclif.manifest.json and templates/userdata compiled in:
//   dist/bundle/main.js   ESM with code splitting: what bin/run.js loads. The
//                         SDKs and the commands' heavy modules stay in chunks
//                         that are read only when a command imports them.
//   build/dnssd.cjs       one CommonJS file (--cjs): the script of the single
//                         executables (Node's SEA takes one CommonJS script).
// Usage: node scripts/bundle.mjs [--cjs]   (after `npm run build`)
import {readFileSync, readdirSync, rmSync} from 'node:fs'
import {builtinModules, createRequire} from 'node:module'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const cjs = process.argv.includes('--cjs')
const read = (file) => readFileSync(join(root, file), 'utf8')
const templatesDir = join(root, 'templates', 'userdata')
const templates = Object.fromEntries(readdirSync(templatesDir).map((f) => [f, readFileSync(join(templatesDir, f), 'utf8')]))

const shim = {
  name: 'dnssd-module-shim',
  setup(build) {
    // Only dnssd's own files (dist/) get the shim; dependencies keep node:module.
    build.onResolve({filter: /^node:module$/}, (args) =>
      args.importer.startsWith(join(root, 'dist')) ? {path: join(root, 'scripts', 'bundle', 'module-shim.mjs')} : undefined,
    )
  },
}

// An ESM import of a node built-in makes node build the module's whole
// export list, and that runs its lazy getters: node:fs loads its streams,
// node:crypto its WebCrypto, node:http the undici WebSocket classes (a large
// part of start-up). require() reads only what is used, so in the bundles
// every built-in comes through require(): a stand-in module exports the
// module's properties, and `default` is the module itself. The stand-in that
// dnssd's own code (dist/) imports leaves out the lazy getters; the one the
// dependencies import keeps them (they load only with that dependency).
const BUILTINS = new Set(builtinModules.flatMap((id) => (id.startsWith('node:') ? [id, id.slice(5)] : [id, `node:${id}`])))
const UNDICI_GETTERS = new Set(['WebSocket', 'CloseEvent', 'MessageEvent'])
const STAND_IN = /^dnssd-builtin(-full)?$/
const viaRequire = {
  name: 'dnssd-builtins-via-require',
  setup(build) {
    build.onResolve({filter: /^(node:)?[a-z_/0-9]+$/}, (args) => {
      if (!BUILTINS.has(args.path)) return undefined
      // The require() inside the stand-in is node's own module.
      if (STAND_IN.test(args.namespace)) return {path: args.path, external: true}
      const own = args.importer.startsWith(join(root, 'dist'))
      return {path: args.path.replace(/^node:/, ''), namespace: own ? 'dnssd-builtin' : 'dnssd-builtin-full'}
    })
    build.onLoad({filter: /.*/, namespace: 'dnssd-builtin'}, (args) => standIn(args.path, false))
    build.onLoad({filter: /.*/, namespace: 'dnssd-builtin-full'}, (args) => standIn(args.path, true))
  },
}

function standIn(id, getters) {
  const mod = createRequire(import.meta.url)(`node:${id}`)
  const names = Object.getOwnPropertyNames(mod).filter((n) => {
    const d = Object.getOwnPropertyDescriptor(mod, n)
    return /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default' && !UNDICI_GETTERS.has(n) && (getters || d?.get === undefined)
  })
  return {
    contents: `const m = require('node:${id}');\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\nexport default m;\n`,
    loader: 'js',
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  // ESM builds first (the AWS SDK ships both): a dynamic import() of a bundled
  // CommonJS module would give only its default export.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [shim, viaRequire],
  // oclif loads TypeScript only to run commands from .ts sources in development.
  external: ['typescript', 'ts-node'],
  define: {
    DNSSD_PJSON: read('package.json'),
    DNSSD_MANIFEST: read('oclif.manifest.json'),
    DNSSD_EMBEDDED_TEMPLATES: JSON.stringify(templates),
  },
}

if (cjs) {
  await esbuild.build({
    ...common,
    entryPoints: [join(root, 'scripts', 'bundle', 'sea-main.mjs')],
    outfile: join(root, 'build', 'dnssd.cjs'),
    format: 'cjs',
    // Node's SEA runs the script without an ESM loader: import() of a
    // built-in (node:crypto, ...) becomes require().
    supported: {'dynamic-import': false},
    // No import.meta in CommonJS: the executable's own path stands in.
    define: {...common.define, 'import.meta.url': 'DNSSD_MODULE_URL'},
    banner: {js: "var DNSSD_MODULE_URL = require('node:url').pathToFileURL(process.execPath).href;"},
  })
} else {
  const outdir = join(root, 'dist', 'bundle')
  rmSync(outdir, {recursive: true, force: true})
  const esm = {
    ...common,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Bundled CommonJS packages (oclif, the SDKs) call require() for node's built-ins.
    banner: {
      js: [
        "import {createRequire as __dnssdCreateRequire} from 'node:module';",
        'const require = __dnssdCreateRequire(import.meta.url);',
        'const __filename = import.meta.filename;',
        "const __dirname = `${import.meta.dirname}/`;",
      ].join(' '),
    },
  }
  // Two module graphs. The oclif side (dist/bundle/oclif/): oclif and every
  // command class. The entry (dist/bundle/main.js): --version and the fast
  // path of join/leave/list/resolve, which never load oclif; it imports the
  // oclif side only when oclif runs the command. Kept apart, the entry's graph
  // has a few chunks instead of one per set of commands sharing a module
  // (each chunk is one more file for node's ESM loader to resolve and link).
  // The oclif side has its own copy of dnssd's modules; the entry hands it
  // nothing but argv.
  await esbuild.build({...esm, entryPoints: {'oclif-entry': join(root, 'dist', 'oclif-entry.js')}, outdir: join(outdir, 'oclif')})
  const oclifSide = {
    name: 'dnssd-oclif-side',
    setup(build) {
      build.onResolve({filter: /^\.\/oclif-entry\.js$/}, () => ({path: './oclif/oclif-entry.js', external: true}))
    },
  }
  await esbuild.build({...esm, plugins: [...common.plugins, oclifSide], entryPoints: {main: join(root, 'dist', 'main.js')}, outdir})
}
