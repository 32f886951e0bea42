// The full program of the single executables: build/dnssd-full.js (all of
// dnssd, oclif and the SDKs, one CommonJS script wrapped in a function) is an
// asset of the executable, compiled here with the V8 code cache made for it
// at build time (scripts/dist.mjs; x64 only) and run with this process's argv.
// The light part (light.mjs) hands over before it has printed or changed
// anything.
export function runFull() {
  const {getAsset} = require('node:sea')
  const {Script} = require('node:vm')
  let cachedData
  try {
    cachedData = Buffer.from(getAsset('dnssd-full.cache'))
  } catch {
    cachedData = undefined
  }
  const script = new Script(getAsset('dnssd-full.js', 'utf8'), {filename: 'dnssd-full.js', cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, require, module, process.execPath, require('node:path').dirname(process.execPath))
}
