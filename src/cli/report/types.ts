// The input of the simulation report: what a closed-loop simulation of several controllers on one
// pipeline and workload produced. Plain data, so a run can also be saved as JSON and rendered later.

/** The state of one run at the end of one interval of simulated time. */
export interface TimelinePoint {
  /** Simulated time, ms from the start of the run. */
  readonly tMs: number;
  /** Arrival rate over the last interval. */
  readonly arrivalRateQps: number;
  /** What the active replicas can serve at the entry stage (scaled). */
  readonly capacityQps: number;
  /** Provisioned replicas per stage. */
  readonly replicas: Readonly<Record<string, number>>;
  /** P99 of the queries completed in the last interval (NaN if none completed). */
  readonly p99Ms: number;
  /** Cost rate at that time. */
  readonly costPerHour: number;
}

/** One controller's run over the whole workload. */
export interface ControllerRun {
  /** 'inferline' | 'hpa' | 'ray' | 'static-mean' | 'static-peak' | 'coarse' | … */
  readonly controller: string;
  /** P99 latency over the whole run. */
  readonly p99Ms: number;
  /** Fraction (0–1) of queries that missed the SLO. */
  readonly sloMissRate: number;
  readonly meanCostPerHour: number;
  readonly scalingActions: number;
  readonly timeline: readonly TimelinePoint[];
}

export interface SimulationReport {
  readonly title: string;
  readonly pipeline: string;
  readonly sloMs: number;
  readonly percentile: number;
  /** A description of the workload, e.g. an arrival spec or a trace file. */
  readonly workload: string;
  readonly seed: number;
  /** What produced the report, e.g. the command line. */
  readonly generatedBy: string;
  readonly runs: readonly ControllerRun[];
}
