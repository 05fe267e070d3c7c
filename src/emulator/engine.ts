// The emulators' one queueing and batching engine: one model (or model version) served by N
// replicas (Triton instances, TorchServe workers, TF Serving batch threads) from one FIFO queue,
// with dynamic batching, in real time.
//
// A batch is formed from the head of the queue in arrival order: up to `maxBatch` items (a request
// of n items counts n). When fewer are queued it may wait up to `maxQueueDelayMs` for more:
// measured from the oldest request's arrival (Triton's dynamic batcher, TF Serving's batch
// timeout) or from the moment the replica started forming the batch (a TorchServe worker polling
// its job queue). A batch is formed when a replica is free, or, with `formAheadPerReplica`
// (Triton), also while every replica is busy: it then waits for one, and the newest waiting batch
// keeps taking requests until it is saturated. Batch sizes follow Triton's rule (see pickBatch),
// which without preferred sizes is everyone's. docs/emulator.md has each server's rules and where
// they were read.
//
// The batch then runs for the service time, L(size) by default, to an absolute deadline on the
// monotonic clock (deadline-timer.ts: to a few µs, not Node's whole-millisecond timers), so
// concurrency between replicas is real and a batch's measured compute time is L(size) plus only
// the host's scheduling delay. Measurements (queue, compute and end-to-end nanoseconds) use
// `now`, by default the monotonic clock too.
import { preciseTimer } from './deadline-timer.js';
import type { DeadlineTimer } from './deadline-timer.js';
import { serviceFactor } from '../core/model/profiles.js';
import type { LatencyCurve } from '../core/model/profiles.js';
import { hashUnit, streamKey } from '../core/math/random.js';

/** What happens to a replica removed while it runs a batch. */
export type ScaleDownPolicy =
  | 'graceful' // Triton: the instance leaves scheduling and is released when its batch finishes
  | 'requeue' // TorchServe 0.12: the worker is interrupted; its batch goes back to the head of the queue (BatchAggregator.sendError → Model.addFirst)
  | 'fail-in-flight'; // the worker is interrupted and its batch fails with "Worker scaled down." (a removal that does not drain, for tests)

/** Where the max queue delay is measured from. */
export type DelayOrigin =
  | 'oldest-request' // Triton, TF Serving: a request waits at most the delay in total
  | 'batch-start'; // TorchServe: a free worker waits at most the delay after it took the first job

/** Failure reasons, as Triton's nv_inference_request_failure labels them. */
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';
export const FAILURE_REASONS: readonly FailureReason[] = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'];

export interface BatchingSettings {
  /** Most items in one execution (1 ≤ maxBatch ≤ the profile's largest measured size). */
  readonly maxBatch: number;
  /** How long a batch may wait to fill; 0 runs whatever is queued at once. */
  readonly maxQueueDelayMs: number;
  /**
   * Triton's preferred_batch_size: a batch that reaches one of these sizes runs without waiting,
   * and the largest one caps a batch formed before the delay runs out. Empty: the max batch
   * (Triton fills in [max_batch_size] when none is configured).
   */
  readonly preferredBatchSizes?: readonly number[];
  /** False: every request runs alone (no dynamic batching across requests). Default true. */
  readonly merge?: boolean;
}

