/**
 * Inter-process exclusive locks and durable replaces for local files: the one
 * lock of dnssd (file provider zones and file:// leases both use it).
 *
 * A lock on TARGET is the file `TARGET.lock` holding one JSON line naming its
 * owner: pid, process start time (Linux /proc/PID/stat field 22), boot id
 * (/proc/sys/kernel/random/boot_id), host name and a random token. It is
 * created complete or not at all (written to a temp file, then hard-linked to
 * its name, which fails if the name exists). Its validity does not depend on
 * timing: a lock is stale only when its owner is gone from this host (no such
 * pid, a different start time, a zombie, or another boot); an owner that is
 * merely slow, stopped or swapped out keeps it, however long that takes.
 * Owners on another host are never judged (dnssd cannot see their
 * processes): the waiter reaches its deadline and says who holds the lock.
 *
 * Breaking a stale lock is race-free between breakers: to remove the lock of
 * token T a breaker must first take the claim `TARGET.lock.break-T` (the same
 * kind of lock, so a breaker killed while holding a claim is itself broken
 * the same way, up to a small depth). Only the claim's holder removes the
 * lock, after checking it still holds token T; a breaker that read T long ago
 * and takes a claim after T was replaced finds another token and stops.
 *
 * Temp files are named `NAME.tmp-PID-START-HOST-RANDOM` so the next lock
 * holder can remove those whose writer is gone (`sweep`).
 */
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, dirname, join} from 'node:path'
import {type Deadline} from '../core/deadline.js'
import {BackendError, DeadlineError} from '../core/errors.js'
import {sleep} from '../core/retry.js'
import {type OpenFile, link, open, readBytes, readText, readdir, rename, rmdir, stat, statBigInt, unlink} from './fs-sync.js'
import {randomHex} from './random.js'

export interface LockOwner {
  pid: number
  /** Start time of the process in clock ticks since boot ('' where unknown). */
  start: string
  /** Boot id of the host ('' where unknown). */
  boot: string
  host: string
  token: string
}

export interface LockOptions {
  /** Epoch ms after which waiting gives up with a DeadlineError (exit 5). */
  deadline: Deadline
  log: (line: string) => void
  /** What is being locked, for messages (defaults to the target path). */
  what?: string
}

/** Claims on claims go this deep; a breaker dying inside a claim that often means something else is wrong. */
const MAX_BREAK_DEPTH = 3
/** Older dnssd versions locked with proper-lockfile, whose lock directory was refreshed every second. */
const LEGACY_STALE_MS = 10_000

/** Start time (field 22) and state (field 3) of a process, undefined when it does not exist, 'no-proc' off Linux. */
function procStat(pid: number): {start: string; state: string} | undefined | 'no-proc' {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ESRCH') {
      try {
        readFileSync('/proc/self/stat')
        return undefined
      } catch {
        return 'no-proc'
      }
    }
    return 'no-proc'
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return {state: fields[0] ?? '', start: fields[19] ?? ''}
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return ''
  }
}

let me: Omit<LockOwner, 'token'> | undefined
function self(): Omit<LockOwner, 'token'> {
  if (!me) {
    const s = procStat(process.pid)
    // node:os only here, where a lock is taken (start-up of a join that changes nothing).
    const {hostname} = createRequire(import.meta.url)('node:os') as typeof import('node:os')
    me = {pid: process.pid, start: typeof s === 'object' ? s.start : '', boot: readBootId(), host: hostname()}
  }
  return me
}

let tag: string | undefined

/**
 * The first 8 hex digits of SHA-256 of this host's name: @noble/hashes, the
 * same digest node:crypto gives, without loading node:crypto; and loaded
 * only where a temp file is named or swept (start-up: a join that changes
 * nothing takes no lock).
 */
async function hostTag(): Promise<string> {
  if (tag === undefined) {
    const [{sha256}, {bytesToHex, utf8ToBytes}] = await Promise.all([import('@noble/hashes/sha2.js'), import('@noble/hashes/utils.js')])
    tag = bytesToHex(sha256(utf8ToBytes(self().host))).slice(0, 8)
  }
  return tag
}

/** `NAME.tmp-PID-START-HOST-RANDOM` beside `path`. */
export async function tempPathFor(path: string): Promise<string> {
  const o = self()
  return `${path}.tmp-${o.pid}-${o.start || '0'}-${await hostTag()}-${randomHex(4)}`
}

const TEMP_RE = /\.tmp-(\d+)-(\d+)-([0-9a-f]{8})-[0-9a-f]{8}$/

