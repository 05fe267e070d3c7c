// The estimator's public shapes: its options (open and closed loop), what a run returns (Estimate,
// ClosedLoopEstimate with its timeline), and the controller port a closed loop ticks.
import type { DelayOrigin } from './batch-delay.js';
import type { SimulationRecord } from './sim-record.js';

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
   * Per stage name: the stage's batch-delay rule (batch-delay.ts; default: by the stage's server
   * kind where it names one, else 'oldest-request': TF Serving's; TorchServe's workers use
   * 'batch-start', Triton's batcher 'payload').
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
