// Main script of the single executables (build/dnssd.cjs). --version is
// answered here; join, leave, list and resolve go to the light part of their
// group (build/dnssd-light-GROUP.js, an asset; LIGHT_GROUPS in
// scripts/bundle.mjs), compiled with the V8 code cache that scripts/dist.mjs
// made after running that group's commands with it, so the functions a
// command calls are already compiled (a code cache made at compile time, as
// the SEA's own useCodeCache makes, holds only the top level); every other
// command goes straight to the full program (sea-full.mjs).
import {writeSync} from 'node:fs'
import {runAsset} from './sea-asset.mjs'
import {runFull} from './sea-full.mjs'

const GROUPS = {join: 'zone', leave: 'zone', list: 'zone', resolve: 'resolve'}
const argv = process.argv.slice(2)

if (argv.length === 1 && argv[0] === '--version') {
  // oclif's --version line (versionLine in src/main.ts), with write(2) as
  // bin/run.js writes it (no stream modules); a refusal goes to the stream.
  const pjson = JSON.parse(DNSSD_PJSON_TEXT)
  let rest = Buffer.from(`${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}\n`)
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(1, rest))
  } catch {
    process.stdout.write(rest)
  }
} else if (Object.hasOwn(GROUPS, argv[0] ?? '')) {
  runAsset(`dnssd-light-${GROUPS[argv[0]]}`)
} else {
  runFull()
}
