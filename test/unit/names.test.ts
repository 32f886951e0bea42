import assert from 'node:assert/strict'
import net from 'node:net'
import {describe, it} from 'node:test'
import {InputError} from '../../src/core/errors.js'
import {seededRandom} from '../helpers/seed.js'
import {
  canonicalIPv6,
  compareNames,
  hostLabelForAddress,
  ipVersion,
  isIPv4,
  isIPv6,
  isIPv6Zoned,
  isPublicAddress,
  isServiceTypeName,
  normalizeName,
  parseAddress,
  parseHost,
  parsePort,
  parsePriority,
  parseRoundRobin,
  parseService,
  parseTtl,
  parseWeight,
  parseZone,
  serviceTypeOf,
  splitLabels,
  wireLength,
} from '../../src/core/names.js'

const rejects = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.exitCode === 2 && pattern.test(e.message))
}

describe('the normal form of a name', () => {
  it('lower-cases, trims and drops one unescaped trailing dot; the root is "."', () => {
    assert.equal(normalizeName(' _Web._TCP.Example.COM. '), '_web._tcp.example.com')
    assert.equal(normalizeName('host.example.com'), 'host.example.com')
    assert.equal(normalizeName('.'), '.')
    assert.equal(normalizeName(''), '.')
    assert.equal(normalizeName('a\\.b\\.'), 'a\\.b\\.')
    assert.equal(normalizeName('a\\.b\\..'), 'a\\.b\\.')
  })
})

describe('labels and canonical order', () => {
  it('splits at unescaped dots only', () => {
    assert.deepEqual(splitLabels('a\\.b.example.com'), ['a\\.b', 'example', 'com'])
    assert.deepEqual(splitLabels('a\\\\.b'), ['a\\\\', 'b'])
    assert.deepEqual(splitLabels('.'), [])
  })
  it('orders names as RFC 4034 §6.1 does: by labels from the right, a parent before its children', () => {
    const names = ['a.example.com', 'a-b.example.com', 'example.com', 'z.a.example.com', 'b\\.a.example.com', '_x.example.com']
    assert.deepEqual([...names].sort(compareNames), ['example.com', '_x.example.com', 'a.example.com', 'z.a.example.com', 'a-b.example.com', 'b\\.a.example.com'])
  })
})

describe('zone names', () => {
  it('normalises case and the trailing dot', () => {
    assert.equal(parseZone('Example.COM.'), 'example.com')
  })
  it('rejects empty, root, bad labels and over-long zones', () => {
    rejects(() => parseZone(''), /zone is required/)
    rejects(() => parseZone('.'), /root zone/)
    rejects(() => parseZone('exa mple.com'), /RFC 1123/)
    rejects(() => parseZone('-bad.com'), /RFC 1123/)
    rejects(() => parseZone('a..com'), /empty label/)
    rejects(() => parseZone(`${'a'.repeat(64)}.com`), /63/)
    rejects(() => parseZone(Array.from({length: 6}, () => 'a'.repeat(40)).join('.')), /170 octets/)
  })
})

describe('service names (RFC 6335 §5.1, RFC 6763 forms)', () => {
  it('accepts the plain and the incarnation form', () => {
    assert.deepEqual(parseService('_web._tcp', 'example.com'), {incarnation: undefined, name: 'web', proto: 'tcp', type: '_web._tcp', relative: '_web._tcp'})
    const pool = parseService('_V1._Web._TCP', 'example.com')
    assert.equal(pool.incarnation, '_v1')
    assert.equal(pool.type, '_web._tcp')
    assert.equal(parseService('_api-v2._udp', 'example.com').proto, 'udp')
  })
  it('accepts the zone as a suffix and rejects another domain', () => {
    assert.equal(parseService('_web._tcp.example.com.', 'example.com').relative, '_web._tcp')
    rejects(() => parseService('_web._tcp.other.org', 'example.com'), /not under the zone example\.com/)
    rejects(() => parseService('_web._tcp.sub.example.com', 'example.com'), /not under the zone/)
  })
  for (const [bad, why] of [
    ['web._tcp', /start with "_"/],
    ['_web', /protocol/],
    ['_web._sctp', /protocol/],
    ['_a--b._tcp', /RFC 6335/],
    ['_-web._tcp', /RFC 6335/],
    ['_web-._tcp', /RFC 6335/],
    ['_123._tcp', /RFC 6335/],
    ['_abcdefghijklmnop._tcp', /RFC 6335/],
    ['_a_b._tcp', /RFC 6335/],
    ['_x._y._web._tcp', /_service._proto/],
    ['_v 1._web._tcp', /pool label/],
  ] as const) {
    it(`rejects ${bad}`, () => rejects(() => parseService(bad, 'example.com'), why))
  }
  it('accepts 15 characters, digits with a letter, inner hyphens', () => {
    assert.equal(parseService('_abcdefghijklmno._tcp', 'z.org').name, 'abcdefghijklmno')
    assert.equal(parseService('_1a._tcp', 'z.org').name, '1a')
    assert.equal(parseService('_x-y._tcp', 'z.org').name, 'x-y')
  })
})

