// The validated, frozen configuration. `…Options` is raw input; `…Config` is what the loader
// returns after the schema, the cross-reference checks and the env overrides.
import type { HardwareType, ModelProfile, PipelineSpec } from '../core/types.js';

export interface PlannerConfig {
  /** Default planning workload, an arrival spec (a pipeline's own `arrival` overrides it). */
  readonly arrival: string;
  /** Seed of the estimator's routing stream and of arrival specs that name none. */
  readonly seed: number;
  /** Upper bound on the replicas of one stage that the search considers. */
  readonly maxReplicasPerStage: number;
  /** Budget of estimator runs for the exact search; past it the result says it is not proven. */
  readonly exactMaxEvaluations: number;
}

export interface TunerConfig {
  readonly tickMs: number;
  readonly headroom: number;
  readonly maxStepUp: number;
  readonly maxStepDown: number;
  readonly scaleDownDelayMs: number;
  readonly scaleDownIntervalMs: number;
  readonly scaleDownWindowMs: number;
  readonly replanLow: number;
  readonly replanHigh: number;
  readonly replanAfterMs: number;
  readonly tolerance: number;
  readonly drainTimeMs: number;
  readonly batchAware: { readonly enabled: boolean; readonly intervalMs: number; readonly windowMs: number };
}

export interface InferlineConfig {
  readonly hardware: readonly HardwareType[];
  /** Profiles from the config, inline and from files, merged; points sorted by batch size. */
  readonly profiles: readonly ModelProfile[];
  readonly pipelines: readonly PipelineSpec[];
  readonly planner: PlannerConfig;
  readonly tuner: TunerConfig;
  /** The file the config was loaded from, for messages and relative paths. */
  readonly source: string;
}
