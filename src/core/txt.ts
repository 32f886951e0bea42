/**
 * TXT records for DNS-SD (RFC 6763 §6): `--txt key=value` / `--txt flag`
 * pairs, the strings they become, and the zone-file presentation form
 * (`"a=1" "b"`), which is the canonical value form used everywhere in dnssd.
 */
import {InputError} from './errors.js'

/** RFC 6763 §6.1: above this the record is NOT RECOMMENDED (one Ethernet frame). */
export const MAX_TXT_TOTAL_BYTES = 1300

/** Validate `--txt` values and turn them into the strings of one TXT record. */
export function parseTxtPairs(values: readonly string[], input = '--txt'): string[] {
  const seen = new Set<string>()
  const strings: string[] = []
  for (const raw of values) {
    const eq = raw.indexOf('=')
    const key = eq < 0 ? raw : raw.slice(0, eq)
    if (key === '') throw new InputError(`${input} ${JSON.stringify(raw)}`, 'the key before "=" must not be empty (RFC 6763 §6.4)')
    if (!/^[\x20-\x7e]+$/.test(key)) {
      throw new InputError(`${input} ${JSON.stringify(raw)}`, 'keys are printable US-ASCII without "=" (RFC 6763 §6.4)')
    }
    const folded = key.toLowerCase()
    if (seen.has(folded)) throw new InputError(`${input} ${JSON.stringify(raw)}`, `key "${key}" is given twice; keys are case-insensitive and must be unique (RFC 6763 §6.4)`)
    seen.add(folded)
    const bytes = Buffer.byteLength(raw, 'utf8')
    if (bytes > 255) throw new InputError(`${input} ${key}=...`, `is ${bytes} bytes; each TXT string holds at most 255 bytes (RFC 1035 §3.3)`)
    strings.push(raw)
  }
  const total = strings.reduce((n, s) => n + 1 + Buffer.byteLength(s, 'utf8'), 0)
  if (total > MAX_TXT_TOTAL_BYTES) {
    throw new InputError(input, `the TXT record would be ${total} bytes; keep it at most ${MAX_TXT_TOTAL_BYTES} (RFC 6763 §6.1)`)
  }
  return strings
}

/**
 * `\DDD` escapes are decimal in zone files and `dig` output (RFC 1035 §5.1)
 * and octal in Route 53's API; everything else is the same.
 */
export type EscapeRadix = 8 | 10

/** Quote one character-string as a zone file and `dig` show it (or, radix 8, as Route 53 takes it). */
export function quoteTxtString(value: string | Buffer, radix: EscapeRadix = 10): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  let out = '"'
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b)
    else out += `\\${b.toString(radix).padStart(3, '0')}`
  }
  return `${out}"`
}

/** Presentation form of a TXT record; an empty record is one empty string (RFC 6763 §6.1). */
export function formatTxt(strings: readonly (string | Buffer)[]): string {
  if (strings.length === 0) return '""'
  return strings.map((s) => quoteTxtString(s)).join(' ')
}

/**
 * The bytes of one character of RFC 1035 §5.1 presentation text at `i`:
 * `\DDD` is the byte DDD (decimal 0-255; octal where Route 53 writes it),
 * `\X` is X, anything else its UTF-8 (a whole code point, so characters
 * outside the BMP survive). Names and TXT strings both read through it.
 */
export function readPresentationChar(text: string, i: number, end = text.length, radix: EscapeRadix = 10): {bytes: number[]; next: number} {
  if (text[i] === '\\' && i + 1 < end) {
    const digits = text.slice(i + 1, i + 4)
    const value = (radix === 8 ? /^[0-7]{3}$/ : /^\d{3}$/).test(digits) ? parseInt(digits, radix) : 256
    if (value < 256 && i + 4 <= end) return {bytes: [value], next: i + 4}
    const ch = String.fromCodePoint(text.codePointAt(i + 1)!)
    return {bytes: [...Buffer.from(ch, 'utf8')], next: i + 1 + ch.length}
  }
  const ch = String.fromCodePoint(text.codePointAt(i)!)
  return {bytes: [...Buffer.from(ch, 'utf8')], next: i + ch.length}
}

/**
 * Quoted strings of printable ASCII, `\"` and `\\` their only escapes, one
 * space apart: text already in the form formatTxt writes.
 */
const CANONICAL_TXT = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"(?: "(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*")*$/

const QUOTED_ASCII = /"((?:[^"\\]|\\.)*)"/g

/**
 * Parse the presentation form back into its strings (as raw bytes).
 * Accepts quoted strings with `\X` and `\DDD` escapes, and unquoted words.
 */
export function parseTxtPresentation(text: string, radix: EscapeRadix = 10): Buffer[] {
  // Canonical text (what dnssd writes) holds ASCII and two escapes only.
  if (CANONICAL_TXT.test(text)) return [...text.matchAll(QUOTED_ASCII)].map((m) => Buffer.from(m[1]!.replace(/\\(["\\])/g, '$1'), 'latin1'))
  const out: Buffer[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === ' ' || c === '\t') {
      i++
      continue
    }
    const quoted = c === '"'
    if (quoted) i++
    const bytes: number[] = []
    while (i < text.length) {
      const ch = text[i]!
      if (quoted && ch === '"') {
        i++
        break
      }
      if (!quoted && (ch === ' ' || ch === '\t')) break
      const code = text.charCodeAt(i)
      if (code < 0x80 && code !== 0x5c) {
        // Plain ASCII is its own byte: the common case, without a Buffer per character.
        bytes.push(code)
        i++
        continue
      }
      const read = readPresentationChar(text, i, text.length, radix)
      bytes.push(...read.bytes)
      i = read.next
    }
    out.push(Buffer.from(bytes))
  }
  return out
}

/** Canonical presentation of any TXT text (re-quoted, escapes normalised). */
export function canonicalTxt(text: string): string {
  // What dnssd wrote is canonical already: a zone file of many members reads
  // without decoding every character (start-up of join and list).
  if (CANONICAL_TXT.test(text)) return text
  return formatTxt(parseTxtPresentation(text))
}

/**
 * RFC 6763 §6.3-6.5 reading: a string without "=" is a boolean attribute
 * (true); "key=" has an empty value; a string starting with "=" is ignored;
 * the first occurrence of a key wins. Keys are compared case-insensitively.
 */
export function txtToAttributes(strings: readonly Buffer[]): Record<string, string | true> {
  const attrs: Record<string, string | true> = {}
  const seen = new Set<string>()
  for (const s of strings) {
    if (s.length === 0) continue
    const text = s.toString('utf8')
    const eq = text.indexOf('=')
    if (eq === 0) continue
    const key = eq < 0 ? text : text.slice(0, eq)
    if (seen.has(key.toLowerCase())) continue
    seen.add(key.toLowerCase())
    attrs[key] = eq < 0 ? true : text.slice(eq + 1)
  }
  return attrs
}
