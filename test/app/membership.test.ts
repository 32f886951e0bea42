/**
 * The app layer in-process (src/app/): typed requests in, typed results out,
 * no CLI and no oclif. Many members run concurrently in one process, as the
 * fleet benchmark does, on the embedded file provider.
 */
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {join as pathJoin} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {list} from '../../src/app/list.js'
import {join, leave} from '../../src/app/membership.js'
import {reap} from '../../src/app/reap.js'
import {type MembershipRequest} from '../../src/app/request.js'
import {Deadline} from '../../src/core/deadline.js'
import {DeadlineError} from '../../src/core/errors.js'
import {checkStateInvariants} from '../../src/core/invariants.js'
import {memberForJoin, memberForLeave} from '../../src/core/membership.js'
import {openRegistry} from '../../src/registry/open.js'
import {type RegistryOptions, parseRegistryUrl} from '../../src/registry/registry.js'
import {zoneStateOf} from '../../src/providers/file.js'
import {parseZoneFile} from '../../src/core/zonefile.js'
import {tempDir} from '../helpers/cli.js'

const ZONE = 'app.example'
const SERVICE = '_v1._web._tcp'

describe('app layer, in-process', () => {
  let dir: {path: string; cleanup: () => Promise<void>}
  const lines: string[] = []
  const env = {log: (line: string) => void lines.push(line)}
  const request = (action: 'join' | 'leave', ip: string, extra: Partial<MembershipRequest> = {}): MembershipRequest => ({
    action,
    member: (action === 'join' ? memberForJoin : memberForLeave)({zone: ZONE, service: SERVICE, port: 8080, ip}),
    jitterMs: 0,
    dryRun: false,
    wait: false,
    deadline: new Deadline(60),
    provider: {kind: 'file', settings: {dataDir: dir.path}},
    ...extra,
  })
  const zoneState = async () => {
    const path = pathJoin(dir.path, `${ZONE}.zone`)
    return zoneStateOf(parseZoneFile(await readFile(path, 'utf8'), ZONE, path))
  }

  before(async () => {
    dir = await tempDir('dnssd-app-')
  })
  after(async () => {
    await dir.cleanup()
  })

  it('20 concurrent joins in one process: all registered, invariants hold', async () => {
    const ips = Array.from({length: 20}, (_, i) => `10.1.0.${i + 1}`)
    const results = await Promise.all(ips.map((ip) => join(request('join', ip), env)))
    assert.ok(results.every((r) => r.applied && r.provider === 'file' && r.action === 'join'))
    const state = await zoneState()
    assert.equal(state.values(`${SERVICE}.${ZONE}`, 'SRV').length, 20)
    assert.deepEqual(checkStateInvariants(state), [])
    const listed = await list({zone: ZONE, deadline: new Deadline(10), provider: {kind: 'file', settings: {dataDir: dir.path}}}, env)
    assert.equal(listed.services[0]!.instances[0]!.targets.length, 20)
  })

  it('a re-join changes nothing and says so', async () => {
    const r = await join(request('join', '10.1.0.1'), env)
    assert.equal(r.applied, false)
    assert.deepEqual(r.changes, [])
    assert.match(r.notes.join(' '), /already a member/)
  })

  it('20 concurrent leaves: the zone is left without the pool, invariants hold', async () => {
    const ips = Array.from({length: 20}, (_, i) => `10.1.0.${i + 1}`)
    await Promise.all(ips.map((ip) => leave(request('leave', ip), env)))
    const state = await zoneState()
    assert.deepEqual(state.values(`${SERVICE}.${ZONE}`, 'SRV'), [])
    assert.deepEqual(state.values(`_web._tcp.${ZONE}`, 'PTR'), [])
    assert.deepEqual(checkStateInvariants(state), [])
  })

  it('a passed deadline is a DeadlineError that says what may be left behind', async () => {
    await assert.rejects(join(request('join', '10.1.0.99', {deadline: new Deadline(0)}), env), (e: Error) => {
      assert.ok(e instanceof DeadlineError)
      assert.match(e.message, /run the same join again/)
      return true
    })
  })

  it('join with a lease, then reap after it expired, through the same functions', async () => {
    const registry = await tempDir('dnssd-app-reg-')
    try {
      const location = parseRegistryUrl(`file://${registry.path}`)
      const open = (options: RegistryOptions) => openRegistry(location, options)
      const joined = await join(request('join', '10.1.0.50', {lease: {open, seconds: 1}}), env)
      assert.equal(joined.lease?.action, 'written')
      // Wait for the condition itself: the lease's expiry time has passed.
      const expiresAt = Date.parse(joined.lease!.expiresAt!)
      while (Date.now() <= expiresAt) await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 1))
      const result = await reap(
        {
          zone: ZONE,
          registry: location,
          graceMs: 0,
          dryRun: false,
          deadline: new Deadline(30),
          provider: async () => ({kind: 'file', settings: {dataDir: dir.path}}),
        },
        env,
      )
      assert.equal(result.expired, 1)
      assert.equal(result.items[0]!.status, 'removed')
      assert.deepEqual((await zoneState()).values(`${SERVICE}.${ZONE}`, 'SRV'), [])
      assert.deepEqual(checkStateInvariants(await zoneState()), [])
    } finally {
      await registry.cleanup()
    }
  })
})