export interface ModelEngineOptions extends BatchingSettings {
  /** For messages. */
  readonly name: string;
  /** Service time of a batch by size. */
  readonly curve: LatencyCurve;
  readonly replicas: number;
  readonly delayOrigin?: DelayOrigin;
  readonly scaleDown?: ScaleDownPolicy;
  /** Most requests waiting in the queue (TorchServe's job_queue_size); unbounded when absent. */
  readonly queueCapacity?: number;
  /**
   * Triton: batches are formed also while every replica is busy, up to this many waiting per
   * replica (the rate limiter's payload slots: 2), and the newest waiting batch keeps taking
   * requests until it is saturated. 0 (default): a batch is formed only when a replica is free.
   */
  readonly formAheadPerReplica?: number;
  /**
   * Most batches waiting (TF Serving's max_enqueued_batches): the waiting requests packed in
   * arrival order into batches of up to maxBatch items; a request that would need one more
   * batch is rejected. Unbounded when absent.
   */
  readonly queueCapacityBatches?: number;
  /** Time a new replica takes before it serves (worker start, instance creation). Default 0. */
  readonly replicaStartupMs?: number;
  /** Ids for new replicas (TorchServe numbers workers by port across the server). Default 0, 1, … */
  readonly allocateReplicaId?: () => number;
  /** Nanosecond time source for measurements. Default process.hrtime.bigint. */
  readonly now?: () => bigint;
  /** Wall-clock milliseconds since the epoch, for `lastInferenceMs`. Default Date.now. */
  readonly wallClockMs?: () => number;
  /** Called after every execution (for servers that report per-batch metrics). */
  readonly onBatch?: (batch: BatchRecord) => void;
  /**
   * Service time (ms, fractional) of the `seq`-th execution (0, 1, … per engine) of `k` items.
   * Default: profileServiceMs (L(k), with the profile's measured spread where it has one).
   */
  readonly serviceMs?: (k: number, seq: number) => number;
  /**
   * Scheduling: the monotonic clock and deadlines. Default preciseTimer (performance.now()).
   * A fake one drives the engine step by step in tests; `now` then defaults to it too.
   */
  readonly timer?: DeadlineTimer;
}

/** One execution, as reported to `onBatch`. */
export interface BatchRecord {
  readonly size: number;
  readonly requests: number;
  readonly computeNs: bigint;
  /** Queue wait of each request in the batch. */
  readonly queueNs: readonly bigint[];
}

/** How one request was served. */
export interface InferenceOutcome {
  /** Items in the batch this request ran in (its own and others'). */
  readonly batchSize: number;
  /** Requests in that batch. */
  readonly batchRequests: number;
  readonly replicaId: number;
  readonly queueNs: bigint;
  readonly computeNs: bigint;
  /** From submit to completion. */
  readonly totalNs: bigint;
}

export interface DurationCounter {
  readonly count: bigint;
  readonly ns: bigint;
}

export interface BatchSizeStat {
  readonly batchSize: number;
  /** Executions of this size. */
  readonly count: bigint;
  /** Their total compute time. */
  readonly ns: bigint;
}

/** Cumulative counters of one engine, as every face needs them. */
export interface EngineCounters {
  /** Successful requests and their end-to-end time. */
  readonly success: DurationCounter;
  /** Failed requests and the time they spent before failing. */
  readonly failure: DurationCounter;
  readonly failuresByReason: Readonly<Record<FailureReason, bigint>>;
  /** Queue wait of successful requests (count = success count). */
  readonly queue: DurationCounter;
  /** Compute time per successful request: a batch of r requests adds r × its compute time. */
  readonly compute: DurationCounter;
  /** Items inferred (a request of n counts n). */
  readonly inferenceCount: bigint;
  /** Batches executed. */
  readonly executionCount: bigint;
  /** Executions per batch size, ascending. */
  readonly batchStats: readonly BatchSizeStat[];
  /** Epoch ms of the last completed request; 0 when none. */
  readonly lastInferenceMs: number;
}

export type ReplicaState = 'starting' | 'idle' | 'busy' | 'retiring';

export interface ReplicaSnapshot {
  readonly id: number;
  readonly state: ReplicaState;
  /** Epoch ms when the replica was created. */
  readonly startedAtMs: number;
}

export type EngineErrorKind = 'scaled-down' | 'stopped' | 'queue-full' | 'too-large' | 'draining';

/** Why the engine did not serve a request. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly kind: EngineErrorKind;

  constructor(kind: EngineErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** TorchServe's text for the requests of a worker removed mid-batch (WorkerThread.shutdown). */
export const WORKER_SCALED_DOWN = 'Worker scaled down.';

interface Request {
  readonly size: number;
  readonly enqueuedNs: bigint;
  /** Scheduling time (timer.nowMs()). */
  readonly enqueuedMs: number;
  readonly resolve: (o: InferenceOutcome) => void;
  readonly reject: (e: EngineError) => void;
}

