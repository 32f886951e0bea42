/**
 * Leases in S3: `s3://bucket/prefix` -> `<prefix>/<zone>/<service>/<member>.json`.
 * Real @aws-sdk/client-s3 (imported lazily: only commands given an s3
 * registry pay for it), credentials from the SDK's default chain, endpoint
 * from the standard AWS_ENDPOINT_URL_S3 (path-style addressing when set).
 * Renewals write with If-Match / If-None-Match and reapers delete with
 * If-Match (S3 returns 412 PreconditionFailed when the lease changed).
 */
import type {ListObjectsV2CommandOutput, S3Client as S3ClientType} from '@aws-sdk/client-s3'
import {mapConcurrent} from '../core/concurrent.js'
import {BackendError, DeadlineError} from '../core/errors.js'
import {type Backoff, backoffMs, retry} from '../core/retry.js'
import type {ApplyLease, DeleteOutcome, Lease, PutCondition, Registry, RegistryOptions, StoredLease} from './registry.js'
import {applyKey, decodeApplyLease, decodeLease, encodeLease, leaseKey, memberIdOf} from './registry.js'

type S3Module = typeof import('@aws-sdk/client-s3')

interface AwsError {
  name?: string
  Code?: string
  message?: string
  code?: string
  $metadata?: {httpStatusCode?: number}
}

const LIST_CONCURRENCY = 16
/** Retries of one request (throttling, 5xx, a dropped connection): full jitter from 100 ms up to 2 s. */
const BACKOFF: Backoff = {baseMs: 100, capMs: 2000}
// A connection dropped mid-request is worth another try; one that cannot be made at all is a refusal (exit 4).
const TRANSIENT_NETWORK = /^(ECONNRESET|EPIPE)$/

