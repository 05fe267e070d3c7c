// The input of the simulation report: what a closed-loop simulation of several controllers on one
// pipeline and workload produced. Plain data, so a run can also be saved as JSON and rendered later.

/** The state of one run at the end of one interval of simulated time (the estimator's). */
export type { TimelinePoint } from '../../core/estimator.js';
import type { TimelinePoint } from '../../core/estimator.js';

/** One controller's run over the whole workload. */
export interface ControllerRun {
  /** 'inferline' | 'hpa' | 'ray' | 'static-mean' | 'static-peak' | 'coarse' | … */
  readonly controller: string;
  /** Latency over the whole run at the SLO's percentile (the P99 for a P99 SLO). */
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
  /** The time axes' label, before its unit (default "simulated time"; a live run: "time since the load started"). */
  readonly timeLabel?: string;
}
