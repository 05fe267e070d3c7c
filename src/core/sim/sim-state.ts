// One simulation run's state, shared by its event handlers (sim-events.ts, closed-loop-events.ts)
// and its loop (sim-loop.ts): the replicas of every stage, the stage queues, the hop tables, the
// per-stage totals, the replay and recording cursors and the closed loop's bookkeeping. Built once
// per run over the Estimator's reusable buffers; plain typed arrays, no allocation per event.
import type { EventHeap } from './event-heap.js';
import { streamKey } from '../math/random.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import { layOutReplay } from './sim-record.js';
import type { ReplayLayout, SimulationRecord } from './sim-record.js';
import type { ClosedLoopOptions, EstimateOptions, TimelinePoint } from './estimate-types.js';
import type { RunReplay, StagePlan } from './stage-plan.js';

// Replica states.
export const OFF = 0;
export const STARTING = 1;
export const IDLE = 2;
export const BUSY = 3;
export const DRAINING = 4;

/** The Estimator's buffers a run works in (grown on demand, reused across runs). */
export type RunBuffers = Pick<SimState,
  'heap' | 'arrivalMs' | 'doneAt' | 'latency' | 'unresolved' | 'pendingIn' | 'takenIn' | 'readyAt' | 'queue' | 'batchBuf'
  | 'recResolvedAt' | 'recVisited' | 'recOrder'>;

export class SimState {
  readonly p: CompiledPipeline;
  readonly plans: readonly StagePlan[];
  readonly n: number;
  readonly S: number;
  readonly edgeStart: Int32Array;
  readonly edgeTo: Int32Array;
  readonly edgeFraction: Float64Array;
  readonly edgeDelayMs: Float64Array;
  readonly heap: EventHeap;
  readonly arrivalMs: Float64Array;
  readonly doneAt: Float64Array;
  readonly latency: Float64Array;
  readonly unresolved: Int32Array;
  readonly pendingIn: Uint16Array;
  readonly takenIn: Uint8Array;
  readonly readyAt: Float64Array;
  readonly queue: Int32Array;
  readonly batchBuf: Int32Array;
  readonly routeKey: number;
  readonly serviceKey: number;
  // Replicas are numbered globally; stage s owns replicaBase[s] .. replicaBase[s+1]-1.
  readonly replicaBase: Int32Array;
  readonly R: number;
  readonly TICK: number;
  readonly SAMPLE: number;
  // FORM + s: stage s's batch delay ends.
  readonly FORM: number;
  readonly stageOf: Int32Array;
  readonly batchOffset: Int32Array;
  readonly batchLen: Int32Array;
  readonly state: Uint8Array;
  readonly activateAt: Float64Array;
  readonly freeStack: Int32Array;
  readonly freeCount: Int32Array;
  readonly offStack: Int32Array;
  readonly offCount: Int32Array;
  readonly startingCount: Int32Array;
  readonly busyCount: Int32Array;
  readonly drainingCount: Int32Array;
  readonly inService: Int32Array;
  readonly maxBatch: Int32Array;
  readonly service: Float64Array[] = [];
  readonly sigma: (Float64Array | undefined)[] = [];
  readonly hopMs: Float64Array;
  // Every stage's hop-by-in-flight table in one array: stage s's entry for c in flight is at
  // hopBase[s] + min(c, hopTop[s]); hopTop[s] = 0 when its hop is constant (hopMs[s]).
  readonly hopBase: Int32Array;
  readonly hopTop: Int32Array;
  readonly hopFlat: Float64Array;
  // Without a curve on any stage, in-flight counts are not kept: every hop is the constant.
  readonly hopVaries: boolean;
  // Per stage: queries sent there (their hop begun) and not yet finished there.
  readonly inFlight: Int32Array;
  readonly delayMs: Float64Array;
  // Per stage: the batch-delay rule (batch-delay.ts DELAY_RULE); with the payload rule, the
  // queries at the queue's head fixed in a batch waiting for a replica, and the queued count at
  // which an arrival wakes the batcher (Triton's next_preferred_batch_size).
  readonly delayRule: Uint8Array;
  readonly payloadLen: Int32Array;
  readonly nextPreferred: Int32Array;
  // Per stage: when the batch being formed began (batch-start origin), and when the pending
  // FORM event fires; -1 when none.
  readonly formingSince: Float64Array;
  readonly formAt: Float64Array;
  readonly qHead: Int32Array;
  readonly qTail: Int32Array;
  readonly busyMs: Float64Array;
  readonly busySinceTick: Float64Array;
  readonly queueDelayMs: Float64Array;
  readonly batches: Float64Array;
  readonly visits: Float64Array;
  readonly maxQueue: Int32Array;
  readonly visitLog: number[][] | undefined;
  // With visits recorded: each visit's hop (it may differ from visit to visit).
  readonly hopOfVisit: Float64Array | undefined;
  // Replayed stages (sim-record.ts): their totals as recorded, their resolutions in recorded order.
  readonly from: SimulationRecord | undefined;
  readonly replayed: Uint8Array | undefined;
  // Equal-time events of different stages: in topological order (open loop).
  readonly rank: Int32Array;
  readonly recording: boolean;
  readonly laidOut: ReplayLayout | undefined;
  readonly sendsAtArrival: Uint8Array;
  readonly recResolvedAt: Float64Array;
  readonly recVisited: Uint8Array;
  readonly recOrder: Int32Array;
  recCount = 0;
  completed = 0;
  missed = 0;
  readonly sloMs: number;
  readonly allowedMisses: number;
  readonly firstArrival: number;
  lastTime: number;
  // Closed-loop bookkeeping: cost, actions, timeline.
  cost = 0;
  costRatePerMs = 0;
  costSince: number;
  actions = 0;
  arrivalsSinceTick = 0;
  arrivalsSinceSample = 0;
  sampleFrom = 0;
  readonly timeline: TimelinePoint[] = [];
  readonly sampleMs: number;

