import assert from 'node:assert/strict'
import {randomInt} from 'node:crypto'
import {describe, it} from 'node:test'
import {type RandomInt, type Weighted, isNoServiceTarget, orderByPriorityWeight, shuffleByWeight} from '../../src/core/selection.js'

interface T extends Weighted {
  id: string
}

const rec = (id: string, priority: number, weight: number): T => ({id, priority, weight})

/** A random source that returns the scripted draws in turn, checking each is in range. */
function scripted(draws: number[]): RandomInt {
  let i = 0
  return (n) => {
    const d = i < draws.length ? draws[i]! : 0
    i++
    assert.ok(d >= 0 && d < n, `scripted draw ${d} out of 0..${n - 1}`)
    return d
  }
}

/** Chi-square statistic of observed counts against expected proportions. */
function chiSquare(observed: number[], expected: number[]): number {
  const n = observed.reduce((a, b) => a + b, 0)
  return observed.reduce((sum, o, i) => sum + (o - n * expected[i]!) ** 2 / (n * expected[i]!), 0)
}

// Critical values at p = 1e-6 (reference/dns.md C.2).
const CRITICAL = {1: 23.93, 2: 27.63}

describe('RFC 2782 selection (exact w/W)', () => {
  it('every first draw 0..W-1 picks each record exactly w times', () => {
    for (const weights of [[10, 30, 60], [0, 10, 90], [1, 1], [5, 0, 0, 7]]) {
      const group = weights.map((w, i) => rec(`r${i}`, 0, w))
      const total = weights.reduce((a, b) => a + b, 0)
      const counts = new Map<string, number>()
      for (let n = 0; n < total; n++) {
        const first = shuffleByWeight(group, scripted([n]))[0]!
        counts.set(first.id, (counts.get(first.id) ?? 0) + 1)
      }
      weights.forEach((w, i) => assert.equal(counts.get(`r${i}`) ?? 0, w, `weights ${weights}: r${i}`))
    }
  })

  it('the whole order has probability w1/W * w2/(W-w1) ... (enumerated)', () => {
    const weights = [10, 30, 60]
    const group = weights.map((w, i) => rec(`r${i}`, 0, w))
    const prob = new Map<string, number>()
    for (let a = 0; a < 100; a++) {
      const firstW = shuffleByWeight(group, scripted([a]))[0]!.weight
      for (let b = 0; b < 100 - firstW; b++) {
        const order = shuffleByWeight(group, scripted([a, b])).map((r) => r.id).join('')
        prob.set(order, (prob.get(order) ?? 0) + (1 / 100) * (1 / (100 - firstW)))
      }
    }
    const w = Object.fromEntries(group.map((r) => [r.id, r.weight]))
    for (const [order, p] of prob) {
      const [x, y] = [order.slice(0, 2), order.slice(2, 4)]
      const expected = (w[x]! / 100) * (w[y]! / (100 - w[x]!))
      assert.ok(Math.abs(p - expected) < 1e-12, `${order}: ${p} vs ${expected}`)
    }
    assert.equal(prob.size, 6)
  })

  it('weight-0 records come after every positive weight, and an all-zero group is a uniform shuffle', () => {
    const group = [rec('z1', 0, 0), rec('a', 0, 3), rec('z2', 0, 0), rec('b', 0, 1)]
    for (let n = 0; n < 4; n++) {
      const order = shuffleByWeight(group, scripted([n, 0, 0])).map((r) => r.id)
      assert.deepEqual(new Set(order.slice(2)), new Set(['z1', 'z2']))
    }
    const zeros = [rec('a', 0, 0), rec('b', 0, 0), rec('c', 0, 0)]
    const seen = new Set<string>()
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) seen.add(shuffleByWeight(zeros, scripted([i, j])).map((r) => r.id).join(''))
    assert.equal(seen.size, 6, 'Fisher-Yates over all draws yields every permutation once')
  })

  it('orders priorities ascending and keeps every record', () => {
    const records = [rec('p2', 2, 5), rec('p0a', 0, 1), rec('p1', 1, 0), rec('p0b', 0, 9), rec('p0c', 0, 0)]
    for (let k = 0; k < 200; k++) {
      const out = orderByPriorityWeight(records, (n) => randomInt(n))
      assert.deepEqual(out.map((r) => r.priority), [0, 0, 0, 1, 2])
      assert.deepEqual(new Set(out.map((r) => r.id)), new Set(records.map((r) => r.id)))
      assert.equal(out[2]!.id, 'p0c', 'the weight-0 record of priority 0 is last in its group')
    }
  })

  it('rejects a random source that returns out-of-range draws', () => {
    assert.throws(() => shuffleByWeight([rec('a', 0, 1), rec('b', 0, 1)], () => 2), /random source/)
  })

  it('"." is the no-service target', () => {
    assert.equal(isNoServiceTarget('.'), true)
    assert.equal(isNoServiceTarget('host.example.com'), false)
  })

  const draws = 30_000
  for (const weights of [[10, 30, 60], [0, 10, 90]]) {
    it(`chi-square at p=1e-6 over ${draws} draws: weights ${weights.join('/')}`, () => {
      const group = weights.map((w, i) => rec(`r${i}`, 0, w))
      const counts = weights.map(() => 0)
      for (let k = 0; k < draws; k++) counts[Number(orderByPriorityWeight(group, (n) => randomInt(n))[0]!.id.slice(1))]!++
      const positive = weights.map((w, i) => [w, counts[i]!] as const).filter(([w]) => w > 0)
      weights.forEach((w, i) => w === 0 && assert.equal(counts[i], 0, 'a weight-0 record is never first'))
      const total = positive.reduce((s, [w]) => s + w, 0)
      const chi2 = chiSquare(positive.map(([, c]) => c), positive.map(([w]) => w / total))
      const df = (positive.length - 1) as 1 | 2
      assert.ok(chi2 < CRITICAL[df], `chi2 ${chi2.toFixed(2)} >= ${CRITICAL[df]} (df ${df}); counts ${counts}`)
    })
  }

  it('the same chi-square check rejects the literal RFC text (draw 0..W inclusive)', () => {
    // Proves the statistical test has the power to see the bias it guards against.
    const literal = (weights: number[]): number => {
      const total = weights.reduce((a, b) => a + b, 0)
      const draw = randomInt(total + 1)
      let running = 0
      for (let i = 0; i < weights.length; i++) {
        running += weights[i]!
        if (running >= draw) return i
      }
      return weights.length - 1
    }
    const counts = [0, 0]
    for (let k = 0; k < draws; k++) counts[literal([1, 1])]!++
    assert.ok(chiSquare(counts, [0.5, 0.5]) > CRITICAL[1])
  })
})
