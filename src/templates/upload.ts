/**
 * `template --upload s3://bucket/key`: put the rendered template in S3 (e.g.
 * for a launch template that fetches its user-data). The S3 SDK is imported
 * only here, so other commands never load it. Endpoint and credentials come
 * from the SDK's standard chain (AWS_ENDPOINT_URL_S3, AWS_REGION, role, ...).
 */
import {BackendError, DeadlineError, InputError} from '../core/errors.js'

export function parseS3Url(value: string): {bucket: string; key: string} {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(value.trim())
  if (!m) throw new InputError('--upload', `"${value}" is not s3://BUCKET/KEY`)
  const bucket = m[1]!
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new InputError('--upload', `"${bucket}" is not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)`)
  return {bucket, key: m[2]!}
}

export async function uploadToS3(
  target: {bucket: string; key: string},
  body: string,
  contentType: string,
  timeoutMs: number,
  timeoutSeconds: number,
  log: (line: string) => void,
): Promise<{etag?: string}> {
  const started = Date.now()
  const {S3Client, PutObjectCommand} = await import('@aws-sdk/client-s3')
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL
  const client = new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // A custom endpoint (MinIO, a local stand-in) rarely has per-bucket DNS names.
    forcePathStyle: endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  const signal = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs - (Date.now() - started))))
  try {
    log(`s3: call PutObject s3://${target.bucket}/${target.key} ${Buffer.byteLength(body)} bytes`)
    const out = await client.send(
      new PutObjectCommand({Bucket: target.bucket, Key: target.key, Body: body, ContentType: contentType}),
      {abortSignal: signal},
    )
    return {etag: out.ETag}
  } catch (error) {
    const e = error as Error & {$metadata?: {httpStatusCode?: number}}
    if (signal.aborted || e.name === 'AbortError' || e.name === 'TimeoutError') {
      throw new DeadlineError(`upload to s3://${target.bucket}/${target.key} did not finish within ${timeoutSeconds} s; nothing may have been written`)
    }
    const status = e.$metadata?.httpStatusCode
    throw new BackendError(
      `S3 refused the upload to s3://${target.bucket}/${target.key}: ${e.name}${status ? ` (HTTP ${status})` : ''}: ${e.message}. Check the bucket exists and the credentials allow s3:PutObject on it`,
    )
  } finally {
    client.destroy()
  }
}
