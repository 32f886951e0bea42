/**
 * The embedded lease store: `file:///dir` holds `<zone>/<service>/<member>.json`.
 * Every write or delete runs under the lease's exclusive lock (the same
 * platform/filelock as the zone files), so compare-and-delete is real: the
 * ETag is the SHA-256 of the lease's bytes, re-read and compared while the
 * lock is held, and checked again with the lock's ownership immediately before
 * the rename (temp file + fsync + rename) or the unlink; a write whose lock or
 * lease changed under it starts over inside the deadline.
 */
import {createHash} from 'node:crypto'
import {constants} from 'node:fs'
import {access, link, mkdir, readFile, readdir, stat, unlink} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {mapConcurrent} from '../core/concurrent.js'
import {BackendError, DeadlineError} from '../core/errors.js'
import {checkPrivateDir} from '../platform/datadir.js'
import {FileLock, fsyncDir, writeTemp} from '../platform/filelock.js'
import type {ApplyLease, DeleteOutcome, Lease, PutCondition, Registry, RegistryOptions, StoredLease} from './registry.js'
import {applyKey, decodeApplyLease, decodeLease, encodeLease, leaseKey, memberIdOf} from './registry.js'

/** Lease files read at once by list and fingerprint. */
const LIST_CONCURRENCY = 16

export const etagOf = (bytes: string | Buffer): string => `"${createHash('sha256').update(bytes).digest('hex')}"`

export class FileRegistry implements Registry {
  readonly kind = 'file'
  readonly conditional = true
  readonly url: string

  constructor(
    readonly dir: string,
    private readonly options: RegistryOptions,
  ) {
    this.url = `file://${dir}`
  }

  private path(zone: string, service: string, memberId: string): string {
    return join(this.dir, leaseKey('', zone, service, memberId))
  }

  private fail(action: string, path: string, error: unknown): never {
    const code = (error as NodeJS.ErrnoException).code
    const hint = code === 'EACCES' || code === 'EPERM' ? '; give this user read/write access to the registry directory' : ''
    throw new BackendError(`registry ${this.url}: cannot ${action} ${path}: ${(error as Error).message}${hint}`, {cause: error})
  }

