/**
 * Domain names on the wire, done by hand where dns-packet falls short
 * (reference/dns.md D.4): labels may hold escaped dots (`\.`) and `\DDD`
 * bytes, every label is at most 63 octets and a name at most 255.
 */
import {normalizeName} from '../core/names.js'
import {readPresentationChar} from '../core/txt.js'

export const MAX_LABEL = 63
export const MAX_NAME = 255

export class NameError extends Error {}

/**
 * Presentation name (absolute, with or without the trailing dot; "" or "."
 * is the root) -> its labels as bytes. Throws NameError for a label over 63
 * octets, an empty label or a name over 255 octets.
 */
export function nameToLabels(name: string): Buffer[] {
  if (name === '' || name === '.') return []
  const labels: Buffer[] = []
  let bytes: number[] = []
  let i = 0
  const end = name.endsWith('.') && !name.endsWith('\\.') ? name.length - 1 : name.length
  const flush = (): void => {
    if (bytes.length === 0) throw new NameError(`"${name}" has an empty label`)
    if (bytes.length > MAX_LABEL) throw new NameError(`a label of "${name}" is ${bytes.length} octets; at most ${MAX_LABEL} (RFC 1035)`)
    labels.push(Buffer.from(bytes))
    bytes = []
  }
  while (i < end) {
    if (name[i] === '.') {
      flush()
      i++
      continue
    }
    const read = readPresentationChar(name, i, end)
    bytes.push(...read.bytes)
    i = read.next
  }
  flush()
  const wire = labels.reduce((n, l) => n + 1 + l.length, 1)
  if (wire > MAX_NAME) throw new NameError(`"${name}" is ${wire} octets on the wire; at most ${MAX_NAME} (RFC 1035)`)
  return labels
}

/** Validate a query name (dns-packet cannot send a label holding a dot); throws NameError naming the rule. */
export function checkQueryName(name: string): string {
  const n = normalizeName(name)
  const labels = nameToLabels(n)
  if (labels.some((l) => l.includes(0x2e))) throw new NameError(`"${name}" has a label containing "."; this client cannot send it`)
  return n
}

/** Labels -> presentation form without the trailing dot, escaping `.`, `\` and non-printables (zone transfers, updates). */
export function labelsToName(labels: readonly Buffer[]): string {
  if (labels.length === 0) return '.'
  return labels.map(escapeLabel).join('.')
}

function escapeLabel(label: Buffer): string {
  let out = ''
  for (const b of label) {
    if (b === 0x2e || b === 0x5c) out += `\\${String.fromCharCode(b)}`
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b)
    else out += `\\${String(b).padStart(3, '0')}`
  }
  return out
}

/** Compression / lookup key of a name: ASCII-case-folded labels (RFC 4343). */
export function labelsKey(labels: readonly Buffer[], from = 0): string {
  let key = ''
  for (let i = from; i < labels.length; i++) key += `${lowerLatin1(labels[i]!)}.`
  return key
}

function lowerLatin1(label: Buffer): string {
  let s = ''
  for (const b of label) s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 32 : b)
  return s
}

/**
 * Read a (possibly compressed) name at `offset`. Pointers must point
 * backwards (as dns-packet's decoder since PR #79), so a loop is impossible.
 * Returns the labels and the offset just after the name in the message.
 */
export function readName(buf: Buffer, offset: number): {labels: Buffer[]; next: number} {
  const labels: Buffer[] = []
  let pos = offset
  let next = -1
  let total = 1
  let limit = offset
  for (;;) {
    if (pos >= buf.length) throw new NameError('name runs past the end of the message')
    const len = buf[pos]!
    if (len === 0) {
      if (next < 0) next = pos + 1
      break
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new NameError('truncated compression pointer')
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!
      if (next < 0) next = pos + 2
      if (target >= limit) throw new NameError('compression pointer does not point backwards')
      limit = target
      pos = target
      continue
    }
    if ((len & 0xc0) !== 0) throw new NameError('unknown label type')
    if (pos + 1 + len > buf.length) throw new NameError('label runs past the end of the message')
    total += len + 1
    if (total > MAX_NAME) throw new NameError('name longer than 255 octets')
    labels.push(buf.subarray(pos + 1, pos + 1 + len))
    pos += 1 + len
  }
  return {labels, next}
}
