/**
 * Local S3 for the lease tests: s3rver (npm) on 127.0.0.1:0, and optionally a
 * small proxy in front of it that adds what s3rver lacks (reference
 * route53-s3.md §7.1-7.2): conditional PutObject (If-Match / If-None-Match: *)
 * and conditional DeleteObject (If-Match), answering 412 PreconditionFailed in
 * S3's error format, or 404 NoSuchKey for If-Match on a missing object. The
 * check and the write run under a per-key mutex so racing conditional requests
 * behave as on S3. Every other request is forwarded byte for byte (the SigV4
 * signature covers the Host header, which is kept).
 */
import {mkdtemp, rm} from 'node:fs/promises'
import http from 'node:http'
import {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HeadObjectCommand, S3Client} from '@aws-sdk/client-s3'
import S3rver from 's3rver'

export interface LocalS3 {
  /** Endpoint for AWS_ENDPOINT_URL_S3 (the proxy when conditional, else s3rver). */
  endpoint: string
  /** Requests seen by the proxy, as "METHOD /path" (conditional mode only). */
  requests: string[]
  stop(): Promise<void>
}

export const S3RVER_KEY = 'S3RVER'

function s3Error(res: http.ServerResponse, status: number, code: string, message: string, condition?: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${condition ? `<Condition>${condition}</Condition>` : ''}<RequestId>local</RequestId><HostId>local</HostId></Error>`
  res.writeHead(status, {'content-type': 'application/xml', 'content-length': Buffer.byteLength(body)})
  res.end(body)
}

export async function startLocalS3(options: {buckets: string[]; conditional: boolean}): Promise<LocalS3> {
  const dir = await mkdtemp(join(tmpdir(), 'dnssd-s3rver-'))
  const server = new S3rver({port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: options.buckets.map((name) => ({name}))})
  const info = (await server.run()) as AddressInfo
  const upstream = `http://127.0.0.1:${info.port}`
  const stopS3rver = async (): Promise<void> => {
    await server.close()
    await rm(dir, {recursive: true, force: true})
  }
  if (!options.conditional) return {endpoint: upstream, requests: [], stop: stopS3rver}

  const head = new S3Client({
    region: 'us-east-1',
    endpoint: upstream,
    forcePathStyle: true,
    credentials: {accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY},
  })
  const locks = new Map<string, Promise<void>>()
  const withKeyLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const chained = previous.then(() => mine)
    locks.set(key, chained)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (locks.get(key) === chained) locks.delete(key)
    }
  }
  const currentEtag = async (bucket: string, key: string): Promise<string | undefined> => {
    try {
      return (await head.send(new HeadObjectCommand({Bucket: bucket, Key: key}))).ETag
    } catch (error) {
      if ((error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode === 404) return undefined
      throw error
    }
  }
  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> =>
    new Promise((resolve, reject) => {
      const up = http.request(`${upstream}${req.url}`, {method: req.method, headers: req.headers}, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
        r.on('end', resolve)
        r.on('error', reject)
      })
      up.on('error', reject)
      up.end(body)
    })

  const requests: string[] = []
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const url = new URL(req.url ?? '/', 'http://local')
      const [, bucket, ...rest] = decodeURIComponent(url.pathname).split('/')
      const key = rest.join('/')
      requests.push(`${req.method} ${url.pathname}`)
      const ifMatch = req.headers['if-match'] as string | undefined
      const ifNoneMatch = req.headers['if-none-match'] as string | undefined
      const conditional = (req.method === 'PUT' || req.method === 'DELETE') && key !== '' && (ifMatch !== undefined || (req.method === 'PUT' && ifNoneMatch !== undefined))
      const run = async (): Promise<void> => {
        if (!conditional) return forward(req, body, res)
        await withKeyLock(`${bucket}/${key}`, async () => {
          const etag = await currentEtag(bucket!, key)
          if (ifMatch !== undefined) {
            if (etag === undefined) return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.')
            if (ifMatch !== etag && ifMatch !== '*') return s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 'If-Match')
          }
          if (ifNoneMatch === '*' && etag !== undefined) {
            return s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 'If-None-Match')
          }
          await forward(req, body, res)
        })
      }
      // A forwarded answer that broke off midway (the client gave up, s3rver dropped it) cannot get a
      // second status line: end the connection as a real server would.
      run().catch((error: unknown) => (res.headersSent ? res.destroy() : s3Error(res, 500, 'InternalError', String(error))))
    })
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  const port = (proxy.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      proxy.closeAllConnections()
      await new Promise<void>((r) => proxy.close(() => r()))
      head.destroy()
      await stopS3rver()
    },
  }
}