interface Batch {
  readonly requests: readonly Request[];
  readonly size: number;
  readonly startNs: bigint;
  readonly queueNs: readonly bigint[];
}

interface Replica {
  readonly id: number;
  readonly startedAtMs: number;
  state: ReplicaState;
  /** A retiring replica finishes its batch and leaves. */
  retiring: boolean;
  batch: Batch | undefined;
  /** Cancels the replica's pending deadline (startup or batch end). */
  cancel: (() => void) | undefined;
  /** Resolves when the replica can serve (or is removed before it could). */
  ready: Promise<void>;
  markReady: () => void;
}

interface MutableDuration {
  count: bigint;
  ns: bigint;
}

export class ModelEngine {
  readonly name: string;
  readonly curve: LatencyCurve;
  private settings: Required<Omit<BatchingSettings, 'preferredBatchSizes'>> & { preferred: ReadonlySet<number> };
  private readonly delayOrigin: DelayOrigin;
  private readonly scaleDownPolicy: ScaleDownPolicy;
  private readonly queueCapacity: number | undefined;
  private readonly queueCapacityBatches: number | undefined;
  private readonly formAhead: number;
  /** Batches formed ahead, waiting for a replica, oldest first (formAhead > 0 only). */
  private readonly formed: Request[][] = [];
  /** Whether the newest formed batch can still take requests (Triton: not saturated). */
  private lastOpen = false;
  private readonly startupMs: number;
  private readonly allocateId: () => number;
  private readonly now: () => bigint;
  private readonly wallClockMs: () => number;
  private readonly onBatch: ((b: BatchRecord) => void) | undefined;
  private readonly serviceMs: (k: number, seq: number) => number;
  private readonly timer: DeadlineTimer;

  private readonly queue: Request[] = [];
  private readonly pool: Replica[] = [];
  private cancelForm: (() => void) | undefined;
  private formDeadline = 0;
  private formingSince: number | undefined;
  private stopped = false;
  private draining = false;
  private readonly idleWaiters: (() => void)[] = [];
  private nextLocalId = 0;
  /** Executions started, the `seq` of serviceMs. */
  private dispatched = 0;

  private readonly success: MutableDuration = { count: 0n, ns: 0n };
  private readonly failure: MutableDuration = { count: 0n, ns: 0n };
  private readonly failuresByReason: Record<FailureReason, bigint> = { REJECTED: 0n, CANCELED: 0n, BACKEND: 0n, OTHER: 0n };
  private readonly queueStat: MutableDuration = { count: 0n, ns: 0n };
  private readonly computeStat: MutableDuration = { count: 0n, ns: 0n };
  private inferenceCount = 0n;
  private executionCount = 0n;
  private readonly batchStats = new Map<number, MutableDuration>();
  private lastInferenceMs = 0;

  constructor(options: ModelEngineOptions) {
    this.name = options.name;
    this.curve = options.curve;
    this.settings = this.checkSettings(options);
    this.delayOrigin = options.delayOrigin ?? 'oldest-request';
    this.scaleDownPolicy = options.scaleDown ?? 'graceful';
    this.queueCapacity = options.queueCapacity;
    this.queueCapacityBatches = options.queueCapacityBatches;
    this.formAhead = Math.max(0, Math.floor(options.formAheadPerReplica ?? 0));
    this.startupMs = Math.max(0, options.replicaStartupMs ?? 0);
    this.allocateId = options.allocateReplicaId ?? (() => this.nextLocalId++);
    this.timer = options.timer ?? preciseTimer;
    const timer = options.timer;
    this.now = options.now ?? (timer ? () => BigInt(Math.round(timer.nowMs() * 1e6)) : process.hrtime.bigint);
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.onBatch = options.onBatch;
    this.serviceMs = options.serviceMs ?? profileServiceMs(options.curve, options.name);
    checkCount('replicas', options.replicas);
    // The first replicas exist from the start: a server comes up with its models loaded.
    for (let i = 0; i < options.replicas; i++) this.pool.push(this.newReplica(false));
  }

