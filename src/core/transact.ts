/**
 * The read -> plan loop every provider runs inside its own unit of work
 * (a lock, a compare-and-swap retry, ...). The planner may ask for more names
 * once it has seen the marker; this loop reads them and plans again.
 */
import {type Change, ZoneState} from './records.js'
import {type Planner} from './planner.js'

export interface PlanOutcome {
  state: ZoneState
  changes: Change[]
  notes: string[]
}

export async function readAndPlan(
  read: (names: string[]) => Promise<ZoneState>,
  names: readonly string[],
  plan: Planner,
): Promise<PlanOutcome> {
  let state = await read([...names])
  for (let round = 0; round < 5; round++) {
    const step = plan(state)
    if ('changes' in step) return {state, changes: step.changes, notes: step.notes}
    state = state.merge(await read(step.need))
  }
  throw new Error('the planner kept asking for more names; this is a bug in dnssd')
}
