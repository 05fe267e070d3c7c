// The engine's public vocabulary: its options, what it reports (outcomes, counters, replica
// snapshots) and its typed error.
import type { DeadlineTimer } from './deadline-timer.js';
import type { LatencyCurve } from '../../core/model/profiles.js';

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
   * Triton's batcher: an arriving request forms or grows a batch only once the queued items reach
   * next_preferred_batch_size (0 after the newest formed batch started, the next preferred size
   * once the batcher waited for a delay or grew a batch); a batch formed while every instance is
   * busy so keeps the requests it had (docs/replay-real-servers.md). The batcher looks 0.15 ms
   * after the arrival that woke it (a thread's hand-off). Default false: at once, every arrival.
   */
  readonly wakeOnPreferred?: boolean;
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
