// The reference data every bench section uses: config/examples/reference.yaml.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import type { InferlineConfig } from '../src/config/index.js';
import { ProfileSet } from '../src/core/profiles.js';
import { generateTrace, parseArrivalSpec } from '../src/core/arrival.js';

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
