// The validated, frozen configuration. `…Options` is raw input; `…Config` is what the loader
// returns after the schema, the cross-reference checks and the env overrides.
import type { HardwareType, ModelProfile, PipelineSpec } from '../core/types.js';
import type { TunerOptions } from '../core/tuner/tuner.js';

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

/** The tuner's options (core/tuner), plus how often it runs and the batch-aware mode. */
export interface TunerConfig extends TunerOptions {
  readonly tickMs: number;
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
