// The input of the simulation report: what a closed-loop simulation of several controllers on one
// pipeline and workload produced. Plain data, so a run can also be saved as JSON and rendered later.

import type { HarnessVerdict, LatencyErrors, LatencyFigures } from '../../core/replay/compare.js';
import type { ServerKind } from '../../ports/server-adapter.js';
import type { HarnessHealth } from '../../runtime/replay.js';

/** The state of one run at the end of one interval of simulated time (the estimator's). */
export type { TimelinePoint } from '../../core/sim/estimator.js';
import type { TimelinePoint } from '../../core/sim/estimator.js';

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

// `inferline replay`: predicted against measured.
export interface StageComparison {
  readonly stage: string;
  readonly server: ServerKind;
  readonly model: string;
  readonly visits: { readonly predicted: number; readonly measured: number };
  readonly hopP50Ms: { readonly predicted: number; readonly measured: number };
  readonly hopP99Ms: { readonly predicted: number; readonly measured: number };
  readonly p99Error: number;
  /** Queue wait per visit: the estimator's, and the server's own where it reports it. */
  readonly queueMs: { readonly predicted: number; readonly measured: number | null };
  readonly meanBatch: { readonly predicted: number; readonly measured: number | null };
  readonly failures: number;
}

/** What a run of a pipeline on a workload is: the head of a simulation's or a replay's summary. */
export interface RunHeader {
  readonly pipeline: string;
  readonly sloMs: number;
  readonly percentile: number;
  readonly workload: string;
  readonly queries: number;
  readonly seed: number;
}

export interface ReplaySummary extends RunHeader {
  readonly applied: readonly string[];
  readonly endToEnd: { readonly predicted: LatencyFigures; readonly measured: LatencyFigures; readonly error: LatencyErrors };
  readonly stages: readonly StageComparison[];
  readonly health: HarnessHealth & { readonly failed: number };
  readonly verdict: HarnessVerdict;
  readonly durationMs: number;
}

export interface ReplayDetail {
  readonly summary: ReplaySummary;
  /** Sorted latencies, for the report's distributions. */
  readonly predictedMs: Float64Array;
  readonly measuredMs: Float64Array;
}

/** The demo's summary of the tuner's reaction to the burst (cli/demo/summary.ts measures it). */
export interface BurstReaction {
  /** The stage the tuner grew most during the burst. */
  readonly stage: string;
  readonly burstStartS: number;
  readonly burstEndS: number;
  /** Actual replicas of the stage when the burst began. */
  readonly replicasBefore: number;
  /** Most actual replicas of the stage during the burst. */
  readonly replicasDuringMax: number;
  /** Most replicas the leader wanted for the stage during the burst. */
  readonly desiredDuringMax: number;
  /** Burst start → the leader's first scale-up of any stage (its desired state), ms; null when none. */
  readonly firstScaleUpMs: number | null;
  /** Burst start → the first scale-up applied on a server, ms; null when none. */
  readonly firstAppliedScaleUpMs: number | null;
}
