/**
 * TSIG (RFC 8945): HMAC signatures over the exact wire bytes of a DNS
 * message, for dynamic updates and zone transfers. Hand-written: no
 * maintained npm package signs or verifies TSIG, and dns-packet re-encodes
 * messages (losing the exact bytes a MAC covers), so this works on Buffers.
 *
 * A key comes from a BIND key file (`key "name" { algorithm hmac-sha256;
 * secret "base64"; };`, as tsig-keygen writes it). The secret is registered
 * with the redactor the moment it is read and never put in a message.
 */
import {createHmac, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {InputError, registerSecret} from '../core/errors.js'
import {CLASS_ANY} from './message.js'
import {NameError, labelsKey, nameToLabels, readName} from './names.js'

export const TYPE_TSIG = 250
export const DEFAULT_FUDGE = 300

/** TSIG error codes (RFC 8945 §5.1 and the RCODE registry). */
export const TSIG_ERROR = {NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22} as const
export const TSIG_ERROR_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TSIG_ERROR).map(([k, v]) => [v, k]))

/** BIND algorithm name -> Node digest. HMAC-MD5 is left out on purpose (RFC 8945 §6: not recommended). */
const ALGORITHMS: Record<string, string> = {
  'hmac-sha1': 'sha1',
  'hmac-sha224': 'sha224',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
}

export const TSIG_ALGORITHMS = Object.keys(ALGORITHMS)

export interface TsigKey {
  /** Lower-case key name without the trailing dot. */
  name: string
  algorithm: string
  secret: Buffer
}

/** A key without its secret, safe to print. */
export function describeKey(key: TsigKey): string {
  return `${key.name} (${key.algorithm})`
}

/** Comments (C block, // and # line comments) outside quoted strings become spaces: a base64 secret may hold "//". */
function stripComments(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') {
      const end = text.indexOf('"', i + 1)
      const stop = end < 0 ? text.length : end + 1
      out += text.slice(i, stop)
      i = stop
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const end = text.indexOf('\n', i)
      i = end < 0 ? text.length : end
      out += ' '
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
      out += ' '
    } else {
      out += c
      i++
    }
  }
  return out
}

/**
 * Parse the `key` statements of a BIND/Knot-style key file. Errors name the
 * file and the rule, never the secret.
 */
export function parseKeyFile(text: string, input: string): TsigKey[] {
  const keys: TsigKey[] = []
  const body = stripComments(text)
  const statement = /key\s+("([^"]+)"|([A-Za-z0-9._-]+))\s*\{([^}]*)\}\s*;?/g
  let m: RegExpExecArray | null
  while ((m = statement.exec(body)) !== null) {
    const name = (m[2] ?? m[3]!).toLowerCase().replace(/\.$/, '')
    const inner = m[4]!
    const algorithm = /algorithm\s+"?([A-Za-z0-9-]+)"?\s*;/.exec(inner)?.[1]?.toLowerCase()
    const secretText = /secret\s+"([^"]*)"\s*;/.exec(inner)?.[1]
    if (!algorithm) throw new InputError(input, `key "${name}" has no "algorithm ...;" line`)
    if (!ALGORITHMS[algorithm]) throw new InputError(input, `key "${name}" uses algorithm ${algorithm}; use one of ${TSIG_ALGORITHMS.join(', ')}`)
    if (secretText === undefined) throw new InputError(input, `key "${name}" has no 'secret "base64";' line`)
    registerSecret(secretText)
    const compact = secretText.replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
      throw new InputError(input, `the secret of key "${name}" is not base64 (tsig-keygen writes one)`)
    }
    const secret = Buffer.from(compact, 'base64')
    if (secret.length < 10) throw new InputError(input, `the secret of key "${name}" is ${secret.length} octets; RFC 8945 §6 asks for at least 10`)
    try {
      nameToLabels(name)
    } catch (error) {
      if (error instanceof NameError) throw new InputError(input, `key name "${name}": ${error.message}`)
      throw error
    }
    keys.push({name, algorithm, secret})
  }
  if (keys.length === 0) throw new InputError(input, 'holds no key statement; expected key "name" { algorithm hmac-sha256; secret "..."; }; as tsig-keygen writes')
  return keys
}

