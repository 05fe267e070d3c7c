// The simulation's event handlers on the run state (sim-state.ts), the hot path: a query sent to a
// stage (its hop), queued there, taken in a batch by a free replica (with the batch delay), and
// when a stage resolves for a query, its outgoing edges routed and joins counted down, the query
// completing once every stage it visits has. Replayed stages resolve here too (sim-record.ts).
import { hashUnit } from '../math/random.js';
import { edgeTaken } from '../model/pipeline.js';
import { serviceFactor } from '../model/profiles.js';
import type { SimulationRecord } from './sim-record.js';
import { RULE_BATCH_START, RULE_PAYLOAD } from './batch-delay.js';
import { BUSY } from './sim-state.js';
import type { SimState } from './sim-state.js';

// A stage with a batch delay and less than a full batch queued: true (and a FORM event set)
// while the delay since its origin has not passed. Kept apart so dispatch stays small.
function holdForDelay(st: SimState, s: number, now: number): boolean {
  let origin: number;
  if (st.delayRule[s] === RULE_BATCH_START) {
    if ((st.formingSince[s] as number) < 0) st.formingSince[s] = now;
    origin = st.formingSince[s] as number;
  } else {
    origin = st.readyAt[(st.queue[s * st.n + (st.qHead[s] as number)] as number) * st.S + s] as number;
  }
  const deadline = origin + (st.delayMs[s] as number);
  if (now >= deadline) return false;
  armForm(st, s, deadline);
  return true;
}

// Stage s's batch delay ends at `deadline`: one FORM event per deadline.
function armForm(st: SimState, s: number, deadline: number): void {
  if (st.formAt[s] !== deadline) {
    st.formAt[s] = deadline;
    st.heap.push(deadline, st.FORM + s, st.rank[s] as number);
  }
}

// Query q is sent to stage s now: it counts as in flight there, and its hop costs what it costs
// with that many in flight.
export function sendHop(st: SimState, q: number, s: number): number {
  const c = (st.inFlight[s] as number) + 1;
  st.inFlight[s] = c;
  const top = st.hopTop[s] as number;
  const h = top === 0 ? (st.hopMs[s] as number) : (st.hopFlat[(st.hopBase[s] as number) + (c < top ? c : top)] as number);
  if (st.hopOfVisit !== undefined) st.hopOfVisit[q * st.S + s] = h;
  return h;
}

/**
 * Starts batches at stage s while it has a free replica and queued queries (and no batch delay
 * holds them). `arrival`: called for a query that just joined the queue (the payload rule's
 * batcher looks only when it wakes).
 */
export function dispatch(st: SimState, s: number, now: number, arrival = false): void {
  if (st.delayRule[s] === RULE_PAYLOAD && (st.delayMs[s] as number) > 0) {
    dispatchPayload(st, s, now, arrival);
    return;
  }
  const { freeCount, qHead, qTail, maxBatch } = st;
  while ((freeCount[s] as number) > 0 && (qHead[s] as number) < (qTail[s] as number)) {
    if ((st.delayMs[s] as number) > 0) {
      if ((qTail[s] as number) - (qHead[s] as number) < (maxBatch[s] as number) && holdForDelay(st, s, now)) return;
      st.formingSince[s] = -1;
    }
    const avail = (qTail[s] as number) - (qHead[s] as number);
    startBatch(st, s, now, avail < (maxBatch[s] as number) ? avail : (maxBatch[s] as number));
  }
}

// The payload rule (batch-delay.ts): the batch at the queue's head is fixed (payloadLen) when its
// delay runs out, whether or not a replica is free; it grows only when the batcher looks (an
// arrival that reaches nextPreferred, a delay running out, the waiting batch starting). A full
// waiting batch takes no more; the next one begins when it starts.
function dispatchPayload(st: SimState, s: number, now: number, arrival: boolean): void {
  const { freeCount, qHead, qTail, maxBatch, payloadLen, nextPreferred } = st;
  const B = maxBatch[s] as number;
  const D = st.delayMs[s] as number;
  if (arrival && (qTail[s] as number) - (qHead[s] as number) - (payloadLen[s] as number) < (nextPreferred[s] as number)) return;
  for (;;) {
    const fixed = payloadLen[s] as number;
    if (fixed > 0 && (freeCount[s] as number) > 0) {
      startBatch(st, s, now, fixed);
      payloadLen[s] = 0;
      nextPreferred[s] = 0;
      continue;
    }
    const open = (qTail[s] as number) - (qHead[s] as number) - fixed;
    if (open === 0 || fixed >= B) return;
    const oldest = st.readyAt[(st.queue[s * st.n + (qHead[s] as number) + fixed] as number) * st.S + s] as number;
    const young = now < oldest + D;
    if (fixed === 0) {
      if (open < B && young) {
        nextPreferred[s] = B;
        armForm(st, s, oldest + D);
        return;
      }
      payloadLen[s] = open < B ? open : B;
      st.formAt[s] = -1;
      continue;
    }
    const grown = fixed + open < B ? fixed + open : B;
    payloadLen[s] = grown;
    if (young && grown < B) nextPreferred[s] = B - fixed;
    return;
  }
}

