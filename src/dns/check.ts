/**
 * `resolve --check tcp`: walk the fail-over order and return the first
 * endpoint whose address accepts a TCP connection within a short timeout.
 * Connects to the addresses DNS gave (never re-resolves the target name).
 */
import net from 'node:net'
import {type Endpoint} from './resolve.js'

function tryConnect(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: address, port})
    const done = (ok: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

export async function firstAccepting(
  order: readonly Endpoint[],
  options: {perTryMs: number; deadline: number; log: (line: string) => void},
): Promise<{endpoint: Endpoint; address: string} | undefined> {
  for (const endpoint of order) {
    for (const address of endpoint.addresses) {
      const left = options.deadline - Date.now()
      if (left <= 0) return undefined
      const ok = await tryConnect(address, endpoint.port, Math.min(options.perTryMs, left))
      options.log(`check tcp ${address}:${endpoint.port} (${endpoint.target}): ${ok ? 'accepted' : 'no connection'}`)
      if (ok) return {endpoint, address}
    }
  }
  return undefined
}
