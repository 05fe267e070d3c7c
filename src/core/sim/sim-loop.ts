// The simulation's event loop over a run state (sim-state.ts): replayed resolutions, heap events
// (batch finishes, hops arriving, batch delays ending, replicas activating, the controller's ticks
// and timeline samples) and arrivals, in the canonical order the estimator's header describes,
// until every query completes or the run is certain to miss its SLO.
import { activationDue, controlTick, nextTick, retireDrained, sampleTimeline } from './closed-loop-events.js';
import { dispatch, enqueue, finishStage, replayResolved, sendHop } from './sim-events.js';
import type { SimulationRecord } from './sim-record.js';
import { DRAINING, IDLE } from './sim-state.js';
import type { SimState } from './sim-state.js';
import type { Controller } from './estimate-types.js';

/** Runs the events of `st` to the end (a closed loop when a controller is given). */
export function runEvents(st: SimState, controller: Controller | undefined): void {
  const { n, heap, arrivalMs, R, FORM, TICK, formAt } = st;
  if (controller && n > 0) {
    heap.push(nextTick(controller, st.firstArrival), TICK);
    heap.push(st.firstArrival + st.sampleMs, st.SAMPLE);
  }
  const replayIdx = st.laidOut?.idx;
  const replayRank = st.laidOut?.groupRank;
  const replayCount = st.laidOut?.idx.length ?? 0;
  const resolvedAt = (st.from as SimulationRecord | undefined)?.resolvedAt;
  let ri = 0;
  let ai = 0;
  while ((ai < n || heap.size > 0 || ri < replayCount) && st.missed <= st.allowedMisses) {
    if (ri < replayCount) {
      // A replayed resolution takes its place among equal-time events by its stage's rank (a
      // skip by the rank of the resolution that caused it), and goes before arrivals.
      const idx = (replayIdx as Int32Array)[ri] as number;
      const t = (resolvedAt as Float64Array)[idx] as number;
      if ((heap.size === 0 || t < heap.peekTime() || (t === heap.peekTime() && ((replayRank as Int32Array)[ri] as number) < heap.peekRank()))
        && (ai >= n || t <= (arrivalMs[ai] as number))) {
        ri++;
        st.lastTime = t;
        replayResolved(st, idx, t);
        continue;
      }
    }
    if (heap.size > 0 && (ai >= n || heap.peekTime() <= (arrivalMs[ai] as number))) {
      const now = heap.peekTime();
      const ev = heap.pop();
      if (ev >= 0 && ev < R) {
        st.lastTime = now;
        finishBatch(st, ev, now);
      } else if (ev < 0) {
        st.lastTime = now;
        const idx = -ev - 1;
        const q = (idx / st.S) | 0;
        enqueue(st, q, idx - q * st.S, now);
      } else if (ev >= FORM) {
        const s = ev - FORM;
        if (formAt[s] === now) {
          formAt[s] = -1;
          dispatch(st, s, now);
        }
      } else if (ev < TICK) {
        activationDue(st, ev - R, now);
      } else if (st.completed < n && controller) {
        if (ev === TICK) controlTick(st, controller, now);
        else sampleTimeline(st, now);
      }
    } else {
      arriveQuery(st, ai++, controller);
    }
  }
}

/** Replica r's batch finished now: the replica is freed (or retired), then each query finishes the stage. */
function finishBatch(st: SimState, r: number, now: number): void {
  const S = st.S;
  const s = st.stageOf[r] as number;
  const bo = st.batchOffset[r] as number;
  const k = st.batchLen[r] as number;
  const batchBuf = st.batchBuf;
  st.inService[s] = (st.inService[s] as number) - k;
  if (st.hopVaries) st.inFlight[s] = (st.inFlight[s] as number) - k;
  // Free the replica first: queries finishing here never re-enter stage s (a DAG).
  if (st.state[r] === DRAINING) {
    retireDrained(st, r, s, now);
  } else {
    st.state[r] = IDLE;
    st.busyCount[s] = (st.busyCount[s] as number) - 1;
    st.freeStack[(st.replicaBase[s] as number) + (st.freeCount[s] as number)] = r;
    st.freeCount[s] = (st.freeCount[s] as number) + 1;
  }
  const visitLog = st.visitLog;
  if (visitLog) {
    const log = visitLog[s] as number[];
    const { readyAt, hopOfVisit } = st;
    for (let i = 0; i < k; i++) {
      const idx = (batchBuf[bo + i] as number) * S + s;
      log.push(now - (readyAt[idx] as number) + (hopOfVisit !== undefined ? (hopOfVisit[idx] as number) : (st.hopMs[s] as number)));
    }
  }
  for (let i = 0; i < k; i++) finishStage(st, batchBuf[bo + i] as number, s, now);
  dispatch(st, s, now);
}

/** Query q arrives: it is sent to every root stage simulated (its hop first). */
function arriveQuery(st: SimState, q: number, controller: Controller | undefined): void {
  const now = st.arrivalMs[q] as number;
  st.lastTime = now;
  if (now > (st.doneAt[q] as number)) st.doneAt[q] = now;
  if (controller) {
    controller.observeArrival(now);
    st.arrivalsSinceTick++;
    st.arrivalsSinceSample++;
  }
  const { S, sendsAtArrival, hopVaries, hopMs } = st;
  for (let s = 0; s < S; s++) {
    if (!sendsAtArrival[s]) continue;
    const h = hopVaries ? sendHop(st, q, s) : (hopMs[s] as number);
    if (h > 0) {
      const idx = q * S + s;
      st.readyAt[idx] = now + h;
      st.heap.push(now + h, -idx - 1, st.rank[s] as number);
    } else {
      enqueue(st, q, s, now);
    }
  }
}
