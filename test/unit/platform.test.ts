import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {nicAddresses, pickTritonAddresses} from '../../src/platform/joyent.js'
import {defaultRouteIface, defaultRouteIface6} from '../../src/platform/netif.js'
import {parseHealthTarget} from '../../src/platform/health.js'
import {randomBytes, randomHex, randomInt} from '../../src/platform/random.js'
import {shQuote, systemdQuote} from '../../src/templates/render.js'

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth9\t00000000\t0100000A\t0002\t0\t0\t1\t00000000\t0\t0\t0
`
const ROUTE6 = `fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`

describe('default route parsing', () => {
  it('takes the lowest-metric default route that is up', () => {
    assert.equal(defaultRouteIface(ROUTE), 'eth0')
    assert.equal(defaultRouteIface('Iface\tDestination\n'), undefined)
    assert.equal(defaultRouteIface6(ROUTE6), 'eth1')
  })

})

describe('Triton sdc:nics', () => {
  it('external is public, internal (then any other tag) private, IPv4 first', () => {
    const nics = [
      {nic_tag: 'sdc_overlay', ips: ['192.168.128.5/22']},
      {nic_tag: 'external', ips: ['2001:db8::5/64', '198.51.100.5/24']},
      {nic_tag: 'internal', ip: '10.0.0.5'},
    ]
    assert.deepEqual(pickTritonAddresses(nics), {public: '198.51.100.5', private: '10.0.0.5'})
    assert.deepEqual(pickTritonAddresses([{nic_tag: 'sdc_overlay', ips: ['192.168.128.5/22']}]), {public: undefined, private: '192.168.128.5'})
    assert.deepEqual(nicAddresses({ip: 'dhcp'}), [])
  })
})

describe('health targets', () => {
  it('accepts http(s) and tcp with a port', () => {
    assert.deepEqual(parseHealthTarget('tcp://[::1]:8080'), {kind: 'tcp', host: '::1', port: 8080, url: 'tcp://[::1]:8080'})
    assert.equal(parseHealthTarget('https://127.0.0.1/health').kind, 'http')
    assert.throws(() => parseHealthTarget('udp://127.0.0.1:53'), /only http/)
  })
})

describe('quoting', () => {
  it('shQuote survives sh for any printable value', () => {
    const values = ["it's", '$(id)', '`id`', '"\\', 'a b', '%n', '', '-n', '*', '~root', '!x']
    const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${values.map(shQuote).join(' ')}`], {encoding: 'utf8'})
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), values)
  })

  it('systemdQuote escapes quotes, backslashes, $ and %', () => {
    assert.equal(systemdQuote('--zone=example.com'), '--zone=example.com')
    assert.equal(systemdQuote('a "b" \\ $X %n'), '"a \\"b\\" \\\\ $$X %%n"')
  })
})

describe('random numbers without node:crypto', () => {
  it('gives fresh bytes each call, across refills of the pool', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) seen.add(randomHex(8))
    assert.equal(seen.size, 200)
    assert.equal(randomBytes(300).length, 300, 'more than one pool at once')
    assert.match(randomHex(4), /^[0-9a-f]{8}$/)
  })

  it('draws whole numbers in [0, max), none favoured', () => {
    assert.equal(randomInt(1), 0)
    const big = randomInt(2 ** 32)
    assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 32)
    for (const bad of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) assert.throws(() => randomInt(bad), RangeError, String(bad))
    // 60000 draws of 0-5: each count is 10000 +- 91 (one standard deviation); 700 is over 7 of them.
    const counts = Array.from({length: 6}, () => 0)
    for (let i = 0; i < 60_000; i++) counts[randomInt(6)]! += 1
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 700, `counts ${counts.join(' ')}`)
    // max 3 * 2^30 leaves 2^30 draws to redraw: without that, 0..2^30-1 would come twice as often.
    let low = 0
    for (let i = 0; i < 30_000; i++) if (randomInt(3 * 2 ** 30) < 2 ** 30) low++
    assert.ok(Math.abs(low - 10_000) < 600, `${low} of 30000 below 2^30`)
  })
})
