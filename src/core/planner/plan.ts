// The planner's entry point: runs one search (greedy, exact or the coarse baseline) for one
// pipeline on a planning trace, and returns a plan in the shape of DESIGN.md's plan file.
import { compilePipeline } from '../model/pipeline.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import type { ProfileSet } from '../model/profiles.js';
import type { HardwareType, PipelineSpec, StageConfig } from '../model/types.js';
import type { Estimate, StageEstimate } from '../sim/estimator.js';
import { computeEnvelope, envelopeWindowsMs } from '../arrival/envelope.js';
import type { PlannedEnvelope } from '../arrival/envelope.js';
import { PlanningContext } from './context.js';
import type { PlannerOptions } from './context.js';
import { greedyPlan } from './greedy.js';
import { exactPlan } from './exact.js';
import { coarsePlan } from './coarse.js';
import type { SearchOutcome } from './outcome.js';
import { gapOf } from './bound.js';
import type { BoundStage } from './bound.js';
import { scalingCurve } from './scaling.js';
import type { ScalingPoint } from './scaling.js';
import { planOnSamples } from './samples.js';
import type { PlanningSamples, SampleChoice } from './samples.js';

export type PlannerKind = 'greedy' | 'exact' | 'coarse';
export const PLANNER_KINDS: readonly PlannerKind[] = ['greedy', 'exact', 'coarse'];

export interface PlanRequest {
  readonly pipeline: PipelineSpec;
  readonly hardware: readonly HardwareType[];
  readonly profiles: ProfileSet;
  /** Planning trace: arrival times in seconds. */
  readonly trace: Float64Array;
  /** Where the trace came from (an arrival spec or a file), recorded in the plan. */
  readonly workload: string;
  readonly planner: PlannerKind;
  readonly options: PlannerOptions;
  /**
   * More samples of the planning workload (other seeds of its arrival spec): the plan is made on
   * the sample at the given quantile of difficulty (samples.ts). Absent: on `trace` alone.
   */
  readonly samples?: PlanningSamples;
}

/** A plan file (DESIGN.md): the fields of the contract first, then what explains them. */
export interface Plan {
  readonly pipeline: string;
  readonly sloMs: number;
  readonly percentile: number;
  readonly feasible: boolean;
  readonly estimatedP99Ms: number;
  readonly costPerHour: number;
  readonly stages: Readonly<Record<string, StageConfig>>;
  readonly envelope: PlannedEnvelope;
  readonly seed: number;
  readonly planner: PlannerKind;
  readonly workload: { readonly source: string; readonly queries: number; readonly meanRateQps: number };
  readonly estimate: {
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
    readonly p999Ms: number;
    /** Latency at the SLO's percentile (equals p99Ms for a P99 SLO). */
    readonly sloPercentileMs: number;
    readonly sloMissRate: number;
    readonly stages: readonly StageEstimate[];
  };
  /**
   * No plan meeting the SLO under the estimator costs less than `costPerHour` (planner/bound.ts;
   * docs/lower-bound.md). `by`: 'relaxation' (per stage, the cheapest stable option whose latency
   * floor fits the SLO) or 'exact search' (every cheaper configuration was checked and missed).
   * `gap` = plan cost / bound − 1: 0 means proven optimal. `costPerHour` is null when the floors
   * alone show that no plan can meet the SLO; `gap` is null when the plan is infeasible.
   */
  readonly lowerBound: {
    readonly costPerHour: number | null;
    readonly gap: number | null;
    readonly by: 'relaxation' | 'exact search';
    /** The relaxation's choice per stage (hardware, batch size, fewest stable replicas). */
    readonly stages: Readonly<Record<string, BoundStage>>;
  };
  readonly search: {
    readonly simulations: number;
    readonly evaluations: number;
    /** Configurations the latency floor rejected without a simulation. */
    readonly screened: number;
    /** Exact search: whether optimality was proven within the budget. */
    readonly proven?: boolean;
    /** Infeasible plans: the lowest latency at the SLO percentile the search reached. */
    readonly lowestReachableMs?: number;
  };
  readonly scaleFactors: Readonly<Record<string, number>>;
  /**
   * The plan's own slack: the largest factor (up to 4) by which the planning trace's arrival
   * rate can grow, the trace compressed in time, while the plan still meets its SLO. The tuner
   * scales replicas by live traffic relative to this. 1 when the plan is infeasible.
   */
  readonly slack: number;
  /**
   * Per stage, the replicas that meet the SLO on the planning trace sped up by each factor above
   * the slack (planner/scaling.ts); the tuner scales along it. Empty when the plan is infeasible.
   */
  readonly scaling: readonly ScalingPoint[];
  /** Planned over several samples of the workload: which one, and on how many the plan holds. */
  readonly samples?: SampleChoice;
  readonly notes: readonly string[];
}

const DEFAULT_EXACT_BUDGET = 20_000;

export function plan(req: PlanRequest): Plan {
  return planOnSamples(req, planOne);
}

function planOne(req: PlanRequest): Plan {
  const compiled = compilePipeline(req.pipeline);
  const ctx = new PlanningContext({ pipeline: compiled, profiles: req.profiles, hardware: req.hardware, trace: req.trace, options: req.options });
  let outcome: SearchOutcome;
  switch (req.planner) {
    case 'greedy':
      outcome = greedyPlan(ctx);
      break;
    case 'exact': {
      const greedy = greedyPlan(ctx);
      outcome = exactPlan(ctx, greedy.best, req.options.exactMaxEvaluations ?? DEFAULT_EXACT_BUDGET);
      outcome = { ...outcome, notes: [...greedy.notes, ...outcome.notes] };
      break;
    }
    case 'coarse':
      outcome = coarsePlan(ctx);
      break;
  }
  return toPlan(req, ctx, compiled, outcome);
}

