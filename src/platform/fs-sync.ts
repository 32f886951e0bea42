/**
 * The node:fs calls of the zone lock, the data directory checks and the file
 * provider, made synchronously and returned as promises (a failure is a
 * rejected promise with node:fs's own error: code, syscall, path, message).
 *
 * Why synchronous: what they touch is a few small files, and a command that
 * makes no asynchronous file call never starts libuv's thread pool (four
 * threads), which costs more than all the calls of a `dnssd join`; nor loads
 * node:fs/promises, with the stream and readline modules it brings. Both are a
 * large share of the start-up of join and list, which run in boot scripts
 * (README, start-up). `dnssd serve` reloads a changed zone file through the
 * file provider: reading it is small beside parsing it, which was synchronous
 * already.
 */
import fs, {type BigIntStats, type MakeDirectoryOptions, type Stats} from 'node:fs'

function now<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call())
  } catch (error) {
    return Promise.reject(error as Error)
  }
}

export const lstat = (path: string): Promise<Stats> => now(() => fs.lstatSync(path))
export const stat = (path: string): Promise<Stats> => now(() => fs.statSync(path))
export const statBigInt = (path: string): Promise<BigIntStats> => now(() => fs.statSync(path, {bigint: true}))
export const readlink = (path: string): Promise<string> => now(() => fs.readlinkSync(path, 'utf8'))
/** The kernel's realpath(3), as fs/promises' realpath. */
export const realpath = (path: string): Promise<string> => now(() => fs.realpathSync.native(path, 'utf8'))
export const mkdir = (path: string, options: MakeDirectoryOptions): Promise<string | undefined> => now(() => fs.mkdirSync(path, options))
export const readdir = (path: string): Promise<string[]> => now(() => fs.readdirSync(path, 'utf8'))
export const readText = (path: string): Promise<string> => now(() => fs.readFileSync(path, 'utf8'))
export const readBytes = (path: string): Promise<Buffer> => now(() => fs.readFileSync(path))
export const link = (existing: string, path: string): Promise<void> => now(() => fs.linkSync(existing, path))
export const rename = (from: string, to: string): Promise<void> => now(() => fs.renameSync(from, to))
export const unlink = (path: string): Promise<void> => now(() => fs.unlinkSync(path))
export const rmdir = (path: string): Promise<void> => now(() => fs.rmdirSync(path))

/** An open file by its descriptor: what the lock needs of fs/promises' FileHandle. */
export interface OpenFile {
  writeFile(data: string | Buffer): Promise<void>
  chmod(mode: number): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}

export async function open(path: string, flags: string, mode?: number): Promise<OpenFile> {
  const fd = fs.openSync(path, flags, mode)
  return {
    writeFile: (data) => now(() => fs.writeFileSync(fd, data)),
    chmod: (m) => now(() => fs.fchmodSync(fd, m)),
    sync: () => now(() => fs.fsyncSync(fd)),
    close: () => now(() => fs.closeSync(fd)),
  }
}