/** The keys of a key file; an unreadable file is bad input naming the file. */
export function readKeyFile(path: string, input: string): TsigKey[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new InputError(input, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  return parseKeyFile(text, `${input} ${path}`)
}

function nameWire(name: string): Buffer {
  const parts: Buffer[] = []
  for (const l of nameToLabels(name)) parts.push(Buffer.from([l.length]), Buffer.from(labelsKey([l]).slice(0, -1), 'latin1'))
  parts.push(Buffer.from([0]))
  return Buffer.concat(parts)
}

function u48(n: number): Buffer {
  const b = Buffer.alloc(6)
  b.writeUIntBE(n, 0, 6)
  return b
}

interface TsigFields {
  algorithm: string
  timeSigned: number
  fudge: number
  mac: Buffer
  originalId: number
  error: number
  other: Buffer
}

/** The TSIG variables of RFC 8945 §4.3.3 (all, or timers only for later messages of a stream). */
function variables(key: TsigKey, f: Omit<TsigFields, 'mac' | 'originalId'>, timersOnly: boolean): Buffer {
  const timers = Buffer.concat([u48(f.timeSigned), u16(f.fudge)])
  if (timersOnly) return timers
  const head = Buffer.alloc(6)
  head.writeUInt16BE(CLASS_ANY, 0)
  head.writeUInt32BE(0, 2)
  return Buffer.concat([nameWire(key.name), head, nameWire(f.algorithm), timers, u16(f.error), u16(f.other.length), f.other])
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

function hmac(key: TsigKey, parts: readonly Buffer[]): Buffer {
  const h = createHmac(ALGORITHMS[key.algorithm]!, key.secret)
  for (const p of parts) h.update(p)
  return h.digest()
}

function macPrefix(prior: Buffer | undefined): Buffer[] {
  return prior ? [u16(prior.length), prior] : []
}

function tsigRecord(key: TsigKey, f: TsigFields): Buffer {
  const alg = nameWire(f.algorithm)
  const rdata = Buffer.concat([alg, u48(f.timeSigned), u16(f.fudge), u16(f.mac.length), f.mac, u16(f.originalId), u16(f.error), u16(f.other.length), f.other])
  const head = Buffer.alloc(10)
  head.writeUInt16BE(TYPE_TSIG, 0)
  head.writeUInt16BE(CLASS_ANY, 2)
  head.writeUInt32BE(0, 4)
  head.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([nameWire(key.name), head, rdata])
}

export interface SignOptions {
  /** Unix seconds; defaults to now. */
  time?: number
  fudge?: number
  /** The request's MAC, when signing a response (RFC 8945 §5.3). */
  requestMac?: Buffer
  /** The previous message's MAC, for the 2nd..nth message of a stream (§5.3.1). */
  priorMac?: Buffer
  error?: number
  other?: Buffer
}

/**
 * Sign a message: returns the message with a TSIG record appended (ARCOUNT
 * + 1) and the MAC, which the caller keeps to verify the response.
 */
export function signMessage(message: Buffer, key: TsigKey, options: SignOptions = {}): {signed: Buffer; mac: Buffer} {
  const fields = {
    algorithm: key.algorithm,
    timeSigned: options.time ?? Math.floor(Date.now() / 1000),
    fudge: options.fudge ?? DEFAULT_FUDGE,
    error: options.error ?? 0,
    other: options.other ?? Buffer.alloc(0),
  }
  const prior = options.priorMac ?? options.requestMac
  const mac = hmac(key, [...macPrefix(prior), message, variables(key, fields, options.priorMac !== undefined)])
  const record = tsigRecord(key, {...fields, mac, originalId: message.readUInt16BE(0)})
  const signed = Buffer.concat([message, record])
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10)
  return {signed, mac}
}

export interface FoundTsig {
  keyName: string
  fields: TsigFields
  /** The message as it was before signing: TSIG removed, ARCOUNT - 1, the original id. */
  unsigned: Buffer
}

/** Walk the sections; returns the TSIG record when it is the last additional record. Throws on a malformed message. */
export function findTsig(message: Buffer): FoundTsig | undefined {
  if (message.length < 12) throw new Error('shorter than a DNS header')
  const counts = [4, 6, 8, 10].map((o) => message.readUInt16BE(o))
  let pos = 12
  for (let i = 0; i < counts[0]!; i++) pos = readName(message, pos).next + 4
  const total = counts[1]! + counts[2]! + counts[3]!
  let lastStart = -1
  let last: {labels: Buffer[]; type: number; rdata: Buffer} | undefined
  for (let i = 0; i < total; i++) {
    const start = pos
    const {labels, next} = readName(message, pos)
    if (next + 10 > message.length) throw new Error('record header runs past the end')
    const type = message.readUInt16BE(next)
    const len = message.readUInt16BE(next + 8)
    if (next + 10 + len > message.length) throw new Error('record data runs past the end')
    pos = next + 10 + len
    if (type === TYPE_TSIG && i !== total - 1) throw new Error('a TSIG record that is not the last record (RFC 8945 §5.1)')
    if (i === total - 1 && counts[3]! > 0) {
      lastStart = start
      last = {labels, type, rdata: message.subarray(next + 10, next + 10 + len)}
    }
  }
  if (!last || last.type !== TYPE_TSIG) return undefined
  const rdata = last.rdata
  // The algorithm name inside TSIG data is never compressed, but read it with the message for offsets.
  const rdataAt = rdata.byteOffset - message.byteOffset
  const alg = readName(message, rdataAt)
  let at = alg.next - rdataAt
  if (at + 10 > rdata.length) throw new Error('TSIG data too short')
  const timeSigned = rdata.readUIntBE(at, 6)
  const fudge = rdata.readUInt16BE(at + 6)
  const macLen = rdata.readUInt16BE(at + 8)
  at += 10
  if (at + macLen + 6 > rdata.length) throw new Error('TSIG MAC runs past its data')
  const mac = rdata.subarray(at, at + macLen)
  at += macLen
  const originalId = rdata.readUInt16BE(at)
  const error = rdata.readUInt16BE(at + 2)
  const otherLen = rdata.readUInt16BE(at + 4)
  if (at + 6 + otherLen > rdata.length) throw new Error('TSIG other data runs past its data')
  const other = rdata.subarray(at + 6, at + 6 + otherLen)
  const unsigned = Buffer.from(message.subarray(0, lastStart))
  unsigned.writeUInt16BE(counts[3]! - 1, 10)
  unsigned.writeUInt16BE(originalId, 0)
  return {
    keyName: labelsKey(last.labels).slice(0, -1),
    fields: {algorithm: labelsKey(alg.labels).slice(0, -1), timeSigned, fudge, mac: Buffer.from(mac), originalId, error, other: Buffer.from(other)},
    unsigned,
  }
}

export type VerifyFailure = 'UNSIGNED' | 'BADKEY' | 'BADSIG' | 'BADTIME' | 'MALFORMED'

export type Verified = {ok: true; mac: Buffer; error: number} | {ok: false; failure: VerifyFailure; error: number; detail: string}

function checkMac(key: TsigKey, found: FoundTsig, parts: Buffer[], timersOnly: boolean, now: number): Verified {
  const f = found.fields
  if (found.keyName !== key.name || f.algorithm !== key.algorithm) {
    return {ok: false, failure: 'BADKEY', error: f.error, detail: `signed with key ${found.keyName} (${f.algorithm}), expected ${describeKey(key)}`}
  }
  // A server that could not verify our request answers with an empty MAC and the error (RFC 8945 §5.3.2).
  if (f.mac.length === 0) return {ok: false, failure: f.error === TSIG_ERROR.BADKEY ? 'BADKEY' : f.error === TSIG_ERROR.BADTIME ? 'BADTIME' : 'BADSIG', error: f.error, detail: 'unsigned error answer'}
  const expected = hmac(key, [...parts, found.unsigned, variables(key, f, timersOnly)])
  const full = expected.length
  // Truncated MACs are allowed down to max(10, half the length) (RFC 8945 §5.2.2.1).
  if (f.mac.length > full || f.mac.length < Math.max(10, full / 2) || !timingSafeEqual(f.mac, expected.subarray(0, f.mac.length))) {
    return {ok: false, failure: 'BADSIG', error: f.error, detail: 'the MAC does not match'}
  }
  if (Math.abs(now - f.timeSigned) > f.fudge) return {ok: false, failure: 'BADTIME', error: f.error, detail: `signed at ${f.timeSigned}, now ${now}, fudge ${f.fudge}`}
  return {ok: true, mac: f.mac, error: f.error}
}

/**
 * Verifies the responses to one signed request, in order: the first against
 * the request MAC, later ones (a zone transfer) against the previous MAC, with
 * unsigned messages in between folded into the next signed one (§5.3.1).
 */
export class ResponseVerifier {
  private prior: Buffer
  private first = true
  private pending: Buffer[] = []
  private unsignedRun = 0

  constructor(
    private readonly key: TsigKey,
    requestMac: Buffer,
  ) {
    this.prior = requestMac
  }

  verify(message: Buffer, now = Math.floor(Date.now() / 1000)): Verified {
    let found: FoundTsig | undefined
    try {
      found = findTsig(message)
    } catch (error) {
      return {ok: false, failure: 'MALFORMED', error: 0, detail: (error as Error).message}
    }
    if (!found) {
      // Only later messages of a stream may be unsigned, and at most 99 in a row (§5.3.1).
      if (this.first || ++this.unsignedRun >= 100) return {ok: false, failure: 'UNSIGNED', error: 0, detail: 'the answer is not signed'}
      this.pending.push(message)
      return {ok: true, mac: this.prior, error: 0}
    }
    const result = checkMac(this.key, found, [...macPrefix(this.prior), ...this.pending], !this.first, now)
    if (result.ok) {
      this.prior = result.mac
      this.first = false
      this.pending = []
      this.unsignedRun = 0
    }
    return result
  }
}

/** Verify a signed request against the keys a server knows (RFC 8945 §5.2). */
export function verifyRequest(
  message: Buffer,
  keys: readonly TsigKey[],
  now = Math.floor(Date.now() / 1000),
): {found: undefined} | {found: FoundTsig; key?: TsigKey; result: Verified} {
  const found = findTsig(message)
  if (!found) return {found: undefined}
  const key = keys.find((k) => k.name === found.keyName && k.algorithm === found.fields.algorithm)
  if (!key) return {found, result: {ok: false, failure: 'BADKEY', error: TSIG_ERROR.BADKEY, detail: `unknown key ${found.keyName}`}}
  return {found, key, result: checkMac(key, found, [], false, now)}
}
