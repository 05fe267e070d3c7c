// Small builders for tests: pipelines, profiles and traces written inline.
import { compilePipeline } from '../../src/core/model/pipeline.js';
import type { CompiledPipeline } from '../../src/core/model/pipeline.js';
import { normaliseProfiles, ProfileSet } from '../../src/core/model/profiles.js';
import type { ProfileOptions } from '../../src/core/model/profiles.js';
import type { EdgeSpec, HardwareType, PipelineSpec, StageSpec } from '../../src/core/model/types.js';

export function stage(name: string, next: Record<string, number> = {}, extra: Partial<StageSpec> = {}): StageSpec {
  const edges: EdgeSpec[] = Object.entries(next).map(([s, fraction]) => ({ stage: s, fraction }));
  return { name, model: name, hardware: ['cpu'], next: edges, ...extra };
}

export function pipeline(stages: StageSpec[], sloMs = 1000, percentile = 99): PipelineSpec {
  return { name: 'p', slo: { latencyMs: sloMs, percentile }, stages };
}

/** A profile with latency(k) = base + perItem × k at the given batch sizes. */
export function linearProfile(model: string, hardware: string, baseMs: number, perItemMs: number, sizes = [1, 2, 4, 8]): ProfileOptions {
  return { model, hardware, points: sizes.map((b) => ({ batchSize: b, latencyMs: baseMs + perItemMs * b })) };
}

export function profileSet(raw: ProfileOptions[]): ProfileSet {
  const { profiles, problems } = normaliseProfiles(raw, (i) => `profiles[${i}]`);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return new ProfileSet(profiles);
}

export function compiled(stages: StageSpec[], sloMs = 1000): CompiledPipeline {
  return compilePipeline(pipeline(stages, sloMs));
}

export const CPU: HardwareType = { name: 'cpu', costPerHour: 1 };

/** A trace of n arrivals every `gapS` seconds starting at `startS`. */
export function evenTrace(n: number, gapS: number, startS = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => startS + i * gapS);
}
