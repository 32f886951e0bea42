// Stands in for src/oclif-entry.ts in the light main script of the single
// executables (sea-light.mjs): when the fast path leaves a command to oclif,
// the full program runs it from the start (nothing has been printed yet).
import {runFull} from './sea-full.mjs'

export async function runBundled() {
  runFull()
}

export async function runFromDisk() {
  runFull()
}
