// The estimator: a deterministic discrete-event simulation of a pipeline under an arrival trace,
// for one configuration (hardware, max batch and replicas per stage). Semantics, from
// reference/inferline.md:
// - each stage has one FIFO queue shared by its replicas (centralised batching);
// - an idle replica takes k = min(queue length, max batch) queries at once and is busy for L(k)
//   from the profile (interpolated between measured sizes);
// - with a batch delay d (StageConfig.batchDelayMs), a free replica that finds fewer than max
//   batch queued waits for more until d after the oldest queued query became ready (Triton's
//   dynamic batcher, TF Serving's batch timeout), or d after it began forming the batch
//   (TorchServe's worker; EstimateOptions.delayOrigin), then runs what it has;
// - every visit to a stage first pays the stage's hop overhead (the profile's hopOverheadMs:
//   HTTP, serialization and the caller's scheduling, there and back); where the profile measured
//   it at several concurrencies (hopOverheadCurve), the hop costs what was measured with as many
//   requests in flight at the stage as there are when the query is sent there (itself included;
//   sent and not yet finished there), so it is still a function of the simulated state only;
// - where the profile measured a spread (P99 over median), each batch's service time is L(k) ×
//   a mean-1 lognormal factor, drawn by a key of (seed, stage, batch number at that stage);
// - when a query finishes a stage, each outgoing edge with fraction f is taken with probability f,
//   by a draw keyed by (seed, query, edge), so routing does not depend on event order;
// - a stage with several incoming edges is a join: it runs once the taken branches have arrived
//   (see pipeline.ts); a query completes when every stage it visits has completed;
// - equal-time events of different stages run in the pipeline's topological order, those of one
//   stage in insertion order (a closed loop: all in insertion order); completions run before
//   arrivals at the same time. A canonical order, so that a run replaying some stages from an
//   earlier one (sim-record.ts) orders its events as a full run does.
// Buffers are typed arrays, allocated once per shape and reused across runs: no allocation per
// event on the hot path.
//
// Closed loop (estimateClosedLoop): a controller ticks every `tickMs` of simulated time (or when its
// nextTickMs says: the live-loop model ticks at scrapes, tuner ticks and actuations), sees only
// what happened up to then, and sets each stage's provisioned replicas. A new replica serves only
// after its stage's activation delay; a removed one first cancels a starting replica, then an
// idle one, then drains a busy one (it finishes its batch). Cost integrates the replicas billed
// (starting, serving and draining) × price over time, and a timeline records rate, capacity,
// replicas, P99 and cost per interval.
import { delayOriginOf } from './batch-delay.js';
import type { DelayOrigin } from './batch-delay.js';
import { EventHeap } from './event-heap.js';
import { orderFreeMean, percentileOfSorted, percentilesInPlace } from '../math/percentiles.js';
import { hashUnit, streamKey } from '../math/random.js';
import { edgeTaken } from '../model/pipeline.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import { serviceFactor } from '../model/profiles.js';
import type { ProfileSet } from '../model/profiles.js';
import { layOutReplay, replayableStages } from './sim-record.js';
import type { SimulationRecord } from './sim-record.js';
import type { PipelineConfig } from '../model/types.js';

export interface StageEstimate {
  readonly stage: string;
  /** Queries the stage served. */
  readonly visits: number;
  readonly batches: number;
  readonly meanBatchSize: number;
  /** Busy time / (replicas × simulated span). */
  readonly utilisation: number;
  readonly meanQueueDelayMs: number;
  readonly maxQueueLength: number;
}

export interface Estimate {
  readonly queries: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  /** Latency at the SLO's percentile. */
  readonly sloPercentileMs: number;
  /** Share of queries whose latency exceeds the SLO. */
  readonly sloMissRate: number;
  /** Stage visits simulated (the work done, for throughput figures). */
  readonly stageVisits: number;
  /**
   * True when the run stopped early because more queries missed the SLO than the percentile
   * allows (see EstimateOptions.stopWhenInfeasible). Latency figures then cover only the queries
   * completed so far, and sloMissRate counts misses over all queries: a lower bound.
   */
  readonly stoppedEarly: boolean;
  readonly stages: readonly StageEstimate[];
  /** With EstimateOptions.recordVisits: per stage (in pipeline order), every visit's latency, sorted. */
  readonly visitLatencyMs?: readonly Float64Array[];
  /** With EstimateOptions.recordVisits: every completed query's latency, sorted. */
  readonly latencyMs?: Float64Array;
  /** With EstimateOptions.record, when the run completed: what a later run may reuse (sim-record.ts). */
  readonly record?: SimulationRecord;
  /** With EstimateOptions.reuse: the stages replayed from the record instead of simulated. */
  readonly replayedStages?: number;
}

export interface EstimateOptions {
  readonly seed: number;
  readonly sloMs: number;
  /** SLO percentile, e.g. 99. */
  readonly percentile: number;
  /**
   * Stop as soon as the SLO percentile is certain to exceed the SLO (more misses than
   * n − ⌈p/100 · n⌉). The planner's feasibility test needs no more than that.
   */
  readonly stopWhenInfeasible?: boolean;
  /**
   * Per stage name: where a stage's batch delay is measured from (default: by the stage's server
   * kind where it names one, else 'oldest-request', as Triton and TF Serving do; TorchServe's
   * workers use 'batch-start').
   */
  readonly delayOrigin?: Readonly<Record<string, DelayOrigin>>;
  /**
   * Record each stage visit's latency (hop overhead + queue + service), returned as
   * Estimate.visitLatencyMs: for comparing stage by stage with a live replay. Off on the planner's path.
   */
  readonly recordVisits?: boolean;
  /**
   * Keep when each (query, stage) was resolved and return it as Estimate.record when the run
   * completes (not stopped early), for `reuse`. Open loop only.
   */
  readonly record?: boolean;
  /**
   * A record of an earlier run of this estimator on the same trace and seed: the stages with no
   * changed stage upstream of them (or at them) are replayed from it, not simulated
   * (sim-record.ts). Ignored with recordVisits and in a closed loop.
   */
  readonly reuse?: SimulationRecord;
}

