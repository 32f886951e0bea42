/**
 * Crash safety of the file provider: processes killed at random moments never
 * corrupt the zone or break the invariants, and the lock directory of an older
 * dnssd (proper-lockfile) is taken over once it is no longer refreshed, while
 * a refreshed one is waited for. (The current lock: file-lock.test.ts.)
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdir, readFile, readdir, utimes} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {checkInvariants} from '../../src/core/invariants.js'
import {parseZoneFile} from '../../src/core/zonefile.js'
import {BIN, cleanEnv, runCli, tempDir} from '../helpers/cli.js'
import {seededRandom} from '../helpers/seed.js'

const Z = 'crash.example'

describe('file provider under SIGKILL', () => {
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => ({path: dir, cleanup} = await tempDir()))
  after(() => cleanup())

  it('joins and leaves killed at random moments leave a valid zone', async () => {
    const env = cleanEnv({DNSSD_DATA_DIR: dir, DNSSD_ZONE: Z})
    const random = seededRandom('file-crash')
    for (let round = 0; round < 3; round++) {
      const children = Array.from({length: 12}, (_, i) => {
        const verb = (i + round) % 3 === 0 ? 'leave' : 'join'
        const child = spawn(process.execPath, [BIN, verb, '-s', '_v1._web._tcp', '-p', '80', '--ip', `10.3.0.${(i % 6) + 1}`], {env, stdio: 'ignore'})
        const done = new Promise<void>((resolve) => child.on('close', () => resolve()))
        setTimeout(() => child.kill('SIGKILL'), 100 + random.int(600))
        return done
      })
      await Promise.all(children)
    }
    // Whatever was interrupted, the next commands complete and converge.
    const final = await runCli(['join', '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.3.0.99'], {env, timeoutMs: 20_000})
    assert.equal(final.exitCode, 0, `${final.stderr} (seed ${random.seed})`)
    const records = parseZoneFile(await readFile(join(dir, `${Z}.zone`), 'utf8'), Z).records
    assert.deepEqual(checkInvariants(Z, records), [], `seed ${random.seed}`)
    // The next writer removed the temp copies and the lock the killed ones left.
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith(`${Z}.zone.`)), [])
    for (let i = 1; i <= 6; i++) {
      const r = await runCli(['leave', '-s', '_v1._web._tcp', '--ip', `10.3.0.${i}`], {env})
      assert.equal(r.exitCode, 0, r.stderr)
    }
    await runCli(['leave', '-s', '_v1._web._tcp', '--ip', '10.3.0.99'], {env})
    const left = parseZoneFile(await readFile(join(dir, `${Z}.zone`), 'utf8'), Z).records
    assert.deepEqual(left.map((r) => r.type).sort(), ['NS', 'SOA'])
  })

  it('an older dnssd\'s lock directory left by a killed process is taken over', async () => {
    const zone = 'stale.example'
    const lock = join(dir, `${zone}.zone.lock`)
    await mkdir(lock, {recursive: true})
    const old = new Date(Date.now() - 60_000)
    await utimes(lock, old, old)
    // Exit 0, not 5: it took the lock over instead of waiting out --timeout.
    const r = await runCli(['join', '-z', zone, '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.4.0.1', '--data-dir', dir, '--timeout', '10'])
    assert.equal(r.exitCode, 0, r.stderr)
  })

  it('an older dnssd\'s lock directory, kept fresh past the deadline, gives exit 5', async () => {
    const zone = 'held.example'
    const lock = join(dir, `${zone}.zone.lock`)
    await mkdir(lock, {recursive: true})
    // Keep the lock fresh, as a live holder would.
    const keeper = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 200)
    try {
      const r = await runCli(['join', '-z', zone, '-s', '_v1._web._tcp', '-p', '80', '--ip', '10.4.0.2', '--data-dir', dir, '--timeout', '1.5'])
      assert.equal(r.exitCode, 5, r.stderr)
      assert.match(r.stderr, /could not lock .*held\.example\.zone before the deadline/)
    } finally {
      clearInterval(keeper)
    }
  })
})