  /** Current batching settings. */
  get batching(): Required<Omit<BatchingSettings, 'preferredBatchSizes'>> & { preferredBatchSizes: readonly number[] } {
    const { maxBatch, maxQueueDelayMs, merge, preferred } = this.settings;
    return { maxBatch, maxQueueDelayMs, merge, preferredBatchSizes: [...preferred].sort((a, b) => a - b) };
  }

  /** Replicas that count toward the target (starting, idle or busy; not retiring). */
  get replicas(): number {
    return this.pool.filter((r) => !r.retiring).length;
  }

  /** Replicas that can take work now. */
  get readyReplicas(): number {
    return this.pool.filter((r) => !r.retiring && (r.state === 'idle' || r.state === 'busy')).length;
  }

  /** Requests waiting for a replica (queue depth), in formed batches too. */
  get pendingRequests(): number {
    return this.queue.length + this.formed.reduce((n, b) => n + b.length, 0);
  }

  /** Requests in batches that are executing. */
  get inFlightRequests(): number {
    return this.pool.reduce((n, r) => n + (r.batch?.requests.length ?? 0), 0);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  replicaSnapshot(): ReplicaSnapshot[] {
    return this.pool.map((r) => ({ id: r.id, state: r.retiring ? 'retiring' : r.state, startedAtMs: r.startedAtMs }));
  }

  /**
   * Queues a request of `size` items; resolves when its batch finishes. Rejects with an
   * EngineError when the engine is stopped or draining, the request is larger than the max batch,
   * or the queue is full.
   */
  submit(size = 1): Promise<InferenceOutcome> {
    if (this.stopped) return Promise.reject(new EngineError('stopped', `${this.name}: the engine is stopped`));
    if (this.draining) return Promise.reject(new EngineError('draining', `${this.name}: the engine is draining`));
    if (!Number.isInteger(size) || size < 1 || size > this.settings.maxBatch) {
      this.recordFailure('REJECTED');
      return Promise.reject(new EngineError('too-large', `${this.name}: a request of ${size} items does not fit the max batch ${this.settings.maxBatch}`));
    }
    if (this.queueCapacity !== undefined && this.queue.length >= this.queueCapacity) {
      this.recordFailure('REJECTED');
      return Promise.reject(new EngineError('queue-full', `${this.name}: the queue is full (${this.queueCapacity})`));
    }
    if (this.queueCapacityBatches !== undefined && this.batchesWith(size) > this.queueCapacityBatches) {
      this.recordFailure('REJECTED');
      return Promise.reject(new EngineError('queue-full', `${this.name}: the queue is full (${this.queueCapacityBatches} batches)`));
    }
    return new Promise<InferenceOutcome>((resolve, reject) => {
      this.queue.push({ size, enqueuedNs: this.now(), enqueuedMs: this.timer.nowMs(), resolve, reject });
      this.pump();
    });
  }

  /** Batches the waiting requests plus one more of `size` items pack into, in arrival order. */
  private batchesWith(size: number): number {
    const { maxBatch, merge } = this.settings;
    if (!merge) return this.queue.length + 1;
    let batches = 0;
    let open = maxBatch; // items the open batch still takes; none open yet
    for (const n of [...this.queue.map((r) => r.size), size]) {
      if (n > open || batches === 0) {
        batches++;
        open = maxBatch;
      }
      open -= n;
    }
    return batches;
  }

  /** Counts a request that failed outside the engine (e.g. a face rejected its input). */
  recordFailure(reason: FailureReason, ns = 0n): void {
    this.failure.count += 1n;
    this.failure.ns += ns;
    this.failuresByReason[reason] += 1n;
  }

  /**
   * Sets the number of replicas. Growing starts new replicas (after the startup time); shrinking
   * removes replicas from the end: idle ones at once, busy ones by the scale-down policy.
   * Resolves when every replica that was started is ready.
   */
  setReplicas(n: number): Promise<void> {
    checkCount('replicas', n);
    if (this.stopped) return Promise.resolve();
    const active = this.pool.filter((r) => !r.retiring);
    const started: Promise<void>[] = [];
    if (n > active.length) {
      for (let i = active.length; i < n; i++) {
        const r = this.newReplica(this.startupMs > 0);
        this.pool.push(r);
        started.push(r.ready);
      }
    } else {
      for (const r of active.slice(n)) this.removeReplica(r);
    }
    this.pump();
    return Promise.all(started).then(() => undefined);
  }

  /** Changes batching; requests that no longer fit the max batch fail at once. */
  setBatching(settings: BatchingSettings): void {
    this.settings = this.checkSettings(settings);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const r = this.queue[i] as Request;
      if (r.size > this.settings.maxBatch) {
        this.queue.splice(i, 1);
        this.recordFailure('REJECTED');
        r.reject(new EngineError('too-large', `${this.name}: a request of ${r.size} items no longer fits the max batch ${this.settings.maxBatch}`));
      }
    }
    this.formingSince = undefined;
    this.lastOpen = false;
    this.pump();
  }

