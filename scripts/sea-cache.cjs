// Run by scripts/dist.mjs with the Node binary the executables embed: makes
// the V8 code cache of one of their script assets (NAME.js, a CommonJS
// function; scripts/bundle/sea-asset.mjs compiles it the same way). With
// --warm, it first runs the light part's commands (those of its group) in a temporary data
// directory (output discarded), so the cache holds every function they
// compiled, not only the top level.
// Usage: node scripts/sea-cache.cjs NAME.js OUT.cache [--warm]
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const {Script} = require('node:vm')

const [file, out, warm] = process.argv.slice(2)
// Read as sea-asset.mjs reads it: the light parts as Latin-1 (they are ASCII).
const script = new Script(fs.readFileSync(file, /dnssd-light-/.test(file) ? 'latin1' : 'utf8'), {filename: path.basename(file)})

const ID = ['-z', 'cache.example', '-s', '_v1._web._tcp', '-p', '8080', '--ip', '10.0.0.1']
// Each light part's commands (LIGHT_GROUPS in scripts/bundle.mjs).
const GROUP_COMMANDS = {
  zone: [
    ['join', ...ID, '--txt', 'path=/'],
    ['join', ...ID, '--json'],
    ['join', '-z', 'cache.example', '-s', '_web._tcp', '-p', '80', '--ip', '10.0.0.2', '--dry-run'],
    ['list', '-z', 'cache.example'],
    ['list', '-z', 'cache.example', '--json'],
    ['leave', ...ID],
    ['join', ...ID, '--host', ''],
  ],
  resolve: [
    // Nothing listens on port 1: the error path of the DNS client.
    ['resolve', '_v1._web._tcp.cache.example', '--server', '127.0.0.1:1', '--timeout', '0.2'],
  ],
}
const group = /dnssd-light-(\w+)\.js$/.exec(file)?.[1]
const COMMANDS = GROUP_COMMANDS[group] ?? []

async function main() {
  if (warm === '--warm') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnssd-cache-'))
    // Only the flags above count: no DNSSD_* setting of the build's environment.
    for (const key of Object.keys(process.env)) if (key.startsWith('DNSSD_')) delete process.env[key]
    process.env.DNSSD_DATA_DIR = dir
    // Their output is dropped: the streams' writes, and write(2) on 1 and 2,
    // which the fast path uses (src/cli/output.ts).
    const write = process.stdout.write.bind(process.stdout)
    const writeErr = process.stderr.write.bind(process.stderr)
    const writeSync = fs.writeSync
    const quiet = () => {
      process.stdout.write = () => true
      process.stderr.write = () => true
      fs.writeSync = (fd, data, ...rest) => (fd === 1 || fd === 2 ? (typeof data === 'string' ? Buffer.byteLength(data) : data.length) : writeSync(fd, data, ...rest))
    }
    const loud = () => {
      process.stdout.write = write
      process.stderr.write = writeErr
      fs.writeSync = writeSync
    }
    try {
      for (const argv of COMMANDS) {
        process.argv = [process.execPath, process.execPath, ...argv]
        quiet()
        const module = {exports: {}}
        script.runInThisContext()(module.exports, require, module, process.execPath, path.dirname(process.execPath))
        await module.exports.done
        loud()
      }
    } finally {
      loud()
      fs.rmSync(dir, {recursive: true, force: true})
    }
    process.exitCode = 0
  }
  fs.writeFileSync(out, script.createCachedData())
}

main()
