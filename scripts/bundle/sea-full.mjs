// The full program of the single executables: build/dnssd-full.js (all of
// dnssd, oclif and the SDKs, one CommonJS script wrapped in a function) is an
// asset of the executable, compiled with the V8 code cache made for it at
// build time (scripts/dist.mjs; x64 only) and run with this process's argv.
// The light part (light.mjs) hands over before it has printed or changed
// anything.
import {runAsset} from './sea-asset.mjs'

export function runFull() {
  runAsset('dnssd-full')
}