  /** A copy of the counters now. */
  counters(): EngineCounters {
    return {
      success: { ...this.success },
      failure: { ...this.failure },
      failuresByReason: { ...this.failuresByReason },
      queue: { ...this.queueStat },
      compute: { ...this.computeStat },
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      batchStats: [...this.batchStats.entries()].sort(([a], [b]) => a - b).map(([batchSize, s]) => ({ batchSize, count: s.count, ns: s.ns })),
      lastInferenceMs: this.lastInferenceMs,
    };
  }

  /**
   * Stops taking new requests and resolves when every queued and running request is done (a
   * Triton unload, or the old copy of a reloaded model).
   */
  drain(): Promise<void> {
    this.draining = true;
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /** Clears every timer; queued and running requests fail with kind 'stopped'. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearFormTimer();
    const err = (): EngineError => new EngineError('stopped', `${this.name}: the server is shutting down`);
    for (const r of this.queue.splice(0)) r.reject(err());
    for (const r of this.formed.splice(0).flat()) r.reject(err());
    for (const replica of this.pool) {
      replica.cancel?.();
      replica.cancel = undefined;
      replica.markReady();
      for (const r of replica.batch?.requests ?? []) r.reject(err());
      replica.batch = undefined;
    }
    this.pool.length = 0;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private checkSettings(s: BatchingSettings): ModelEngine['settings'] {
    checkCount('maxBatch', s.maxBatch);
    if (s.maxBatch < 1) throw new RangeError(`${this.name}: maxBatch must be ≥ 1`);
    if (s.maxBatch > this.curve.maxBatch) {
      throw new RangeError(`${this.name}: max batch ${s.maxBatch} is past the largest profiled batch size ${this.curve.maxBatch} on ${this.curve.hardware}; the emulator does not extrapolate`);
    }
    if (!(s.maxQueueDelayMs >= 0) || !Number.isFinite(s.maxQueueDelayMs)) throw new RangeError(`${this.name}: maxQueueDelayMs must be ≥ 0`);
    return {
      maxBatch: s.maxBatch,
      maxQueueDelayMs: s.maxQueueDelayMs,
      merge: s.merge ?? true,
      preferred: new Set((s.preferredBatchSizes ?? []).filter((k) => k >= 1 && k <= s.maxBatch)),
    };
  }

  private newReplica(starting: boolean): Replica {
    const replica: Replica = {
      id: this.allocateId(),
      startedAtMs: this.wallClockMs(),
      state: starting ? 'starting' : 'idle',
      retiring: false,
      batch: undefined,
      cancel: undefined,
      ready: Promise.resolve(),
      markReady: () => undefined,
    };
    if (starting) {
      replica.ready = new Promise<void>((resolve) => {
        replica.markReady = resolve;
      });
      replica.cancel = this.timer.at(this.timer.nowMs() + this.startupMs, () => {
        replica.cancel = undefined;
        replica.state = 'idle';
        replica.markReady();
        this.pump();
      });
    }
    return replica;
  }

  private removeReplica(r: Replica): void {
    if (r.state === 'busy' && r.batch) {
      if (this.scaleDownPolicy === 'graceful') {
        r.retiring = true;
        return;
      }
      r.cancel?.();
      if (this.scaleDownPolicy === 'requeue') {
        // Its work is lost; the requests are served again by the replicas left, first.
        this.queue.unshift(...r.batch.requests);
      } else {
        const end = this.now();
        for (const req of r.batch.requests) {
          this.recordFailure('BACKEND', end - req.enqueuedNs);
          req.reject(new EngineError('scaled-down', WORKER_SCALED_DOWN));
        }
      }
    } else {
      r.cancel?.();
    }
    r.markReady();
    r.cancel = undefined;
    r.batch = undefined;
    const i = this.pool.indexOf(r);
    if (i >= 0) this.pool.splice(i, 1);
    this.checkIdle();
  }

  /**
   * Starts formed batches and forms new ones while it can (for a free replica, or ahead of one);
   * otherwise arms the batch-delay timer.
   */
  private pump(): void {
    if (this.stopped) return;
    for (;;) {
      let replica = this.idleReplica();
      while (replica && this.formed.length > 0) {
        this.start(replica, this.formed.shift() as Request[]);
        if (this.formed.length === 0) this.lastOpen = false;
        replica = this.idleReplica();
      }
      const head = this.queue[0];
      if (head === undefined) {
        this.clearFormTimer();
        this.formingSince = undefined;
        return;
      }
      const ahead = this.formAhead > 0;
      // Without form-ahead a batch needs a free replica; with it, a free payload slot.
      if ((!ahead && !replica) || (ahead && this.formed.length >= this.formAhead * Math.max(1, this.replicas))) {
        this.clearFormTimer();
        return;
      }
      const growing = ahead && this.lastOpen ? this.formed[this.formed.length - 1] : undefined;
      const nowMs = this.timer.nowMs();
      const since = this.delayOrigin === 'oldest-request' ? head.enqueuedMs : (this.formingSince ??= nowMs);
      const deadline = since + this.settings.maxQueueDelayMs;
      const expired = this.settings.maxQueueDelayMs > 0 && nowMs >= deadline;
      const pick = this.pickBatch(expired, growing ? sizeOf(growing) : 0);
      if (pick.count === 0) {
        if (growing && pick.saturated) {
          // The waiting batch can take no more: the next one starts empty.
          this.lastOpen = false;
          continue;
        }
        this.armFormTimer(deadline);
        return;
      }
      this.clearFormTimer();
      this.formingSince = undefined;
      const taken = this.queue.splice(0, pick.count);
      if (!ahead) {
        this.start(replica as Replica, taken);
        continue;
      }
      if (growing) growing.push(...taken);
      else this.formed.push(taken);
      this.lastOpen = !pick.saturated;
    }
  }

  private idleReplica(): Replica | undefined {
    return this.pool.find((r) => !r.retiring && r.state === 'idle');
  }

  /**
   * How many queued requests to take now into the batch being formed, which already holds
   * `formedSize` items (a Triton payload waiting for an instance; 0 for a new batch); 0: wait for
   * more until the delay runs out. `saturated`: the batch takes no more after this.
   *
   * Triton's dynamic batcher (GetDynamicBatch), in our words: walk the queue in arrival order while
   * requests fit the max batch; remember the last point where the batch had a preferred size, or
   * the point just before it would pass the largest preferred size (which saturates it). Before the
   * delay runs out that remembered batch is taken at once; otherwise the batch is taken when it
   * cannot grow (the next request does not fit, or it reached the largest preferred size), when the
   * delay has run out, at once with no delay, or at once into a waiting batch that is not at a
   * preferred size. With no preferred sizes (the largest is then the max batch) this is also
   * TorchServe's and TF Serving's rule: run when full, else when the delay runs out.
   */
  private pickBatch(expired: boolean, formedSize: number): { count: number; saturated: boolean } {
    const { maxBatch, maxQueueDelayMs, merge, preferred } = this.settings;
    if (!merge) return { count: formedSize > 0 ? 0 : 1, saturated: true };
    const largestPreferred = preferred.size > 0 ? Math.max(...preferred) : maxBatch;
    let total = 0;
    let count = 0;
    let bestTotal = 0;
    let bestCount = 0;
    let full = false;
    let saturated = false;
    for (const r of this.queue) {
      if (formedSize + count > 0) {
        if (bestTotal === 0 && formedSize + total + r.size > largestPreferred) {
          bestTotal = total;
          bestCount = count;
          saturated = true;
        }
        if (formedSize + total + r.size > maxBatch) {
          full = true;
          break;
        }
      }
      total += r.size;
      count++;
      if (preferred.has(formedSize + total)) {
        bestTotal = total;
        bestCount = count;
      }
    }
    if (bestTotal > 0 && !expired) return { count: bestCount, saturated: saturated || maxQueueDelayMs === 0 };
    if (count === 0) return { count: 0, saturated };
    if (full || formedSize + total >= largestPreferred) return { count, saturated: true };
    if (expired || maxQueueDelayMs === 0) return { count, saturated };
    if (!saturated && formedSize > 0 && !preferred.has(formedSize)) return { count, saturated };
    return { count: 0, saturated };
  }

  private start(replica: Replica, requests: Request[]): void {
    const size = sizeOf(requests);
    const startNs = this.now();
    const batch: Batch = { requests, size, startNs, queueNs: requests.map((r) => startNs - r.enqueuedNs) };
    replica.state = 'busy';
    replica.batch = batch;
    const serviceMs = Math.max(0, this.serviceMs(size, this.dispatched++));
    replica.cancel = this.timer.at(this.timer.nowMs() + serviceMs, () => this.finish(replica));
  }

  private finish(replica: Replica): void {
    const batch = replica.batch;
    replica.cancel = undefined;
    replica.batch = undefined;
    if (!batch) return;
    const endNs = this.now();
    const computeNs = endNs - batch.startNs;
    const n = BigInt(batch.requests.length);
    this.executionCount += 1n;
    this.inferenceCount += BigInt(batch.size);
    const stat = this.batchStats.get(batch.size) ?? { count: 0n, ns: 0n };
    stat.count += 1n;
    stat.ns += computeNs;
    this.batchStats.set(batch.size, stat);
    this.computeStat.count += n;
    this.computeStat.ns += computeNs * n;
    this.lastInferenceMs = this.wallClockMs();
    batch.requests.forEach((r, i) => {
      const queueNs = batch.queueNs[i] as bigint;
      const totalNs = endNs - r.enqueuedNs;
      this.success.count += 1n;
      this.success.ns += totalNs;
      this.queueStat.count += 1n;
      this.queueStat.ns += queueNs;
      r.resolve({ batchSize: batch.size, batchRequests: batch.requests.length, replicaId: replica.id, queueNs, computeNs, totalNs });
    });
    if (replica.retiring) {
      const i = this.pool.indexOf(replica);
      if (i >= 0) this.pool.splice(i, 1);
    } else {
      replica.state = 'idle';
    }
    this.onBatch?.({ size: batch.size, requests: batch.requests.length, computeNs, queueNs: batch.queueNs });
    this.pump();
    this.checkIdle();
  }

  private armFormTimer(deadline: number): void {
    if (this.cancelForm && this.formDeadline === deadline) return;
    this.clearFormTimer();
    this.formDeadline = deadline;
    this.cancelForm = this.timer.at(deadline, () => {
      this.cancelForm = undefined;
      this.pump();
    });
  }

  private clearFormTimer(): void {
    this.cancelForm?.();
    this.cancelForm = undefined;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.queue.length > 0 || this.formed.length > 0 || this.pool.some((r) => r.batch !== undefined)) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

function sizeOf(requests: readonly Request[]): number {
  return requests.reduce((n, r) => n + r.size, 0);
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be an integer ≥ 0, not ${n}`);
}

/**
 * The default service time: the profile's L(k), times the same mean-1 lognormal spread the
 * estimator draws where the profile measured one (core/profiles serviceFactor), keyed by the
 * engine's name and the execution's number so a run is repeatable. Exactly L(k) otherwise.
 */
export function profileServiceMs(curve: LatencyCurve, name: string): (k: number, seq: number) => number {
  if (!curve.varies) return (k) => curve.latencyMs(k);
  const key = streamKey(0, `service:${name}`);
  return (k, seq) => curve.latencyMs(k) * serviceFactor(curve.sigmaAt(k), hashUnit(key, seq, k));
}
