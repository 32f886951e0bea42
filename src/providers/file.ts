/**
 * The embedded default backend: one RFC 1035 master file `<zone>.zone` per
 * zone in the data directory. Every change happens under an exclusive lock
 * (proper-lockfile: a lock directory with stale detection, so a process
 * killed while holding it blocks others for seconds, not forever) and the new
 * file replaces the old atomically (write-file-atomic: temp file, fsync,
 * rename), so parallel `dnssd join` processes never lose an update and a
 * reader (`dnssd serve`, named) never sees a half-written file.
 */
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import lockfile from 'proper-lockfile'
import writeFileAtomic from 'write-file-atomic'
import {BackendError, DeadlineError} from '../core/errors.js'
import {type Planner} from '../core/planner.js'
import {type Change, ZoneState} from '../core/records.js'
import {readAndPlan} from '../core/transact.js'
import {type ZoneFile, formatZoneFile, newZone, parseZoneFile} from '../core/zonefile.js'
import {checkPrivateDir, checkZoneFile} from '../platform/datadir.js'
import {type DnsProvider, type ProviderOptions, type TransactResult} from './provider.js'

export const ZONE_FILE_HEADER = 'Managed by dnssd. Records added by hand are kept; comments are not.'

/** `$DNSSD_DATA_DIR`, else `$XDG_DATA_HOME/dnssd`, else `~/.local/share/dnssd`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DNSSD_DATA_DIR) return env.DNSSD_DATA_DIR
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'dnssd')
}

export function zoneFilePath(dataDir: string, zone: string): string {
  return join(dataDir, `${zone}.zone`)
}

export function zoneStateOf(zone: ZoneFile): ZoneState {
  const state = new ZoneState(zone.origin, 'all')
  for (const r of zone.records) state.addValue(r.name, r.type, r.ttl, r.value)
  return state
}

function applyToZone(zone: ZoneFile, changes: readonly Change[]): void {
  for (const c of changes) {
    if (c.action === 'add') {
      zone.records.push({name: c.name, ttl: c.ttl, type: c.type, value: c.value})
    } else {
      zone.records = zone.records.filter((r) => !(r.name === c.name && r.type === c.type && r.value === c.value))
    }
  }
  const soa = zone.records.find((r) => r.type === 'SOA' && r.name === zone.origin)
  if (soa) {
    const parts = soa.value.split(' ')
    parts[2] = String((Number(parts[2]) + 1) % 2 ** 32)
    soa.value = parts.join(' ')
  } else {
    zone.records.unshift(...newZone(zone.origin, 1).records.filter((r) => r.type === 'SOA'))
  }
}

export class FileProvider implements DnsProvider {
  readonly kind = 'file'
  readonly dataDir: string
  private readonly options: ProviderOptions

  constructor(options: ProviderOptions) {
    this.options = options
    this.dataDir = options.dataDir ?? defaultDataDir()
  }

  /** The zone as on disk, or undefined when it has no file yet. */
  async load(zone: string): Promise<ZoneFile | undefined> {
    const path = zoneFilePath(this.dataDir, zone)
    await checkPrivateDir(this.dataDir, 'data directory')
    await checkZoneFile(path)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new BackendError(`cannot read ${path}: ${(error as Error).message}`, {cause: error})
    }
    return parseZoneFile(text, zone, path)
  }

  /** The whole zone; a zone without a file does not exist (exit 4). */
  async read(zone: string, _names: readonly string[] | 'all'): Promise<ZoneState> {
    const path = zoneFilePath(this.dataDir, zone)
    const file = await this.load(zone)
    this.options.log(`file: read ${path}${file ? '' : ' (no such file)'}`)
    if (!file) throw new BackendError(`no zone file for ${zone} in ${this.dataDir} (dnssd join creates it; check --data-dir)`)
    return zoneStateOf(file)
  }

  async transact(zone: string, names: readonly string[], plan: Planner, opts: {dryRun: boolean}): Promise<TransactResult> {
    if (opts.dryRun) {
      const state = zoneStateOf((await this.load(zone)) ?? newZone(zone, 1))
      const outcome = await readAndPlan(async () => state, names, plan)
      return {changes: outcome.changes, notes: outcome.notes, applied: false, attempts: 1}
    }
    const path = zoneFilePath(this.dataDir, zone)
    await checkPrivateDir(this.dataDir, 'data directory', {create: true})
    const release = await this.lock(path)
    try {
      const file = (await this.load(zone)) ?? newZone(zone, 1)
      const state = zoneStateOf(file)
      const outcome = await readAndPlan(async () => state, names, plan)
      if (outcome.changes.length > 0) {
        applyToZone(file, outcome.changes)
        await writeFileAtomic(path, formatZoneFile(file, ZONE_FILE_HEADER), {mode: 0o644})
        this.options.log(`file: wrote ${path} (${outcome.changes.length} changes)`)
      }
      return {changes: outcome.changes, notes: outcome.notes, applied: outcome.changes.length > 0, attempts: 1}
    } finally {
      await release().catch(() => undefined)
    }
  }

  /** Take the zone's lock, polling every 5-40 ms (randomised) until the deadline. */
  private async lock(path: string): Promise<() => Promise<void>> {
    const lockPath = `${path}.lock`
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      try {
        const release = await lockfile.lock(path, {
          realpath: false,
          lockfilePath: lockPath,
          stale: 3000,
          update: 1000,
          retries: 0,
          onCompromised: (error) => this.options.log(`file: lock on ${path} was compromised: ${error.message}`),
        })
        this.options.log(`file: locked ${lockPath} after ${Date.now() - started} ms (${attempt} tries)`)
        return release
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
          throw new BackendError(`cannot lock ${path}: ${(error as Error).message}`, {cause: error})
        }
        const wait = 5 + Math.floor(Math.random() * 35)
        if (Date.now() + wait >= this.options.deadline) {
          throw new DeadlineError(`could not lock ${path} before the deadline; another dnssd process holds ${lockPath}`, {cause: error})
        }
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  async close(): Promise<void> {}
}
