// The estimator: a deterministic discrete-event simulation of a pipeline under an arrival trace,
// for one configuration (hardware, max batch and replicas per stage). Semantics, from
// reference/inferline.md:
// - each stage has one FIFO queue shared by its replicas (centralised batching);
// - an idle replica takes k = min(queue length, max batch) queries at once, without waiting for
//   more, and is busy for L(k) from the profile (interpolated between measured sizes);
// - when a query finishes a stage, each outgoing edge with fraction f is taken with probability f,
//   by a draw keyed by (seed, query, edge), so routing does not depend on event order;
// - a stage with several incoming edges is a join: it runs once the taken branches have arrived
//   (see pipeline.ts); a query completes when every stage it visits has completed;
// - equal-time events run in insertion order; completions run before arrivals at the same time.
// Buffers are typed arrays, allocated once per shape and reused across runs: no allocation per
// event on the hot path.
import { EventHeap } from './event-heap.js';
import { percentileOfSorted } from './percentiles.js';
import { hashUnit, streamKey } from './random.js';
import type { CompiledPipeline } from './pipeline.js';
import type { ProfileSet } from './profiles.js';
import type { PipelineConfig } from './types.js';

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
}

/** Per-stage service description the simulation runs on. */
interface StagePlan {
  maxBatch: number;
  replicas: number;
  /** serviceMs[k] = latency of a batch of k. */
  serviceMs: Float64Array;
}

/**
 * Runs simulations of one pipeline. Reuse one instance for many configurations (the planner does):
 * service tables and buffers are cached.
 */
export class Estimator {
  readonly pipeline: CompiledPipeline;
  private readonly profiles: ProfileSet;
  private readonly tableCache = new Map<string, Float64Array>();
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

  /** Simulates `config` on `trace` (arrival times in seconds, non-decreasing). */
  estimate(config: PipelineConfig, trace: Float64Array, options: EstimateOptions): Estimate {
    const p = this.pipeline;
    const S = p.stageNames.length;
    const plans: StagePlan[] = p.stageNames.map((name, s) => {
      const c = config[name];
      if (!c) throw new RangeError(`configuration has no stage "${name}"`);
      if (!(c.replicas >= 1) || !(c.batchSize >= 1)) throw new RangeError(`stage "${name}": replicas and batch size must be ≥ 1`);
      const serviceMs = this.serviceTable(s, c.hardware, c.batchSize);
      return { maxBatch: serviceMs.length - 1, replicas: c.replicas, serviceMs };
    });
    this.prepare(trace, S, plans);
    return this.run(trace.length, S, plans, options);
  }

  private prepare(trace: Float64Array, S: number, plans: readonly StagePlan[]): void {
    const n = trace.length;
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
    for (const sp of plans) slots += sp.replicas * sp.maxBatch;
    if (this.batchBuf.length < slots) this.batchBuf = new Int32Array(slots);
  }

  private run(n: number, S: number, plans: readonly StagePlan[], options: EstimateOptions): Estimate {
    const p = this.pipeline;
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

    // Replicas are numbered globally; stage s owns replicaBase[s] .. replicaBase[s+1]-1.
    const replicaBase = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) replicaBase[s + 1] = (replicaBase[s] as number) + (plans[s] as StagePlan).replicas;
    const R = replicaBase[S] as number;
    const stageOf = new Int32Array(R);
    const batchOffset = new Int32Array(R);
    const batchLen = new Int32Array(R);
    const freeStack = new Int32Array(R);
    const freeCount = new Int32Array(S);
    const maxBatch = new Int32Array(S);
    const service: Float64Array[] = [];
    let off = 0;
    for (let s = 0; s < S; s++) {
      const sp = plans[s] as StagePlan;
      maxBatch[s] = sp.maxBatch;
      service.push(sp.serviceMs);
      for (let r = replicaBase[s] as number; r < (replicaBase[s + 1] as number); r++) {
        stageOf[r] = s;
        batchOffset[r] = off;
        off += sp.maxBatch;
        // Push in reverse so the lowest-numbered replica is taken first.
        freeStack[(replicaBase[s + 1] as number) - 1 - (r - (replicaBase[s] as number))] = r;
      }
      freeCount[s] = sp.replicas;
    }
    const qHead = new Int32Array(S);
    const qTail = new Int32Array(S);
    const busyMs = new Float64Array(S);
    const queueDelayMs = new Float64Array(S);
    const batches = new Float64Array(S);
    const visits = new Float64Array(S);
    const maxQueue = new Int32Array(S);

    for (let q = 0; q < n; q++) {
      doneAt[q] = 0;
      unresolved[q] = S;
      const base = q * S;
      for (let s = 0; s < S; s++) {
        pendingIn[base + s] = inDegree[s] as number;
        takenIn[base + s] = 0;
        readyAt[base + s] = 0;
      }
    }

