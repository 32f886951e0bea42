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
import {join, relative, sep} from 'node:path'
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

// The light part (scripts/bundle/light.mjs) as CommonJS scripts, one per
// group of commands that share their code, so a command reads and compiles
// only its own group: join, leave and list (the zone, the file provider and
// registry), and resolve (the DNS client). oclif's entry hands over to the
// full program; a cloud SDK, dnssd's modules that only an SDK provider or
// registry uses, and another group's command body would be a bug (the light
// part runs only commands that need none of them).
// bin/run.js and scripts/bundle/sea-boot.mjs pick the group by the command.
const LIGHT_GROUPS = {zone: ['join', 'leave', 'list'], resolve: ['resolve']}
const NOT_IN_GROUP = {
  zone: [['dist/cli/fast-run.js', './resolve-run.js']],
  resolve: [
    ['dist/cli/fast-run.js', '../app/membership.js'],
    ['dist/cli/fast-run.js', '../app/list.js'],
    ['dist/cli/fast-run.js', './requests.js'],
    ['dist/cli/fast-run.js', './render.js'],
  ],
}
const SDK_ONLY = [
  ['dist/providers/catalog.js', './route53.js'],
  ['dist/providers/catalog.js', './cloudflare.js'],
  ['dist/registry/open.js', './s3.js'],
]
const heavy = (what) => ({
  contents: `throw new Error(${JSON.stringify(`internal error: the light part loaded ${what}; run the command with DNSSD_NO_FAST_PATH=1`)})`,
  loader: 'js',
})
const lightPart = (group) => ({
  name: 'dnssd-light-part',
  setup(build) {
    build.onResolve({filter: /^\.\/oclif-entry\.js$/}, () => ({path: join(root, 'scripts', 'bundle', 'oclif-stub.mjs')}))
    build.onResolve({filter: /^(@aws-sdk\/|@smithy\/|cloudflare$|yocto-spinner$)/}, (args) => ({path: args.path, namespace: 'dnssd-heavy'}))
    const left = [...SDK_ONLY, ...(NOT_IN_GROUP[group] ?? [])]
    build.onResolve({filter: /^\.\.?\//}, (args) => {
      const importer = relative(root, args.importer).split(sep).join('/')
      return left.some(([from, to]) => from === importer && to === args.path) ? {path: `${importer} -> ${args.path}`, namespace: 'dnssd-heavy'} : undefined
    })
    build.onLoad({filter: /.*/, namespace: 'dnssd-heavy'}, (args) => heavy(args.path))
  },
})
// A group's part knows only its own commands' manifest entries (src/main.ts
// reads the manifest for the command it runs), without their help texts:
// the part parses flags (src/cli/fast-parse.ts) and hands help to the full
// program, which has the whole manifest. Less for every run to read and parse.
const HELP_ONLY = new Set(['description', 'summary', 'examples', 'usage', 'helpGroup', 'helpValue'])
const withoutHelp = (entry) => Object.fromEntries(Object.entries(entry).filter(([key]) => !HELP_ONLY.has(key)))
const groupManifest = (group) => {
  const manifest = JSON.parse(read('oclif.manifest.json'))
  const commands = Object.fromEntries(
    LIGHT_GROUPS[group].map((id) => {
      const command = manifest.commands[id]
      const each = (defs) => Object.fromEntries(Object.entries(defs ?? {}).map(([name, def]) => [name, withoutHelp(def)]))
      return [id, {...withoutHelp(command), flags: each(command.flags), args: each(command.args)}]
    }),
  )
  return JSON.stringify(JSON.stringify({...manifest, commands}))
}
// The light parts are read as Latin-1 (bin/run.js: the fastest way to a V8
// string, and the V8 code cache checks the source's length): ASCII only.
// Whitespace and comments go: less to read.
const lightOptions = (group) => ({
  plugins: [...cjsCommon.plugins, lightPart(group)],
  define: {...cjsCommon.define, DNSSD_MANIFEST_TEXT: groupManifest(group)},
  charset: 'ascii',
  minifyWhitespace: true,
})
function assertAscii(file) {
  const bytes = readFileSync(file)
  const at = bytes.findIndex((b) => b > 0x7f)
  if (at >= 0) throw new Error(`${file}: a non-ASCII byte at offset ${at}; the light part must be ASCII`)
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
  for (const group of Object.keys(LIGHT_GROUPS)) {
    const outfile = join(root, 'build', `dnssd-light-${group}.js`)
    await esbuild.build({
      ...sea,
      ...lightOptions(group),
      define: {...sea.define, DNSSD_MANIFEST_TEXT: groupManifest(group)},
      entryPoints: [join(root, 'scripts', 'bundle', 'sea-light.mjs')],
      outfile,
      banner: {js: `(function (exports, require, module, __filename, __dirname) {\n${sea.banner.js}`},
      footer: {js: '})'},
    })
    assertAscii(outfile)
  }
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
  // The light parts for bin/run.js, each one function expression (bin/run.js
  // calls it as CommonJS would call a module); the full program is
  // dist/bundle/main.js.
  for (const group of Object.keys(LIGHT_GROUPS)) {
    const outfile = join(outdir, `light-${group}.cjs`)
    await esbuild.build({
      ...cjsCommon,
      ...lightOptions(group),
      entryPoints: [join(root, 'scripts', 'bundle', 'light.mjs')],
      outfile,
      // The function CommonJS wraps a module in, written here so bin/run.js
      // compiles the file's text as it is (no copy of it with the wrapper added).
      banner: {js: "(function (exports, require, module, __filename, __dirname) {var DNSSD_MODULE_URL = require('node:url').pathToFileURL(__filename).href;"},
      footer: {js: '})'},
    })
    assertAscii(outfile)
  }
}
