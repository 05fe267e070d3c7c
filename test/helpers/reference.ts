// The reference config shipped in config/examples, loaded once for tests.
import { loadConfig } from '../../src/config/index.js';
import type { InferlineConfig } from '../../src/config/index.js';
import { ProfileSet } from '../../src/core/model/profiles.js';

export const REFERENCE_CONFIG = 'config/examples/reference.yaml';

let cached: Promise<{ config: InferlineConfig; profiles: ProfileSet }> | undefined;

export function reference(): Promise<{ config: InferlineConfig; profiles: ProfileSet }> {
  cached ??= loadConfig(REFERENCE_CONFIG, {}).then((config) => ({ config, profiles: new ProfileSet(config.profiles) }));
  return cached;
}
