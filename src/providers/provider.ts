/**
 * The provider contract (DESIGN §3). A provider reads the current values of
 * the few names a command touches and applies value-level changes as one
 * unit, retrying on conflicts, throttling and transient errors inside the
 * caller's deadline. It never formats output; it reports API calls through
 * `log` so `--verbose`, tests and benchmarks can count them.
 */
import {type Change, type ZoneState} from '../core/records.js'
import {type Planner} from '../core/planner.js'

export interface ProviderOptions {
  /** Epoch milliseconds by which every call must have finished. */
  deadline: number
  /** One line per API call or notable step; shown with --verbose. */
  log: (line: string) => void
  /** file provider: the directory holding `<zone>.zone` files. */
  dataDir?: string
  /** Provider-specific settings (zone id, token file, ...), from flags. */
  settings?: Record<string, string | boolean | undefined>
}

export interface TransactResult {
  /** The changes applied (or, with dryRun, that would be applied), in order. */
  changes: Change[]
  notes: string[]
  applied: boolean
  /** How many read-plan-apply rounds it took (conflicts cause more). */
  attempts: number
  /** Provider-specific description of what would be or was sent (dry-run output). */
  request?: unknown
  /** Provider change id, when the backend has one (Route 53 --wait). */
  changeId?: string
}

export interface DnsProvider {
  readonly kind: string
  /** Current RRsets at `names`, or the whole zone with 'all'. */
  read(zone: string, names: readonly string[] | 'all'): Promise<ZoneState>
  /** Read `names`, plan, and apply as one unit; re-read and re-plan on conflict. */
  transact(zone: string, names: readonly string[], plan: Planner, opts: {dryRun: boolean}): Promise<TransactResult>
  close(): Promise<void>
  /** Backends with propagation (Route 53): wait until a change is live (`--wait`). */
  waitInSync?(changeId: string, onPoll?: (status: string, elapsedMs: number) => void): Promise<{elapsedMs: number}>
}

export type ProviderKind = 'file' | 'route53' | 'cloudflare' | 'rfc2136'
export const PROVIDER_KINDS: readonly ProviderKind[] = ['file', 'route53', 'cloudflare', 'rfc2136']