/** What run() needs for recording and replaying (open loop). */
interface RunReplay {
  readonly trace: Float64Array;
  /** Per stage: its configuration's key, where the run records or reuses. */
  readonly stageKeys: readonly string[] | undefined;
  /** The record replayed, and which stages it replays. */
  readonly from: SimulationRecord | undefined;
  readonly replayed: Uint8Array | undefined;
}

export type { DelayOrigin } from './batch-delay.js';

/** What a controller sees of one stage at a tick. */
export interface StageObservation {
  readonly stage: string;
  /** Replicas provisioned: starting or serving (not draining). */
  readonly provisioned: number;
  /** Replicas serving (idle or busy). */
  readonly active: number;
  /** Service time started since the previous tick, in ms (a batch counts when it starts). */
  readonly busyMs: number;
  /** Queries waiting in the stage's queue now. */
  readonly queueLength: number;
  /** Queries being served now. */
  readonly inService: number;
}

export interface ControlView {
  readonly nowMs: number;
  /** Queries that arrived since the previous tick. */
  readonly arrivals: number;
  readonly stages: readonly StageObservation[];
}

/** Provisioned replicas wanted per stage name; stages left out keep theirs. */
export type ReplicaTargets = Readonly<Record<string, number>>;

/** A controller in the loop. Deterministic: it sees simulated time only through its arguments. */
export interface Controller {
  readonly name: string;
  /** How often tick() runs, in simulated ms (unless nextTickMs says otherwise). */
  readonly tickMs: number;
  /** When tick() runs next after `nowMs` (> nowMs), for controllers that act at times of their own (default: nowMs + tickMs). */
  nextTickMs?(nowMs: number): number;
  /** Each arrival, as it happens. */
  observeArrival(tMs: number): void;
  /** Targets to apply now, or undefined to hold. */
  tick(view: ControlView): ReplicaTargets | undefined;
  /** Max batch sizes to apply now (after tick's replicas), for controllers that tune batching. */
  batchTargets?(): Readonly<Record<string, number>> | undefined;
}

export interface ClosedLoopOptions extends EstimateOptions {
  readonly controller: Controller;
  /** Per stage name: the most replicas the controller may provision. */
  readonly maxReplicas: Readonly<Record<string, number>>;
  /** Per stage name: start-up time of a new replica (default 0). */
  readonly activationDelayMs?: Readonly<Record<string, number>>;
  /** Per stage name: price of one replica-hour (default 0). */
  readonly pricePerHour?: Readonly<Record<string, number>>;
  /** Timeline interval (default 1 s). */
  readonly timelineIntervalMs?: number;
}

export interface TimelinePoint {
  readonly tMs: number;
  /** Arrival rate over the last interval. */
  readonly arrivalRateQps: number;
  /** What the serving replicas can take at the pipeline's entry: min over stages of active × throughput / scale factor. */
  readonly capacityQps: number;
  /** Provisioned replicas per stage. */
  readonly replicas: Readonly<Record<string, number>>;
  /** P99 of the queries that completed in the last interval (NaN when none did). */
  readonly p99Ms: number;
  readonly costPerHour: number;
}

export interface ClosedLoopEstimate extends Estimate {
  readonly controller: string;
  /** Simulated span, first arrival to last completion. */
  readonly durationMs: number;
  /** Total cost over the span (price units). */
  readonly cost: number;
  readonly meanCostPerHour: number;
  /** Stage-level replica changes applied. */
  readonly scalingActions: number;
  readonly timeline: readonly TimelinePoint[];
}

/** Per-stage service description the simulation runs on. */
interface StagePlan {
  /** Max batch at the start. */
  maxBatch: number;
  /** Largest max batch the run may switch to (the table's size); = maxBatch in an open loop. */
  batchCap: number;
  /** Replicas serving at the start. */
  replicas: number;
  /** Most replicas the stage may have (= replicas in an open-loop run). */
  capacity: number;
  /** serviceMs[k] = latency of a batch of k. */
  serviceMs: Float64Array;
  /** sigma[k] = log-spread of a batch of k's service time; undefined: deterministic. */
  sigma: Float64Array | undefined;
  /** Cost of each visit (the profile's hop overhead) with one request in flight at the stage. */
  hopMs: number;
  /** hopByInFlight[c] = the hop with c requests in flight, the last entry for that many or more; undefined: always hopMs. */
  hopByInFlight: Float64Array | undefined;
  /** Max queue delay, and whether it counts from the start of forming (else from the oldest query). */
  delayMs: number;
  delayFromFormStart: boolean;
  activationDelayMs: number;
  pricePerMs: number;
}

// Replica states.
const OFF = 0;
const STARTING = 1;
const IDLE = 2;
const BUSY = 3;
const DRAINING = 4;

/**
 * Runs simulations of one pipeline. Reuse one instance for many configurations (the planner does):
 * service tables and buffers are cached.
 */
