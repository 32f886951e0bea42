// Runs one of the executable's script assets (NAME.js, one CommonJS function)
// with its code cache (NAME.cache, x64 only) if the executable has one.
export function runAsset(name) {
  const {getAsset} = require('node:sea')
  const {Script} = require('node:vm')
  let cachedData
  try {
    cachedData = Buffer.from(getAsset(`${name}.cache`))
  } catch {
    cachedData = undefined
  }
  const script = new Script(getAsset(`${name}.js`, 'utf8'), {filename: `${name}.js`, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, require, module, process.execPath, require('node:path').dirname(process.execPath))
  return module.exports
}
