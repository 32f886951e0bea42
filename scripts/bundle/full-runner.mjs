// How the light part hands a command to the full program: the executables
// compile their asset (sea-full.mjs), the npm install imports the ESM bundle
// (bin/run.js). Set by runLight before anything runs.
let runner = async () => {
  throw new Error('internal error: no full program to hand the command to')
}

export function setFullRunner(run) {
  runner = run
}

export function runFull() {
  return runner()
}
