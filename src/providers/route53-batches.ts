/**
 * One plan -> as few Route 53 change batches as the per-request limits allow
 * (pure; reference §3.6: at most 1,000 ResourceRecord values and 32,000
 * characters of Value text in one request, DELETE and CREATE both counted).
 *
 * Every touched RRset is swapped as DELETE(exactly as it stands) +
 * CREATE(new values), and both halves always travel in the same batch: that
 * pair is the compare-and-swap of the set, so a concurrent writer makes the
 * batch fail instead of being overwritten.
 *
 * Order. The planner's phases (planner.ts phaseOf) say which changes must
 * exist before which: claims, then addresses, then TXT, SRV, PTR; removals
 * in the reverse. Batches are filled in phase order, so whatever batch is
 * the last one applied, the zone holds a prefix of the plan in phase order,
 * which the planner made safe: no SRV before its address and claim, none
 * after its address is gone.
 *
 * An RRset whose changes span two phases (a marker that gains a claim in
 * phase 0 and loses a ref in phase 6; a PTR set that loses an instance in
 * phase 2 and gains one in phase 4) is written in one step per phase. When
 * both steps land in the same batch they are merged into one swap (the
 * batch is atomic, so nobody can see the state between the phases); when a
 * batch boundary falls between them, each step is its own swap in its own
 * batch, the later one replacing what the earlier one wrote.
 *
 * A step that does not fit an empty batch (a pool so large that its SRV set
 * as it is plus as it becomes is past the limits) cannot be split without
 * losing the compare-and-swap or publishing half a pool, so the whole plan
 * is refused before anything is sent.
 */
import {byPhase} from '../core/planner.js'
import {type Change, type RecordType} from '../core/records.js'
import {ROUTE53_LIMITS, nameToWire, valueToWire} from './route53-wire.js'

/** An RRset as Route 53 holds it: wire values exactly as listed (a DELETE must repeat them), and dnssd's canonical values. */
export interface SetNow {
  ttl: number
  wire: string[]
  values: string[]
}

export interface WireChange {
  Action: 'DELETE' | 'CREATE'
  ResourceRecordSet: {Name: string; Type: RecordType; TTL: number; ResourceRecords: {Value: string}[]}
}

export interface Batch {
  /** The plan's changes this batch carries (what is applied once it is accepted). */
  changes: Change[]
  /** The ChangeBatch's Changes, in order. */
  wire: WireChange[]
  values: number
  characters: number
}

export type Split = {batches: Batch[]} | {refused: string}

export interface Limits {
  valuesPerBatch: number
  charactersPerBatch: number
  valuesPerSet: number
}

interface Swap {
  before?: SetNow
  after?: SetNow
  values: number
  characters: number
}

interface Entry {
  name: string
  type: RecordType
  before?: SetNow
  changes: Change[]
  swap: Swap
}

const chars = (wire: readonly string[]): number => wire.reduce((n, v) => n + v.length, 0)

/** The set after `changes`, reusing the wire form of values it keeps. */
function swapOf(type: RecordType, before: SetNow | undefined, changes: readonly Change[]): Swap {
  let values = [...(before?.values ?? [])]
  for (const c of changes) {
    if (c.action === 'add') {
      if (!values.includes(c.value)) values.push(c.value)
    } else values = values.filter((v) => v !== c.value)
  }
  const wire: string[] = []
  const kept = new Set<string>()
  before?.values.forEach((v, i) => {
    if (values.includes(v) && !kept.has(v) && !wire.includes(before.wire[i]!)) {
      wire.push(before.wire[i]!)
      kept.add(v)
    }
  })
  for (const v of values) if (!kept.has(v)) wire.push(valueToWire(type, v))
  const ttl = before?.ttl ?? changes[0]!.ttl
  const after = wire.length > 0 ? {ttl, wire, values} : undefined
  return {
    before,
    after,
    values: (before?.wire.length ?? 0) + wire.length,
    characters: chars(before?.wire ?? []) + chars(wire),
  }
}

function wireOf(e: Entry): WireChange[] {
  const Name = nameToWire(e.name)
  const out: WireChange[] = []
  const {before, after} = e.swap
  if (before) out.push({Action: 'DELETE', ResourceRecordSet: {Name, Type: e.type, TTL: before.ttl, ResourceRecords: before.wire.map((Value) => ({Value}))}})
  if (after) out.push({Action: 'CREATE', ResourceRecordSet: {Name, Type: e.type, TTL: after.ttl, ResourceRecords: after.wire.map((Value) => ({Value}))}})
  return out
}

