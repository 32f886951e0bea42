// Runs one of the executable's script assets (NAME.js, one CommonJS function)
// with its code cache (NAME.cache, x64 only) if the executable has one. The
// light parts are ASCII (scripts/bundle.mjs checks), read as Latin-1: no
// UTF-8 decoding, a one-byte V8 string.
export function runAsset(name) {
  const {getAsset} = require('node:sea')
  const {Script} = require('node:vm')
  let cachedData
  try {
    cachedData = Buffer.from(getAsset(`${name}.cache`))
  } catch {
    cachedData = undefined
  }
  const script = new Script(Buffer.from(getAsset(`${name}.js`)).toString(name.startsWith('dnssd-light-') ? 'latin1' : 'utf8'), {filename: `${name}.js`, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, require, module, process.execPath, require('node:path').dirname(process.execPath))
  return module.exports
}
