/**
 * The typed requests the commands build at their edge (src/cli/requests.ts)
 * and the app functions take. Every value in them is validated; nothing in
 * them is a flag. A benchmark or a test builds them directly to run many
 * members in one process.
 */
import {type Deadline} from '../core/deadline.js'
import {type Member} from '../core/membership.js'
import {type ProviderChoice} from '../providers/catalog.js'
import {type ProviderKind} from '../providers/provider.js'
import {type Registry, type RegistryLocation, type RegistryOptions} from '../registry/registry.js'

export interface LeaseRequest {
  /** The store named by `--registry`, opened when the command gets to it. */
  open(options: RegistryOptions): Promise<Registry>
  /** join: how long the lease lasts (`--lease`); absent for leave. */
  seconds?: number
  /** The TXT pairs as given, kept in the lease so a reaper can restore the member. */
  txt?: string[]
}

/**
 * A member whose address is `--ip auto`: `find` asks EC2, Joyent or the
 * default-route interface, then derives and checks the names like the edge
 * does for a given address.
 */
export interface PendingMember {
  pending: true
  find(log: (line: string) => void, timeoutMs: number): Promise<{member: Member; from: string}>
}

/** The `--check` gate: resolves once the service answers, DeadlineError after its own time. */
export interface HealthGate {
  wait(log: (line: string) => void): Promise<void>
}

export interface MembershipRequest {
  action: 'join' | 'leave'
  member: Member | PendingMember
  /** join: register only once the service answers. */
  gate?: HealthGate
  /** Wait this long before the first API call (`--jitter`, drawn at the edge). */
  jitterMs: number
  dryRun: boolean
  /** Wait until the change is live (providers with the `wait` capability). */
  wait: boolean
  deadline: Deadline
  provider: ProviderChoice
  lease?: LeaseRequest
}

export interface ListRequest {
  zone: string
  /** Only this service type (`_web._tcp.example.com`). */
  serviceType?: string
  deadline: Deadline
  provider: ProviderChoice
  registry?: RegistryLocation
}

export interface ReapRequest {
  zone: string
  /** Relative service (`_v1._web._tcp`), or undefined for every service in the zone. */
  service?: string
  registry: RegistryLocation
  graceMs: number
  dryRun: boolean
  deadline: Deadline
  /** The provider to remove a lease's member through, by the kind the lease names. */
  provider: (kind: ProviderKind) => Promise<ProviderChoice>
}

export interface SyncRequest {
  zone: string
  registry: RegistryLocation
  graceMs: number
  dryRun: boolean
  /** Each cycle's own deadline. */
  timeoutSeconds: number
  /** Seconds between cycles (without --once). */
  intervalSeconds: number
  once: boolean
  /** The provider for the members that joined through `kind`. */
  provider: (kind: ProviderKind) => Promise<ProviderChoice>
}

/** What the app functions need from their caller besides the request. */
export interface AppEnv {
  /** One line per API call or step (`--verbose`). */
  log: (line: string) => void
  /** A long wait a person may watch (the CLI shows a spinner when interactive). */
  progress?: (text: string) => Progress
}

export interface Progress {
  update(text: string): void
  done(ok: boolean, text: string): void
}