    let completed = 0;
    let missed = 0;
    const sloMs = options.sloMs;
    const allowedMisses = options.stopWhenInfeasible ? n - Math.ceil((options.percentile / 100) * n) : n;
    let lastTime = n > 0 ? (arrivalMs[0] as number) : 0;

    const dispatch = (s: number, now: number): void => {
      const qs = s * n;
      while ((freeCount[s] as number) > 0 && (qHead[s] as number) < (qTail[s] as number)) {
        const fc = (freeCount[s] as number) - 1;
        freeCount[s] = fc;
        const r = freeStack[(replicaBase[s] as number) + fc] as number;
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
        const svc = (service[s] as Float64Array)[k] as number;
        busyMs[s] = (busyMs[s] as number) + svc;
        queueDelayMs[s] = (queueDelayMs[s] as number) + waited;
        batches[s] = (batches[s] as number) + 1;
        visits[s] = (visits[s] as number) + k;
        heap.push(now + svc, r);
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
        const ready = readyAt[idx] as number;
        if (ready > now) heap.push(ready, -idx - 1);
        else enqueue(q, to, now);
      } else {
        skip(q, to, now);
      }
    };

    const skip = (q: number, s: number, now: number): void => {
      for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) arrive(q, edgeTo[k] as number, false, 0, now);
      resolveOne(q);
    };

    const finishStage = (q: number, s: number, now: number): void => {
      if (now > (doneAt[q] as number)) doneAt[q] = now;
      for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
        const f = edgeFraction[k] as number;
        const taken = f >= 1 || (f > 0 && hashUnit(routeKey, q, k) < f);
        arrive(q, edgeTo[k] as number, taken, now + (edgeDelayMs[k] as number), now);
      }
      resolveOne(q);
    };

    let ai = 0;
    while ((ai < n || heap.size > 0) && missed <= allowedMisses) {
      if (heap.size > 0 && (ai >= n || heap.peekTime() <= (arrivalMs[ai] as number))) {
        const now = heap.peekTime();
        const ev = heap.pop();
        lastTime = now;
        if (ev >= 0) {
          const r = ev;
          const s = stageOf[r] as number;
          const bo = batchOffset[r] as number;
          const k = batchLen[r] as number;
          // Free the replica first: queries finishing here never re-enter stage s (a DAG).
          freeStack[(replicaBase[s] as number) + (freeCount[s] as number)] = r;
          freeCount[s] = (freeCount[s] as number) + 1;
          for (let i = 0; i < k; i++) finishStage(batchBuf[bo + i] as number, s, now);
          dispatch(s, now);
        } else {
          const idx = -ev - 1;
          const q = (idx / S) | 0;
          enqueue(q, idx - q * S, now);
        }
      } else {
        const q = ai++;
        const now = arrivalMs[q] as number;
        lastTime = now;
        doneAt[q] = now;
        for (let s = 0; s < S; s++) if (isRoot[s]) enqueue(q, s, now);
      }
    }

    const span = n > 0 ? Math.max(lastTime - (arrivalMs[0] as number), 1e-9) : 1;
    const sorted = latency.slice(0, completed);
    sorted.sort();
    let sum = 0;
    for (let i = 0; i < completed; i++) sum += sorted[i] as number;
    const stoppedEarly = missed > allowedMisses;
    let stageVisits = 0;
    const stages: StageEstimate[] = p.stageNames.map((name, s) => {
      const b = batches[s] as number;
      const v = visits[s] as number;
      stageVisits += v;
      return {
        stage: name,
        visits: v,
        batches: b,
        meanBatchSize: b > 0 ? v / b : 0,
        utilisation: (busyMs[s] as number) / ((plans[s] as StagePlan).replicas * span),
        meanQueueDelayMs: v > 0 ? (queueDelayMs[s] as number) / v : 0,
        maxQueueLength: maxQueue[s] as number,
      };
    });
    if (!stoppedEarly && completed !== n) throw new Error(`estimator lost queries: ${n} arrived, ${completed} completed`);
    return {
      queries: n,
      p50Ms: percentileOfSorted(sorted, 50),
      p95Ms: percentileOfSorted(sorted, 95),
      p99Ms: percentileOfSorted(sorted, 99),
      p999Ms: percentileOfSorted(sorted, 99.9),
      meanMs: completed > 0 ? sum / completed : Number.NaN,
      maxMs: completed > 0 ? (sorted[completed - 1] as number) : Number.NaN,
      sloPercentileMs: percentileOfSorted(sorted, options.percentile),
      sloMissRate: n > 0 ? missed / n : 0,
      stageVisits,
      stoppedEarly,
      stages,
    };
  }
}
