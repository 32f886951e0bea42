/**
 * Where dnssd keeps files (the data directory of zone files, a file://
 * lease registry) must be a place nobody else can change, the rule OpenSSH
 * applies to ~/.ssh: the directory, and every directory above it, is owned
 * by the running user or root and is not writable by group or others (a
 * sticky directory such as /tmp is fine above it); the directory itself
 * and a zone file are not symbolic links; a zone file is a regular file
 * with one link. Otherwise another user could plant a symlink as
 * `<zone>.zone` and have a root `dnssd join` overwrite the file it points to.
 *
 * What dnssd creates: directories 0755 and zone files 0644 (written by the
 * file provider), so `dnssd serve` and named running as other users can read
 * them and nobody else can write them. An existing file keeps its owner:
 * it is replaced by a file of the same owner, and only files owned by this
 * user or root are accepted in the first place.
 *
 * A refusal is a BackendError (exit 4) that names the path and the fix.
 */
import {type Stats} from 'node:fs'
import {dirname} from 'node:path'
import {BackendError} from '../core/errors.js'
import {lstat, mkdir, readlink, realpath} from './fs-sync.js'

const DIR_MODE = 0o755

function refuse(what: string, path: string, why: string, fix: string): never {
  throw new BackendError(`refusing ${what} ${path}: ${why}; ${fix}`)
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new BackendError(`cannot inspect ${path}: ${(error as Error).message}`, {cause: error})
  }
}

/** Owned by this user or root, and (unless `sticky` counts as safe) not writable by group or others. */
function checkOwnerAndMode(what: string, path: string, st: Stats, uid: number, stickyOk: boolean): void {
  if (st.uid !== uid && st.uid !== 0) {
    refuse(what, path, `it is owned by uid ${st.uid}, not by this user (uid ${uid}) or root`, `chown it to this user, or use another directory`)
  }
  const sticky = (st.mode & 0o1000) !== 0
  if ((st.mode & 0o022) !== 0 && !(stickyOk && sticky && st.isDirectory())) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0')
    refuse(what, path, `it is writable by group or others (mode ${mode})`, `run chmod go-w ${path}`)
  }
}

/** `from` and every directory above it (resolved through symlinks) up to the root. */
async function checkAncestors(what: string, from: string, uid: number): Promise<void> {
  let at = await realpath(from).catch(() => from)
  for (;;) {
    const st = await lstatOrUndefined(at)
    if (st) checkOwnerAndMode(`the directory above the ${what},`, at, st, uid, true)
    const up = dirname(at)
    if (up === at) return
    at = up
  }
}

/**
 * Check a data or registry directory before use. A directory that does not
 * exist yet passes (its nearest existing parent is checked) and is created
 * 0755 when `create` is set.
 */
export async function checkPrivateDir(dir: string, what: string, options: {create?: boolean} = {}): Promise<void> {
  const uid = process.getuid?.()
  if (uid === undefined) return // no POSIX owners (Windows): nothing to check
  let st = await lstatOrUndefined(dir)
  if (!st) {
    let existing = dirname(dir)
    while (!(await lstatOrUndefined(existing)) && dirname(existing) !== existing) existing = dirname(existing)
    await checkAncestors(what, existing, uid)
    if (!options.create) return
    await mkdir(dir, {recursive: true, mode: DIR_MODE}).catch((error: unknown) => {
      throw new BackendError(`cannot create the ${what} ${dir}: ${(error as Error).message}`, {cause: error})
    })
    st = await lstat(dir)
  }
  if (st.isSymbolicLink()) {
    const target = await readlink(dir).catch(() => '?')
    refuse(what, dir, `it is a symbolic link (to ${target})`, 'give the real directory, which no one else can redirect')
  }
  if (!st.isDirectory()) refuse(what, dir, 'it is not a directory', 'give a directory')
  checkOwnerAndMode(what, dir, st, uid, false)
  await checkAncestors(what, dirname(dir), uid)
}

/** Check a zone file before reading or replacing it; a missing file passes. */
export async function checkZoneFile(path: string): Promise<void> {
  const uid = process.getuid?.()
  if (uid === undefined) return
  const st = await lstatOrUndefined(path)
  if (!st) return
  if (st.isSymbolicLink()) {
    const target = await readlink(path).catch(() => '?')
    refuse('zone file', path, `it is a symbolic link (to ${target})`, 'replace it with the real file')
  }
  if (!st.isFile()) refuse('zone file', path, 'it is not a regular file', 'remove it or use another --data-dir')
  if (st.nlink > 1) refuse('zone file', path, `it has ${st.nlink} hard links`, 'replace it with a copy (cp, then mv over it)')
  checkOwnerAndMode('zone file', path, st, uid, false)
}
