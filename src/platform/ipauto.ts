/**
 * `--ip auto`: find this instance's address from the first source that
 * knows it. EC2 (IMDSv2) and Joyent/Triton (mdata-get) tell public from
 * private; elsewhere the default-route interface's address is used. Every
 * step is local or bounded by a short timeout, so a host that is no cloud
 * instance answers in milliseconds (bench/ipauto.mjs).
 */
import {InputError} from '../core/errors.js'
import {isPublicAddress} from '../core/names.js'
import {imdsAddresses, imdsDisabled, imdsEndpoint, looksLikeEc2} from './imds.js'
import {findMdataGet, pickTritonAddresses, readNics} from './joyent.js'
import {defaultRouteAddress} from './netif.js'

export type IpSource = 'public' | 'private'
export type Probe = 'ec2' | 'joyent' | 'interface'
export const PROBES: readonly Probe[] = ['ec2', 'joyent', 'interface']

export interface AutoAddress {
  address: string
  /** Where it came from, e.g. "EC2 IMDSv2 public-ipv4". */
  from: string
}

export interface AutoOptions {
  source?: IpSource
  log: (line: string) => void
  env?: NodeJS.ProcessEnv
  /** Per-request timeout for metadata services. */
  timeoutMs?: number
}

export function parseIpSource(value: unknown): IpSource | undefined {
  if (value === undefined || value === '') return undefined
  const v = String(value).trim().toLowerCase()
  if (v === 'public' || v === 'private') return v
  throw new InputError('--ip-source', `"${String(value)}" is not a source; use public or private`)
}

/**
 * DNSSD_IP_AUTO_ORDER (comma-separated ec2, joyent, interface) limits and
 * orders the sources; tests use it to pin one source, operators to skip one.
 */
export function probeOrder(env: NodeJS.ProcessEnv = process.env): Probe[] {
  const raw = env.DNSSD_IP_AUTO_ORDER?.trim()
  if (!raw) return [...PROBES]
  const list = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
  for (const p of list) {
    if (!(PROBES as readonly string[]).includes(p)) {
      throw new InputError('DNSSD_IP_AUTO_ORDER', `"${p}" is not a source; use a comma-separated list of ${PROBES.join(', ')}`)
    }
  }
  return list as Probe[]
}

function choose(
  found: {public?: string; private?: string},
  source: IpSource | undefined,
  where: string,
  publicLabel: string,
  privateLabel: string,
): AutoAddress | undefined {
  if (source !== 'private' && found.public) return {address: found.public, from: `${where} ${publicLabel}`}
  if (source !== 'public' && found.private) return {address: found.private, from: `${where} ${privateLabel}`}
  if (source === undefined) return undefined
  const other = source === 'public' ? 'private' : 'public'
  throw new InputError('--ip-source', `${source}: ${where} reports no ${source} address for this instance; use --ip-source ${other} or --ip ADDR`)
}

export async function resolveAutoAddress(options: AutoOptions): Promise<AutoAddress> {
  const env = options.env ?? process.env
  const {source, log} = options
  const timeoutMs = options.timeoutMs ?? 1000
  const tried: string[] = []
  for (const probe of probeOrder(env)) {
    if (probe === 'ec2') {
      if (imdsDisabled(env)) {
        tried.push('EC2 (AWS_EC2_METADATA_DISABLED is set)')
        continue
      }
      const endpoint = imdsEndpoint(env)
      if (!endpoint.explicit && !(await looksLikeEc2())) {
        log('ip: hardware is not EC2 (no Amazon DMI/hypervisor id); IMDS not asked')
        tried.push('EC2 (not EC2 hardware)')
        continue
      }
      const found = await imdsAddresses(endpoint.url, timeoutMs, log)
      if (!found) {
        tried.push(`EC2 (IMDS at ${endpoint.url} did not answer)`)
        continue
      }
      const picked = choose(found, source, 'EC2 IMDSv2', 'public-ipv4', 'local-ipv4')
      if (picked) return picked
      if (found.ipv6) return {address: found.ipv6, from: 'EC2 IMDSv2 ipv6s'}
      tried.push('EC2 (IMDS gave no address)')
    } else if (probe === 'joyent') {
      const command = await findMdataGet(env)
      if (!command) {
        tried.push('Joyent (no mdata-get)')
        continue
      }
      log(`ip: call ${command} sdc:nics`)
      let nics
      try {
        nics = await readNics(command, Math.min(2000, timeoutMs * 2))
      } catch (error) {
        log(`ip: ${(error as Error).message}`)
        tried.push(`Joyent (${(error as Error).message})`)
        continue
      }
      const picked = choose(pickTritonAddresses(nics), source, 'Triton sdc:nics', 'nic_tag external', 'nic_tag internal')
      if (picked) return picked
      tried.push('Joyent (sdc:nics has no address)')
    } else {
      const found = await defaultRouteAddress()
      if (!found) {
        tried.push('interface (no default route with an address)')
        continue
      }
      const kind: IpSource = isPublicAddress(found.address) ? 'public' : 'private'
      if (source !== undefined && source !== kind) {
        throw new InputError('--ip-source', `${source}: the default-route interface ${found.iface} has the ${kind} address ${found.address} and no metadata service knows another; use --ip ADDR`)
      }
      return {address: found.address, from: `interface ${found.iface} (default route, ${kind})`}
    }
  }
  throw new InputError('--ip auto', `no source knew this host's address (tried ${tried.join('; ') || 'nothing'}); give --ip ADDR`)
}
