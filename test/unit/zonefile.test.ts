import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {compareNames} from '../../src/core/names.js'
import {type Token, ZoneSyntaxError, formatZoneFile, newZone, parseTtlText, parseZoneFile, tokenize} from '../../src/core/zonefile.js'
import {seededRandom} from '../helpers/seed.js'

describe('zone file parser', () => {
  it('handles $ORIGIN, $TTL, @, relative names, blank owners, units, parentheses, comments', () => {
    const text = `$TTL 1h
$ORIGIN example.com.
@   IN SOA ns1 hostmaster (
        7      ; serial
        3h 15m 1w 60 )
    IN NS ns1
ns1 300 IN A 192.0.2.1
www IN 60 A 192.0.2.2 ; trailing comment
    AAAA 2001:DB8::0:1
_x._tcp SRV 0 5 80 www
txt TXT "a b" "say \\"hi\\"" plain ; "not a string"
mail MX 10 mx.example.net.
$ORIGIN sub.example.com.
cn CNAME target
hinfo HINFO "PC" "Linux"
`
    const zone = parseZoneFile(text, 'example.com')
    const rows = zone.records.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.value}${r.origin ? ` @${r.origin}` : ''}`)
    assert.deepEqual(rows, [
      'example.com 3600 SOA ns1.example.com. hostmaster.example.com. 7 10800 900 604800 60',
      'example.com 3600 NS ns1.example.com.',
      'ns1.example.com 300 A 192.0.2.1',
      'www.example.com 60 A 192.0.2.2',
      'www.example.com 3600 AAAA 2001:db8::1',
      '_x._tcp.example.com 3600 SRV 0 5 80 www.example.com.',
      'txt.example.com 3600 TXT "a b" "say \\"hi\\"" "plain"',
      'mail.example.com 3600 MX 10 mx.example.net.',
      'cn.sub.example.com 3600 CNAME target.sub.example.com.',
      'hinfo.sub.example.com 3600 HINFO "PC" "Linux" @sub.example.com',
    ])
  })
  it('round-trips what it writes', () => {
    const zone = newZone('example.com', 1)
    zone.records.push({name: 'a.example.com', ttl: 60, type: 'TXT', value: '"x=1" "\\195\\169"'})
    zone.records.push({name: 'b.sub.example.com', ttl: 60, type: 'HINFO', value: '"PC" "Linux"', origin: 'sub.example.com'})
    const text = formatZoneFile(zone, 'header')
    const again = parseZoneFile(text, 'example.com')
    assert.deepEqual(again.records, zone.records.sort((x, y) => compareNames(x.name, y.name)))
    assert.equal(formatZoneFile(again, 'header'), text)
  })
  it('reports syntax errors with the line', () => {
    assert.throws(() => parseZoneFile('$TTL 60\n@ SOA a b 1 2 3 4\n', 'example.com', 'z.zone'), /z\.zone line 2: SOA record needs/)
    assert.throws(() => parseZoneFile('www A 1.2.3.4\n', 'example.com', 'z.zone'), /no TTL/)
    assert.throws(() => parseZoneFile('$INCLUDE other\n', 'example.com', 'z.zone'), /not supported/)
    assert.throws(() => parseZoneFile('$TTL 60\nwww A 1.2.3\n', 'example.com', 'z.zone'), /IPv4/)
    assert.throws(() => parseZoneFile('$TTL 60\nwww AAAA fe80::1%eth0\n', 'example.com', 'z.zone'), /z\.zone line 2: AAAA record needs one IPv6 address/)
    assert.throws(() => parseZoneFile('$TTL 60\nwww TXT "open\n', 'example.com', 'z.zone'), /unterminated/)
    assert.throws(() => parseZoneFile('$TTL 60\nwww ( A 1.2.3.4\n', 'example.com', 'z.zone'), /unbalanced/)
    // An escaped newline inside a string or a word still counts as a line.
    assert.throws(() => parseZoneFile('$TTL 60\nwww TXT "a\\\nb" w\\\nx\nbad A 1.2.3\n', 'example.com', 'z.zone'), /z\.zone line 5: A record/)
  })
  it('parses BIND TTL units and orders names canonically', () => {
    assert.equal(parseTtlText('1h30m'), 5400)
    assert.equal(parseTtlText('1x'), undefined)
    assert.deepEqual(['b.example.com', 'example.com', 'a.b.example.com', '_x.example.com'].sort(compareNames), ['example.com', '_x.example.com', 'b.example.com', 'a.b.example.com'])
  })
})


function scanByChar(text: string, from: number, stops: (ch: string) => boolean): {text: string; end: number; newlines: number} {
  let end = from
  let newlines = 0
  while (end < text.length && !stops(text[end]!)) {
    const step = text[end] === '\\' && end + 1 < text.length ? 2 : 1
    if (text[end + step - 1] === '\n') newlines++
    end += step
  }
  return {text: text.slice(from, end), end, newlines}
}

/** The tokenizer as it was, one character at a time: the reference for the one built on regular expressions. */
function tokenizeByChar(text: string, file: string): {line: number; leadingBlank: boolean; tokens: Token[]}[] {
  const out: {line: number; leadingBlank: boolean; tokens: Token[]}[] = []
  let tokens: Token[] = []
  let depth = 0
  let startLine = 1
  let leadingBlank = false
  let line = 1
  let i = 0
  let atLineStart = true
  const flush = (): void => {
    if (tokens.length > 0) out.push({line: startLine, leadingBlank, tokens})
    tokens = []
  }
  while (i < text.length) {
    const c = text[i]!
    if (atLineStart && depth === 0) {
      startLine = line
      leadingBlank = c === ' ' || c === '\t'
      atLineStart = false
    }
    if (c === '\n') {
      line++
      i++
      if (depth === 0) {
        flush()
        atLineStart = true
      }
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++
      continue
    }
    if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++
      continue
    }
    if (c === '(') {
      depth++
      i++
      continue
    }
    if (c === ')') {
      if (depth === 0) throw new ZoneSyntaxError(file, line, 'unbalanced ")"')
      depth--
      i++
      continue
    }
    if (c === '"') {
      const quoted = scanByChar(text, i + 1, (ch) => ch === '"')
      line += quoted.newlines
      if (quoted.end >= text.length) throw new ZoneSyntaxError(file, line, 'unterminated quoted string')
      tokens.push({text: quoted.text, quoted: true})
      i = quoted.end + 1
      continue
    }
    const word = scanByChar(text, i, (ch) => ' \t\r\n;()"'.includes(ch))
    line += word.newlines
    tokens.push({text: word.text, quoted: false})
    i = word.end
  }
  if (depth !== 0) throw new ZoneSyntaxError(file, line, 'unbalanced "("')
  flush()
  return out
}

describe('zone file tokenizer', () => {
  const outcome = (read: (text: string, file: string) => unknown, text: string): unknown => {
    try {
      return read(text, 'z.zone')
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`
    }
  }

  it('splits as the character-by-character reading does, on random text', () => {
    const random = seededRandom('zone tokenizer')
    const pieces = ['a', 'www', '10.0.0.1', ' ', '  ', '\t', '\r', '\n', '\n', ';c', '(', ')', '"', '"q r"', '\\', '\\"', '\\ ', '\\\n', '\\065', '$TTL', 'é']
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({length: random.int(25)}, () => pieces[random.int(pieces.length)]!).join('')
      assert.deepEqual(outcome(tokenize, text), outcome(tokenizeByChar, text), JSON.stringify(text))
    }
  })

  it('reads a long word and a long quoted string with many escapes', () => {
    const text = `${'a'.repeat(1_000_000)} "${'b\\"'.repeat(200_000)}"\n`
    assert.deepEqual(tokenize(text, 'z.zone')[0]!.tokens.map((t) => t.text.length), [1_000_000, 600_000])
  })
})
