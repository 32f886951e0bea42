import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'

const Z = 'example.com'
const r = (name: string, type: string, value: string) => ({name, type, value})

describe('checkInvariants', () => {
  const good = [
    r('h.example.com', 'A', '10.0.0.1'),
    r('_v1._web._tcp.example.com', 'SRV', '0 0 80 h.example.com.'),
    r('_v1._web._tcp.example.com', 'TXT', '""'),
    r('_web._tcp.example.com', 'PTR', '_v1._web._tcp.example.com.'),
    r('_services._dns-sd._udp.example.com', 'PTR', '_web._tcp.example.com.'),
  ]
  it('accepts a consistent zone', () => assert.deepEqual(checkInvariants(Z, good), []))
  it('1: an SRV target without an address', () => {
    assert.deepEqual(checkInvariants(Z, good.slice(1)), ['SRV _v1._web._tcp.example.com -> h.example.com. has no address record'])
  })
  it('1: out-of-zone targets and "." are not checked', () => {
    assert.deepEqual(checkInvariants(Z, [r('_x._tcp.example.com', 'SRV', '0 0 0 .'), r('_y._tcp.example.com', 'SRV', '0 0 1 a.example.net.')]), [])
  })
  it('2: a PTR target without SRV or TXT', () => {
    const bad = good.filter((x) => x.type !== 'TXT')
    assert.deepEqual(checkInvariants(Z, bad), ['PTR _web._tcp.example.com -> _v1._web._tcp.example.com has no TXT'])
    const noSrv = good.filter((x) => x.type !== 'SRV')
    assert.deepEqual(checkInvariants(Z, noSrv), ['PTR _web._tcp.example.com -> _v1._web._tcp.example.com has no SRV'])
  })
  it('3: a service-type entry without a PTR', () => {
    assert.deepEqual(checkInvariants(Z, [good[4]!]), ['_services._dns-sd._udp.example.com PTR -> _web._tcp.example.com has no PTR'])
  })
  it('4: duplicate values', () => {
    assert.deepEqual(checkInvariants(Z, [...good, good[0]!]), ['duplicate value: h.example.com A 10.0.0.1'])
  })
})
