#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from tsc) with esbuild, with package.json,
// oclif.manifest.json and templates/userdata compiled in:
//   dist/bundle/light.cjs the light part (scripts/bundle/light.mjs), what
//                         bin/run.js loads first: --version and the fast path
//                         of join/leave/list/resolve in one CommonJS file;
//   dist/bundle/main.js   the full program, ESM with code splitting: the SDKs
//                         and the commands' heavy modules stay in chunks that
//                         are read only when a command imports them.
//   build/dnssd.cjs       (--cjs) the main script of the single executables
//                         (Node's SEA takes one CommonJS script): runs
//   build/dnssd-light.js  (--cjs) the light part as one CommonJS function, an
//                         asset of the executables: --version and the fast
//                         path of join/leave/list/resolve;
//   build/dnssd-full.js   (--cjs) everything, oclif and the SDKs included, the
//                         same way: run for every other command.
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
// part of start-up). require() reads only what is used, so:
// - dnssd's own modules (dist/, from tsc): each `import ... from 'node:x'`
//   becomes a `require('node:x')` in place, so no extra module is loaded;
// - dependencies get node:http and node:https from a stand-in module that
//   require()s them and exports their plain properties (not the undici
//   getters); their other built-ins stay imports (reading every property of
//   node:fs or node:crypto would print Node's deprecation warnings).
const BUILTINS = new Set(builtinModules.flatMap((id) => (id.startsWith('node:') ? [id, id.slice(5)] : [id, `node:${id}`])))
const UNDICI_GETTERS = new Set(['WebSocket', 'CloseEvent', 'MessageEvent'])
const viaRequire = {
  name: 'dnssd-builtins-via-require',
  setup(build) {
    build.onResolve({filter: /^(node:)?[a-z_/0-9]+$/}, (args) => {
      if (!BUILTINS.has(args.path)) return undefined
      // The require() inside the stand-in, or one written below: node's own module.
      if (args.namespace === 'dnssd-builtin' || args.kind === 'require-call') return {path: args.path, external: true}
      if (!/^(node:)?https?$/.test(args.path)) return undefined
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

// The light part (scripts/bundle/light.mjs) as one CommonJS script: oclif's
// entry hands over to the full program, and a cloud SDK would be a bug (the
// light part runs only commands that need none).
const lightPart = {
  name: 'dnssd-light-part',
  setup(build) {
    build.onResolve({filter: /^\.\/oclif-entry\.js$/}, () => ({path: join(root, 'scripts', 'bundle', 'oclif-stub.mjs')}))
    build.onResolve({filter: /^(@aws-sdk\/|@smithy\/|cloudflare$|yocto-spinner$)/}, (args) => ({path: args.path, namespace: 'dnssd-heavy'}))
    build.onLoad({filter: /.*/, namespace: 'dnssd-heavy'}, (args) => ({
      contents: `throw new Error(${JSON.stringify(`internal error: the light part loaded ${args.path}; run the command with DNSSD_NO_FAST_PATH=1`)})`,
      loader: 'js',
    }))
  },
}
const cjsCommon = {
  ...common,
  format: 'cjs',
  // Node's SEA runs the script without an ESM loader: import() of a
  // built-in (node:crypto, ...) becomes require().
  supported: {'dynamic-import': false},
  // No import.meta in CommonJS: the script's own path (or the executable's) stands in.
  define: {...common.define, ...TEMPLATES, 'import.meta.url': 'DNSSD_MODULE_URL'},
}

if (cjs) {
  const sea = {...cjsCommon, banner: {js: "var DNSSD_MODULE_URL = require('node:url').pathToFileURL(process.execPath).href;"}}
  // The full program: everything, as one function an executable compiles
  // from its asset (scripts/bundle/sea-full.mjs).
  await esbuild.build({
    ...sea,
    entryPoints: [join(root, 'scripts', 'bundle', 'sea-main.mjs')],
    outfile: join(root, 'build', 'dnssd-full.js'),
    banner: {js: `(function (exports, require, module, __filename, __dirname) {\n${sea.banner.js}`},
    footer: {js: '})'},
  })
  // The light part, an asset like the full program, and the main script
  // that runs it (scripts/bundle/sea-boot.mjs).
  await esbuild.build({
    ...sea,
    plugins: [...sea.plugins, lightPart],
    entryPoints: [join(root, 'scripts', 'bundle', 'sea-light.mjs')],
    outfile: join(root, 'build', 'dnssd-light.js'),
    banner: {js: `(function (exports, require, module, __filename, __dirname) {\n${sea.banner.js}`},
    footer: {js: '})'},
  })
  await esbuild.build({...sea, entryPoints: [join(root, 'scripts', 'bundle', 'sea-boot.mjs')], outfile: join(root, 'build', 'dnssd.cjs')})
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
  // The light part for bin/run.js; the full program is dist/bundle/main.js.
  await esbuild.build({
    ...cjsCommon,
    plugins: [...cjsCommon.plugins, lightPart],
    entryPoints: [join(root, 'scripts', 'bundle', 'light.mjs')],
    outfile: join(outdir, 'light.cjs'),
    banner: {js: "var DNSSD_MODULE_URL = require('node:url').pathToFileURL(__filename).href;"},
  })
}
