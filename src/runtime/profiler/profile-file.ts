// `--out FILE`: merges measured profiles into a profile file (`{profiles: [...]}`, YAML or JSON by
// its extension), creating it when absent. The existing file must be a valid profile file; it is
// replaced atomically (written beside it, then renamed), so a failure leaves it as it was.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { gatherProfiles } from '../../config/profile-sources.js';
import { InvalidInputError } from '../../core/model/errors.js';
import { normaliseProfiles } from '../../core/model/profiles.js';
import type { ProfileOptions } from '../../core/model/profiles.js';
import { mergeProfiles } from '../../core/profiler/index.js';
import type { KeptPoint } from '../../core/profiler/index.js';

export interface ProfileFileUpdate {
  readonly file: string;
  /** Whether the file existed before. */
  readonly merged: boolean;
  /** Points added or replaced. */
  readonly written: number;
  /** New unstable points not written over stable ones. */
  readonly kept: readonly KeptPoint[];
  /** Profiles now in the file. */
  readonly profiles: number;
}

export function mergeIntoProfileFile(file: string, measured: readonly ProfileOptions[]): ProfileFileUpdate {
  const abs = path.resolve(file);
  const merged = existsSync(abs);
  let existing: readonly ProfileOptions[] = [];
  if (merged) {
    const gathered = gatherProfiles(abs, abs, (f) => readFileSync(f, 'utf8'));
    if (gathered.problems.length > 0) throw new InvalidInputError(`${file}: not a profile file to merge into`, gathered.problems);
    existing = gathered.profiles;
  }
  const result = mergeProfiles(existing, measured);
  // What is written must load again: the planner's own checks, before anything touches the file.
  const check = normaliseProfiles(result.profiles, (i) => `profiles[${i}]`);
  if (check.problems.length > 0) throw new InvalidInputError(`${file}: the merged profiles would not be valid`, check.problems);
  const body = { profiles: result.profiles };
  const text = /\.json$/i.test(abs) ? `${JSON.stringify(body, null, 2)}\n` : yaml.dump(body, { noRefs: true, lineWidth: 120 });
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, abs);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { file, merged, written: result.written, kept: result.kept, profiles: result.profiles.length };
}