export class Estimator {
  readonly pipeline: CompiledPipeline;
  private readonly profiles: ProfileSet;
  private readonly tableCache = new Map<string, Float64Array>();
  private readonly sigmaCache = new Map<string, Float64Array | undefined>();
  private readonly hopCache = new Map<string, Float64Array | undefined>();
  private readonly heap = new EventHeap();
  // Buffers, grown on demand.
  private nq = 0;
  private arrivalMs = new Float64Array(0);
  private arrivalSource: Float64Array | undefined;
  private doneAt = new Float64Array(0);
  private latency = new Float64Array(0);
  private unresolved = new Int32Array(0);
  private pendingIn = new Uint16Array(0);
  private takenIn = new Uint8Array(0);
  private readyAt = new Float64Array(0);
  private queue = new Int32Array(0);
  private batchBuf = new Int32Array(0);
  // Recording (EstimateOptions.record) and replaying (EstimateOptions.reuse), n × S each.
  private recResolvedAt = new Float64Array(0);
  private recVisited = new Uint8Array(0);
  private recOrder = new Int32Array(0);

  constructor(pipeline: CompiledPipeline, profiles: ProfileSet) {
    this.pipeline = pipeline;
    this.profiles = profiles;
  }

  /** Service-time table of a stage on a hardware type, up to `cap` (cached). */
  serviceTable(stage: number, hardware: string, cap: number): Float64Array {
    const spec = this.pipeline.spec.stages[stage];
    if (!spec) throw new RangeError(`no stage ${stage}`);
    const key = `${stage}\u0000${hardware}\u0000${cap}`;
    let t = this.tableCache.get(key);
    if (!t) {
      const curve = this.profiles.get(spec.model, hardware);
      if (!curve) throw new RangeError(`no profile for ${spec.model} on ${hardware}`);
      t = curve.table(Math.min(cap, curve.maxBatch));
      this.tableCache.set(key, t);
    }
    return t;
  }

  /** Log-spread table of a stage on a hardware type, up to `cap` (cached; undefined when deterministic). */
  private sigmaTable(stage: number, hardware: string, cap: number): Float64Array | undefined {
    const key = `${stage}\u0000${hardware}\u0000${cap}`;
    if (this.sigmaCache.has(key)) return this.sigmaCache.get(key);
    const spec = this.pipeline.spec.stages[stage];
    const t = spec ? this.profiles.get(spec.model, hardware)?.sigmaTable(cap) : undefined;
    this.sigmaCache.set(key, t);
    return t;
  }

  /** The cost of one visit to a stage on a hardware type with one request in flight there (the profile's hop overhead). */
  hopOverheadMs(stage: number, hardware: string): number {
    const spec = this.pipeline.spec.stages[stage];
    return (spec ? this.profiles.get(spec.model, hardware)?.hopOverheadMs : undefined) ?? 0;
  }

  /** The hop overhead by requests in flight of a stage on a hardware type (cached; undefined when it does not vary). */
  private hopTable(stage: number, hardware: string): Float64Array | undefined {
    const key = `${stage}\u0000${hardware}`;
    if (this.hopCache.has(key)) return this.hopCache.get(key);
    const spec = this.pipeline.spec.stages[stage];
    const t = spec ? this.profiles.get(spec.model, hardware)?.hopTable() : undefined;
    this.hopCache.set(key, t);
    return t;
  }

