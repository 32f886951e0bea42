/**
 * The embedded default backend: one RFC 1035 master file `<zone>.zone` per
 * zone in the data directory. Every change happens under the zone's exclusive
 * lock (platform/filelock: owned by a live process, taken over at once when
 * its holder is gone, never lost to a slow one) and replaces the file
 * atomically and durably (temp file, fsync, rename, directory fsync) only
 * after checking, immediately before the rename, that the lock is still ours
 * and the file is still the one that was read; otherwise it reads, plans and
 * tries again inside the deadline. So parallel `dnssd join` processes never
 * lose an acknowledged update and a reader (`dnssd serve`, named) never sees a
 * half-written file. A unit of work that finds nothing to change while no
 * lock file exists reads the file without taking the lock and writes nothing.
 */
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {BackendError, DeadlineError} from '../core/errors.js'
import {type Work} from '../core/planner.js'
import {type Change, ZoneState} from '../core/records.js'
import {sleep} from '../core/retry.js'
import {readAndPlan} from '../core/transact.js'
import {type ZoneFile, formatZoneFile, newZone, parseZoneFile} from '../core/zonefile.js'
import {checkPrivateDir, checkZoneFile} from '../platform/datadir.js'
import {FileLock, fingerprint} from '../platform/filelock.js'
import {readText} from '../platform/fs-sync.js'
import {type FileSettings} from './catalog.js'
import {type DnsProvider, type ProviderOptions, type TransactResult} from './provider.js'

export const ZONE_FILE_HEADER = 'Managed by dnssd. Records added by hand are kept; comments are not.'

/** os.homedir(), which is $HOME when set: node:os is loaded only without it (start-up). */
const homeDir = (): string =>
  process.env.HOME ?? (createRequire(import.meta.url)('node:os') as typeof import('node:os')).homedir()

/** `$DNSSD_DATA_DIR`, else `$XDG_DATA_HOME/dnssd`, else `~/.local/share/dnssd`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DNSSD_DATA_DIR) return env.DNSSD_DATA_DIR
  const base = env.XDG_DATA_HOME || join(homeDir(), '.local', 'share')
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
  private readonly options: ProviderOptions<FileSettings>

  constructor(options: ProviderOptions<FileSettings>) {
    this.options = options
    this.dataDir = options.settings.dataDir ?? defaultDataDir()
  }

  /** The zone as on disk, or undefined when it has no file yet. */
  async load(zone: string): Promise<ZoneFile | undefined> {
    const path = zoneFilePath(this.dataDir, zone)
    await checkPrivateDir(this.dataDir, 'data directory')
    await checkZoneFile(path)
    let text: string
    try {
      text = await readText(path)
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

  async transact({zone, names, plan}: Work, opts: {dryRun: boolean}): Promise<TransactResult> {
    if (opts.dryRun) {
      const state = zoneStateOf((await this.load(zone)) ?? newZone(zone, 1))
      const outcome = await readAndPlan(async () => state, names, plan)
      return {changes: outcome.changes, notes: outcome.notes, applied: false, attempts: 1}
    }
    const path = zoneFilePath(this.dataDir, zone)
    if (this.options.deadline.passed()) throw new DeadlineError(`the deadline passed before ${path} was locked; nothing was written`)
    // A change already made (a join of a member, a leave of a non-member,
    // what a boot script repeats on every boot) is answered from the file as
    // it is, without taking the lock, when nobody holds it: a rename replaces
    // the file whole, so this read sees it either before or after any
    // concurrent change, as a locked read would. With a lock file present
    // everything goes through the lock as before (waiting for a live holder,
    // taking over from a gone one). Whatever needs writing is read and
    // planned again under the lock.
    const current = existsSync(`${path}.lock`) ? undefined : await this.load(zone)
    if (current) {
      const outcome = await readAndPlan(async () => zoneStateOf(current), names, plan)
      if (outcome.changes.length === 0) {
        this.options.log(`file: ${path} already as planned; nothing to write, not locked`)
        return {changes: [], notes: outcome.notes, applied: false, attempts: 1}
      }
    }
    await checkPrivateDir(this.dataDir, 'data directory', {create: true})
    const lockOptions = {deadline: this.options.deadline, log: this.options.log}
    let lock = await FileLock.acquire(path, lockOptions)
    try {
      await lock.sweep(this.options.log)
      for (let attempt = 1; ; attempt++) {
        // The fingerprint on both sides of load() pins what was parsed.
        const read = await fingerprint(path)
        const file = (await this.load(zone)) ?? newZone(zone, 1)
        let result: 'written' | 'lost' | 'changed' = 'changed'
        if ((await fingerprint(path)) === read) {
          const outcome = await readAndPlan(async () => zoneStateOf(file), names, plan)
          if (outcome.changes.length === 0) return {changes: [], notes: outcome.notes, applied: false, attempts: attempt}
          applyToZone(file, outcome.changes)
          const text = formatZoneFile(file, ZONE_FILE_HEADER)
          result = await lock.replace(text, 0o644, async () => (await fingerprint(path)) === read).catch((error: unknown) => {
            throw new BackendError(`cannot write ${path}: ${(error as Error).message}`, {cause: error})
          })
          if (result === 'written') {
            this.options.log(`file: wrote ${path} (${outcome.changes.length} changes)`)
            return {changes: outcome.changes, notes: outcome.notes, applied: true, attempts: attempt}
          }
        }
        const why = result === 'lost' ? `the lock ${lock.path} is no longer ours` : `${path} changed since it was read`
        if (this.options.deadline.passed()) {
          throw new DeadlineError(`could not apply the change to ${path} before the deadline: ${why}; nothing was written`)
        }
        this.options.log(`file: not written: ${why}; reading again (attempt ${attempt + 1})`)
        if (result === 'lost') lock = await FileLock.acquire(path, lockOptions)
        else await sleep(5 + Math.floor(Math.random() * 35))
      }
    } finally {
      await lock.release()
    }
  }

  async close(): Promise<void> {}
}
