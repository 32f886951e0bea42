/**
 * Lossless concurrency on Route 53 (DESIGN §3): 50 `dnssd join` processes at
 * once against the local endpoint's 5 requests/s account bucket with 15% of
 * requests failing (Throttling, PriorRequestNotComplete, 500, answers lost
 * after commit); then 50 leaves. And SIGKILL at random moments.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {BIN, runCli} from '../helpers/cli.js'
import {nonApex, startEndpoint} from '../helpers/route53.js'
import {seededRandom} from '../helpers/seed.js'

const ipOf = (i: number): string => `10.20.${Math.floor(i / 200)}.${(i % 200) + 1}`
const hostOf = (ip: string): string => `${ip.replaceAll('.', '-')}.example.com`

describe('route53 concurrency', () => {
  it('50 concurrent joins with 15% faults at 5 req/s lose nothing; 50 leaves clean up', async () => {
    const random = seededRandom('route53-concurrency faults')
    const ep = await startEndpoint({rate: 5, faultRate: 0.15, random})
    try {
      const ips = Array.from({length: 50}, (_, i) => ipOf(i))
      const common = ['--provider', 'route53', '--zone', 'example.com', '--zone-id', ep.zoneId, '-s', '_v1._web._tcp', '--timeout', '150']
      const joins = await Promise.all(ips.map((ip) => runCli(['join', ...common, '-p', '8080', '--ip', ip], {env: ep.env(), timeoutMs: 170_000})))
      joins.forEach((j, i) => assert.equal(j.exitCode, 0, `join ${ips[i]}: ${j.stderr}`))
      const faults = ep.fake.log.filter((e) => e.fault && e.fault !== 'throttled-by-bucket').length
      assert.ok(faults > 0, 'faults were injected')
      const srv = ep.fake.records(ep.zoneId).filter((r) => r.type === 'SRV').map((r) => r.value).sort()
      assert.deepEqual(srv, ips.map((ip) => `0 0 8080 ${hostOf(ip)}.`).sort(), 'every registration is present')
      assert.deepEqual(checkInvariants('example.com', ep.fake.records(ep.zoneId)), [])

      const leaves = await Promise.all(ips.map((ip) => runCli(['leave', ...common, '--ip', ip], {env: ep.env(), timeoutMs: 170_000})))
      leaves.forEach((l, i) => assert.equal(l.exitCode, 0, `leave ${ips[i]}: ${l.stderr}`))
      assert.deepEqual(nonApex(ep), [], 'only SOA and NS remain')
    } finally {
      await ep.stop()
    }
  })

  it('SIGKILL of joins and leaves at random moments (60 trials) never breaks the invariants', async () => {
    const random = seededRandom('route53-concurrency kills')
    const ep = await startEndpoint({faultRate: 0.1, random})
    try {
      const ips = Array.from({length: 12}, (_, i) => ipOf(100 + i))
      const services = ['_v1._web._tcp', '_http._tcp']
      const args = (action: string, ip: string, service: string): string[] => [
        action,
        '--provider', 'route53', '--zone', 'example.com', '--zone-id', ep.zoneId,
        '-s', service, '--ip', ip, '--a-record', 'www', '--timeout', '20',
        ...(action === 'join' ? ['-p', '8080'] : []),
      ]
      const killed = (argv: string[], afterMs: number): Promise<void> =>
        new Promise((resolve) => {
          const child = spawn(process.execPath, [BIN, ...argv], {env: ep.env(), stdio: 'ignore'})
          const timer = setTimeout(() => child.kill('SIGKILL'), afterMs)
          child.on('close', () => {
            clearTimeout(timer)
            resolve()
          })
        })
      for (let batch = 0; batch < 6; batch++) {
        await Promise.all(
          ips.slice(0, 10).map((_, k) => {
            const ip = ips[(batch * 7 + k) % ips.length]!
            const service = services[(batch + k) % 2]!
            const action = random() < 0.6 ? 'join' : 'leave'
            return killed(args(action, ip, service), 300 + random.int(2200))
          }),
        )
        assert.deepEqual(checkInvariants('example.com', ep.fake.records(ep.zoneId)), [], `after batch ${batch} (seed ${random.seed})`)
      }
      // Whatever the kills left, leaving everything removes everything.
      ep.fake.options.faultRate = 0
      const cleanups = await Promise.all(ips.flatMap((ip) => services.map((s) => runCli(args('leave', ip, s), {env: ep.env()}))))
      cleanups.forEach((c) => assert.equal(c.exitCode, 0, c.stderr))
      assert.deepEqual(nonApex(ep), [])
    } finally {
      await ep.stop()
    }
  })
})
