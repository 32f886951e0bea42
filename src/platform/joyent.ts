/**
 * Joyent/Triton instance facts through `mdata-get sdc:nics` (the metadata
 * agent's command, present in SmartOS zones and Triton's Linux images). The
 * NIC list is JSON; a NIC tagged "external" is on the public network, any
 * other tag ("internal", fabric networks) is private.
 */
import {execFile} from 'node:child_process'
import {access, constants} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

export interface TritonNic {
  interface?: string
  nic_tag?: string
  ip?: string
  ips?: string[]
  primary?: boolean
}

const EXTRA_DIRS = ['/usr/sbin', '/lib/smartdc']

/** Absolute path of `mdata-get`, or undefined when this is not a Triton instance. */
export async function findMdataGet(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS]
  for (const dir of dirs) {
    const candidate = join(dir, 'mdata-get')
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export function readNics(command: string, timeoutMs: number): Promise<TritonNic[]> {
  return new Promise((resolve, reject) => {
    execFile(command, ['sdc:nics'], {timeout: timeoutMs, maxBuffer: 1 << 20}, (error, stdout) => {
      if (error) return reject(new Error(`mdata-get sdc:nics failed: ${error.killed ? 'timed out' : error.message.split('\n')[0]}`))
      try {
        const parsed: unknown = JSON.parse(stdout)
        if (!Array.isArray(parsed)) return reject(new Error('mdata-get sdc:nics did not print a JSON array'))
        resolve(parsed as TritonNic[])
      } catch {
        reject(new Error('mdata-get sdc:nics did not print JSON'))
      }
    })
  })
}

/** Addresses of one NIC: `ips` (CIDR form) first, else `ip` when it is an address. */
export function nicAddresses(nic: TritonNic): string[] {
  const list = Array.isArray(nic.ips) && nic.ips.length > 0 ? nic.ips : nic.ip ? [nic.ip] : []
  return list
    .filter((s): s is string => typeof s === 'string')
    .map((s) => s.split('/')[0]!.trim())
    .filter((s) => s !== '' && s !== 'dhcp' && s !== 'addrconf')
}

/** The public (external) and private (any other tag) address; IPv4 preferred. */
export function pickTritonAddresses(nics: readonly TritonNic[]): {public?: string; private?: string} {
  const first = (list: readonly TritonNic[]): string | undefined => {
    const all = list.flatMap(nicAddresses)
    return all.find((a) => !a.includes(':')) ?? all[0]
  }
  const external = nics.filter((n) => n.nic_tag === 'external')
  const internal = nics.filter((n) => n.nic_tag !== 'external')
  const preferred = [...internal.filter((n) => n.nic_tag === 'internal'), ...internal.filter((n) => n.nic_tag !== 'internal')]
  return {public: first(external), private: first(preferred)}
}