  constructor(
    p: CompiledPipeline, n: number, plans: readonly StagePlan[], buffers: RunBuffers,
    options: EstimateOptions, closed: ClosedLoopOptions | undefined, replay: RunReplay | undefined,
  ) {
    const S = plans.length;
    this.p = p;
    this.plans = plans;
    this.n = n;
    this.S = S;
    this.edgeStart = p.edgeStart;
    this.edgeTo = p.edgeTo;
    this.edgeFraction = p.edgeFraction;
    this.edgeDelayMs = p.edgeDelayMs;
    this.heap = buffers.heap;
    this.arrivalMs = buffers.arrivalMs;
    this.doneAt = buffers.doneAt;
    this.latency = buffers.latency;
    this.unresolved = buffers.unresolved;
    this.pendingIn = buffers.pendingIn;
    this.takenIn = buffers.takenIn;
    this.readyAt = buffers.readyAt;
    this.queue = buffers.queue;
    this.batchBuf = buffers.batchBuf;
    this.heap.clear();
    this.routeKey = streamKey(options.seed, 'routing');
    this.serviceKey = streamKey(options.seed, 'service');

    this.replicaBase = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) this.replicaBase[s + 1] = (this.replicaBase[s] as number) + (plans[s] as StagePlan).capacity;
    const R = this.replicaBase[S] as number;
    this.R = R;
    this.TICK = 2 * R;
    this.SAMPLE = 2 * R + 1;
    this.FORM = 2 * R + 2;
    this.stageOf = new Int32Array(R);
    this.batchOffset = new Int32Array(R);
    this.batchLen = new Int32Array(R);
    this.state = new Uint8Array(R);
    this.activateAt = new Float64Array(R);
    this.freeStack = new Int32Array(R);
    this.freeCount = new Int32Array(S);
    this.offStack = new Int32Array(R);
    this.offCount = new Int32Array(S);
    this.startingCount = new Int32Array(S);
    this.busyCount = new Int32Array(S);
    this.drainingCount = new Int32Array(S);
    this.inService = new Int32Array(S);
    this.maxBatch = new Int32Array(S);
    this.hopMs = new Float64Array(S);
    this.hopBase = new Int32Array(S);
    this.hopTop = new Int32Array(S);
    this.hopFlat = new Float64Array(hopTableLength(plans, this.hopBase, this.hopTop));
    this.hopVaries = this.hopFlat.length > 0;
    this.inFlight = new Int32Array(S);
    this.delayMs = new Float64Array(S);
    this.delayRule = new Uint8Array(S);
    this.payloadLen = new Int32Array(S);
    this.nextPreferred = new Int32Array(S);
    this.formingSince = new Float64Array(S).fill(-1);
    this.formAt = new Float64Array(S).fill(-1);
    layOutStages(this);
    this.qHead = new Int32Array(S);
    this.qTail = new Int32Array(S);
    this.busyMs = new Float64Array(S);
    this.busySinceTick = new Float64Array(S);
    this.queueDelayMs = new Float64Array(S);
    this.batches = new Float64Array(S);
    this.visits = new Float64Array(S);
    this.maxQueue = new Int32Array(S);
    this.visitLog = options.recordVisits ? plans.map(() => []) : undefined;
    this.hopOfVisit = this.visitLog && this.hopVaries ? new Float64Array(n * S) : undefined;
    resetQueries(this, p.inDegree);