export class S3Registry implements Registry {
  readonly kind = 's3'
  readonly conditional = true
  readonly url: string
  private sdk?: S3Module
  private client?: S3ClientType

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    private readonly options: RegistryOptions,
  ) {
    this.url = `s3://${bucket}${prefix ? `/${prefix}` : ''}`
  }

  private async open(): Promise<{sdk: S3Module; client: S3ClientType}> {
    if (this.sdk && this.client) return {sdk: this.sdk, client: this.client}
    const sdk = await import('@aws-sdk/client-s3')
    const endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined
    const client = new sdk.S3Client({
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      // A bucket in another region answers 301 with its region; follow it.
      followRegionRedirects: true,
      // bounded() owns retries, so every attempt is logged and inside the deadline.
      maxAttempts: 1,
      ...(endpoint ? {endpoint, forcePathStyle: true} : {}),
      // Leases are small strings; extra checksums only break S3-compatible stores.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    // Runs once per attempt (the deserialize step sits inside the retry loop).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args.input ?? {}) as {Key?: string; Prefix?: string; IfMatch?: string; IfNoneMatch?: string}
        const op = String(context.commandName ?? 'Request').replace(/Command$/, '')
        const cond = input.IfMatch ? ' if-match' : input.IfNoneMatch ? ' if-none-match' : ''
        this.options.log(`s3: call ${op} ${this.bucket}/${input.Key ?? input.Prefix ?? ''}${cond}`)
        return next(args)
      },
      {step: 'deserialize', name: 'dnssdCallLog', priority: 'high'},
    )
    this.sdk = sdk
    this.client = client
    return {sdk, client}
  }

  /**
   * One S3 request, body included, bounded by the deadline (exit 5 when it
   * passes, whatever the transport says), retried on throttling, 5xx and
   * dropped connections by the one retry policy (the SDK's own is off).
   */
  private bounded<T>(op: string, work: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const expired = (cause?: unknown): DeadlineError =>
      new DeadlineError(`registry ${this.url}: ${op} did not finish before the deadline`, cause === undefined ? undefined : {cause})
    return retry(() => this.options.deadline.bound(expired, work), {
      deadline: this.options.deadline,
      classify: (error, attempt) => {
        if (error instanceof DeadlineError) return undefined
        const e = error as AwsError
        const status = e.$metadata?.httpStatusCode ?? 0
        const code = e.code ?? (error as {cause?: {code?: string}}).cause?.code ?? ''
        const why = status === 503 || status === 429 || e.name === 'SlowDown' ? 'throttled' : status >= 500 ? `HTTP ${status}` : TRANSIENT_NETWORK.test(code) ? code : undefined
        return why === undefined ? undefined : {waitMs: backoffMs(attempt - 1, BACKOFF), why}
      },
      onRetry: (_error, step) => this.options.log(`s3: ${op} ${step.why}; retrying`),
      giveUp: (error, step) => expired(Object.assign(new Error(step.why), {cause: error})),
    })
  }

  private key(zone: string, service: string, memberId: string): string {
    return leaseKey(this.prefix, zone, service, memberId)
  }

  /** Map an SDK error to the documented exits: 4 with the next action, 5 on the deadline. */
  private fail(op: string, error: unknown): never {
    if (error instanceof DeadlineError) throw error
    const e = error as AwsError
    const name = e.name ?? e.Code ?? 'Error'
    const status = e.$metadata?.httpStatusCode
    if (name === 'AbortError' || name === 'TimeoutError') throw new DeadlineError(`registry ${this.url}: ${op} did not finish before the deadline`, {cause: error})
    if (name === 'NoSuchBucket') {
      throw new BackendError(`registry ${this.url}: the bucket "${this.bucket}" does not exist; create it or fix --registry`, {cause: error})
    }
    if (['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled'].includes(name) || status === 403) {
      throw new BackendError(
        `registry ${this.url}: ${op} was refused (${name}); check the AWS credentials and grant s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on this bucket and prefix`,
        {cause: error},
      )
    }
    if (name === 'CredentialsProviderError') {
      throw new BackendError(`registry ${this.url}: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an instance role`, {cause: error})
    }
    const code = e.code ?? (error as {cause?: {code?: string}}).cause?.code
    if (code && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT)$/.test(code)) {
      throw new BackendError(`registry ${this.url}: cannot reach S3 (${code}); check the network or AWS_ENDPOINT_URL_S3`, {cause: error})
    }
    throw new BackendError(`registry ${this.url}: S3 ${op} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? ''}`.trim(), {cause: error})
  }

  private static isMissing(error: unknown): boolean {
    const e = error as AwsError
    return e.name === 'NoSuchKey' || e.name === 'NotFound'
  }

  private static isConditionFailed(error: unknown): boolean {
    const e = error as AwsError
    return e.name === 'PreconditionFailed' || e.name === 'ConditionalRequestConflict' || e.$metadata?.httpStatusCode === 412 || e.$metadata?.httpStatusCode === 409
  }

  /** Refusals that concern the whole store (auth, bucket, deadline), as opposed to one unreadable object. */
  private static isStoreWide(error: unknown): boolean {
    if (error instanceof DeadlineError) return true
    const e = error as AwsError
    const name = e.name ?? ''
    return (
      name === 'NoSuchBucket' || name === 'AbortError' || name === 'TimeoutError' || name === 'CredentialsProviderError' ||
      e.$metadata?.httpStatusCode === 403 || ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken'].includes(name)
    )
  }

  /** An object's text and ETag; undefined when it is missing (or, tolerant, unreadable now). */
  private async getText(key: string, tolerant = false): Promise<{text: string; etag: string} | undefined> {
    const {sdk, client} = await this.open()
    try {
      return await this.bounded('GetObject', async (abortSignal) => {
        const out = await client.send(new sdk.GetObjectCommand({Bucket: this.bucket, Key: key}), {abortSignal})
        // The SDK stops watching the signal once the headers are in: a body that
        // stalls would keep its socket (and the process) alive past the deadline.
        const body = out.Body as (NonNullable<typeof out.Body> & {destroy?: () => void}) | undefined
        const drop = (): void => body?.destroy?.()
        abortSignal.addEventListener('abort', drop, {once: true})
        try {
          return {text: (await body?.transformToString('utf8')) ?? '', etag: out.ETag ?? ''}
        } finally {
          abortSignal.removeEventListener('abort', drop)
        }
      })
    } catch (error) {
      if (S3Registry.isMissing(error)) return undefined
      if (tolerant && !S3Registry.isStoreWide(error)) {
        // One lease that cannot be read now (e.g. mid-write) must not stop a reap of the others.
        this.options.log(`s3: skipping ${key}: ${(error as AwsError).name ?? 'error'} ${(error as AwsError).message ?? ''}`.trim())
        return undefined
      }
      this.fail('GetObject', error)
    }
  }

  private async getKey(key: string, memberId: string, tolerant = false): Promise<StoredLease | undefined> {
    const got = await this.getText(key, tolerant)
    if (!got) return undefined
    const lease = decodeLease(got.text)
    if (!lease) {
      this.options.log(`s3: skipping ${key}: not a dnssd lease`)
      return undefined
    }
    return {key, memberId, etag: got.etag, lease}
  }

  async get(zone: string, service: string, memberId: string): Promise<StoredLease | undefined> {
    return this.getKey(this.key(zone, service, memberId), memberId)
  }

  /** The GetObject that join does first already proves the bucket exists and is readable. */
  async prepareWrite(): Promise<void> {}

  async put(lease: Lease, condition: PutCondition): Promise<StoredLease | 'changed'> {
    const memberId = memberIdOf(lease.host)
    const key = this.key(lease.zone, lease.service, memberId)
    const written = await this.putKey(key, encodeLease(lease), condition)
    return written === 'changed' ? written : {key, memberId, etag: written.etag, lease}
  }

  private async putKey(key: string, body: string, condition: PutCondition): Promise<{etag: string} | 'changed'> {
    const {sdk, client} = await this.open()
    try {
      const out = await this.bounded('PutObject', (abortSignal) => client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ...(condition && 'ifMatch' in condition ? {IfMatch: condition.ifMatch} : {}),
          ...(condition && 'ifNoneMatch' in condition ? {IfNoneMatch: '*'} : {}),
        }),
        {abortSignal},
      ))
      return {etag: out.ETag ?? ''}
    } catch (error) {
      if (condition && (S3Registry.isConditionFailed(error) || S3Registry.isMissing(error))) return 'changed'
      this.fail('PutObject', error)
    }
  }

  async delete(zone: string, service: string, memberId: string, ifMatch?: string): Promise<DeleteOutcome> {
    return this.deleteKey(this.key(zone, service, memberId), ifMatch)
  }

  private async deleteKey(key: string, ifMatch: string | undefined): Promise<DeleteOutcome> {
    const {sdk, client} = await this.open()
    try {
      await this.bounded('DeleteObject', (abortSignal) =>
        client.send(new sdk.DeleteObjectCommand({Bucket: this.bucket, Key: key, ...(ifMatch ? {IfMatch: ifMatch} : {})}), {abortSignal}),
      )
      return 'deleted'
    } catch (error) {
      if (S3Registry.isMissing(error)) return 'missing'
      if (ifMatch && S3Registry.isConditionFailed(error)) return 'changed'
      this.fail('DeleteObject', error)
    }
  }

  async getApply(zone: string): Promise<{etag: string; lease: ApplyLease} | undefined> {
    const got = await this.getText(applyKey(this.prefix, zone))
    const lease = got && decodeApplyLease(got.text)
    return got && lease ? {etag: got.etag, lease} : undefined
  }

  putApply(zone: string, lease: ApplyLease, condition: {ifMatch: string} | {ifNoneMatch: '*'}): Promise<{etag: string} | 'changed'> {
    return this.putKey(applyKey(this.prefix, zone), encodeLease(lease), condition)
  }

  deleteApply(zone: string, ifMatch: string): Promise<DeleteOutcome> {
    return this.deleteKey(applyKey(this.prefix, zone), ifMatch)
  }

  async list(zone: string, service?: string): Promise<StoredLease[]> {
    const base = `${[this.prefix, zone, service].filter((p) => p).join('/')}/`
    const keys = (await this.listKeys(base)).map((o) => o.key)
    const read = await mapConcurrent(keys.sort(), LIST_CONCURRENCY, async (key) => {
      const parts = key.slice(base.length - (service ? service.length + 1 : 0)).split('/')
      if (parts.length !== 2) return undefined
      return this.getKey(key, parts[1]!.slice(0, -'.json'.length), true)
    })
    return read.filter((s): s is StoredLease => s !== undefined)
  }

  /** Every `.json` object under `base`, with its ETag: ListObjectsV2 pages only, no bodies. */
  private async listKeys(base: string): Promise<{key: string; etag: string}[]> {
    const {sdk, client} = await this.open()
    const keys: {key: string; etag: string}[] = []
    let token: string | undefined
    for (let page = 0; page < 1000; page++) {
      let out: ListObjectsV2CommandOutput
      try {
        out = await this.bounded('ListObjectsV2', (abortSignal) =>
          client.send(new sdk.ListObjectsV2Command({Bucket: this.bucket, Prefix: base, MaxKeys: 1000, ContinuationToken: token}), {abortSignal}),
        )
      } catch (error) {
        this.fail('ListObjectsV2', error)
      }
      for (const o of out.Contents ?? []) if (o.Key?.endsWith('.json')) keys.push({key: o.Key, etag: o.ETag ?? ''})
      if (!out.IsTruncated || !out.NextContinuationToken) break
      token = out.NextContinuationToken
    }
    return keys
  }

  async fingerprint(zone: string): Promise<string> {
    const base = `${[this.prefix, zone].filter((p) => p).join('/')}/`
    return (await this.listKeys(base))
      .filter((o) => !o.key.endsWith('/.apply.json'))
      .map((o) => `${o.key} ${o.etag}`)
      .sort()
      .join('\n')
  }

  async close(): Promise<void> {
    this.client?.destroy()
  }
}
