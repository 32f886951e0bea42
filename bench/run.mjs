// `npm run bench`: every bench/*.mjs except this runner and lib.mjs, in turn.
// BENCH_ONLY=name runs the benchmarks whose file name contains it.
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const only = process.env.BENCH_ONLY
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.endsWith('lib.mjs'))
  .filter((f) => !only || f.includes(only))
  .sort((a, b) => (a === 'startup.mjs' ? -1 : b === 'startup.mjs' ? 1 : a.localeCompare(b)))
let failed = 0
for (const f of files) {
  console.log(`\n## bench/${f}`)
  const r = spawnSync(process.execPath, [`${dir}${f}`], {stdio: 'inherit'})
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