/**
 * Why one RRset's swap can never be sent, or undefined. Its DELETE and
 * CREATE must share a batch, so with SRV values of L characters a pool of N
 * members fits while 2N - 1 <= 1,000, (2N - 1) x L <= 32,000 and N <= 400.
 */
function tooLarge(name: string, type: RecordType, s: Swap, limits: Limits): string | undefined {
  const set = `${nameToWire(name)} ${type}`
  const holds = s.after?.wire.length ?? 0
  if (holds > limits.valuesPerSet) return `${set} would hold ${holds} values; Route 53 allows at most ${limits.valuesPerSet} in one record set`
  if (s.values > limits.valuesPerBatch || s.characters > limits.charactersPerBatch) {
    return (
      `${set} would need ${s.values} values and ${s.characters} characters in one change batch (the record set as it is, then as it becomes); ` +
      `Route 53 allows at most ${limits.valuesPerBatch} values and ${limits.charactersPerBatch} characters in one change batch`
    )
  }
  return undefined
}

/**
 * Split `changes` (a plan against the sets `current` returns) into batches.
 * `current` gives an RRset as read, or undefined when absent.
 */
export function splitIntoBatches(changes: readonly Change[], current: (name: string, type: RecordType) => SetNow | undefined, limits: Limits = ROUTE53_LIMITS): Split {
  // 1. One step per RRset and phase, in phase order (stable: the plan's own order within a phase).
  const steps: {key: string; name: string; type: RecordType; changes: Change[]}[] = []
  const stepAt = new Map<string, (typeof steps)[number]>()
  for (const {change: c, phase: p} of byPhase(changes)) {
    const key = `${c.name} ${c.type}`
    let step = stepAt.get(`${key}|${p}`)
    if (!step) {
      step = {key, name: c.name, type: c.type, changes: []}
      stepAt.set(`${key}|${p}`, step)
      steps.push(step)
    }
    step.changes.push(c)
  }

  // 2. Fill batches in that order. `now` is each set as the batches so far leave it.
  const now = new Map<string, SetNow | undefined>()
  const setNow = (key: string, name: string, type: RecordType): SetNow | undefined => (now.has(key) ? now.get(key) : current(name, type))
  const batches: {entries: Map<string, Entry>; values: number; characters: number}[] = []
  const fits = (b: {values: number; characters: number}, values: number, characters: number): boolean =>
    b.values + values <= limits.valuesPerBatch && b.characters + characters <= limits.charactersPerBatch
  for (const step of steps) {
    const open = batches.at(-1)
    const entry = open?.entries.get(step.key)
    if (open && entry) {
      // The set already changes in this batch (an earlier phase): one swap from its state before the batch.
      const merged = swapOf(step.type, entry.before, [...entry.changes, ...step.changes])
      if (!tooLarge(step.name, step.type, merged, limits) && fits(open, merged.values - entry.swap.values, merged.characters - entry.swap.characters)) {
        open.values += merged.values - entry.swap.values
        open.characters += merged.characters - entry.swap.characters
        entry.changes.push(...step.changes)
        entry.swap = merged
        now.set(step.key, merged.after)
        continue
      }
    }
    const before = setNow(step.key, step.name, step.type)
    const swap = swapOf(step.type, before, step.changes)
    if (!swap.before && !swap.after) continue
    const problem = tooLarge(step.name, step.type, swap, limits)
    if (problem) return {refused: problem}
    let target = open
    if (!target || entry || !fits(target, swap.values, swap.characters)) {
      target = {entries: new Map(), values: 0, characters: 0}
      batches.push(target)
    }
    target.entries.set(step.key, {name: step.name, type: step.type, before, changes: [...step.changes], swap})
    target.values += swap.values
    target.characters += swap.characters
    now.set(step.key, swap.after)
  }
  return {
    batches: batches.filter((b) => b.values > 0).map((b) => {
      const entries = [...b.entries.values()]
      return {changes: entries.flatMap((e) => e.changes), wire: entries.flatMap(wireOf), values: b.values, characters: b.characters}
    }),
  }
}