/** Is the owner still running? Owners on other hosts count as running: we cannot see them. */
export function ownerAlive(owner: Pick<LockOwner, 'pid' | 'start' | 'boot' | 'host'>): boolean {
  const mine = self()
  if (owner.host !== mine.host) return true
  if (owner.boot && mine.boot && owner.boot !== mine.boot) return false
  const s = procStat(owner.pid)
  if (s === 'no-proc') {
    try {
      process.kill(owner.pid, 0)
      return true
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== 'ESRCH'
    }
  }
  if (!s || s.state === 'Z' || s.state === 'X') return false
  return !owner.start || s.start === owner.start
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>
    if (typeof o.pid === 'number' && typeof o.token === 'string' && typeof o.host === 'string') {
      return {pid: o.pid, token: o.token, host: o.host, start: String(o.start ?? ''), boot: String(o.boot ?? '')}
    }
  } catch {
    // not ours
  }
  return undefined
}

/** The owner's lock content, in a temp file beside the lock to link from. */
type Source = {temp: string; content: string}

type Holder = {kind: 'owner'; owner: LockOwner} | {kind: 'gone'} | {kind: 'legacy'; ageMs: number} | {kind: 'garbled'}

async function readHolder(path: string): Promise<Holder> {
  try {
    const owner = parseOwner(await readText(path))
    return owner ? {kind: 'owner', owner} : {kind: 'garbled'}
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return {kind: 'gone'}
    if (code === 'EISDIR') {
      const s = await stat(path).catch(() => undefined)
      return s ? {kind: 'legacy', ageMs: Date.now() - s.mtimeMs} : {kind: 'gone'}
    }
    throw error
  }
}

/** Make a directory's new or renamed entries durable; some filesystems cannot fsync a directory (the rename or link is atomic anyway). */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: OpenFile | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // Some filesystems cannot fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined)
  }
}

/** Write `data` to a fresh temp file beside `path` and fsync it; returns the temp path. */
export async function writeTemp(path: string, data: string | Buffer, mode: number): Promise<string> {
  const temp = await tempPathFor(path)
  const handle = await open(temp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.chmod(mode)
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => undefined)
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await handle.close()
  return temp
}

/**
 * Create `path` as a hard link to `source` (a complete, fsynced file beside
 * it) unless `path` exists: the lock appears whole or not at all.
 */
async function createExclusive(path: string, source: Source): Promise<boolean> {
  try {
    await link(source.temp, path)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      // A filesystem without hard links: exclusive create, then write (a reader may briefly see it empty).
      try {
        const handle = await open(path, 'wx', 0o644)
        await handle.writeFile(source.content)
        await handle.close()
        return true
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw inner
      }
    }
    throw error
  }
}

/**
 * Inode and content of a file, or 'absent': what a writer compares before
 * replacing it. Two fingerprints are equal exactly when the inode and every
 * byte are (the bytes themselves, no digest of them).
 */
export async function fingerprint(path: string): Promise<string> {
  try {
    const [bytes, s] = await Promise.all([readBytes(path), statBigInt(path)])
    return `${s.ino}:${bytes.length}:${bytes.toString('latin1')}`
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent'
    throw error
  }
}

export class FileLock {
  private constructor(
    /** The lock file, `TARGET.lock`. */
    readonly path: string,
    readonly target: string,
    readonly owner: LockOwner,
  ) {}

  /** Wait for the lock on `target` until the deadline (DeadlineError, exit 5; BackendError when it cannot be created). */
  static async acquire(target: string, options: LockOptions): Promise<FileLock> {
    return (await FileLock.acquireUnless(target, options, undefined))!
  }

  /**
   * Like acquire, but between tries ask `pointless()`: once it says the lock
   * would no longer serve (the write it guards can no longer succeed, say its
   * condition no longer holds), stop waiting and return undefined. A crowd
   * racing for one file then drops out as soon as one of them has won,
   * instead of queueing behind each other until the deadline.
   */
  static async acquireUnless(target: string, options: LockOptions, pointless: (() => Promise<boolean>) | undefined): Promise<FileLock | undefined> {
    try {
      return await FileLock.wait(target, options, pointless)
    } catch (error) {
      if (error instanceof DeadlineError) throw error
      throw new BackendError(`cannot lock ${options.what ?? target}: ${(error as Error).message}`, {cause: error})
    }
  }

  private static async wait(target: string, options: LockOptions, pointless: (() => Promise<boolean>) | undefined): Promise<FileLock | undefined> {
    const path = `${target}.lock`
    const owner: LockOwner = {...self(), token: randomHex(8)}
    const content = `${JSON.stringify(owner)}\n`
    // Written once, linked on every try (and to claims): waiting costs no writes.
    const source = {temp: await writeTemp(path, content, 0o644), content}
    try {
      return await FileLock.loop(target, path, owner, source, options, pointless)
    } finally {
      await unlink(source.temp).catch(() => undefined)
    }
  }

