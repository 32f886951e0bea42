// Preloaded (node -r) by test/e2e/terminal.test.ts: at exit, writes to
// $DNSSD_TEST_MODULES whether stderr was a terminal-like character device and
// the node built-ins the process loaded, as JSON.
'use strict'
const fs = require('node:fs')

process.on('exit', () => {
  let stderrTerminal = false
  try {
    const st = fs.fstatSync(2)
    stderrTerminal = st.isCharacterDevice() && st.rdev !== fs.statSync('/dev/null').rdev
  } catch {
    stderrTerminal = false
  }
  fs.writeFileSync(process.env.DNSSD_TEST_MODULES, JSON.stringify({stderrTerminal, modules: process.moduleLoadList}))
})