  /** The store must exist before reading it (a typo in --registry should not look like "no leases"). */
  private async requireRoot(): Promise<void> {
    try {
      const s = await stat(this.dir)
      if (!s.isDirectory()) throw new BackendError(`registry ${this.url}: ${this.dir} is not a directory; fix --registry`)
    } catch (error) {
      if (error instanceof BackendError) throw error
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BackendError(`registry ${this.url}: the directory ${this.dir} does not exist; fix --registry or run join --lease first (it creates it)`)
      }
      this.fail('read', this.dir, error)
    }
  }

  private async readAt(path: string): Promise<{text: string; etag: string} | undefined> {
    let bytes: Buffer
    try {
      bytes = await readFile(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      this.fail('read', path, error)
    }
    return {text: bytes.toString('utf8'), etag: etagOf(bytes)}
  }

  private stored(path: string, zone: string, service: string, memberId: string, got: {text: string; etag: string}): StoredLease | undefined {
    const lease = decodeLease(got.text)
    if (!lease) {
      this.options.log(`file: skipping ${path}: not a dnssd lease`)
      return undefined
    }
    return {key: leaseKey('', zone, service, memberId), memberId, etag: got.etag, lease}
  }

  async get(zone: string, service: string, memberId: string): Promise<StoredLease | undefined> {
    const path = this.path(zone, service, memberId)
    this.options.log(`file: call GetLease ${path}`)
    const got = await this.readAt(path)
    return got ? this.stored(path, zone, service, memberId, got) : undefined
  }

  /** Creating the store is part of joining with a lease: fail now, before any DNS change, if we cannot write it. */
  async prepareWrite(zone: string, service: string): Promise<void> {
    const dir = join(this.dir, zone, service)
    await checkPrivateDir(this.dir, 'lease registry', {create: true})
    await mkdir(dir, {recursive: true}).catch((error: unknown) => this.fail('create', dir, error))
    await access(dir, constants.W_OK).catch((error: unknown) => this.fail('write to', dir, error))
  }

  async put(lease: Lease, condition: PutCondition): Promise<StoredLease | 'changed'> {
    const memberId = memberIdOf(lease.host)
    const path = this.path(lease.zone, lease.service, memberId)
    this.options.log(`file: call PutLease ${path}${condition ? ` ${'ifMatch' in condition ? 'if-match' : 'if-none-match'}` : ''}`)
    const written = await this.putAt(path, encodeLease(lease), condition)
    if (written === 'changed') return written
    return {key: leaseKey('', lease.zone, lease.service, memberId), memberId, etag: written.etag, lease}
  }

  /** Write `text` at `path` under its lock, if the condition holds. */
  private async putAt(path: string, text: string, condition: PutCondition, precheck = false): Promise<{etag: string} | 'changed'> {
    await mkdir(dirname(path), {recursive: true}).catch((error: unknown) => this.fail('create', dirname(path), error))
    const fails = (current: {etag: string} | undefined): boolean => condition !== undefined && ('ifMatch' in condition ? current?.etag !== condition.ifMatch : current !== undefined)
    // With precheck (the apply lease, which a crowd races for), a condition that already fails needs no lock.
    // While a conditional write waits for the lock, it stops as soon as another writer made the condition fail.
    const failing = async (): Promise<boolean> => fails(await this.readAt(path))
    if (precheck && condition && (await failing())) return 'changed'
    return this.underLock(path, condition ? {pointless: failing, outcome: async () => 'changed' as const} : undefined, async (lock) => {
      const current = await this.readAt(path)
      if (fails(current)) return 'changed'
      const result = await lock
        .replace(text, 0o644, async () => (await this.readAt(path))?.etag === current?.etag)
        .catch((error: unknown) => this.fail('write', path, error))
      if (result !== 'written') return result === 'lost' ? 'lost' : 'changed-under-lock'
      return {etag: etagOf(Buffer.from(text))}
    })
  }

  async delete(zone: string, service: string, memberId: string, ifMatch?: string): Promise<DeleteOutcome> {
    const path = this.path(zone, service, memberId)
    this.options.log(`file: call DeleteLease ${path}${ifMatch ? ' if-match' : ''}`)
    return this.deleteAt(path, ifMatch)
  }

  private async deleteAt(path: string, ifMatch: string | undefined, precheck = false): Promise<DeleteOutcome> {
    try {
      await stat(dirname(path))
    } catch {
      return 'missing'
    }
    const changed = async (): Promise<boolean> => (await this.readAt(path))?.etag !== ifMatch
    const outcome = async (): Promise<DeleteOutcome> => ((await this.readAt(path)) ? 'changed' : 'missing')
    if (precheck && ifMatch !== undefined && (await changed())) return outcome()
    return this.underLock(path, ifMatch !== undefined ? {pointless: changed, outcome} : undefined, async (lock) => {
      const current = await this.readAt(path)
      if (!current) return 'missing'
      if (ifMatch !== undefined && current.etag !== ifMatch) return 'changed'
      if (!(await lock.held())) return 'lost'
      if ((await this.readAt(path))?.etag !== current.etag) return 'changed-under-lock'
      await unlink(path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.fail('delete', path, error)
      })
      return 'deleted'
    })
  }

  async getApply(zone: string): Promise<{etag: string; lease: ApplyLease} | undefined> {
    const path = join(this.dir, applyKey('', zone))
    this.options.log(`file: call GetApplyLease ${path}`)
    const got = await this.readAt(path)
    const lease = got && decodeApplyLease(got.text)
    return got && lease ? {etag: got.etag, lease} : undefined
  }

  async putApply(zone: string, lease: ApplyLease, condition: {ifMatch: string} | {ifNoneMatch: '*'}): Promise<{etag: string} | 'changed'> {
    const path = join(this.dir, applyKey('', zone))
    this.options.log(`file: call PutApplyLease ${path} ${'ifMatch' in condition ? 'if-match' : 'if-none-match'}`)
    if ('ifNoneMatch' in condition) return this.createAt(path, encodeLease(lease))
    return this.putAt(path, encodeLease(lease), condition, true)
  }

  /**
   * Create `path` only if it does not exist, without the lock: a complete,
   * fsynced temp file hard-linked into place, which fails at once when the
   * file exists. When a whole fleet finds the zone's apply lease free at the
   * same moment, one link wins and every other member is told 'changed'
   * straight away, instead of queueing for the lock. Safe beside the locked
   * writers: they only replace or delete a file that exists, and while it
   * exists no link can succeed.
   */
  private async createAt(path: string, text: string): Promise<{etag: string} | 'changed'> {
    if ((await this.readAt(path)) !== undefined) return 'changed'
    await mkdir(dirname(path), {recursive: true}).catch((error: unknown) => this.fail('create', dirname(path), error))
    const temp = await writeTemp(path, text, 0o644).catch((error: unknown) => this.fail('write', path, error))
    try {
      await link(temp, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'changed'
      this.fail('write', path, error)
    } finally {
      await unlink(temp).catch(() => undefined)
    }
    await fsyncDir(dirname(path))
    return {etag: etagOf(Buffer.from(text))}
  }

  async deleteApply(zone: string, ifMatch: string): Promise<DeleteOutcome> {
    const path = join(this.dir, applyKey('', zone))
    this.options.log(`file: call DeleteApplyLease ${path} if-match`)
    return this.deleteAt(path, ifMatch, true)
  }

  async list(zone: string, service?: string): Promise<StoredLease[]> {
    await this.requireRoot()
    const zoneDir = join(this.dir, zone)
    this.options.log(`file: call ListLeases ${zoneDir}${service ? `/${service}` : ''}`)
    const services = service ? [service] : await this.entries(zoneDir, true)
    const files = await this.leaseFiles(zoneDir, services)
    const read = await mapConcurrent(files, LIST_CONCURRENCY, async ({svc, memberId, path}) => {
      const got = await this.readAt(path)
      return got && this.stored(path, zone, svc, memberId, got)
    })
    return read.filter((s): s is StoredLease => s !== undefined)
  }

  async fingerprint(zone: string): Promise<string> {
    const zoneDir = join(this.dir, zone)
    const files = await this.leaseFiles(zoneDir, await this.entries(zoneDir, true))
    const parts = await mapConcurrent(files, LIST_CONCURRENCY, async ({svc, memberId, path}) => {
      const s = await stat(path).catch(() => undefined)
      return s ? `${svc}/${memberId}.json ${s.mtimeMs} ${s.size}` : ''
    })
    return parts.filter((p) => p).join('\n')
  }

  /** The lease files under the services' directories, in name order. */
  private async leaseFiles(zoneDir: string, services: string[]): Promise<{svc: string; memberId: string; path: string}[]> {
    const files: {svc: string; memberId: string; path: string}[] = []
    for (const svc of services.sort()) {
      const dir = join(zoneDir, svc)
      for (const name of (await this.entries(dir, false)).sort()) {
        if (name.endsWith('.json')) files.push({svc, memberId: name.slice(0, -'.json'.length), path: join(dir, name)})
      }
    }
    return files
  }

  private async entries(dir: string, directories: boolean): Promise<string[]> {
    try {
      const list = await readdir(dir, {withFileTypes: true})
      return list.filter((e) => (directories ? e.isDirectory() : e.isFile())).map((e) => e.name)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      this.fail('list', dir, error)
    }
  }

  /**
   * Run `step` under the lease's lock (with `unless`: stop waiting for the
   * lock once `pointless` says the step can no longer succeed, and answer
   * `outcome` instead); a step that finds the lock no longer
   * ours ('lost') or the lease changed between its read and its write
   * ('changed-under-lock') runs again, with the
   * lock taken anew when lost, until the deadline.
   */
  private async underLock<T>(path: string, unless: {pointless: () => Promise<boolean>; outcome: () => Promise<T>} | undefined, step: (lock: FileLock) => Promise<T | 'lost' | 'changed-under-lock'>): Promise<T> {
    const options = {deadline: this.options.deadline, log: this.options.log, what: `${path} (registry ${this.url})`}
    const first = await FileLock.acquireUnless(path, options, unless?.pointless)
    if (!first) return unless!.outcome()
    let lock = first
    try {
      await lock.sweep(this.options.log)
      for (;;) {
        const result = await step(lock)
        if (result !== 'lost' && result !== 'changed-under-lock') return result
        const why = result === 'lost' ? `the lock ${lock.path} is no longer ours` : `${path} changed while it was locked`
        if (this.options.deadline.passed()) throw new DeadlineError(`registry ${this.url}: could not write ${path} before the deadline: ${why}`)
        this.options.log(`file: not written: ${why}; trying again`)
        if (result === 'lost') lock = await FileLock.acquire(path, options)
      }
    } finally {
      await lock.release()
    }
  }

  async close(): Promise<void> {}
}
