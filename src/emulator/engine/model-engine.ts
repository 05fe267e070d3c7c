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
import { preciseTimer } from './deadline-timer.js';
import type { DeadlineTimer } from './deadline-timer.js';
import { EngineStats } from './counters.js';
import { batchesWith, checkCount, checkSettings, nextPreferredOf, pickBatch, sizeOf } from './batch-rule.js';
import type { CheckedSettings } from './batch-rule.js';
import { profileServiceMs } from './service-time.js';
import { EngineError, WORKER_SCALED_DOWN } from './types.js';
import type {
  BatchRecord, BatchingSettings, DelayOrigin, EngineCounters, FailureReason, InferenceOutcome, ModelEngineOptions, ReplicaSnapshot, ReplicaState,
  ScaleDownPolicy,
} from './types.js';
import type { LatencyCurve } from '../../core/model/profiles.js';

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

/** Triton's batcher thread looks at the queue this long after an arrival woke it (real 2.51: batches start 0.12–0.17 ms after due). */
export const BATCHER_HANDOFF_MS = 0.15;

export class ModelEngine {
  readonly name: string;
  readonly curve: LatencyCurve;
  private settings: CheckedSettings;
  private readonly delayOrigin: DelayOrigin;
  private readonly scaleDownPolicy: ScaleDownPolicy;
  private readonly queueCapacity: number | undefined;
  private readonly queueCapacityBatches: number | undefined;
  private readonly formAhead: number;
  /** Batches formed ahead, waiting for a replica, oldest first (formAhead > 0 only). */
  private readonly formed: Request[][] = [];
  /** Whether the newest formed batch can still take requests (Triton: not saturated). */
  private lastOpen = false;
  /** Triton (wakeOnPreferred): queued items at which an arrival wakes the batcher. */
  private nextPreferred = 0;
  private wakePending = false;
  private readonly wakeOnPreferred: boolean;
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

  private readonly stats = new EngineStats();

  constructor(options: ModelEngineOptions) {
    this.name = options.name;
    this.curve = options.curve;
    this.settings = checkSettings(options.name, options.curve, options);
    this.delayOrigin = options.delayOrigin ?? 'oldest-request';
    this.scaleDownPolicy = options.scaleDown ?? 'graceful';
    this.queueCapacity = options.queueCapacity;
    this.queueCapacityBatches = options.queueCapacityBatches;
    this.formAhead = Math.max(0, Math.floor(options.formAheadPerReplica ?? 0));
    this.wakeOnPreferred = options.wakeOnPreferred ?? false;
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
    if (this.queueCapacityBatches !== undefined && batchesWith(this.settings, this.queue, size) > this.queueCapacityBatches) {
      this.recordFailure('REJECTED');
      return Promise.reject(new EngineError('queue-full', `${this.name}: the queue is full (${this.queueCapacityBatches} batches)`));
    }
    return new Promise<InferenceOutcome>((resolve, reject) => {
      this.queue.push({ size, enqueuedNs: this.now(), enqueuedMs: this.timer.nowMs(), resolve, reject });
      this.arrived();
    });
  }

  /** Counts a request that failed outside the engine (e.g. a face rejected its input). */
  recordFailure(reason: FailureReason, ns = 0n): void {
    this.stats.recordFailure(reason, ns);
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
    this.settings = checkSettings(this.name, this.curve, settings);
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
    return this.stats.snapshot();
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

  /** A request joined the queue: with wakeOnPreferred it wakes the batcher (BATCHER_HANDOFF_MS later,
   * so requests arriving together are seen together) only once the queue reaches nextPreferred. */
  private arrived(): void {
    if (!this.wakeOnPreferred) return this.pump();
    if (this.wakePending || sizeOf(this.queue) < this.nextPreferred) return;
    this.wakePending = true;
    this.timer.at(this.timer.nowMs() + BATCHER_HANDOFF_MS, () => {
      this.wakePending = false;
      this.pump();
    });
  }

  /** Starts formed batches and forms new ones while it can (for a free replica, or ahead of one),
   * else arms the batch-delay timer. The newest formed batch starting begins a new payload. */
  private pump(): void {
    if (this.stopped) return;
    for (;;) {
      let replica = this.idleReplica();
      while (replica && this.formed.length > 0) {
        this.start(replica, this.formed.shift() as Request[]);
        if (this.formed.length === 0) {
          this.lastOpen = false;
          this.nextPreferred = 0;
        }
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
      const formedSize = growing ? sizeOf(growing) : 0;
      const pick = pickBatch(this.settings, this.queue, expired, formedSize);
      // Triton sets next_preferred_batch_size when it waits for the delay or grows a waiting batch.
      if (!expired && this.settings.maxQueueDelayMs > 0 && !pick.saturated && (pick.count === 0 || growing)) {
        this.nextPreferred = nextPreferredOf(this.settings, formedSize + sizeOf(this.queue.slice(0, pick.count || this.queue.length)), formedSize);
      }
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
    const times = batch.requests.map((r, i) => ({ queueNs: batch.queueNs[i] as bigint, totalNs: endNs - r.enqueuedNs }));
    this.stats.recordBatch({ size: batch.size, computeNs, requests: times }, this.wallClockMs());
    batch.requests.forEach((r, i) => {
      const { queueNs, totalNs } = times[i] as { queueNs: bigint; totalNs: bigint };
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
