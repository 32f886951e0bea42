// Stands in for src/oclif-entry.ts in the light part (light.mjs): when the
// fast path leaves a command to oclif, the full program runs it from the
// start (nothing has been printed yet).
import {runFull} from './full-runner.mjs'

export async function runBundled() {
  await runFull()
}

export async function runFromDisk() {
  await runFull()
}
