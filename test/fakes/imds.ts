/**
 * A stand-in for the EC2 instance metadata service (IMDSv2 only) on
 * 127.0.0.1: PUT /latest/api/token with x-aws-ec2-metadata-token-ttl-seconds
 * (1-21600) returns a token; every GET must carry it in
 * x-aws-ec2-metadata-token, else 401, as on an instance that requires v2.
 * `hang: true` accepts connections and never answers (a black hole).
 */
import {randomBytes} from 'node:crypto'
import {type Server, createServer} from 'node:http'
import {type AddressInfo, type Socket} from 'node:net'

export interface ImdsData {
  'public-ipv4'?: string
  'local-ipv4'?: string
  mac?: string
  ipv6s?: string
}

export interface FakeImds {
  url: string
  requests: Array<{method: string; path: string; token: boolean}>
  rejected: number
  close: () => Promise<void>
}

export async function startFakeImds(data: ImdsData, opts: {hang?: boolean} = {}): Promise<FakeImds> {
  const tokens = new Set<string>()
  const sockets = new Set<Socket>()
  const state: FakeImds = {url: '', requests: [], rejected: 0, close: async () => {}}
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/'
    const given = req.headers['x-aws-ec2-metadata-token']
    state.requests.push({method: req.method ?? '', path, token: typeof given === 'string' && tokens.has(given)})
    if (opts.hang) return
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') {
        res.writeHead(405).end()
        return
      }
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds'])
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) {
        res.writeHead(400).end()
        return
      }
      const token = randomBytes(24).toString('base64url')
      tokens.add(token)
      res.writeHead(200, {'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl)}).end(token)
      return
    }
    if (typeof given !== 'string' || !tokens.has(given)) {
      state.rejected++
      res.writeHead(401).end()
      return
    }
    const prefix = '/latest/meta-data/'
    const key = path.startsWith(prefix) ? path.slice(prefix.length) : ''
    let value: string | undefined
    if (key === 'public-ipv4' || key === 'local-ipv4' || key === 'mac') value = data[key]
    else if (data.mac && key === `network/interfaces/macs/${data.mac}/ipv6s`) value = data.ipv6s
    if (value === undefined) {
      res.writeHead(404, {'content-type': 'text/html'}).end('<html>404 - Not Found</html>')
      return
    }
    res.writeHead(200, {'content-type': 'text/plain'}).end(value)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  return state
}
