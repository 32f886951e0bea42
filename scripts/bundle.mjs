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
import {createRequire} from 'node:module'
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

// An ESM import of node:http makes node fill in all of its exports, and the
// lazy WebSocket/CloseEvent/MessageEvent getters among them load undici
// (a large part of start-up). require() reads only what is used, so the
// bundles get http and https through require().
const UNDICI_GETTERS = new Set(['WebSocket', 'CloseEvent', 'MessageEvent'])
const viaRequire = {
  name: 'dnssd-builtins-via-require',
  setup(build) {
    build.onResolve({filter: /^(node:)?https?$/}, (args) =>
      // The require() inside the stand-in is node's own module.
      args.namespace === 'dnssd-builtin' ? {path: args.path, external: true} : {path: args.path.replace(/^node:/, ''), namespace: 'dnssd-builtin'},
    )
    build.onLoad({filter: /.*/, namespace: 'dnssd-builtin'}, (args) => {
      const mod = createRequire(import.meta.url)(`node:${args.path}`)
      const names = Object.getOwnPropertyNames(mod).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && !UNDICI_GETTERS.has(n))
      return {
        contents: `const m = require('node:${args.path}');\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\nexport default m;\n`,
        loader: 'js',
      }
    })
  },
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
  await esbuild.build({
    ...common,
    entryPoints: {main: join(root, 'dist', 'main.js')},
    outdir,
    format: 'esm',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    // Bundled CommonJS packages (oclif, the SDKs) call require() for node's built-ins.
    banner: {
      js: [
        "import {createRequire as __dnssdCreateRequire} from 'node:module';",
        "import {fileURLToPath as __dnssdFileURLToPath} from 'node:url';",
        'const require = __dnssdCreateRequire(import.meta.url);',
        'const __filename = __dnssdFileURLToPath(import.meta.url);',
        "const __dirname = __dnssdFileURLToPath(new URL('.', import.meta.url));",
      ].join(' '),
    },
  })
}