  private static async loop(target: string, path: string, owner: LockOwner, source: Source, options: LockOptions, pointless: (() => Promise<boolean>) | undefined): Promise<FileLock | undefined> {
    const started = Date.now()
    let last = 'another process'
    for (let attempt = 1; ; attempt++) {
      if (await createExclusive(path, source)) {
        options.log(`file: locked ${path} after ${Date.now() - started} ms (${attempt} tries)`)
        return new FileLock(path, target, owner)
      }
      if (pointless && (await pointless())) {
        options.log(`file: stopped waiting for ${path} after ${attempt} tries: the write it guards can no longer succeed`)
        return undefined
      }
      const holder = await readHolder(path)
      if (holder.kind === 'gone') continue
      if (holder.kind === 'owner') {
        const h = holder.owner
        last = `pid ${h.pid}${h.host === owner.host ? '' : ` on ${h.host}`}`
        if (!ownerAlive(h)) {
          if (await breakLock(path, h, owner, source, 0)) {
            options.log(`file: took over ${path} from pid ${h.pid}, which is gone (dead holder)`)
            continue
          }
        }
      } else if (holder.kind === 'legacy') {
        last = 'a lock directory of an older dnssd'
        if (holder.ageMs > LEGACY_STALE_MS) {
          await rmdir(path).catch(() => undefined)
          options.log(`file: removed ${path}, a lock directory of an older dnssd not refreshed for ${Math.round(holder.ageMs / 1000)} s`)
          continue
        }
      } else {
        last = `an unreadable lock file (remove ${path} if no dnssd is running)`
      }
      const wait = 5 + Math.floor(Math.random() * 35)
      if (options.deadline.wouldPass(wait)) {
        throw new DeadlineError(`could not lock ${options.what ?? target} before the deadline; ${last} holds ${path}`)
      }
      await sleep(wait)
    }
  }

  /** Whether this process still holds the lock (nobody broke or removed it). */
  async held(): Promise<boolean> {
    const holder = await readHolder(this.path).catch(() => ({kind: 'gone'}) as Holder)
    return holder.kind === 'owner' && holder.owner.token === this.owner.token
  }

  /** Remove the lock if it is still ours. */
  async release(): Promise<void> {
    if (await this.held()) await unlink(this.path).catch(() => undefined)
  }

  /**
   * Remove what killed processes left beside the target: temp files of gone
   * writers and claims on locks that no longer exist. Only the lock holder
   * calls this, so no live claim can refer to the current lock.
   */
  async sweep(log: (line: string) => void): Promise<void> {
    const dir = dirname(this.target)
    const base = basename(this.target)
    const entries = await readdir(dir).catch(() => [] as string[])
    const mine = self()
    const ourTag = await hostTag()
    for (const name of entries) {
      if (!name.startsWith(`${base}.`)) continue
      const temp = TEMP_RE.exec(name)
      let orphan = false
      if (temp) {
        orphan = temp[3] === ourTag && !ownerAlive({pid: Number(temp[1]), start: temp[2] === '0' ? '' : temp[2]!, boot: '', host: mine.host})
      } else if (name.startsWith(`${base}.lock.break-`)) {
        orphan = !name.includes(this.owner.token)
      }
      if (orphan) {
        await unlink(join(dir, name)).catch(() => undefined)
        log(`file: removed ${join(dir, name)}, left by a process that is gone`)
      }
    }
  }

  /**
   * Replace the target with `data` (temp file, fsync, rename, fsync of the
   * directory) only if the lock is still ours and `unchanged()` still holds,
   * checked immediately before the rename. 'lost' and 'changed' wrote nothing.
   */
  async replace(data: string | Buffer, mode: number, unchanged: () => Promise<boolean>): Promise<'written' | 'lost' | 'changed'> {
    const temp = await writeTemp(this.target, data, mode)
    try {
      if (!(await this.held())) return 'lost'
      if (!(await unchanged())) return 'changed'
      await rename(temp, this.target)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw error
    }
    await unlink(temp).catch(() => undefined)
    await fsyncDir(dirname(this.target))
    return 'written'
  }
}

/**
 * Remove the lock at `path` held by the gone `stale` owner, under the claim
 * `path.break-TOKEN`. True when it was removed (by us).
 */
async function breakLock(path: string, stale: LockOwner, me: LockOwner, source: Source, depth: number): Promise<boolean> {
  const claim = `${path}.break-${stale.token}`
  if (!(await takeClaim(claim, me, source, depth + 1))) return false
  try {
    const now = await readHolder(path)
    if (now.kind !== 'owner' || now.owner.token !== stale.token) return false
    await unlink(path)
    return true
  } finally {
    const held = await readHolder(claim)
    if (held.kind === 'owner' && held.owner.token === me.token) await unlink(claim).catch(() => undefined)
  }
}

/** Take a claim now, breaking it first if its holder is gone; never waits. */
async function takeClaim(claim: string, me: LockOwner, source: Source, depth: number): Promise<boolean> {
  if (await createExclusive(claim, source)) return true
  if (depth >= MAX_BREAK_DEPTH) return false
  const holder = await readHolder(claim)
  if (holder.kind === 'gone') return createExclusive(claim, source)
  if (holder.kind !== 'owner' || ownerAlive(holder.owner)) return false
  if (!(await breakLock(claim, holder.owner, me, source, depth))) return false
  return createExclusive(claim, source)
}
