// The estimator: a deterministic discrete-event simulation of a pipeline under an arrival trace,
// for one configuration (hardware, max batch and replicas per stage). Semantics, from
// reference/inferline.md:
// - each stage has one FIFO queue shared by its replicas (centralised batching);
// - an idle replica takes k = min(queue length, max batch) queries at once and is busy for L(k)
//   from the profile (interpolated between measured sizes);
// - with a batch delay d (StageConfig.batchDelayMs), a free replica that finds fewer than max
//   batch queued waits for more until d after the oldest queued query became ready (TF Serving's
//   batch timeout), or d after it began forming the batch (TorchServe's worker), then runs what it
//   has; Triton's batcher fixes the batch when d runs out even while every replica is busy, and
//   a later arrival joins it only when it wakes the batcher (the payload rule, batch-delay.ts;
//   EstimateOptions.delayOrigin);
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
//
// The parts: estimate-types.ts (options and results), stage-plan.ts (what a stage runs on),
// sim-state.ts (one run's state), sim-events.ts (queue, batch, routing and joins: the hot path),
// closed-loop-events.ts (replicas, cost, the controller's tick), sim-loop.ts (the event loop),
// estimate-result.ts (percentiles and per-stage figures).
import { DELAY_RULE, delayOriginOf } from './batch-delay.js';
import { EventHeap } from './event-heap.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import type { ProfileSet } from '../model/profiles.js';
import { replayableStages } from './sim-record.js';
import type { PipelineConfig } from '../model/types.js';
import { recomputeCostRate } from './closed-loop-events.js';
import { estimateOf } from './estimate-result.js';
import type { ClosedLoopEstimate, ClosedLoopOptions, Estimate, EstimateOptions } from './estimate-types.js';
import { runEvents } from './sim-loop.js';
import { SimState } from './sim-state.js';
import type { RunBuffers } from './sim-state.js';
import type { RunReplay, StagePlan } from './stage-plan.js';

export type { DelayOrigin } from './batch-delay.js';
export type {
  ClosedLoopEstimate, ClosedLoopOptions, ControlView, Controller, Estimate, EstimateOptions, ReplicaTargets,
  StageEstimate, StageObservation, TimelinePoint,
} from './estimate-types.js';

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
        delayRule: DELAY_RULE[options.delayOrigin?.[name] ?? delayOriginOf(this.pipeline.spec.stages[s]?.server)],
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
      return `${config[name]?.hardware}/${sp.maxBatch}/${sp.replicas}/${sp.delayMs}/${sp.delayRule}`;
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
    const buffers: RunBuffers = {
      heap: this.heap, arrivalMs: this.arrivalMs, doneAt: this.doneAt, latency: this.latency, unresolved: this.unresolved,
      pendingIn: this.pendingIn, takenIn: this.takenIn, readyAt: this.readyAt, queue: this.queue, batchBuf: this.batchBuf,
      recResolvedAt: this.recResolvedAt, recVisited: this.recVisited, recOrder: this.recOrder,
    };
    const st = new SimState(this.pipeline, n, plans, buffers, options, closed, replay);
    recomputeCostRate(st, st.firstArrival);
    runEvents(st, closed?.controller);
    return estimateOf(st, options, closed, replay, this);
  }
}
