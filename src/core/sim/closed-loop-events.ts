// The closed loop's part of a run (Estimator.estimateClosedLoop): the replica pool of each stage
// (start after the activation delay; remove a starting one, then an idle one, then drain a busy
// one), the cost rate of the replicas billed, the controller's tick (replica and batch targets)
// and the timeline's samples. Handlers on the run state (sim-state.ts), off the open loop's path.
import { percentileOfSorted } from '../math/percentiles.js';
import { dispatch } from './sim-events.js';
import { BUSY, DRAINING, IDLE, OFF, STARTING } from './sim-state.js';
import type { SimState } from './sim-state.js';
import type { Controller, StageObservation } from './estimate-types.js';
import type { StagePlan } from './stage-plan.js';

/** Replicas billed at stage s: starting, serving or draining. */
function billed(st: SimState, s: number): number {
  return (st.plans[s] as StagePlan).capacity - (st.offCount[s] as number);
}

/** Replicas provisioned at stage s: starting or serving (not draining). */
export function provisioned(st: SimState, s: number): number {
  return billed(st, s) - (st.drainingCount[s] as number);
}

/** Adds the cost since the last change at the old rate, and sets the rate of the replicas billed now. */
export function recomputeCostRate(st: SimState, now: number): void {
  st.cost += st.costRatePerMs * (now - st.costSince);
  st.costSince = now;
  let rate = 0;
  for (let s = 0; s < st.S; s++) rate += billed(st, s) * (st.plans[s] as StagePlan).pricePerMs;
  st.costRatePerMs = rate;
}

function activate(st: SimState, r: number, now: number): void {
  const s = st.stageOf[r] as number;
  st.state[r] = IDLE;
  st.freeStack[(st.replicaBase[s] as number) + (st.freeCount[s] as number)] = r;
  st.freeCount[s] = (st.freeCount[s] as number) + 1;
  dispatch(st, s, now);
}

/** The activation event of replica r: it serves now unless it was cancelled (or restarted) since. */
export function activationDue(st: SimState, r: number, now: number): void {
  if (st.state[r] === STARTING && st.activateAt[r] === now) {
    st.startingCount[st.stageOf[r] as number] = (st.startingCount[st.stageOf[r] as number] as number) - 1;
    activate(st, r, now);
  }
}

/** A draining replica r of stage s finished its batch: it is off now. */
export function retireDrained(st: SimState, r: number, s: number, now: number): void {
  recomputeCostRate(st, now);
  st.state[r] = OFF;
  st.drainingCount[s] = (st.drainingCount[s] as number) - 1;
  st.offStack[(st.replicaBase[s] as number) + (st.offCount[s] as number)] = r;
  st.offCount[s] = (st.offCount[s] as number) + 1;
  recomputeCostRate(st, now);
}

/** Finds a replica of stage s in state `rs` (closed loop only; O(capacity)). */
function findIn(st: SimState, s: number, rs: number): number {
  for (let r = st.replicaBase[s] as number; r < (st.replicaBase[s + 1] as number); r++) if (st.state[r] === rs) return r;
  return -1;
}

/** Adds replicas to stage s up to `want` (from `cur`): off ones start, draining ones are kept. */
function addReplicas(st: SimState, s: number, cur: number, want: number, now: number): void {
  const { state, offCount } = st;
  const sp = st.plans[s] as StagePlan;
  const base = st.replicaBase[s] as number;
  while (cur < want) {
    let r: number;
    if ((offCount[s] as number) > 0) {
      const oc = (offCount[s] as number) - 1;
      offCount[s] = oc;
      r = st.offStack[base + oc] as number;
    } else {
      // Every slot is in use, some draining: keep one of those instead.
      r = findIn(st, s, DRAINING);
      if (r < 0) break;
      state[r] = BUSY;
      st.drainingCount[s] = (st.drainingCount[s] as number) - 1;
      st.busyCount[s] = (st.busyCount[s] as number) + 1;
      cur++;
      continue;
    }
    cur++;
    if (sp.activationDelayMs > 0) {
      state[r] = STARTING;
      st.startingCount[s] = (st.startingCount[s] as number) + 1;
      st.activateAt[r] = now + sp.activationDelayMs;
      st.heap.push(now + sp.activationDelayMs, st.R + r);
    } else {
      activate(st, r, now);
    }
  }
}

