/**
 * Real external tools (named-checkzone, dig, named, shellcheck, ...). Locally
 * a missing tool skips the test with a reason; under CI=true it FAILS, since
 * .ci/run installs them all.
 */
import {spawnSync} from 'node:child_process'

export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], {stdio: 'ignore'}).status === 0
}

/**
 * Returns a skip reason (string) when the tool is missing outside CI, or
 * undefined when the tool is present. Throws under CI=true.
 */
export function requireTool(name: string): string | undefined {
  if (haveTool(name)) return undefined
  if (process.env.CI === 'true') throw new Error(`${name} is required under CI=true (.ci/run installs it)`)
  return `${name} is not installed`
}
