/**
 * `dnssd serve --workers N`: N processes answer on one address and port
 * (node:cluster shares the UDP socket and the TCP listener between them),
 * so the server can use every core the way BIND's worker threads do. The
 * primary only starts workers, restarts one that dies, and stops them all
 * on SIGINT/SIGTERM.
 */
import cluster, {type Worker} from 'node:cluster'
import dgram from 'node:dgram'
import net from 'node:net'

export interface ServedZone {
  zone: string
  serial: number
}

export type WorkerMessage =
  | {type: 'listening'; port: number; zones: ServedZone[]}
  | {type: 'stopped'; queries: number}
  | {type: 'failed'; exitCode: number}

/** A port free for both UDP and TCP on `address` right now (for --port 0). */
export async function freePort(address: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4')
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(0, address, () => resolve())
    })
    const port = udp.address().port
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer()
      s.once('error', () => resolve(false))
      s.listen(port, address, () => s.close(() => resolve(true)))
    })
    udp.close()
    if (ok) return port
  }
  throw new Error(`no port free for both UDP and TCP on ${address}`)
}

/** argv for the workers: the same command with the port pinned. */
export function workerArgs(argv: readonly string[], port: number): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--port') {
      i++
      continue
    }
    if (a.startsWith('--port=')) continue
    out.push(a)
  }
  return [...out, '--port', String(port)]
}

export interface PrimaryResult {
  exitCode: number
  queries: number
}

/**
 * Fork `count` workers and wait: `onListening` once all listen, then until a
 * signal stops them. A worker that fails before listening stops the rest
 * (its own error is already on stderr); one that dies later is replaced.
 */
export function runPrimary(
  count: number,
  args: string[],
  /** Extra environment for the workers (the cookie secret: never on a command line). */
  env: Record<string, string>,
  onListening: (port: number, zones: ServedZone[]) => void,
  log: (line: string) => void,
): Promise<PrimaryResult> {
  cluster.setupPrimary({args})
  return new Promise((resolve) => {
    const workers = new Set<Worker>()
    let listening = 0
    let stopping = false
    let queries = 0
    let failed = 0
    const finishIfDone = (): void => {
      if (workers.size === 0) {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        resolve({exitCode: failed, queries})
      }
    }
    const stopAll = (): void => {
      stopping = true
      for (const w of workers) w.kill('SIGTERM')
      finishIfDone()
    }
    const fork = (): void => {
      const w = cluster.fork(env)
      workers.add(w)
      let up = false
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'listening') {
          up = true
          if (++listening === count) onListening(m.port, m.zones)
        } else if (m.type === 'stopped') {
          queries += m.queries
        } else if (m.type === 'failed' && !up) {
          // The worker printed its own error (bad --port, address in use); stop the rest.
          failed = m.exitCode || 1
          stopAll()
        }
      })
      w.on('exit', (code) => {
        workers.delete(w)
        if (stopping) return finishIfDone()
        if (!up) {
          failed = code || 1
          stopAll()
          return
        }
        log(`worker ${w.process.pid} exited with ${code}; starting another`)
        fork()
      })
    }
    const onSignal = (): void => stopAll()
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    for (let i = 0; i < count; i++) fork()
  })
}
