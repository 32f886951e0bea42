/** Drive a unit of Work against an in-memory ZoneState, as a provider would. */
import {type Work} from '../../src/core/planner.js'
import {type Change, ZoneState} from '../../src/core/records.js'

/** A whole-zone state answers the plan in one step; a request for more names is a planner bug. */
export function runPlan(state: ZoneState, mp: Work): {changes: Change[]; notes: string[]} {
  const step = mp.plan(state)
  if (!('changes' in step)) throw new Error(`planner asked for names not in a whole-zone state: ${step.need.join(', ')}`)
  state.apply(step.changes)
  return step
}

export function records(state: ZoneState): {name: string; type: string; value: string}[] {
  return state.rrsets().flatMap((s) => s.values.map((value) => ({name: s.name, type: s.type, value})))
}