    this.from = replay?.from;
    this.replayed = replay?.replayed;
    this.rank = new Int32Array(S);
    if (!closed) for (let i = 0; i < S; i++) this.rank[p.order[i] as number] = i;
    this.recording = options.record === true && !closed;
    this.laidOut = this.from && this.replayed ? layOutReplay(p, this.from, this.replayed, this.rank, !this.recording) : undefined;
    this.sendsAtArrival = loadReplay(this, p.isRoot);
    this.recResolvedAt = buffers.recResolvedAt;
    this.recVisited = buffers.recVisited;
    this.recOrder = buffers.recOrder;

    this.sloMs = options.sloMs;
    this.allowedMisses = options.stopWhenInfeasible ? n - Math.ceil((options.percentile / 100) * n) : n;
    this.firstArrival = n > 0 ? (this.arrivalMs[0] as number) : 0;
    this.lastTime = this.firstArrival;
    this.costSince = this.firstArrival;
    this.sampleMs = closed?.timelineIntervalMs ?? 1000;
    // The queries the replay resolved alone (ReplayLayout.folded) complete before the loop starts.
    for (const q of this.laidOut?.folded ?? []) {
      const l = (this.doneAt[q] as number) - (this.arrivalMs[q] as number);
      this.latency[this.completed++] = l;
      if (l > this.sloMs) this.missed++;
    }
  }
}

/** Places every stage's hop-by-in-flight table in one array (hopBase, hopTop); returns its length. */
function hopTableLength(plans: readonly StagePlan[], hopBase: Int32Array, hopTop: Int32Array): number {
  let hopLen = 0;
  for (let s = 0; s < plans.length; s++) {
    const t = (plans[s] as StagePlan).hopByInFlight;
    hopBase[s] = hopLen;
    hopTop[s] = t === undefined ? 0 : t.length - 1;
    hopLen += t === undefined ? 0 : t.length;
  }
  return hopLen;
}

/** Copies each stage's plan into the run's arrays and lays out its replicas and batch slots. */
function layOutStages(st: SimState): void {
  const { stageOf, batchOffset, state, freeStack, freeCount, offStack, offCount } = st;
  let off = 0;
  for (let s = 0; s < st.S; s++) {
    const sp = st.plans[s] as StagePlan;
    st.maxBatch[s] = sp.maxBatch;
    st.service.push(sp.serviceMs);
    st.sigma.push(sp.sigma);
    st.hopMs[s] = sp.hopMs;
    if (sp.hopByInFlight !== undefined) st.hopFlat.set(sp.hopByInFlight, st.hopBase[s] as number);
    st.delayMs[s] = sp.delayMs;
    st.delayRule[s] = sp.delayRule;
    const base = st.replicaBase[s] as number;
    for (let j = 0; j < sp.capacity; j++) {
      const r = base + j;
      stageOf[r] = s;
      batchOffset[r] = off;
      off += sp.batchCap;
    }
    // The first `replicas` serve from the start; the lowest-numbered is taken first.
    for (let j = sp.replicas - 1; j >= 0; j--) {
      const r = base + j;
      state[r] = IDLE;
      freeStack[base + (freeCount[s] as number)] = r;
      freeCount[s] = (freeCount[s] as number) + 1;
    }
    for (let j = sp.capacity - 1; j >= sp.replicas; j--) {
      offStack[base + (offCount[s] as number)] = base + j;
      offCount[s] = (offCount[s] as number) + 1;
    }
  }
}

/** Resets the per-query buffers for n queries. */
function resetQueries(st: SimState, inDegree: Int32Array): void {
  const { n, S, pendingIn } = st;
  // doneAt: the latest finish so far (the arrival raises it); pendingIn: every query's in-degrees.
  st.doneAt.fill(-Infinity, 0, n);
  st.unresolved.fill(S, 0, n);
  st.takenIn.fill(0, 0, n * S);
  st.readyAt.fill(0, 0, n * S);
  if (n > 0) {
    pendingIn.set(inDegree, 0);
    for (let filled = S; filled < n * S; filled *= 2) pendingIn.copyWithin(filled, 0, Math.min(filled, n * S - filled));
  }
}

/** Loads the replayed stages' layout and totals; returns which stages a query is sent to on arrival. */
function loadReplay(st: SimState, isRoot: Uint8Array): Uint8Array {
  const { from, replayed, laidOut } = st;
  if (laidOut) {
    st.doneAt.set(laidOut.doneAt);
    st.unresolved.set(laidOut.unresolved);
  }
  if (!from || !replayed) return isRoot;
  for (let s = 0; s < st.S; s++) {
    if (!replayed[s]) continue;
    st.busyMs[s] = from.totals.busyMs[s] as number;
    st.queueDelayMs[s] = from.totals.queueDelayMs[s] as number;
    st.batches[s] = from.totals.batches[s] as number;
    st.visits[s] = from.totals.visits[s] as number;
    st.maxQueue[s] = from.totals.maxQueue[s] as number;
  }
  return isRoot.map((r, s) => (r && !replayed[s] ? 1 : 0));
}