// Replica of stage s takes the k queries at the head of its queue into a batch now.
function startBatch(st: SimState, s: number, now: number, k: number): void {
  const { S, freeCount, qHead, queue, readyAt, batchBuf } = st;
  const qs = s * st.n;
  const fc = (freeCount[s] as number) - 1;
  freeCount[s] = fc;
  const r = st.freeStack[(st.replicaBase[s] as number) + fc] as number;
  st.state[r] = BUSY;
  st.busyCount[s] = (st.busyCount[s] as number) + 1;
  const bo = st.batchOffset[r] as number;
  let h = qHead[s] as number;
  let waited = 0;
  for (let i = 0; i < k; i++) {
    const q = queue[qs + h++] as number;
    batchBuf[bo + i] = q;
    waited += now - (readyAt[q * S + s] as number);
  }
  qHead[s] = h;
  st.batchLen[r] = k;
  st.inService[s] = (st.inService[s] as number) + k;
  const sg = st.sigma[s];
  let svc = (st.service[s] as Float64Array)[k] as number;
  if (sg !== undefined) svc *= serviceFactor(sg[k] as number, hashUnit(st.serviceKey, s, st.batches[s] as number));
  st.busyMs[s] = (st.busyMs[s] as number) + svc;
  st.busySinceTick[s] = (st.busySinceTick[s] as number) + svc;
  st.queueDelayMs[s] = (st.queueDelayMs[s] as number) + waited;
  st.batches[s] = (st.batches[s] as number) + 1;
  st.visits[s] = (st.visits[s] as number) + k;
  st.heap.push(now + svc, r, st.rank[s] as number);
}

/** Query q is ready at stage s now: it joins the stage's queue. */
export function enqueue(st: SimState, q: number, s: number, now: number): void {
  st.readyAt[q * st.S + s] = now;
  const t = st.qTail[s] as number;
  st.queue[s * st.n + t] = q;
  st.qTail[s] = t + 1;
  const len = t + 1 - (st.qHead[s] as number);
  if (len > (st.maxQueue[s] as number)) st.maxQueue[s] = len;
  dispatch(st, s, now, true);
}

function resolveOne(st: SimState, q: number): void {
  const left = (st.unresolved[q] as number) - 1;
  st.unresolved[q] = left;
  if (left === 0) {
    const l = (st.doneAt[q] as number) - (st.arrivalMs[q] as number);
    st.latency[st.completed++] = l;
    if (l > st.sloMs) st.missed++;
  }
}

// An edge into stage `to` has been decided for query q (taken or not). When all of the
// stage's incoming edges are decided it either runs (some were taken) or is skipped.
function arrive(st: SimState, q: number, to: number, taken: boolean, at: number, now: number): void {
  const idx = q * st.S + to;
  const readyAt = st.readyAt;
  if (taken) {
    st.takenIn[idx] = 1;
    if (at > (readyAt[idx] as number)) readyAt[idx] = at;
  }
  const left = (st.pendingIn[idx] as number) - 1;
  st.pendingIn[idx] = left;
  if (left > 0) return;
  if (st.takenIn[idx]) {
    // Sent once every taken branch has answered: the hop starts from the last of them.
    const ready = (readyAt[idx] as number) + (st.hopVaries ? sendHop(st, q, to) : (st.hopMs[to] as number));
    readyAt[idx] = ready;
    if (ready > now) st.heap.push(ready, -idx - 1, st.rank[to] as number);
    else enqueue(st, q, to, now);
  } else {
    skip(st, q, to, now);
  }
}

function recordResolved(st: SimState, q: number, s: number, now: number, visitedHere: number): void {
  const idx = q * st.S + s;
  st.recResolvedAt[idx] = now;
  st.recVisited[idx] = visitedHere;
  st.recOrder[st.recCount++] = idx;
}

function skip(st: SimState, q: number, s: number, now: number): void {
  if (st.recording) recordResolved(st, q, s, now, 0);
  const { edgeStart, edgeTo } = st;
  for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) arrive(st, q, edgeTo[k] as number, false, 0, now);
  resolveOne(st, q);
}

// A replayed stage's resolution: its edges into simulated stages are decided as in the
// recorded run (the same draws); edges into replayed stages were replayed already.
export function replayResolved(st: SimState, idx: number, now: number): void {
  const S = st.S;
  const q = (idx / S) | 0;
  const s = idx - q * S;
  const visitedHere = (st.from as SimulationRecord).visited[idx] as number;
  if (st.recording) recordResolved(st, q, s, now, visitedHere);
  if (visitedHere && now > (st.doneAt[q] as number)) st.doneAt[q] = now;
  const { edgeStart, edgeTo, edgeFraction, edgeDelayMs } = st;
  for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
    const to = edgeTo[k] as number;
    if ((st.replayed as Uint8Array)[to]) continue;
    const taken = visitedHere === 1 && edgeTaken(st.routeKey, q, k, edgeFraction[k] as number);
    arrive(st, q, to, taken, now + (edgeDelayMs[k] as number), now);
  }
  resolveOne(st, q);
}

/** Query q finished stage s now: each outgoing edge is taken or not, by its own draw. */
export function finishStage(st: SimState, q: number, s: number, now: number): void {
  if (st.recording) recordResolved(st, q, s, now, 1);
  if (now > (st.doneAt[q] as number)) st.doneAt[q] = now;
  const { edgeStart, edgeTo, edgeFraction, edgeDelayMs } = st;
  for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
    const f = edgeFraction[k] as number;
    const taken = edgeTaken(st.routeKey, q, k, f);
    const to = edgeTo[k] as number;
    arrive(st, q, to, taken, now + (edgeDelayMs[k] as number), now);
  }
  resolveOne(st, q);
}