describe('which service a name belongs to', () => {
  it('finds the service type of a pool, an instance, a type and a relative service', () => {
    assert.equal(serviceTypeOf('_v1._web._tcp.example.com'), '_web._tcp.example.com')
    assert.equal(serviceTypeOf('10-0-0-1._web._tcp.example.com'), '_web._tcp.example.com')
    assert.equal(serviceTypeOf('_web._udp.example.com'), '_web._udp.example.com')
    assert.equal(serviceTypeOf('_v1._web._tcp'), '_web._tcp')
    assert.equal(serviceTypeOf('www.example.com'), undefined)
    assert.equal(serviceTypeOf('_tcp.example.com'), undefined)
    assert.equal(serviceTypeOf('web._tcp.example.com'), undefined)
  })
  it('knows a browse name directly under the zone', () => {
    assert.equal(isServiceTypeName('_web._tcp.example.com', 'example.com'), true)
    assert.equal(isServiceTypeName('_v1._web._tcp.example.com', 'example.com'), false)
    assert.equal(isServiceTypeName('_services._dns-sd._udp.example.com', 'example.com'), false)
    assert.equal(isServiceTypeName('_web._tcp.example.org', 'example.com'), false)
  })
})

describe('hosts', () => {
  it('is relative to the zone unless it ends with it', () => {
    assert.equal(parseHost('web1', 'example.com'), 'web1.example.com')
    assert.equal(parseHost('web1.example.com', 'example.com'), 'web1.example.com')
    assert.equal(parseHost('web1.example.com.', 'example.com'), 'web1.example.com')
    assert.equal(parseHost('a.b', 'example.com'), 'a.b.example.com')
  })
  it('rejects hosts outside the zone, the apex and bad labels', () => {
    rejects(() => parseHost('web1.other.org.', 'example.com'), /not under the zone/)
    rejects(() => parseHost('example.com', 'example.com'), /not under the zone/)
    rejects(() => parseHost('web_1', 'example.com'), /RFC 1123/)
    rejects(() => parseHost('', 'example.com'), /empty/)
  })
  it('round-robin names allow the apex', () => {
    assert.equal(parseRoundRobin('@', 'example.com'), 'example.com')
    assert.equal(parseRoundRobin('www', 'example.com'), 'www.example.com')
  })
  it('derives host labels from addresses', () => {
    assert.equal(hostLabelForAddress('10.0.0.1'), '10-0-0-1')
    assert.equal(hostLabelForAddress('2001:db8::1'), '2001-db8--1')
    assert.equal(hostLabelForAddress('fe80::1'), 'fe80--1')
  })
  it('derives a valid RFC 1123 label from every address form', () => {
    const cases: [string, string][] = [['::1', '0--1'], ['fe80::', 'fe80--0'], ['fd::1', '00fd--1'], ['ab::', '00ab--0'], ['::a00:1', '0--a00-1'], ['1::2', '1--2']]
    for (const [address, label] of cases) {
      assert.equal(hostLabelForAddress(address), label, address)
      assert.equal(parseHost(label, 'example.com'), `${label}.example.com`)
      assert.notEqual(label.slice(2, 4), '--', `${label}: "--" in positions 3-4 is reserved by IDNA`)
    }
  })
})

