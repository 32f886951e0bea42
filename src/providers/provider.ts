/**
 * The provider contract (DESIGN §3). A provider reads the current values of
 * the few names a command touches and applies value-level changes as one
 * unit, retrying on conflicts, throttling and transient errors inside the
 * command's deadline. It never formats output; it reports API calls through
 * `log` so `--verbose`, tests and benchmarks can count them. Its settings
 * come already parsed by its own schema (catalog.ts); it never sees flags.
 */
import {type Deadline} from '../core/deadline.js'
import {type Work} from '../core/planner.js'
import {type Change, type ZoneState} from '../core/records.js'

export interface ProviderOptions<S> {
  /** The command's one deadline (--timeout). */
  deadline: Deadline
  /** One line per API call or notable step; shown with --verbose. */
  log: (line: string) => void
  /** Provider settings, typed by the provider's schema in catalog.ts. */
  settings: S
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
  readonly kind: ProviderKind
  /** Current RRsets at `names`, or the whole zone with 'all'. */
  read(zone: string, names: readonly string[] | 'all'): Promise<ZoneState>
  /** Read the work's names, plan, and apply as one unit; re-read and re-plan on conflict. */
  transact(work: Work, opts: {dryRun: boolean}): Promise<TransactResult>
  close(): Promise<void>
  /** Backends with propagation (capability `wait`): wait until a change is live. */
  waitInSync?(changeId: string, onPoll?: (status: string, elapsedMs: number) => void): Promise<{elapsedMs: number}>
}

export type ProviderKind = 'file' | 'route53' | 'cloudflare' | 'rfc2136'
