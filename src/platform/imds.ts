/**
 * EC2 instance metadata through IMDSv2: PUT a session token, then GET the
 * address with it. Honours the SDK's own variables (AWS_EC2_METADATA_DISABLED,
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)
 * so a test or an operator can point it elsewhere or switch it off.
 */
import {readFile} from 'node:fs/promises'

export const IMDS_TOKEN_TTL_SECONDS = 60

export interface ImdsAddresses {
  endpoint: string
  public?: string
  private?: string
  /** The first IPv6 address of the primary interface, when it has one. */
  ipv6?: string
}

export function imdsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.AWS_EC2_METADATA_DISABLED
  return v !== undefined && v.trim().toLowerCase() !== 'false'
}

export function imdsEndpoint(env: NodeJS.ProcessEnv = process.env): {url: string; explicit: boolean} {
  const given = env.AWS_EC2_METADATA_SERVICE_ENDPOINT?.trim()
  if (given) return {url: given.replace(/\/+$/, ''), explicit: true}
  const ipv6 = env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE?.trim().toLowerCase() === 'ipv6'
  return {url: ipv6 ? 'http://[fd00:ec2::254]' : 'http://169.254.169.254', explicit: false}
}

/**
 * Whether the hardware says EC2, read from files the kernel exposes (no
 * network): Nitro reports "Amazon EC2" as the DMI vendor, Xen instances an
 * "amazon" product version or a hypervisor uuid starting with "ec2". A host
 * that shows none of these never sends a packet to the link-local address.
 */
export async function looksLikeEc2(sysRoot = '/sys'): Promise<boolean> {
  const probes: Array<[string, (s: string) => boolean]> = [
    ['class/dmi/id/sys_vendor', (s) => /amazon/i.test(s)],
    ['class/dmi/id/board_vendor', (s) => /amazon/i.test(s)],
    ['class/dmi/id/bios_vendor', (s) => /amazon/i.test(s)],
    ['class/dmi/id/product_version', (s) => /amazon/i.test(s)],
    ['hypervisor/uuid', (s) => /^ec2/i.test(s.trim())],
  ]
  for (const [file, test] of probes) {
    try {
      if (test(await readFile(`${sysRoot}/${file}`, 'utf8'))) return true
    } catch {
      // absent on this kind of host
    }
  }
  return false
}

async function request(
  url: string,
  init: {method: string; headers: Record<string, string>},
  timeoutMs: number,
): Promise<{status: number; body: string}> {
  const response = await fetch(url, {...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual'})
  return {status: response.status, body: (await response.text()).trim()}
}

/**
 * Ask IMDS for this instance's addresses. Returns undefined when it does not
 * answer (not EC2, or metadata switched off); each call is bounded by
 * `timeoutMs`, with no retries, so the whole lookup stays short.
 */
export async function imdsAddresses(
  endpoint: string,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<ImdsAddresses | undefined> {
  let token: string
  try {
    log(`ip: call IMDS PUT ${endpoint}/latest/api/token`)
    const r = await request(
      `${endpoint}/latest/api/token`,
      {method: 'PUT', headers: {'x-aws-ec2-metadata-token-ttl-seconds': String(IMDS_TOKEN_TTL_SECONDS)}},
      timeoutMs,
    )
    if (r.status !== 200 || r.body === '') {
      log(`ip: IMDS token request answered HTTP ${r.status}; not using IMDS`)
      return undefined
    }
    token = r.body
  } catch (error) {
    log(`ip: IMDS did not answer (${describe(error)})`)
    return undefined
  }
  const get = async (path: string): Promise<string | undefined> => {
    try {
      log(`ip: call IMDS GET ${path}`)
      const r = await request(`${endpoint}/latest/meta-data/${path}`, {method: 'GET', headers: {'x-aws-ec2-metadata-token': token}}, timeoutMs)
      if (r.status === 200 && r.body !== '') return r.body.split('\n')[0]!.trim()
      return undefined
    } catch (error) {
      log(`ip: IMDS GET ${path} failed (${describe(error)})`)
      return undefined
    }
  }
  const result: ImdsAddresses = {endpoint}
  result.public = await get('public-ipv4')
  result.private = await get('local-ipv4')
  if (!result.public && !result.private) {
    // IPv6-only instances: the primary interface's first IPv6 address.
    const mac = await get('mac')
    if (mac) result.ipv6 = await get(`network/interfaces/macs/${mac}/ipv6s`)
  }
  return result
}

function describe(error: unknown): string {
  const e = error as Error & {cause?: {code?: string}}
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out'
  return e.cause?.code ?? e.message
}
