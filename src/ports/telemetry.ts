// The Telemetry port: what the shell records about the loop, in the domain's terms. The
// OpenTelemetry implementation (src/telemetry) maps each record onto the instruments named in
// src/telemetry/names.ts; the no-op one drops them; tests pass a fake that keeps them. Nothing here
// imports OpenTelemetry, so src/core and src/runtime stay free of it.
//
// Values are inferline's own units: durations in integer-or-fractional milliseconds (the exporter
// converts to seconds), rates in queries per second. Every method returns at once and never throws.

/** One window of an arrival envelope. */
export interface EnvelopeReading {
  readonly windowMs: number;
  /** The most arrivals in any window of this length. */
  readonly maxArrivals: number;
}

/** Arrivals entering a pipeline. */
export interface TrafficSample {
  readonly pipeline: string;
  readonly arrivalRateQps: number;
  /** The live envelope, one reading per window. */
  readonly envelope?: readonly EnvelopeReading[];
}

/** What a stage looks like now. Fields left out are not recorded. */
export interface StageSample {
  readonly pipeline: string;
  readonly stage: string;
  /** The hardware the stage runs on; the replica, batch, capacity and cost series carry it. */
  readonly hardware: string;
  readonly arrivalRateQps?: number;
  readonly desiredReplicas?: number;
  readonly actualReplicas?: number;
  readonly batchSize?: number;
  /** Queries per second the current replicas serve at the batch size. */
  readonly capacityQps?: number;
  /** Cost per hour of the stage's replicas. */
  readonly costPerHour?: number;
}

/** Queries that completed a pipeline since the last record (deltas, not totals). */
export interface RequestsSample {
  readonly pipeline: string;
  readonly completed: number;
  readonly sloMisses: number;
  /** End-to-end latencies of (some of) those queries, where they are known one by one. */
  readonly latenciesMs?: readonly number[];
}

/** The measured tail and the objective of a pipeline. */
export interface LatencySample {
  readonly pipeline: string;
  readonly p99Ms?: number;
  readonly sloMs: number;
  readonly percentile: number;
}

export interface PlannerRunRecord {
  readonly pipeline: string;
  /** greedy, exact, coarse. */
  readonly planner: string;
  readonly outcome: 'feasible' | 'infeasible' | 'error';
  readonly durationMs: number;
  /** The plan differs from the pipeline's previous one (or is its first). */
  readonly changed: boolean;
  /** The planned envelope, when the run produced a plan. */
  readonly envelope?: readonly EnvelopeReading[];
}

export type TunerDecisionKind = 'scale_up' | 'scale_down' | 'hold';

export interface TunerDecisionRecord {
  readonly pipeline: string;
  readonly kind: TunerDecisionKind;
  readonly replan: boolean;
}

export interface ReconcileRecord {
  readonly pipeline: string;
  readonly stage: string;
  /** What was changed: scale_replicas, set_batch, … */
  readonly action: string;
  readonly mode: 'enforce' | 'recommend';
  /** Set when the change failed: an error kind or name. */
  readonly errorType?: string;
}

export interface AdapterRequestRecord {
  /** triton, torchserve, tfserving. */
  readonly server: string;
  /** Method and path template: `GET /v2/models/{model}/stats`. */
  readonly endpoint: string;
  /** The HTTP status, or undefined when no response came (timeout, connection refused). */
  readonly status?: number;
  readonly durationMs: number;
}

export interface AdapterErrorRecord {
  readonly server: string;
  readonly endpoint: string;
  /** The AdapterError kind: timeout, unreachable, auth, not-found, http, … */
  readonly errorType: string;
}

export interface LeadershipSample {
  readonly agent: string;
  readonly leader: boolean;
  readonly epoch: number;
}

/** Replicas of a stage the fleet cannot host. */
export interface ShortfallSample {
  readonly pipeline: string;
  readonly stage: string;
  readonly hardware: string;
  /** 0 once every replica is placed. */
  readonly missing: number;
}

/**
 * The replicas the leader wants of a stage, by the Kubernetes workload that runs it: what the KEDA
 * external scaler serves, exported for an HPA's external metric (through a Prometheus adapter).
 */
export interface WorkloadSample {
  readonly pipeline: string;
  readonly stage: string;
  /** The Deployment's or StatefulSet's name (a label value an HPA's matchLabels can select). */
  readonly workload: string;
  readonly desiredReplicas: number;
}

export interface ConfigReloadRecord {
  readonly agent: string;
  readonly result: 'applied' | 'rejected' | 'unchanged';
}

export interface Telemetry {
  recordTraffic(sample: TrafficSample): void;
  recordStage(sample: StageSample): void;
  recordRequests(sample: RequestsSample): void;
  recordLatency(sample: LatencySample): void;
  recordPlannerRun(record: PlannerRunRecord): void;
  recordTunerDecision(record: TunerDecisionRecord): void;
  recordReconcile(record: ReconcileRecord): void;
  /** One HTTP exchange with a model server (each retry is one). */
  recordAdapterRequest(record: AdapterRequestRecord): void;
  /** An adapter request that failed for its caller, after retries. */
  recordAdapterError(record: AdapterErrorRecord): void;
  recordLeadership(sample: LeadershipSample): void;
  recordShortfall(sample: ShortfallSample): void;
  recordConfigReload(record: ConfigReloadRecord): void;
  recordWorkload(sample: WorkloadSample): void;
}
