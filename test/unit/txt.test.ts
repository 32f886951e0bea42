import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {InputError} from '../../src/core/errors.js'
import {canonicalTxt, formatTxt, parseTxtPairs, parseTxtPresentation, quoteTxtString, txtToAttributes} from '../../src/core/txt.js'
import {seededRandom} from '../helpers/seed.js'

describe('TXT pairs (RFC 6763 §6)', () => {
  it('accepts key=value, key= and boolean keys', () => {
    assert.deepEqual(parseTxtPairs(['path=/api', 'tls', 'empty=', 'eq=a=b']), ['path=/api', 'tls', 'empty=', 'eq=a=b'])
  })
  it('rejects an empty key, duplicate keys and non-ASCII keys', () => {
    assert.throws(() => parseTxtPairs(['=x']), /key before "=" must not be empty/)
    assert.throws(() => parseTxtPairs(['a=1', 'A=2']), /given twice/)
    assert.throws(() => parseTxtPairs(['clé=1']), /US-ASCII/)
  })
  it('limits each string to 255 bytes and the record to 1300', () => {
    assert.equal(parseTxtPairs([`k=${'x'.repeat(253)}`]).length, 1)
    assert.throws(() => parseTxtPairs([`k=${'x'.repeat(254)}`]), (e: unknown) => e instanceof InputError && /256 bytes; each TXT string holds at most 255/.test(e.message))
    assert.throws(() => parseTxtPairs([`k=${'é'.repeat(127)}`]), /255 bytes/)
    const six = Array.from({length: 6}, (_, i) => `k${i}=${'x'.repeat(240)}`)
    assert.throws(() => parseTxtPairs(six), /at most 1300/)
  })
})

describe('TXT presentation', () => {
  it('quotes and escapes like dig', () => {
    assert.equal(quoteTxtString('a "b" \\c'), '"a \\"b\\" \\\\c"')
    assert.equal(quoteTxtString('é'), '"\\195\\169"')
    assert.equal(formatTxt([]), '""')
    assert.equal(formatTxt(['a=1', 'b']), '"a=1" "b"')
  })
  it('round-trips through parse', () => {
    for (const strings of [['a=1', 'b'], ['say "hi"'], ['back\\slash'], ['é=ü'], [''], ['$(touch /tmp/x)']]) {
      const text = formatTxt(strings)
      assert.deepEqual(parseTxtPresentation(text).map((b) => b.toString('utf8')), strings)
      assert.equal(canonicalTxt(text), text)
    }
  })
  it('reads unquoted words and decimal escapes', () => {
    assert.deepEqual(parseTxtPresentation('abc "d e" \\065').map((b) => b.toString()), ['abc', 'd e', 'A'])
  })
  it('keeps characters outside the BMP whole, and reads \\DDD above 255 as the escaped digit', () => {
    // Route 53 and Cloudflare may return raw UTF-8; one UTF-16 half at a time became two U+FFFD.
    assert.deepEqual(parseTxtPresentation('"\u{1F600}"', 8)[0], Buffer.from('\u{1F600}'))
    assert.deepEqual(parseTxtPresentation('"\\999"')[0], Buffer.from('999'))
    assert.deepEqual(parseTxtPresentation('"\\101"', 8)[0], Buffer.from('A'))
  })
  it('reads attributes per RFC 6763 §6.3-6.5', () => {
    const attrs = txtToAttributes([Buffer.from('path=/x'), Buffer.from('tls'), Buffer.from('=ignored'), Buffer.from('PATH=/second'), Buffer.from('e=')])
    assert.deepEqual(attrs, {path: '/x', tls: true, e: ''})
  })
})

describe('canonical TXT text', () => {
  it('gives what re-quoting and character-by-character reading give, for canonical text and any other', () => {
    const random = seededRandom('txt canonical')
    const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!
    const piece = (): string => pick(['a', 'Z', '=', ' ', '"', '\\', '\\"', '\\\\', '\\065', '\\255', '\\x', 'é', '\t', '~', '\u0001'])
    const string = (): string => Array.from({length: random.int(6)}, piece).join('')
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({length: 1 + random.int(3)}, () => (random() < 0.8 ? `"${string()}"` : string())).join(pick([' ', ' ', '  ', '']))
      assert.equal(canonicalTxt(text), formatTxt(parseTxtPresentation(text)), JSON.stringify(text))
      // Canonical text and a tab after it (never canonical: read character by character) hold the same strings.
      if (canonicalTxt(text) === text) assert.deepEqual(parseTxtPresentation(text), parseTxtPresentation(`${text}\t`), JSON.stringify(text))
    }
    for (const text of ['""', '"a" "b"', '"x\\"y"', '"\\\\"', '"a=1" "" "flag"']) {
      assert.equal(canonicalTxt(text), text)
      assert.deepEqual(parseTxtPresentation(text), parseTxtPresentation(`${text}\t`), text)
    }
    assert.deepEqual(parseTxtPresentation('"x\\"y" "\\\\"'), [Buffer.from('x"y'), Buffer.from('\\')])
  })
})
