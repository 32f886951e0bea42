// Preloaded (NODE_OPTIONS=-r) by bench/startup.mjs: prints the process's CPU
// time (user + system, µs) on stderr at exit, a figure that a loaded machine
// disturbs less than wall-clock time.
'use strict'
process.on('exit', () => {
  const {user, system} = process.cpuUsage()
  require('node:fs').writeSync(2, `\ndnssd-bench-cpu-us ${user + system}\n`)
})
