import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {CLASS_IN} from '../../src/dns/message.js'
import {CLASS_NONE, encodeUpdate, nameWire, parseMessage, typeNumber, valueToRdata} from '../../src/dns/update.js'

/** A response holding one answer record with this data. */
function answerWith(type: string, rdata: Buffer): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(0x8400, 2)
  header.writeUInt16BE(1, 6)
  const fixed = Buffer.alloc(10)
  fixed.writeUInt16BE(typeNumber(type), 0)
  fixed.writeUInt16BE(CLASS_IN, 2)
  fixed.writeUInt32BE(60, 4)
  fixed.writeUInt16BE(rdata.length, 8)
  return Buffer.concat([header, nameWire('x.example.com'), fixed, rdata])
}

describe('rfc2136 wire: canonical values survive encode -> decode', () => {
  it('round-trips every type dnssd writes, and the ones it only keeps', () => {
    const values: [string, string][] = [
      ['A', '10.0.0.1'],
      ['AAAA', '2001:db8::5'],
      ['AAAA', '::ffff:a00:1'],
      ['SRV', '0 5 8080 10-0-0-1.example.com.'],
      ['SRV', '0 0 0 .'],
      ['PTR', 'inst._web._tcp.example.com.'],
      ['TXT', '""'],
      ['TXT', '"path=/a b\\"c\\\\d" "tls" "\\195\\182"'],
      ['TXT', '"ref=_v1._web._tcp.example.com;srv=0 0 80"'],
      ['MX', '10 mail.example.com.'],
      ['CNAME', 'target.example.com.'],
      ['SOA', 'ns1.example.com. hostmaster.example.com. 7 3600 600 86400 60'],
      ['TYPE65', '\\# 3 010203'],
    ]
    for (const [type, value] of values) {
      const parsed = parseMessage(answerWith(type, valueToRdata(type, value)))
      assert.equal(parsed.answers[0]!.value, value, `${type} ${value}`)
      assert.equal(parsed.answers[0]!.name, 'x.example.com')
    }
  })

  it('encodes prerequisites and updates in the classes RFC 2136 §2.4/§2.5 give them', () => {
    const msg = encodeUpdate('example.com', 7, [
      {kind: 'rrset-equals', name: 'a.example.com', type: 'TXT', values: ['"x"', '"y"']},
      {kind: 'rrset-absent', name: 'b.example.com', type: 'SRV'},
    ], [
      {kind: 'add', name: 'a.example.com', type: 'TXT', ttl: 60, value: '"z"'},
      {kind: 'delete', name: 'a.example.com', type: 'TXT', value: '"x"'},
    ])
    assert.equal(msg.readUInt16BE(2) >> 11, 5, 'opcode UPDATE')
    assert.deepEqual([4, 6, 8, 10].map((o) => msg.readUInt16BE(o)), [1, 3, 2, 0])
    // Walk the records after the zone section: class and TTL of each.
    let at = 12 + nameWire('example.com').length + 4
    const seen: [number, number, number][] = []
    for (let i = 0; i < 5; i++) {
      while (msg[at] !== 0) at += 1 + msg[at]!
      at++
      seen.push([msg.readUInt16BE(at + 2), msg.readUInt32BE(at + 4), msg.readUInt16BE(at + 8)])
      at += 10 + msg.readUInt16BE(at + 8)
    }
    assert.equal(at, msg.length)
    assert.deepEqual(seen, [
      [CLASS_IN, 0, 2], // value-dependent "RRset exists": class IN, TTL 0, the data
      [CLASS_IN, 0, 2],
      [CLASS_NONE, 0, 0], // "RRset does not exist": class NONE, no data
      [CLASS_IN, 60, 2], // add
      [CLASS_NONE, 0, 2], // delete one RR: class NONE, TTL 0
    ])
  })
})
