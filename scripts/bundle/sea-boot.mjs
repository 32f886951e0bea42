// Main script of the single executables (build/dnssd.cjs): compiles the light
// part (build/dnssd-light.js, an asset) with the V8 code cache that
// scripts/dist.mjs made after running commands with it, so the functions a
// command calls are already compiled (a code cache made at compile time, as
// the SEA's own useCodeCache makes, holds only the top level).
import {runAsset} from './sea-asset.mjs'

runAsset('dnssd-light')
