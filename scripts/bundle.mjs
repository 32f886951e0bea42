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
import {readFile} from 'node:fs/promises'
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
// built-ins come through require():
// - dnssd's own modules (dist/, from tsc): each `import ... from 'node:x'`
//   becomes a `require('node:x')` in place, so no extra module is loaded;
// - dependencies: a stand-in module exports the module's properties, and
//   `default` is the module itself.
const BUILTINS = new Set(builtinModules.flatMap((id) => (id.startsWith('node:') ? [id, id.slice(5)] : [id, `node:${id}`])))
const UNDICI_GETTERS = new Set(['WebSocket', 'CloseEvent', 'MessageEvent'])
const viaRequire = {
  name: 'dnssd-builtins-via-require',
  setup(build) {
    build.onResolve({filter: /^(node:)?[a-z_/0-9]+$/}, (args) => {
      if (!BUILTINS.has(args.path)) return undefined
      // The require() inside the stand-in, or one written below: node's own module.
      if (args.namespace === 'dnssd-builtin' || args.kind === 'require-call') return {path: args.path, external: true}
      return {path: args.path.replace(/^node:/, ''), namespace: 'dnssd-builtin'}
    })
    build.onLoad({filter: /.*/, namespace: 'dnssd-builtin'}, (args) => standIn(args.path))
    build.onLoad({filter: /\.js$/}, async (args) => {
      if (!args.path.startsWith(join(root, 'dist'))) return undefined
      return {contents: importsToRequire(await readFile(args.path, 'utf8'), args.path), loader: 'js'}
    })
  },
}

/** tsc's `import ... from 'node:x'` and `import('node:x')` as require() (node:module stays: the shim above). */
function importsToRequire(source, file) {
  const bindings = (names) => names.replace(/\s+as\s+/g, ': ')
  const out = source
    .replace(/^import\s+(?:(\w+)\s*,\s*)?(?:\{([^}]*)\}|\*\s+as\s+(\w+)|(\w+))\s+from\s+'(node:(?!module')[^']+)';?$/gm, (_, def, named, star, only, id) => {
      const whole = def ?? star ?? only
      if (whole && named) return `const ${whole} = require('${id}'); const {${bindings(named)}} = ${whole};`
      return whole ? `const ${whole} = require('${id}');` : `const {${bindings(named)}} = require('${id}');`
    })
    .replace(/\bimport\('(node:(?!module')[^']+)'\)/g, (_, id) => `Promise.resolve().then(() => { const m = require('${id}'); return Object.create(m, {default: {value: m}}) })`)
  const left = /^import\b[^;]*'node:(?!module')[^']+'/m.exec(out)
  if (left) throw new Error(`${file}: an import of a built-in the bundler cannot turn into require(): ${left[0]}`)
  return out
}

function standIn(id) {
  const mod = createRequire(import.meta.url)(`node:${id}`)
  const names = Object.getOwnPropertyNames(mod).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default' && !UNDICI_GETTERS.has(n))
  return {
    contents: `const m = require('node:${id}');\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\nexport default m;\n`,
    loader: 'js',
  }
}

// The template command's files (src/templates/render.ts), on the oclif side only.
const TEMPLATES = {DNSSD_EMBEDDED_TEMPLATES: JSON.stringify(templates)}

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
  // String literals, parsed where used (src/main.ts): an object-valued define
  // becomes a module that every chunk imports.
  define: {
    DNSSD_PJSON_TEXT: JSON.stringify(read('package.json')),
    DNSSD_MANIFEST_TEXT: JSON.stringify(read('oclif.manifest.json')),
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
    define: {...common.define, ...TEMPLATES, 'import.meta.url': 'DNSSD_MODULE_URL'},
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
  await esbuild.build({...esm, define: {...esm.define, ...TEMPLATES}, entryPoints: {'oclif-entry': join(root, 'dist', 'oclif-entry.js')}, outdir: join(outdir, 'oclif')})
  const oclifSide = {
    name: 'dnssd-oclif-side',
    setup(build) {
      build.onResolve({filter: /^\.\/oclif-entry\.js$/}, () => ({path: './oclif/oclif-entry.js', external: true}))
    },
  }
  await esbuild.build({...esm, plugins: [...common.plugins, oclifSide], entryPoints: {main: join(root, 'dist', 'main.js')}, outdir})
}