/** Removes replicas from stage s down to `want` (from `cur`): a starting one, else an idle one, else a busy one drains. */
function removeReplicas(st: SimState, s: number, cur: number, want: number): void {
  const { state, freeCount } = st;
  const base = st.replicaBase[s] as number;
  while (cur > want) {
    cur--;
    let r = (st.startingCount[s] as number) > 0 ? findIn(st, s, STARTING) : -1;
    if (r >= 0) {
      st.startingCount[s] = (st.startingCount[s] as number) - 1;
    } else if ((freeCount[s] as number) > 0) {
      const fc = (freeCount[s] as number) - 1;
      freeCount[s] = fc;
      r = st.freeStack[base + fc] as number;
    } else {
      r = findIn(st, s, BUSY);
      state[r] = DRAINING;
      st.busyCount[s] = (st.busyCount[s] as number) - 1;
      st.drainingCount[s] = (st.drainingCount[s] as number) + 1;
      continue;
    }
    state[r] = OFF;
    st.offStack[base + (st.offCount[s] as number)] = r;
    st.offCount[s] = (st.offCount[s] as number) + 1;
  }
}

function setTarget(st: SimState, s: number, target: number, now: number): boolean {
  const sp = st.plans[s] as StagePlan;
  // Never below one replica: a stage with none would strand its queue (no scale-to-zero).
  const want = Math.max(1, Math.min(sp.capacity, Math.floor(target)));
  const cur = provisioned(st, s);
  if (want === cur) return false;
  recomputeCostRate(st, now);
  if (cur < want) addReplicas(st, s, cur, want, now);
  else removeReplicas(st, s, cur, want);
  recomputeCostRate(st, now);
  return true;
}

/** The controller's tick: it sees each stage, then its replica and batch targets are applied. */
export function controlTick(st: SimState, controller: Controller, now: number): void {
  const stageNames = st.p.stageNames;
  const stages: StageObservation[] = stageNames.map((stage, s) => ({
    stage,
    provisioned: provisioned(st, s),
    active: (st.freeCount[s] as number) + (st.busyCount[s] as number),
    busyMs: st.busySinceTick[s] as number,
    queueLength: (st.qTail[s] as number) - (st.qHead[s] as number),
    inService: st.inService[s] as number,
  }));
  st.busySinceTick.fill(0);
  const targets = controller.tick({ nowMs: now, arrivals: st.arrivalsSinceTick, stages });
  st.arrivalsSinceTick = 0;
  if (targets) {
    stageNames.forEach((name, s) => {
      const t = targets[name];
      if (t !== undefined && setTarget(st, s, t, now)) st.actions++;
    });
  }
  const batchTargets = controller.batchTargets?.();
  if (batchTargets) {
    stageNames.forEach((name, s) => {
      const b = batchTargets[name];
      if (b === undefined) return;
      const want = Math.max(1, Math.min((st.plans[s] as StagePlan).batchCap, Math.floor(b)));
      if (want !== st.maxBatch[s]) {
        st.maxBatch[s] = want;
        st.actions++;
        dispatch(st, s, now);
      }
    });
  }
  st.heap.push(nextTick(controller, now), st.TICK);
}

/** P99 of the queries completed since the last sample (NaN when none did). */
function latencyOfSample(st: SimState): number {
  if (st.completed === st.sampleFrom) return Number.NaN;
  const part = st.latency.slice(st.sampleFrom, st.completed);
  part.sort();
  return percentileOfSorted(part, 99);
}

/** What the serving replicas can take at the pipeline's entry: min over stages of active × throughput / scale factor. */
function capacityQps(st: SimState): number {
  let cap = Infinity;
  for (let s = 0; s < st.S; s++) {
    const sf = st.p.scaleFactor[s] as number;
    if (sf <= 0) continue;
    const sp = st.plans[s] as StagePlan;
    const active = (st.freeCount[s] as number) + (st.busyCount[s] as number);
    const b = st.maxBatch[s] as number;
    cap = Math.min(cap, (active * b * 1000) / (sp.serviceMs[b] as number) / sf);
  }
  return cap === Infinity ? 0 : cap;
}

/** A timeline point for the interval ending now. */
export function sampleTimeline(st: SimState, now: number): void {
  const replicas: Record<string, number> = {};
  st.p.stageNames.forEach((name, s) => { replicas[name] = provisioned(st, s); });
  st.timeline.push({
    tMs: now - st.firstArrival,
    arrivalRateQps: (st.arrivalsSinceSample * 1000) / st.sampleMs,
    capacityQps: capacityQps(st),
    replicas,
    p99Ms: latencyOfSample(st),
    costPerHour: st.costRatePerMs * 3_600_000,
  });
  st.arrivalsSinceSample = 0;
  st.sampleFrom = st.completed;
  st.heap.push(now + st.sampleMs, st.SAMPLE);
}

/** The controller's next tick after `nowMs`: its own time when it says one, strictly later. */
export function nextTick(controller: Controller, nowMs: number): number {
  const at = controller.nextTickMs?.(nowMs);
  return at !== undefined && at > nowMs ? at : nowMs + controller.tickMs;
}
