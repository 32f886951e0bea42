/**
 * The embedded lease store: `file:///dir` holds `<zone>/<service>/<member>.json`.
 * Writes are atomic (write-file-atomic: temp file + fsync + rename), and every
 * conditional write or delete runs under a per-lease exclusive lock
 * (proper-lockfile), so compare-and-delete is real: the ETag is the SHA-256 of
 * the lease's bytes, re-read and compared while the lock is held.
 */
import {createHash} from 'node:crypto'
import {constants} from 'node:fs'
import {access, mkdir, readFile, readdir, stat, unlink} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import lockfile from 'proper-lockfile'
import writeFileAtomic from 'write-file-atomic'
import {BackendError, DeadlineError} from '../core/errors.js'
import {checkPrivateDir} from '../platform/datadir.js'
import {
  type DeleteOutcome,
  type Lease,
  type PutCondition,
  type Registry,
  type RegistryOptions,
  type StoredLease,
  decodeLease,
  encodeLease,
  leaseKey,
  memberIdOf,
} from './registry.js'

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
    await mkdir(dirname(path), {recursive: true}).catch((error: unknown) => this.fail('create', dirname(path), error))
    const release = await this.lock(path)
    try {
      if (condition) {
        const current = await this.readAt(path)
        if ('ifMatch' in condition ? current?.etag !== condition.ifMatch : current !== undefined) return 'changed'
      }
      const text = encodeLease(lease)
      await writeFileAtomic(path, text, {mode: 0o644}).catch((error: unknown) => this.fail('write', path, error))
      return {key: leaseKey('', lease.zone, lease.service, memberId), memberId, etag: etagOf(Buffer.from(text)), lease}
    } finally {
      await release().catch(() => undefined)
    }
  }

  async delete(zone: string, service: string, memberId: string, ifMatch?: string): Promise<DeleteOutcome> {
    const path = this.path(zone, service, memberId)
    this.options.log(`file: call DeleteLease ${path}${ifMatch ? ' if-match' : ''}`)
    try {
      await stat(dirname(path))
    } catch {
      return 'missing'
    }
    const release = await this.lock(path)
    try {
      const current = await this.readAt(path)
      if (!current) return 'missing'
      if (ifMatch !== undefined && current.etag !== ifMatch) return 'changed'
      await unlink(path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.fail('delete', path, error)
      })
      return 'deleted'
    } finally {
      await release().catch(() => undefined)
    }
  }

  async list(zone: string, service?: string): Promise<StoredLease[]> {
    await this.requireRoot()
    const zoneDir = join(this.dir, zone)
    this.options.log(`file: call ListLeases ${zoneDir}${service ? `/${service}` : ''}`)
    const services = service ? [service] : await this.entries(zoneDir, true)
    const out: StoredLease[] = []
    for (const svc of services.sort()) {
      const dir = join(zoneDir, svc)
      for (const name of (await this.entries(dir, false)).sort()) {
        if (!name.endsWith('.json')) continue
        const memberId = name.slice(0, -'.json'.length)
        const path = join(dir, name)
        const got = await this.readAt(path)
        const s = got && this.stored(path, zone, svc, memberId, got)
        if (s) out.push(s)
      }
    }
    return out
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

  private async lock(path: string): Promise<() => Promise<void>> {
    const remaining = Math.max(0, this.options.deadline - Date.now())
    try {
      return await lockfile.lock(path, {
        realpath: false,
        lockfilePath: `${path}.lock`,
        stale: 3000,
        update: 1000,
        retries: {retries: Math.max(1, Math.ceil(remaining / 20)), factor: 1.3, minTimeout: 5, maxTimeout: 40, randomize: true},
        onCompromised: (error) => this.options.log(`file: lease lock on ${path} was compromised: ${error.message}`),
      })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
        throw new DeadlineError(`registry ${this.url}: could not lock ${path} before the deadline`, {cause: error})
      }
      this.fail('lock', path, error)
    }
  }

  async close(): Promise<void> {}
}
