/**
 * How a plan is cut into Cloudflare batches (src/providers/cloudflare-batches.ts):
 * the limit holds with the guards counted, the order is the plan's, each
 * batch consumes the guards the one before wrote, and a guard stays exactly
 * while its name holds dnssd values. Random plans print their seed.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {InputError} from '../../src/core/errors.js'
import {type BatchOp, type Chunk, ChunkTooSmall, RESERVE, chunkPlan} from '../../src/providers/cloudflare-batches.js'
import {MAX_BATCH_SIZE, MIN_BATCH_SIZE, parseBatchSize} from '../../src/providers/cloudflare-records.js'
import {seededRandom} from '../helpers/seed.js'

const post = (name: string): BatchOp => ({name, kind: 'post'})
const del = (name: string): BatchOp => ({name, kind: 'delete'})

/**
 * Replays the chunks against a model of the zone: guard records and dnssd
 * records per name. Fails on anything a real batch would get wrong.
 */
function replay(ops: readonly BatchOp[], shared: Set<string>, guards0: Map<string, number>, marked0: Map<string, number>, size: number, chunks: Chunk[]): void {
  const guards = new Map(guards0)
  const marked = new Map(marked0)
  const seen: number[] = []
  let previousWrites: string[] = []
  for (const c of chunks) {
    assert.ok(c.size <= size, `a batch of ${c.size} operations, limit ${size}`)
    assert.ok(c.ops.length > 0, 'every batch carries a change')
    const expectChained = previousWrites.filter((n) => !c.guarded.includes(n))
    assert.deepEqual([...c.chained].sort(), expectChained.sort(), 'consumes exactly the guards the batch before wrote')
    let operations = 0
    for (const i of c.ops) {
      const op = ops[i]!
      marked.set(op.name, (marked.get(op.name) ?? 0) + (op.kind === 'post' ? 1 : -1))
      operations++
    }
    for (const name of [...c.guarded, ...c.chained]) {
      assert.equal(c.guardDeletes.get(name), guards.get(name) ?? 0, `deletes every guard of ${name}`)
      operations += guards.get(name) ?? 0
      const keeps = (marked.get(name) ?? 0) > 0
      assert.equal(c.writes.includes(name) || c.chained.includes(name), keeps, `${name}: a guard is written iff the name keeps values`)
      guards.set(name, keeps ? 1 : 0)
      if (keeps) operations++
    }
    assert.ok(c.guarded.every((n) => shared.has(n)) && c.ops.every((i) => !shared.has(ops[i]!.name) || c.guarded.includes(ops[i]!.name)), 'every shared name changed is guarded')
    assert.equal(c.size, operations, 'the size counts every operation sent')
    assert.ok(2 * c.guarded.length + RESERVE <= size || c.guarded.length === 1, 'room for the next batch')
    seen.push(...c.ops)
    previousWrites = c.writes
  }
  assert.deepEqual(seen, ops.map((_, i) => i), 'every operation once, in plan order')
  for (const name of shared) assert.equal(guards.get(name) ?? 0, (marked.get(name) ?? 0) > 0 ? 1 : 0, `${name}: a guard while it holds values`)
}

describe('cloudflare batches', () => {
  it('a plan within one batch is one batch; guards count as operations', () => {
    const ops = [post('_dnssd.h'), post('h'), post('_dnssd.h'), post('i'), post('i'), post('t')]
    const shared = new Set(['_dnssd.h', 'i', 't'])
    const chunks = chunkPlan({ops, shared, guards: new Map(), marked: new Map(), size: 200})
    assert.equal(chunks.length, 1)
    assert.deepEqual(chunks[0]!.writes, ['_dnssd.h', 'i', 't'])
    assert.equal(chunks[0]!.size, 6 + 3)
  })

  it('at the least size (5) every batch still makes progress, and the chain is consumed', () => {
    const ops = [post('m1'), post('m1'), post('m2'), post('a'), post('a'), del('m3')]
    const shared = new Set(['m1', 'm2', 'm3'])
    const guards = new Map([['m3', 1]])
    const marked = new Map([['m3', 1]])
    const chunks = chunkPlan({ops, shared, guards, marked, size: MIN_BATCH_SIZE})
    replay(ops, shared, guards, marked, MIN_BATCH_SIZE, chunks)
    assert.deepEqual(chunks.map((c) => c.ops), [[0, 1], [2, 3], [4], [5]])
    assert.deepEqual(chunks[1]!.chained, ['m1'], 'the second batch deletes and rewrites the guard the first wrote')
    assert.deepEqual(chunks[3]!.writes, [], 'm3 holds nothing any more: its guard goes')
  })

  it('a name with more guard records than a batch has room for is refused with the size it needs', () => {
    assert.throws(
      () => chunkPlan({ops: [del('x')], shared: new Set(['x']), guards: new Map([['x', 4]]), marked: new Map([['x', 2]]), size: 5}),
      (e: unknown) => e instanceof ChunkTooSmall && e.needed === 6,
    )
  })

  it('random plans: limit, order, chain and guards hold at every size', () => {
    const random = seededRandom('cloudflare batches')
    for (let round = 0; round < 300; round++) {
      const names = Array.from({length: 1 + random.int(30)}, (_, i) => `n${i}`)
      const shared = new Set(names.filter(() => random() < 0.6))
      const marked = new Map<string, number>()
      const guards = new Map<string, number>()
      for (const n of names) {
        const m = random.int(3)
        marked.set(n, m)
        if (shared.has(n) && m > 0) guards.set(n, 1)
      }
      const live = new Map(marked)
      const ops: BatchOp[] = []
      for (let k = random.int(120); k > 0; k--) {
        const name = names[random.int(names.length)]!
        const canDelete = (live.get(name) ?? 0) > 0
        const kind = canDelete && random() < 0.4 ? 'delete' : 'post'
        live.set(name, (live.get(name) ?? 0) + (kind === 'post' ? 1 : -1))
        ops.push({name, kind})
      }
      const size = [MIN_BATCH_SIZE, 6, 7, 10, 20, 200][random.int(6)]!
      replay(ops, shared, guards, marked, size, chunkPlan({ops, shared, guards, marked, size}))
    }
  })

  it('--batch-size: 5-3500 whole operations, one line naming the rule', () => {
    assert.equal(parseBatchSize('200'), 200)
    assert.equal(parseBatchSize(' 3500 '), MAX_BATCH_SIZE)
    assert.equal(parseBatchSize('5'), MIN_BATCH_SIZE)
    for (const bad of ['4', '0', '3501', '1e3', '-1', '2.5', 'x', '']) {
      assert.throws(() => parseBatchSize(bad), (e: unknown) => e instanceof InputError && /^--batch-size: .*give 5-3500 operations per batch/.test(e.message), bad)
    }
  })
})
