// Checks that need more than one part of the config: unique names, profiles that make sense, and
// pipelines whose stages name known hardware, have profiles and form a DAG. Run only once the
// shape is right, so each check can trust the types it reads.
import type { ModelProfile } from '../core/model/types.js';
import type { Problem } from '../core/model/errors.js';
import { normaliseProfiles, ProfileSet, type ProfileOptions } from '../core/model/profiles.js';
import { validatePipeline } from '../core/model/pipeline.js';
import { checkProfileSense } from '../core/model/profile-checks.js';
import type { ParsedConfigFile } from './schema.js';
import { renderValue } from './issues.js';

/**
 * When some profiles could not be read or were rejected, every stage using them would also be
 * reported as "no profile"; that noise hides the real problem, so such a set answers yes to all.
 */
class AssumeAllProfiles extends ProfileSet {
  override has(): boolean {
    return true;
  }
}

export interface CheckedProfiles {
  readonly profiles: readonly ModelProfile[];
  readonly problems: readonly Problem[];
  /** What a real server could produce but deserves a look (core/profile-checks). */
  readonly warnings: readonly Problem[];
}

/**
 * Normalised profiles (sorted, throughput filled in), the problems of the ones rejected (their
 * shape, or numbers no server could produce), and warnings.
 */
export function checkProfiles(raw: readonly ProfileOptions[], labels: readonly string[]): CheckedProfiles {
  const pathOf = (i: number): string => labels[i] ?? `profiles[${i}]`;
  const sense = checkProfileSense(raw, pathOf);
  const normalised = normaliseProfiles(raw, pathOf);
  return { profiles: normalised.profiles, problems: [...normalised.problems, ...sense.errors], warnings: sense.warnings };
}

/**
 * Problems across the config. `profilesComplete` is false when some profile source failed, in
 * which case missing-profile problems are not reported (see AssumeAllProfiles).
 */
export function crossCheck(config: ParsedConfigFile, profiles: readonly ModelProfile[], profilesComplete: boolean): Problem[] {
  const problems: Problem[] = [
    ...duplicates(config.hardware.map((h) => h.name), (i) => `hardware[${i}].name`),
    ...duplicates(config.pipelines.map((p) => p.name), (i) => `pipelines[${i}].name`),
  ];
  const set = profilesComplete ? new ProfileSet(profiles) : new AssumeAllProfiles(profiles);
  config.pipelines.forEach((pipeline, i) => {
    problems.push(...validatePipeline(pipeline, `pipelines[${i}]`, config.hardware, set));
  });
  return problems;
}

function duplicates(names: readonly string[], pathOf: (i: number) => string): Problem[] {
  const first = new Map<string, number>();
  const problems: Problem[] = [];
  names.forEach((name, i) => {
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, i);
    else problems.push({ path: pathOf(i), message: `${renderValue(name)} — must be unique (also at ${pathOf(earlier)})` });
  });
  return problems;
}
