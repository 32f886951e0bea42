// Loaded with NODE_OPTIONS=--import by test/e2e/fast-path.test.ts: a command
// that should run on the start-up fast path fails loudly if it loads oclif.
import {register} from 'node:module'

const hook = `export async function resolve(specifier, context, next) {
  if (/oclif-entry|@oclif\\/core/.test(specifier)) throw new Error('oclif loaded on the fast path: ' + specifier)
  return next(specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