function toPlan(req: PlanRequest, ctx: PlanningContext, compiled: CompiledPipeline, outcome: SearchOutcome): Plan {
  const config = outcome.best.config;
  const full: Estimate = ctx.estimateFully(config);
  const notes = [...outcome.notes, ...capNotes(req, compiled)];
  if (!compiled.scaleFactorExact) notes.push('scale factors approximated: more than 20 conditional edges');
  // The envelope's shortest window is the slowest stage's service time at its planned batch.
  let slowest = 0;
  compiled.stageNames.forEach((name, s) => {
    const c = config[name] as StageConfig;
    const t = ctx.estimator.serviceTable(s, c.hardware, c.batchSize);
    slowest = Math.max(slowest, t[t.length - 1] as number);
  });
  const envelope = req.trace.length > 0 ? computeEnvelope(req.trace, envelopeWindowsMs(Math.max(1, Math.round(slowest)))) : [];
  const stages: Record<string, StageConfig> = {};
  for (const name of compiled.stageNames) stages[name] = { ...(config[name] as StageConfig) };
  const slack = outcome.feasible ? planSlack(ctx, config) : 1;
  const relaxed = ctx.bound;
  const bySearch = outcome.searchBound !== undefined && outcome.searchBound > relaxed.costPerHour;
  const boundCost = bySearch ? (outcome.searchBound as number) : relaxed.costPerHour;
  const scaleFactors: Record<string, number> = {};
  compiled.stageNames.forEach((name, s) => { scaleFactors[name] = round6(compiled.scaleFactor[s] as number); });
  return {
    pipeline: req.pipeline.name,
    sloMs: req.pipeline.slo.latencyMs,
    percentile: req.pipeline.slo.percentile,
    feasible: outcome.feasible,
    estimatedP99Ms: round3(full.p99Ms),
    costPerHour: outcome.best.costPerHour,
    stages,
    envelope,
    seed: req.options.seed,
    planner: req.planner,
    workload: { source: req.workload, queries: req.trace.length, meanRateQps: round3(ctx.meanRateQps) },
    estimate: {
      p50Ms: round3(full.p50Ms),
      p95Ms: round3(full.p95Ms),
      p99Ms: round3(full.p99Ms),
      p999Ms: round3(full.p999Ms),
      sloPercentileMs: round3(full.sloPercentileMs),
      sloMissRate: round6(full.sloMissRate),
      stages: full.stages.map((s) => ({
        ...s, utilisation: round6(s.utilisation), meanQueueDelayMs: round3(s.meanQueueDelayMs), meanBatchSize: round3(s.meanBatchSize),
      })),
    },
    lowerBound: {
      costPerHour: Number.isFinite(boundCost) ? boundCost : null,
      gap: outcome.feasible && Number.isFinite(boundCost) ? round6(gapOf(outcome.best.costPerHour, boundCost)) : null,
      by: bySearch ? 'exact search' : 'relaxation',
      stages: relaxed.stages,
    },
    search: {
      simulations: ctx.simulations,
      evaluations: ctx.evaluations,
      screened: ctx.screened,
      ...(outcome.proven !== undefined ? { proven: outcome.proven } : {}),
      ...(outcome.lowestReachableMs !== undefined ? { lowestReachableMs: round3(outcome.lowestReachableMs) } : {}),
    },
    scaleFactors,
    slack,
    scaling: outcome.feasible ? scalingCurve(ctx, config, slack) : [],
    notes,
  };
}

const MAX_SLACK = 4;

/** Bisects the largest rate factor in [1, MAX_SLACK] at which `config` still meets the SLO (to 2 %). */
function planSlack(ctx: PlanningContext, config: Readonly<Record<string, StageConfig>>): number {
  const meets = (k: number): boolean => {
    const compressed = ctx.trace.map((t) => t / k);
    const e = ctx.estimator.estimate(config, compressed, {
      seed: ctx.options.seed, sloMs: ctx.sloMs, percentile: ctx.percentile, stopWhenInfeasible: true,
    });
    return !e.stoppedEarly && e.sloPercentileMs <= ctx.sloMs;
  };
  if (meets(MAX_SLACK)) return MAX_SLACK;
  let lo = 1;
  let hi = MAX_SLACK;
  while (hi / lo > 1.02) {
    const mid = Math.sqrt(lo * hi);
    if (meets(mid)) lo = mid;
    else hi = mid;
  }
  return Math.round(lo * 1000) / 1000;
}

/** Says where a stage's batch size is capped at its largest measured size (never extrapolated). */
function capNotes(req: PlanRequest, compiled: CompiledPipeline): string[] {
  const notes: string[] = [];
  compiled.spec.stages.forEach((s) => {
    if (s.maxBatch === undefined) return;
    for (const hw of s.hardware) {
      const curve = req.profiles.get(s.model, hw);
      if (curve && s.maxBatch > curve.maxBatch) {
        notes.push(`stage ${s.name}: maxBatch ${s.maxBatch} capped at ${curve.maxBatch} on ${hw}, the largest measured batch size (not extrapolated)`);
      }
    }
  });
  return notes;
}

function round3(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x;
}

function round6(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x;
}
