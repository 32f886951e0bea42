/**
 * The fleet benchmark (bench/fleet.mjs) at N=10, so it cannot rot: it runs
 * the built app-layer join/leave for every provider, direct and coalesced,
 * with and without injected faults (seeded: DNSSD_TEST_SEED repeats them),
 * and its table must show every member registered (none lost, no dangling
 * SRV target) and every member gone after the leaves (none stale).
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {ROOT, cleanEnv} from '../helpers/cli.js'
import {seededRandom} from '../helpers/seed.js'

type Row = Record<string, string | number>

function runBench(env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'fleet.mjs')], {cwd: ROOT, env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({code, stdout, stderr}))
  })
}

describe('bench/fleet.mjs', () => {
  it('N=10, every provider, direct and coalesced, 0% and 15% faults: 0 lost, 0 stale, 0 dangling, every join and leave exits 0', async () => {
    const seed = seededRandom('fleet bench').seed
    const r = await runBench(
      cleanEnv({
        BENCH_FLEET_N: '10',
        BENCH_FLEET_POOL: '5',
        BENCH_FLEET_PROVIDERS: 'route53,cloudflare,file',
        BENCH_FLEET_MODES: 'direct,coalesced',
        BENCH_FLEET_FAULTS: '0,0.15',
        BENCH_FLEET_CLEAN_S: '30',
        BENCH_SEED: String(seed),
      }),
    )
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`seed ${seed}\\b`))
    const json = r.stdout.split('\n').find((l) => l.startsWith('fleet-json '))
    assert.ok(json, r.stdout)
    const rows = JSON.parse(json.slice('fleet-json '.length)) as Row[]
    // route53 and cloudflare: 2 modes x 2 fault rates; file: 2 modes at 0%; a join and a leave row each.
    assert.equal(rows.length, (2 * 2 * 2 + 2) * 2, r.stdout)
    for (const row of rows) {
      const what = `${row.provider} ${row.mode} ${row.faults} N=${row.N} ${row.phase}: ${JSON.stringify(row)}`
      assert.equal(row.N, 10, what)
      assert.equal(row['exit≠0'], 0, what)
      assert.equal(row['dangling SRV'], 0, what)
      if (row.phase === 'join') assert.equal(row.lost, 0, what)
      else assert.equal(row.stale, 0, what)
      // Coalesced without faults: fewer provider calls for the whole fleet than direct mode needs (2 a member at least).
      if (row.mode === 'coalesced' && row.provider !== 'file' && row.faults === '0%') {
        const calls = Number(String(row['API calls (accepted)']).split(' ')[0])
        assert.ok(calls >= 1 && calls < 2 * 10, what)
      }
    }
    assert.doesNotMatch(r.stdout, /lost, stale or dangling members/)
  })
})
