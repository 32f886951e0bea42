/**
 * Fuzz `dnssd serve` (the built CLI, over the network) with random and
 * mutated datagrams and TCP frames; afterwards it must still be running and
 * answer correctly.
 */
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import {after, before, describe, it} from 'node:test'
import {encodeQuery} from '../../src/dns/wire.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {type Running, joinMany, startServe} from '../helpers/dns.js'
import {tcpExchange} from '../helpers/serve.js'
import {seededRandom} from '../helpers/seed.js'
import {waitFor} from '../helpers/wait.js'

const SEEDS: Buffer[] = [
  encodeQuery('_web._tcp.example.com', 'PTR', {id: 1, rd: true, ednsSize: 1232}),
  encodeQuery('_web._tcp.example.com', 'PTR', {id: 2, rd: false}),
  encodeQuery('127-0-0-11._web._tcp.example.com', 'SRV', {id: 3, rd: true, ednsSize: 512}),
  encodeQuery('127-0-0-11.example.com', 'A', {id: 4, rd: true, ednsSize: 4096}),
  encodeQuery('example.com', 'SOA', {id: 5, rd: true}),
  encodeQuery('nothing.example.org', 'TXT', {id: 6, rd: true, ednsSize: 1232}),
  // dig's query with a COOKIE option.
  Buffer.from('423b01200001000000000001045f776562045f746370076578616d706c6503636f6d000021000100002904d000000000000c000a00082467a25172c78f00', 'hex'),
]

function mutate(rand: (n: number) => number): Buffer {
  if (rand(10) < 3) {
    const b = Buffer.alloc(rand(600))
    for (let i = 0; i < b.length; i++) b[i] = rand(256)
    return b
  }
  let b = Buffer.from(SEEDS[rand(SEEDS.length)]!)
  const edits = 1 + rand(4)
  for (let e = 0; e < edits; e++) {
    switch (rand(7)) {
      case 0: // flip bits
        if (b.length > 0) b[rand(b.length)]! ^= 1 << rand(8)
        break
      case 1: // random byte
        if (b.length > 0) b[rand(b.length)] = rand(256)
        break
      case 2: // truncate
        b = b.subarray(0, rand(b.length + 1))
        break
      case 3: // append garbage
        b = Buffer.concat([b, Buffer.from(Array.from({length: rand(64)}, () => rand(256)))])
        break
      case 4: // section counts
        if (b.length >= 12) b.writeUInt16BE(rand(65_536), 4 + 2 * rand(4))
        break
      case 5: // compression pointer somewhere in the names
        if (b.length > 14) b.writeUInt16BE(0xc000 | rand(b.length + 32), 12 + rand(b.length - 13))
        break
      default: // label length
        if (b.length > 12) b[12 + rand(b.length - 12)] = rand(2) ? 63 + rand(3) : rand(256)
    }
  }
  return b
}

describe('dnssd serve survives malformed packets', () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  let serve: Running

  before(async () => {
    dir = await tempDir()
    await joinMany(dir.path, [11, 12].map((i) => ({service: '_web._tcp', ip: `127.0.0.${i}`})))
    // No rate limit: every datagram goes all the way through the answer path.
    serve = await startServe(dir.path, ['--rrl', '0'])
  })

  after(async () => {
    await serve?.stop()
    await dir?.cleanup()
  })

  it('12 000 random/mutated datagrams and 3 000 TCP frames, then answers correctly', async () => {
    const random = seededRandom('serve-fuzz')
    const {seed, int: rand} = random
    let replies = 0
    const socket = dgram.createSocket('udp4')
    socket.on('message', () => replies++)
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
    for (let i = 0; i < 12_000; i++) {
      socket.send(mutate(rand), serve.port, '127.0.0.1')
      // Pace the sender a little so the kernel buffer is not the thing under test.
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5))
    }
    // Datagrams too broken to carry a header get no answer; far more than 1 in 12 do.
    await waitFor(() => replies > 1000, `more than 1000 replies (${replies} so far, seed ${seed})`)
    socket.close()

    const connections = Array.from({length: 60}, () =>
      new Promise<void>((resolve) => {
        const c = net.connect({host: '127.0.0.1', port: serve.port})
        c.on('error', () => resolve())
        c.on('close', () => resolve())
        c.on('data', () => undefined)
        c.on('connect', () => {
          const parts: Buffer[] = []
          for (let f = 0; f < 50; f++) {
            const body = mutate(rand)
            const len = Buffer.alloc(2)
            // Mostly honest lengths; sometimes a lie.
            len.writeUInt16BE(rand(8) === 0 ? rand(65_536) : body.length)
            parts.push(len, body)
          }
          const all = Buffer.concat(parts)
          // Send in random slices: frames split across TCP segments.
          let at = 0
          const step = (): void => {
            if (at >= all.length || c.destroyed) return void c.end()
            const n = 1 + rand(300)
            c.write(all.subarray(at, at + n))
            at += n
            setImmediate(step)
          }
          step()
          setTimeout(() => c.destroy(), 3000)
        })
      }),
    )
    await Promise.all(connections)

    assert.equal(serve.child.exitCode, null, `serve died (seed ${seed}): ${serve.output()}`)
    const udp = await runCli(['resolve', '_web._tcp.example.com', '--all', '--server', `127.0.0.1:${serve.port}`])
    assert.equal(udp.exitCode, 0, udp.stderr)
    assert.deepEqual(udp.stdout.trim().split('\n').sort(), ['127-0-0-11.example.com:8080', '127-0-0-12.example.com:8080'])
    const tcp = await tcpExchange(serve.port, encodeQuery('127-0-0-11.example.com', 'A', {id: 77, rd: false}))
    assert.equal(tcp.readUInt16BE(0), 77)
    assert.equal(tcp.readUInt16BE(6), 1, 'one answer over TCP')
    assert.deepEqual([...tcp.subarray(-4)], [127, 0, 0, 11])
  })
})