describe('addresses and numbers', () => {
  it('canonicalises IPv6 (RFC 5952)', () => {
    assert.deepEqual(parseAddress('2001:DB8:0:0:0:0:0:1'), {address: '2001:db8::1', family: 'AAAA'})
    assert.deepEqual(parseAddress('[fd00::7]'), {address: 'fd00::7', family: 'AAAA'})
    assert.deepEqual(parseAddress('192.0.2.10'), {address: '192.0.2.10', family: 'A'})
  })
  it('writes one RFC 5952 text per IPv6 address, and none for what a record cannot hold', () => {
    assert.equal(canonicalIPv6('2001:0DB8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1')
    assert.equal(canonicalIPv6(' 0:0:0:0:0:0:0:1 '), '::1')
    assert.equal(canonicalIPv6('fe80::1%eth0'), undefined)
    assert.equal(canonicalIPv6('10.0.0.1'), undefined)
    assert.equal(canonicalIPv6('2001:db8::g'), undefined)
  })
  it('calls an address public only when the special-purpose registries say it is globally reachable (RFC 6890)', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '2a05:d018::1']) assert.equal(isPublicAddress(a), true, a)
    const notPublic = ['10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.1.1', '100.64.0.1', '169.254.1.1', '127.0.0.1', '224.0.0.1', '255.255.255.255']
    // Documentation blocks (RFC 5737 §3, RFC 3849, RFC 9637) are not on the public internet.
    const documentation = ['192.0.2.2', '198.51.100.7', '203.0.113.9', '2001:db8::1', '3fff::1']
    for (const a of [...notPublic, ...documentation, 'fd00::1', 'fe80::1', '::1', '::', 'ff02::1', 'not an address']) assert.equal(isPublicAddress(a), false, a)
  })
  it('maps IPv4-mapped IPv6 to the IPv4 address', () => {
    assert.deepEqual(parseAddress('::ffff:10.0.0.1'), {address: '10.0.0.1', family: 'A'})
    assert.deepEqual(parseAddress('[::FFFF:192.0.2.7]'), {address: '192.0.2.7', family: 'A'})
    rejects(() => parseAddress('::ffff:224.0.0.1'), /multicast/)
  })
  it('refuses multicast, reserved and unspecified addresses', () => {
    for (const bad of ['224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', '0.0.0.0', '0.1.2.3', 'ff02::1', 'FF05::2', '::']) {
      rejects(() => parseAddress(bad), /not a host address/)
    }
    assert.deepEqual(parseAddress('::1'), {address: '::1', family: 'AAAA'})
    assert.deepEqual(parseAddress('223.255.255.254'), {address: '223.255.255.254', family: 'A'})
  })
  it('rejects malformed and unusable addresses', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '01.2.3.4', 'host', '0.0.0.0', '::', 'fe80::1%eth0', '1.2.3.4/24']) {
      rejects(() => parseAddress(bad), /address/)
    }
  })
  it('checks ranges', () => {
    assert.equal(parsePort('8080'), 8080)
    rejects(() => parsePort('70000'), /--port: 70000 is out of range; a port must be 1-65535/)
    rejects(() => parsePort('0'), /1-65535/)
    rejects(() => parsePort('80a'), /not a whole number/)
    rejects(() => parsePort('-1'), /not a whole number/)
    assert.equal(parsePriority('65535'), 65_535)
    rejects(() => parsePriority('65536'), /RFC 2782/)
    rejects(() => parseWeight('1.5'), /whole number/)
    assert.equal(parseTtl('0'), 0)
    rejects(() => parseTtl('2147483648'), /TTL/)
  })
  it('measures wire length', () => {
    assert.equal(wireLength('example.com'), 13)
    assert.equal(wireLength('.'), 1)
  })
})

describe('IP address text without node:net', () => {
  // isIPv4/isIPv6 stand in for node:net's (start-up): the same answers, except that a zone index is refused.
  const agrees = (text: string): void => {
    assert.equal(isIPv4(text), net.isIPv4(text), `isIPv4(${JSON.stringify(text)})`)
    assert.equal(isIPv6(text), net.isIPv6(text) && !text.includes('%'), `isIPv6(${JSON.stringify(text)})`)
    assert.equal(isIPv6Zoned(text), net.isIPv6(text), `isIPv6Zoned(${JSON.stringify(text)})`)
    assert.equal(ipVersion(text), net.isIP(text), `ipVersion(${JSON.stringify(text)})`)
  }

  it('agrees with node:net on the edge cases', () => {
    for (const text of [
      '', '.', '0.0.0.0', '255.255.255.255', '256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.4 ', ' 1.2.3.4', '1..3.4', '1.2.3.-4', '+1.2.3.4', '1e2.0.0.1', '0x1.2.3.4',
      '::', ':::', '::1', '1::', ':1::', '::1:', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
      '1::2::3', '12345::', 'g::', 'FFFF::', '::ffff:1.2.3.4', '::ffff:1.2.3.04', '::1.2.3', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5::1.2.3.4', '1:2:3:4:5:6::1.2.3.4',
      '1.2.3.4::', '1.2.3.4:1::', '::1.2.3.4:1', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%%', 'fe80::1%eth0%1', 'fe80::1%a-b.c:d', 'fe80::1%e_1', 'fe80::1%e 1', '1.2.3.4%eth0', '%eth0', '::%1', '2001:db8::1 ', '[::1]', '1:2:3:4:5:6:7:', ':1:2:3:4:5:6:7', '0000:0000::00000',
    ]) agrees(text)
  })

  it('agrees with node:net on random text', () => {
    const random = seededRandom('ip text')
    const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!
    const octet = (): string => pick([String(random.int(256)), String(random.int(300)), `0${random.int(10)}`, '0', '255', '256', ''])
    const group = (): string => (random() < 0.9 ? pick(['0', 'ffff', 'FfFf', random.int(0x10000).toString(16)]) : pick([random.int(0x100000).toString(16), '', 'g1', '00000']))
    const v4 = (): string => Array.from({length: pick([3, 4, 4, 4, 5])}, octet).join('.')
    const v6 = (): string => {
      const words = Array.from({length: pick([random.int(10), 6, 7, 8])}, group)
      if (random() < 0.5) words.splice(random.int(words.length + 1), 0, '')
      if (random() < 0.3) words.push(v4())
      let text = words.join(':')
      if (random() < 0.15) text = `${text}%${pick(['eth0', '1', '', 'a-b.c:d', 'e_1', '%', 'x y'])}`
      return text
    }
    const noise = (): string => Array.from({length: random.int(12)}, () => pick([...'0123456789abcdefABCDEFg:.% '])).join('')
    for (let i = 0; i < 20000; i++) agrees(pick([v4, v6, v6, noise])())
  })
})
