// Domain types shared by the whole core. Plain data: validated config objects are frozen copies
// of these shapes. Durations inside are integer (or fractional, for simulated time) milliseconds.

/** A hardware type a stage replica can run on, with its price per replica-hour. */
export interface HardwareType {
  readonly name: string;
  readonly costPerHour: number;
  /** Optional: how many replicas of this type one server (agent) can host. */
  readonly capacity?: number;
  /** Start-up time of a new replica: it serves only after this. */
  readonly activationDelayMs?: number;
}

/**
 * Where a measured point came from, as `inferline profile` writes it. Optional, carried through
 * unchanged; the estimator and planner read only batchSize and latencyMs.
 */
export interface PointProvenance {
  /** `active`: batches the profiler sent; `passive`: the server's own per-batch-size statistics under live traffic. */
  readonly source?: 'active' | 'passive';
  /** When it was measured (ISO 8601). */
  readonly measuredAt?: string;
  /** Active: three consecutive windows agreed within 10 %; passive: enough executions were seen. */
  readonly stable?: boolean;
  /** Client-observed median latency of one batch (active only). */
  readonly clientLatencyMs?: number;
  /** Server-reported compute time of one batch (queueing excluded), where the server reports timings. */
  readonly computeLatencyMs?: number;
}

/** One measured point of a (model, hardware) profile. */
export interface ProfilePoint extends PointProvenance {
  readonly batchSize: number;
  /** Latency of one batch of `batchSize` queries: the service time the estimator uses. */
  readonly latencyMs: number;
  /** Queries per second of one replica. Derived as batchSize / latency when not measured. */
  readonly throughputQps: number;
  /** Optional provenance, carried through unchanged: P99 of the batch latency, and how many batches were measured. */
  readonly p99LatencyMs?: number;
  readonly samples?: number;
}

/** A profile table for one (model, hardware). Points sorted by batch size, no duplicates. */
export interface ModelProfile {
  readonly model: string;
  readonly hardware: string;
  readonly points: readonly ProfilePoint[];
  /**
   * Fixed cost of one hop to this server and back (HTTP, serialization, the client's scheduling),
   * on top of queueing and compute: what a client sees minus what the server reports. Measured by
   * `inferline profile` at the smallest batch; the estimator adds it to every visit. Default 0.
   */
  readonly hopOverheadMs?: number;
  /**
   * The hop overhead measured at more than one concurrency (requests in flight at this server),
   * ascending in `inFlight`: a hop costs more when the server (and its client) handle several
   * requests at once. The estimator interpolates it by the requests in flight at the stage when a
   * query is sent there, flat past either end. When absent, the hop costs `hopOverheadMs` always.
   */
  readonly hopOverheadCurve?: readonly HopOverheadPoint[];
}

/** The hop overhead measured with `inFlight` requests kept in flight at the server. */
export interface HopOverheadPoint {
  readonly inFlight: number;
  readonly hopOverheadMs: number;
}

/** An edge a → b: the fraction of queries leaving a that continue to b. */
export interface EdgeSpec {
  readonly stage: string;
  readonly fraction: number;
  /** Optional fixed network delay on the edge. */
  readonly delayMs?: number;
}

export interface StageSpec {
  readonly name: string;
  readonly model: string;
  /** Hardware types this stage may run on (names from the hardware list). */
  readonly hardware: readonly string[];
  readonly next: readonly EdgeSpec[];
  /** Optional cap on the batch size (the profile's largest measured size caps it anyway). */
  readonly maxBatch?: number;
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  /**
   * The kind of server that serves the stage, where the config says: its batch-delay rule is
   * simulated and only delays it can be given are planned (core/sim/batch-delay.ts). Default: Triton's rule.
   */
  readonly server?: StageServerKind;
}

/** The server kinds a stage may name. */
export type StageServerKind = 'triton' | 'torchserve' | 'tfserving';

export interface Slo {
  readonly latencyMs: number;
  /** Percentile in (0, 100), e.g. 99 for P99. */
  readonly percentile: number;
}

export interface PipelineSpec {
  readonly name: string;
  readonly slo: Slo;
  readonly stages: readonly StageSpec[];
  /** Entry stages. When given, must equal the stages with no incoming edge. */
  readonly roots?: readonly string[];
  /** Planning workload (an arrival spec), overriding the planner's default. */
  readonly arrival?: string;
}

/** A configuration for one stage: what the planner chooses. */
export interface StageConfig {
  readonly hardware: string;
  /** Max batch size: a free replica takes up to this many queries from the queue. */
  readonly batchSize: number;
  readonly replicas: number;
  /**
   * Max queue delay: a free replica with fewer than `batchSize` queries queued waits up to this
   * long for a fuller batch (Triton's max_queue_delay_microseconds, TorchServe's maxBatchDelay,
   * TF Serving's batch_timeout_micros). Default 0: run whatever is queued at once.
   */
  readonly batchDelayMs?: number;
}

/** Stage configurations by stage name. */
export type PipelineConfig = Readonly<Record<string, StageConfig>>;
