/**
 * The address of the interface that carries the default route, from the
 * kernel's routing table (/proc/net/route, /proc/net/ipv6_route) and
 * os.networkInterfaces(). No packet is sent.
 */
import {readFile} from 'node:fs/promises'
import {networkInterfaces} from 'node:os'

export interface RouteAddress {
  address: string
  iface: string
  family: 'IPv4' | 'IPv6'
}

/** Interface of the IPv4 default route with the lowest metric. */
export function defaultRouteIface(procNetRoute: string): string | undefined {
  let best: {iface: string; metric: number} | undefined
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8) continue
    const [iface, destination, , flags, , , metric, mask] = f
    // RTF_UP (0x1) must be set; destination and mask 0 is the default route.
    if (destination !== '00000000' || mask !== '00000000' || (Number.parseInt(flags!, 16) & 1) === 0) continue
    const m = Number(metric)
    if (!best || m < best.metric) best = {iface: iface!, metric: m}
  }
  return best?.iface
}

/** Interface of the IPv6 default route (::/0) with the lowest metric. */
export function defaultRouteIface6(procNetIpv6Route: string): string | undefined {
  let best: {iface: string; metric: number} | undefined
  for (const line of procNetIpv6Route.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10) continue
    const [dest, destLen, , , , metric, , , flags, iface] = f
    if (dest !== '0'.repeat(32) || destLen !== '00' || iface === 'lo') continue
    if ((Number.parseInt(flags!, 16) & 1) === 0) continue
    const m = Number.parseInt(metric!, 16)
    if (!best || m < best.metric) best = {iface: iface!, metric: m}
  }
  return best?.iface
}

export async function defaultRouteAddress(procRoot = '/proc'): Promise<RouteAddress | undefined> {
  const read = (file: string) => readFile(`${procRoot}/net/${file}`, 'utf8').catch(() => '')
  const [v4, v6] = await Promise.all([read('route'), read('ipv6_route')])
  const ifaces = networkInterfaces()
  const iface4 = defaultRouteIface(v4)
  if (iface4) {
    const a = ifaces[iface4]?.find((i) => i.family === 'IPv4' && !i.internal)
    if (a) return {address: a.address, iface: iface4, family: 'IPv4'}
  }
  const iface6 = defaultRouteIface6(v6)
  if (iface6) {
    // A global address, not the link-local fe80::/10 one.
    const a = ifaces[iface6]?.find((i) => i.family === 'IPv6' && !i.internal && !/^fe[89ab]/i.test(i.address))
    if (a) return {address: a.address, iface: iface6, family: 'IPv6'}
  }
  return undefined
}

