// The reference data every bench section uses: config/examples/reference.yaml.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import type { InferlineConfig } from '../src/config/index.js';
import { ProfileSet } from '../src/core/model/profiles.js';
import { generateTrace, parseArrivalSpec } from '../src/core/arrival/spec.js';
import type { PipelineSpec, StageSpec } from '../src/core/model/types.js';

export const REFERENCE_CONFIG = fileURLToPath(new URL('../config/examples/reference.yaml', import.meta.url));

export async function reference(): Promise<{ config: InferlineConfig; profiles: ProfileSet }> {
  const config = await loadConfig(REFERENCE_CONFIG, {});
  return { config, profiles: new ProfileSet(config.profiles) };
}

export function trace(spec: string, seed = 1): Float64Array {
  return generateTrace(parseArrivalSpec(spec), seed);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * A 10-stage branching pipeline over the reference models and all four hardware types, for the
 * planner at fleet scale (issue 19): two branches from the entry, conditional edges, one join-free
 * fan-out per branch. SLO P99 ≤ 400 ms.
 */
export function tenStagePipeline(): PipelineSpec {
  const all = ['cpu', 'gpu-k80', 'gpu-t4', 'gpu-v100'];
  const st = (name: string, model: string, hardware: readonly string[], next: Record<string, number> = {}): StageSpec => ({
    name, model, hardware, next: Object.entries(next).map(([stage, fraction]) => ({ stage, fraction })),
  });
  return {
    name: 'ten-stage',
    slo: { latencyMs: 400, percentile: 99 },
    stages: [
      st('preprocess', 'preprocess', ['cpu'], { classify: 1, detect: 1 }),
      st('classify', 'inception-v3', all, { lang: 0.3 }),
      st('detect', 'yolo-v3', ['gpu-k80', 'gpu-t4', 'gpu-v100'], { vehicle: 0.6, person: 0.4 }),
      st('vehicle', 'resnet50', all, { plate: 0.5 }),
      st('person', 'resnet152', all, { face: 0.5 }),
      st('plate', 'plate-ocr', ['cpu']),
      st('face', 'resnet50', all),
      st('lang', 'lang-id', ['cpu'], { translate: 0.5 }),
      st('translate', 'nmt', all, { sentiment: 1 }),
      st('sentiment', 'sentiment', ['cpu', 'gpu-t4', 'gpu-v100']),
    ],
  };
}
