/**
 * `--wait`: poll the backend until a change is live everywhere, with a
 * spinner on stderr for a person watching (never under --json, never when
 * stderr is not a terminal, so logs and scripts stay clean).
 */
import {type DnsProvider} from '../providers/provider.js'

export async function waitWithSpinner(provider: DnsProvider, changeId: string, opts: {json: boolean}): Promise<number> {
  if (!provider.waitInSync) return 0
  const interactive = !opts.json && process.stderr.isTTY === true
  const spinner = interactive
    ? (await import('yocto-spinner')).default({text: `waiting for ${changeId} to reach every Route 53 name server`, stream: process.stderr}).start()
    : undefined
  try {
    const {elapsedMs} = await provider.waitInSync(changeId, (status, elapsed) => {
      if (spinner) spinner.text = `${changeId}: ${status} after ${(elapsed / 1000).toFixed(1)} s`
    })
    spinner?.success(`${changeId}: INSYNC after ${(elapsedMs / 1000).toFixed(1)} s`)
    return elapsedMs
  } catch (error) {
    spinner?.error(`${changeId}: not INSYNC`)
    throw error
  }
}