  private stagePlans(config: PipelineConfig, options: EstimateOptions, closed?: ClosedLoopOptions): StagePlan[] {
    return this.pipeline.stageNames.map((name, s) => {
      const c = config[name];
      if (!c) throw new RangeError(`configuration has no stage "${name}"`);
      if (!(c.replicas >= 0) || !(c.batchSize >= 1) || (!closed && c.replicas < 1)) {
        throw new RangeError(`stage "${name}": replicas must be ≥ ${closed ? 0 : 1} and batch size ≥ 1`);
      }
      const delayMs = c.batchDelayMs ?? 0;
      if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`stage "${name}": batch delay must be ≥ 0 ms`);
      // A closed loop may change batch sizes, so its table reaches the largest measured size.
      const cap = closed ? Number.MAX_SAFE_INTEGER : c.batchSize;
      const serviceMs = this.serviceTable(s, c.hardware, cap);
      const capacity = closed ? Math.max(c.replicas, closed.maxReplicas[name] ?? c.replicas) : c.replicas;
      return {
        maxBatch: Math.min(c.batchSize, serviceMs.length - 1),
        batchCap: serviceMs.length - 1,
        replicas: c.replicas,
        capacity,
        serviceMs,
        sigma: this.sigmaTable(s, c.hardware, serviceMs.length - 1),
        hopMs: this.hopOverheadMs(s, c.hardware),
        hopByInFlight: this.hopTable(s, c.hardware),
        delayMs,
        delayFromFormStart: (options.delayOrigin?.[name] ?? delayOriginOf(this.pipeline.spec.stages[s]?.server)) === 'batch-start',
        activationDelayMs: closed?.activationDelayMs?.[name] ?? 0,
        pricePerMs: (closed?.pricePerHour?.[name] ?? 0) / 3_600_000,
      };
    });
  }

  /** Simulates `config` on `trace` (arrival times in seconds, non-decreasing). */
  estimate(config: PipelineConfig, trace: Float64Array, options: EstimateOptions): Estimate {
    const plans = this.stagePlans(config, options);
    this.prepare(trace, plans);
    const stageKeys = options.record || options.reuse ? this.pipeline.stageNames.map((name, s) => {
      const sp = plans[s] as StagePlan;
      return `${config[name]?.hardware}/${sp.maxBatch}/${sp.replicas}/${sp.delayMs}/${sp.delayFromFormStart ? 1 : 0}`;
    }) : undefined;
    const replayed = options.reuse && stageKeys && !options.recordVisits
      ? replayableStages(this.pipeline, options.reuse, this, trace, options.seed, stageKeys)
      : undefined;
    if (options.record && this.recResolvedAt.length < trace.length * plans.length) {
      this.recResolvedAt = new Float64Array(trace.length * plans.length);
      this.recVisited = new Uint8Array(trace.length * plans.length);
      this.recOrder = new Int32Array(trace.length * plans.length);
    }
    return this.run(trace.length, plans, options, undefined, { trace, stageKeys, from: replayed ? options.reuse : undefined, replayed });
  }

  /** Simulates with a controller in the loop, starting from `config`'s replicas. */
  estimateClosedLoop(config: PipelineConfig, trace: Float64Array, options: ClosedLoopOptions): ClosedLoopEstimate {
    const plans = this.stagePlans(config, options, options);
    this.prepare(trace, plans);
    return this.run(trace.length, plans, options, options) as ClosedLoopEstimate;
  }

  private prepare(trace: Float64Array, plans: readonly StagePlan[]): void {
    const n = trace.length;
    const S = plans.length;
    if (this.arrivalMs.length < n) {
      this.arrivalMs = new Float64Array(n);
      this.doneAt = new Float64Array(n);
      this.latency = new Float64Array(n);
      this.unresolved = new Int32Array(n);
      this.arrivalSource = undefined;
    }
    if (this.arrivalSource !== trace || this.nq !== n) {
      for (let i = 0; i < n; i++) this.arrivalMs[i] = (trace[i] as number) * 1000;
      this.arrivalSource = trace;
      this.nq = n;
    }
    if (this.pendingIn.length < n * S) {
      this.pendingIn = new Uint16Array(n * S);
      this.takenIn = new Uint8Array(n * S);
      this.readyAt = new Float64Array(n * S);
      this.queue = new Int32Array(n * S);
    }
    let slots = 0;
    for (const sp of plans) slots += sp.capacity * sp.batchCap;
    if (this.batchBuf.length < slots) this.batchBuf = new Int32Array(slots);
  }

  private run(n: number, plans: readonly StagePlan[], options: EstimateOptions, closed: ClosedLoopOptions | undefined, replay?: RunReplay): Estimate | ClosedLoopEstimate {
    const p = this.pipeline;
    const S = plans.length;
    const { edgeStart, edgeTo, edgeFraction, edgeDelayMs, inDegree, isRoot } = p;
    const arrivalMs = this.arrivalMs;
    const doneAt = this.doneAt;
    const latency = this.latency;
    const unresolved = this.unresolved;
    const pendingIn = this.pendingIn;
    const takenIn = this.takenIn;
    const readyAt = this.readyAt;
    const queue = this.queue;
    const batchBuf = this.batchBuf;
    const heap = this.heap;
    heap.clear();
    const routeKey = streamKey(options.seed, 'routing');
    const serviceKey = streamKey(options.seed, 'service');

    // Replicas are numbered globally; stage s owns replicaBase[s] .. replicaBase[s+1]-1.
    const replicaBase = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) replicaBase[s + 1] = (replicaBase[s] as number) + (plans[s] as StagePlan).capacity;
    const R = replicaBase[S] as number;
    const TICK = 2 * R;
    const SAMPLE = 2 * R + 1;
    // FORM + s: stage s's batch delay ends.
    const FORM = 2 * R + 2;
    const stageOf = new Int32Array(R);
    const batchOffset = new Int32Array(R);
    const batchLen = new Int32Array(R);
    const state = new Uint8Array(R);
    const activateAt = new Float64Array(R);
    const freeStack = new Int32Array(R);
    const freeCount = new Int32Array(S);
    const offStack = new Int32Array(R);
    const offCount = new Int32Array(S);
    const startingCount = new Int32Array(S);
    const busyCount = new Int32Array(S);
    const drainingCount = new Int32Array(S);
    const inService = new Int32Array(S);
    const maxBatch = new Int32Array(S);
    const service: Float64Array[] = [];
    const sigma: (Float64Array | undefined)[] = [];
    const hopMs = new Float64Array(S);
    // Every stage's hop-by-in-flight table in one array: stage s's entry for c in flight is at
    // hopBase[s] + min(c, hopTop[s]); hopTop[s] = 0 when its hop is constant (hopMs[s]).
    const hopBase = new Int32Array(S);
    const hopTop = new Int32Array(S);
    let hopLen = 0;
    for (let s = 0; s < S; s++) {
      const t = (plans[s] as StagePlan).hopByInFlight;
      hopBase[s] = hopLen;
      hopTop[s] = t === undefined ? 0 : t.length - 1;
      hopLen += t === undefined ? 0 : t.length;
    }
    const hopFlat = new Float64Array(hopLen);
    // Without a curve on any stage, in-flight counts are not kept: every hop is the constant.
    const hopVaries = hopLen > 0;
    // Per stage: queries sent there (their hop begun) and not yet finished there.
    const inFlight = new Int32Array(S);
    const delayMs = new Float64Array(S);
    const delayFromFormStart = new Uint8Array(S);
    // Per stage: when the batch being formed began (batch-start origin), and when the pending
    // FORM event fires; -1 when none.
    const formingSince = new Float64Array(S).fill(-1);
    const formAt = new Float64Array(S).fill(-1);
    let off = 0;
    for (let s = 0; s < S; s++) {
      const sp = plans[s] as StagePlan;
      maxBatch[s] = sp.maxBatch;
      service.push(sp.serviceMs);
      sigma.push(sp.sigma);
      hopMs[s] = sp.hopMs;
      if (sp.hopByInFlight !== undefined) hopFlat.set(sp.hopByInFlight, hopBase[s] as number);
      delayMs[s] = sp.delayMs;
      delayFromFormStart[s] = sp.delayFromFormStart ? 1 : 0;
      const base = replicaBase[s] as number;
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
    const qHead = new Int32Array(S);
    const qTail = new Int32Array(S);
    const busyMs = new Float64Array(S);
    const busySinceTick = new Float64Array(S);
    const queueDelayMs = new Float64Array(S);
    const batches = new Float64Array(S);
    const visits = new Float64Array(S);
    const maxQueue = new Int32Array(S);
    const visitLog: number[][] | undefined = options.recordVisits ? plans.map(() => []) : undefined;
    // With visits recorded: each visit's hop (it may differ from visit to visit).
    const hopOfVisit = visitLog && hopVaries ? new Float64Array(n * S) : undefined;

    // doneAt: the latest finish so far (the arrival raises it); pendingIn: every query's in-degrees.
    doneAt.fill(-Infinity, 0, n);
    unresolved.fill(S, 0, n);
    takenIn.fill(0, 0, n * S);
    readyAt.fill(0, 0, n * S);
    if (n > 0) {
      pendingIn.set(inDegree, 0);
      for (let filled = S; filled < n * S; filled *= 2) pendingIn.copyWithin(filled, 0, Math.min(filled, n * S - filled));
    }

    // Replayed stages (sim-record.ts): their totals as recorded, their resolutions in recorded order.
    const from = replay?.from;
    const replayed = replay?.replayed;
    // Equal-time events of different stages: in topological order (open loop).
    const rank = new Int32Array(S);
    if (!closed) for (let i = 0; i < S; i++) rank[p.order[i] as number] = i;
    const recording = options.record === true && !closed;
    const laidOut = from && replayed ? layOutReplay(p, from, replayed, rank, !recording) : undefined;
    if (laidOut) {
      doneAt.set(laidOut.doneAt);
      unresolved.set(laidOut.unresolved);
    }
    const replayIdx = laidOut?.idx;
    const replayRank = laidOut?.groupRank;
    const replayCount = laidOut?.idx.length ?? 0;
    let ri = 0;
    let sendsAtArrival = isRoot;
    if (from && replayed) {
      sendsAtArrival = isRoot.map((r, s) => (r && !replayed[s] ? 1 : 0));
      for (let s = 0; s < S; s++) {
        if (!replayed[s]) continue;
        busyMs[s] = from.totals.busyMs[s] as number;
        queueDelayMs[s] = from.totals.queueDelayMs[s] as number;
        batches[s] = from.totals.batches[s] as number;
        visits[s] = from.totals.visits[s] as number;
        maxQueue[s] = from.totals.maxQueue[s] as number;
      }
    }
    const recResolvedAt = this.recResolvedAt;
    const recVisited = this.recVisited;
    const recOrder = this.recOrder;
    let recCount = 0;

    let completed = 0;
    let missed = 0;
    const sloMs = options.sloMs;
    const allowedMisses = options.stopWhenInfeasible ? n - Math.ceil((options.percentile / 100) * n) : n;
    const firstArrival = n > 0 ? (arrivalMs[0] as number) : 0;
    let lastTime = firstArrival;

    // Closed-loop bookkeeping: cost, actions, timeline.
    let cost = 0;
    let costRatePerMs = 0;
    let costSince = firstArrival;
    let actions = 0;
    let arrivalsSinceTick = 0;
    let arrivalsSinceSample = 0;
    let sampleFrom = completed;
    const timeline: TimelinePoint[] = [];
    const sampleMs = closed?.timelineIntervalMs ?? 1000;
    const billed = (s: number): number => (plans[s] as StagePlan).capacity - (offCount[s] as number);
    const provisioned = (s: number): number => billed(s) - (drainingCount[s] as number);
    const recomputeCostRate = (now: number): void => {
      cost += costRatePerMs * (now - costSince);
      costSince = now;
      let rate = 0;
      for (let s = 0; s < S; s++) rate += billed(s) * (plans[s] as StagePlan).pricePerMs;
      costRatePerMs = rate;
    };
    recomputeCostRate(firstArrival);

    // A stage with a batch delay and less than a full batch queued: true (and a FORM event set)
    // while the delay since its origin has not passed. Kept apart so dispatch stays small.
    const holdForDelay = (s: number, now: number): boolean => {
      let origin: number;
      if (delayFromFormStart[s]) {
        if ((formingSince[s] as number) < 0) formingSince[s] = now;
        origin = formingSince[s] as number;
      } else {
        origin = readyAt[(queue[s * n + (qHead[s] as number)] as number) * S + s] as number;
      }
      const deadline = origin + (delayMs[s] as number);
      if (now >= deadline) return false;
      if (formAt[s] !== deadline) {
        formAt[s] = deadline;
        heap.push(deadline, FORM + s, rank[s] as number);
      }
      return true;
    };

    // Query q is sent to stage s now: it counts as in flight there, and its hop costs what it costs
    // with that many in flight.
    const sendHop = (q: number, s: number): number => {
      const c = (inFlight[s] as number) + 1;
      inFlight[s] = c;
      const top = hopTop[s] as number;
      const h = top === 0 ? (hopMs[s] as number) : (hopFlat[(hopBase[s] as number) + (c < top ? c : top)] as number);
      if (hopOfVisit !== undefined) hopOfVisit[q * S + s] = h;
      return h;
    };

    const dispatch = (s: number, now: number): void => {
      const qs = s * n;
      while ((freeCount[s] as number) > 0 && (qHead[s] as number) < (qTail[s] as number)) {
        if ((delayMs[s] as number) > 0) {
          if ((qTail[s] as number) - (qHead[s] as number) < (maxBatch[s] as number) && holdForDelay(s, now)) return;
          formingSince[s] = -1;
        }
        const fc = (freeCount[s] as number) - 1;
        freeCount[s] = fc;
        const r = freeStack[(replicaBase[s] as number) + fc] as number;
        state[r] = BUSY;
        busyCount[s] = (busyCount[s] as number) + 1;
        const avail = (qTail[s] as number) - (qHead[s] as number);
        const k = avail < (maxBatch[s] as number) ? avail : (maxBatch[s] as number);
        const bo = batchOffset[r] as number;
        let h = qHead[s] as number;
        let waited = 0;
        for (let i = 0; i < k; i++) {
          const q = queue[qs + h++] as number;
          batchBuf[bo + i] = q;
          waited += now - (readyAt[q * S + s] as number);
        }
        qHead[s] = h;
        batchLen[r] = k;
        inService[s] = (inService[s] as number) + k;
        const sg = sigma[s];
        let svc = (service[s] as Float64Array)[k] as number;
        if (sg !== undefined) svc *= serviceFactor(sg[k] as number, hashUnit(serviceKey, s, batches[s] as number));
        busyMs[s] = (busyMs[s] as number) + svc;
        busySinceTick[s] = (busySinceTick[s] as number) + svc;
        queueDelayMs[s] = (queueDelayMs[s] as number) + waited;
        batches[s] = (batches[s] as number) + 1;
        visits[s] = (visits[s] as number) + k;
        heap.push(now + svc, r, rank[s] as number);
      }
    };

    const enqueue = (q: number, s: number, now: number): void => {
      readyAt[q * S + s] = now;
      const t = qTail[s] as number;
      queue[s * n + t] = q;
      qTail[s] = t + 1;
      const len = t + 1 - (qHead[s] as number);
      if (len > (maxQueue[s] as number)) maxQueue[s] = len;
      dispatch(s, now);
    };

    const resolveOne = (q: number): void => {
      const left = (unresolved[q] as number) - 1;
      unresolved[q] = left;
      if (left === 0) {
        const l = (doneAt[q] as number) - (arrivalMs[q] as number);
        latency[completed++] = l;
        if (l > sloMs) missed++;
      }
    };

    // An edge into stage `to` has been decided for query q (taken or not). When all of the
    // stage's incoming edges are decided it either runs (some were taken) or is skipped.
    const arrive = (q: number, to: number, taken: boolean, at: number, now: number): void => {
      const idx = q * S + to;
      if (taken) {
        takenIn[idx] = 1;
        if (at > (readyAt[idx] as number)) readyAt[idx] = at;
      }
      const left = (pendingIn[idx] as number) - 1;
      pendingIn[idx] = left;
      if (left > 0) return;
      if (takenIn[idx]) {
        // Sent once every taken branch has answered: the hop starts from the last of them.
        const ready = (readyAt[idx] as number) + (hopVaries ? sendHop(q, to) : (hopMs[to] as number));
        readyAt[idx] = ready;
        if (ready > now) heap.push(ready, -idx - 1, rank[to] as number);
        else enqueue(q, to, now);
      } else {
        skip(q, to, now);
      }
    };

    const recordResolved = (q: number, s: number, now: number, visitedHere: number): void => {
      const idx = q * S + s;
      recResolvedAt[idx] = now;
      recVisited[idx] = visitedHere;
      recOrder[recCount++] = idx;
    };

    const skip = (q: number, s: number, now: number): void => {
      if (recording) recordResolved(q, s, now, 0);
      for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) arrive(q, edgeTo[k] as number, false, 0, now);
      resolveOne(q);
    };

    // A replayed stage's resolution: its edges into simulated stages are decided as in the
    // recorded run (the same draws); edges into replayed stages were replayed already.
    const replayResolved = (idx: number, now: number): void => {
      const q = (idx / S) | 0;
      const s = idx - q * S;
      const visitedHere = (from as SimulationRecord).visited[idx] as number;
      if (recording) recordResolved(q, s, now, visitedHere);
      if (visitedHere && now > (doneAt[q] as number)) doneAt[q] = now;
      for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
        const to = edgeTo[k] as number;
        if ((replayed as Uint8Array)[to]) continue;
        const taken = visitedHere === 1 && edgeTaken(routeKey, q, k, edgeFraction[k] as number);
        arrive(q, to, taken, now + (edgeDelayMs[k] as number), now);
      }
      resolveOne(q);
    };

    const finishStage = (q: number, s: number, now: number): void => {
      if (recording) recordResolved(q, s, now, 1);
      if (now > (doneAt[q] as number)) doneAt[q] = now;
      for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
        const f = edgeFraction[k] as number;
        const taken = edgeTaken(routeKey, q, k, f);
        const to = edgeTo[k] as number;
        arrive(q, to, taken, now + (edgeDelayMs[k] as number), now);
      }
      resolveOne(q);
    };

    const activate = (r: number, now: number): void => {
      const s = stageOf[r] as number;
      state[r] = IDLE;
      freeStack[(replicaBase[s] as number) + (freeCount[s] as number)] = r;
      freeCount[s] = (freeCount[s] as number) + 1;
      dispatch(s, now);
    };

    /** Finds a replica of stage s in state `st` (closed loop only; O(capacity)). */
    const findIn = (s: number, st: number): number => {
      for (let r = replicaBase[s] as number; r < (replicaBase[s + 1] as number); r++) if (state[r] === st) return r;
      return -1;
    };

    const setTarget = (s: number, target: number, now: number): boolean => {
      const sp = plans[s] as StagePlan;
      // Never below one replica: a stage with none would strand its queue (no scale-to-zero).
      const want = Math.max(1, Math.min(sp.capacity, Math.floor(target)));
      let cur = provisioned(s);
      if (want === cur) return false;
      recomputeCostRate(now);
      const base = replicaBase[s] as number;
      while (cur < want) {
        let r: number;
        if ((offCount[s] as number) > 0) {
          const oc = (offCount[s] as number) - 1;
          offCount[s] = oc;
          r = offStack[base + oc] as number;
        } else {
          // Every slot is in use, some draining: keep one of those instead.
          r = findIn(s, DRAINING);
          if (r < 0) break;
          state[r] = BUSY;
          drainingCount[s] = (drainingCount[s] as number) - 1;
          busyCount[s] = (busyCount[s] as number) + 1;
          cur++;
          continue;
        }
        cur++;
        if (sp.activationDelayMs > 0) {
          state[r] = STARTING;
          startingCount[s] = (startingCount[s] as number) + 1;
          activateAt[r] = now + sp.activationDelayMs;
          heap.push(now + sp.activationDelayMs, R + r);
        } else {
          activate(r, now);
        }
      }
      while (cur > want) {
        cur--;
        let r = (startingCount[s] as number) > 0 ? findIn(s, STARTING) : -1;
        if (r >= 0) {
          startingCount[s] = (startingCount[s] as number) - 1;
        } else if ((freeCount[s] as number) > 0) {
          const fc = (freeCount[s] as number) - 1;
          freeCount[s] = fc;
          r = freeStack[base + fc] as number;
        } else {
          r = findIn(s, BUSY);
          state[r] = DRAINING;
          busyCount[s] = (busyCount[s] as number) - 1;
          drainingCount[s] = (drainingCount[s] as number) + 1;
          continue;
        }
        state[r] = OFF;
        offStack[base + (offCount[s] as number)] = r;
        offCount[s] = (offCount[s] as number) + 1;
      }
      recomputeCostRate(now);
      return true;
    };

    const controller = closed?.controller;
    const stageNames = p.stageNames;
    const latencyOfSample = (): number => {
      if (completed === sampleFrom) return Number.NaN;
      const part = latency.slice(sampleFrom, completed);
      part.sort();
      return percentileOfSorted(part, 99);
    };
    const capacityQps = (): number => {
      let cap = Infinity;
      for (let s = 0; s < S; s++) {
        const sf = p.scaleFactor[s] as number;
        if (sf <= 0) continue;
        const sp = plans[s] as StagePlan;
        const active = (freeCount[s] as number) + (busyCount[s] as number);
        const b = maxBatch[s] as number;
        cap = Math.min(cap, (active * b * 1000) / (sp.serviceMs[b] as number) / sf);
      }
      return cap === Infinity ? 0 : cap;
    };
    if (controller && n > 0) {
      heap.push(nextTick(controller, firstArrival), TICK);
      heap.push(firstArrival + sampleMs, SAMPLE);
    }

    let ai = 0;
    while ((ai < n || heap.size > 0 || ri < replayCount) && missed <= allowedMisses) {
      if (ri < replayCount) {
        // A replayed resolution takes its place among equal-time events by its stage's rank (a
        // skip by the rank of the resolution that caused it), and goes before arrivals.
        const idx = (replayIdx as Int32Array)[ri] as number;
        const t = (from as SimulationRecord).resolvedAt[idx] as number;
        if ((heap.size === 0 || t < heap.peekTime() || (t === heap.peekTime() && ((replayRank as Int32Array)[ri] as number) < heap.peekRank()))
          && (ai >= n || t <= (arrivalMs[ai] as number))) {
          ri++;
          lastTime = t;
          replayResolved(idx, t);
          continue;
        }
      }
      if (heap.size > 0 && (ai >= n || heap.peekTime() <= (arrivalMs[ai] as number))) {
        const now = heap.peekTime();
        const ev = heap.pop();
        if (ev >= 0 && ev < R) {
          lastTime = now;
          const r = ev;
          const s = stageOf[r] as number;
          const bo = batchOffset[r] as number;
          const k = batchLen[r] as number;
          inService[s] = (inService[s] as number) - k;
          if (hopVaries) inFlight[s] = (inFlight[s] as number) - k;
          // Free the replica first: queries finishing here never re-enter stage s (a DAG).
          if (state[r] === DRAINING) {
            recomputeCostRate(now);
            state[r] = OFF;
            drainingCount[s] = (drainingCount[s] as number) - 1;
            offStack[(replicaBase[s] as number) + (offCount[s] as number)] = r;
            offCount[s] = (offCount[s] as number) + 1;
            recomputeCostRate(now);
          } else {
            state[r] = IDLE;
            busyCount[s] = (busyCount[s] as number) - 1;
            freeStack[(replicaBase[s] as number) + (freeCount[s] as number)] = r;
            freeCount[s] = (freeCount[s] as number) + 1;
          }
          if (visitLog) {
            const log = visitLog[s] as number[];
            for (let i = 0; i < k; i++) {
              const idx = (batchBuf[bo + i] as number) * S + s;
              log.push(now - (readyAt[idx] as number) + (hopOfVisit !== undefined ? (hopOfVisit[idx] as number) : (hopMs[s] as number)));
            }
          }
          for (let i = 0; i < k; i++) finishStage(batchBuf[bo + i] as number, s, now);
          dispatch(s, now);
        } else if (ev < 0) {
          lastTime = now;
          const idx = -ev - 1;
          const q = (idx / S) | 0;
          enqueue(q, idx - q * S, now);
        } else if (ev >= FORM) {
          const s = ev - FORM;
          if (formAt[s] === now) {
            formAt[s] = -1;
            dispatch(s, now);
          }
        } else if (ev < TICK) {
          const r = ev - R;
          if (state[r] === STARTING && activateAt[r] === now) {
            startingCount[stageOf[r] as number] = (startingCount[stageOf[r] as number] as number) - 1;
            activate(r, now);
          }
        } else if (completed < n && controller) {
          if (ev === TICK) {
            const stages: StageObservation[] = stageNames.map((stage, s) => ({
              stage,
              provisioned: provisioned(s),
              active: (freeCount[s] as number) + (busyCount[s] as number),
              busyMs: busySinceTick[s] as number,
              queueLength: (qTail[s] as number) - (qHead[s] as number),
              inService: inService[s] as number,
            }));
            busySinceTick.fill(0);
            const targets = controller.tick({ nowMs: now, arrivals: arrivalsSinceTick, stages });
            arrivalsSinceTick = 0;
            if (targets) {
              stageNames.forEach((name, s) => {
                const t = targets[name];
                if (t !== undefined && setTarget(s, t, now)) actions++;
              });
            }
            const batchTargets = controller.batchTargets?.();
            if (batchTargets) {
              stageNames.forEach((name, s) => {
                const b = batchTargets[name];
                if (b === undefined) return;
                const want = Math.max(1, Math.min((plans[s] as StagePlan).batchCap, Math.floor(b)));
                if (want !== maxBatch[s]) {
                  maxBatch[s] = want;
                  actions++;
                  dispatch(s, now);
                }
              });
            }
            heap.push(nextTick(controller, now), TICK);
          } else {
            const replicas: Record<string, number> = {};
            stageNames.forEach((name, s) => { replicas[name] = provisioned(s); });
            timeline.push({
              tMs: now - firstArrival,
              arrivalRateQps: (arrivalsSinceSample * 1000) / sampleMs,
              capacityQps: capacityQps(),
              replicas,
              p99Ms: latencyOfSample(),
              costPerHour: costRatePerMs * 3_600_000,
            });
            arrivalsSinceSample = 0;
            sampleFrom = completed;
            heap.push(now + sampleMs, SAMPLE);
          }
        }
      } else {
        const q = ai++;
        const now = arrivalMs[q] as number;
        lastTime = now;
        if (now > (doneAt[q] as number)) doneAt[q] = now;
        if (controller) {
          controller.observeArrival(now);
          arrivalsSinceTick++;
          arrivalsSinceSample++;
        }
        for (let s = 0; s < S; s++) {
          if (!sendsAtArrival[s]) continue;
          const h = hopVaries ? sendHop(q, s) : (hopMs[s] as number);
          if (h > 0) {
            const idx = q * S + s;
            readyAt[idx] = now + h;
            heap.push(now + h, -idx - 1, rank[s] as number);
          } else {
            enqueue(q, s, now);
          }
        }
      }
    }

    const stoppedEarly = missed > allowedMisses;
    if (laidOut && !stoppedEarly && laidOut.collapsedLastMs > lastTime) lastTime = laidOut.collapsedLastMs;
    const span = n > 0 ? Math.max(lastTime - firstArrival, 1e-9) : 1;
    // The percentiles by selection, not a sort (a sort of 100k latencies took 12 ms, a fifth of
    // the run); a sorted copy only where the caller asked for every latency (recordVisits).
    const sorted = visitLog ? latency.slice(0, completed).sort() : undefined;
    const reported = [50, 95, 99, 99.9, options.percentile, 100];
    const [p50Ms, p95Ms, p99Ms, p999Ms, sloPercentileMs, maxMs] = sorted
      ? reported.map((q) => percentileOfSorted(sorted, q))
      : percentilesInPlace(latency, completed, reported);
    let stageVisits = 0;
    const stages: StageEstimate[] = p.stageNames.map((name, s) => {
      const b = batches[s] as number;
      const v = visits[s] as number;
      if (!replayed?.[s]) stageVisits += v;
      return {
        stage: name,
        visits: v,
        batches: b,
        meanBatchSize: b > 0 ? v / b : 0,
        utilisation: (busyMs[s] as number) / (Math.max((plans[s] as StagePlan).replicas, 1) * span),
        meanQueueDelayMs: v > 0 ? (queueDelayMs[s] as number) / v : 0,
        maxQueueLength: maxQueue[s] as number,
      };
    });
    if (!stoppedEarly && completed !== n) throw new Error(`estimator lost queries: ${n} arrived, ${completed} completed`);
    const estimate: Estimate = {
      queries: n,
      p50Ms: p50Ms as number,
      p95Ms: p95Ms as number,
      p99Ms: p99Ms as number,
      p999Ms: p999Ms as number,
      // Summed in no particular order: a run that replays stages completes queries in another.
      meanMs: orderFreeMean(latency, completed, maxMs as number),
      maxMs: maxMs as number,
      sloPercentileMs: sloPercentileMs as number,
      sloMissRate: n > 0 ? missed / n : 0,
      stageVisits,
      stoppedEarly,
      stages,
      ...(visitLog && sorted ? { visitLatencyMs: visitLog.map((l) => Float64Array.from(l).sort()), latencyMs: sorted } : {}),
      ...(recording && !stoppedEarly && replay?.stageKeys ? {
        record: {
          owner: this, trace: replay.trace, seed: options.seed, stageKeys: replay.stageKeys,
          resolvedAt: recResolvedAt.slice(0, n * S), visited: recVisited.slice(0, n * S), order: recOrder.slice(0, recCount),
          totals: { busyMs: busyMs.slice(), queueDelayMs: queueDelayMs.slice(), batches: batches.slice(), visits: visits.slice(), maxQueue: maxQueue.slice() },
        },
      } : {}),
      ...(replayed ? { replayedStages: replayed.reduce((a, b) => a + b, 0) } : {}),
    };
    if (!closed) return estimate;
    recomputeCostRate(lastTime);
    return {
      ...estimate,
      controller: closed.controller.name,
      durationMs: span,
      cost,
      meanCostPerHour: (cost / span) * 3_600_000,
      scalingActions: actions,
      timeline,
    };
  }
}

/** The controller's next tick after `nowMs`: its own time when it says one, strictly later. */
function nextTick(controller: Controller, nowMs: number): number {
  const at = controller.nextTickMs?.(nowMs);
  return at !== undefined && at > nowMs ? at : nowMs + controller.tickMs;
}
