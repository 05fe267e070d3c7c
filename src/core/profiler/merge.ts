// Merging new measurements into an existing profile table (a profile file's `profiles`).
//
// (ours) Per (model, hardware), per batch size: a new point replaces the old one, except that an
// unstable new point never replaces a stable old one (a noisy re-measurement must not overwrite a
// good one; the merge reports it). Points of other batch sizes, and every other profile, are kept
// as they were, in their order; new profiles go at the end.
import type { ProfileOptions, ProfilePointOptions } from '../model/profiles.js';

export interface KeptPoint {
  readonly model: string;
  readonly hardware: string;
  readonly batchSize: number;
}

export interface MergeResult {
  readonly profiles: ProfileOptions[];
  /** New points that were not written because a stable point of the same size was there. */
  readonly kept: KeptPoint[];
  /** Points written (added or replaced). */
  readonly written: number;
}

export function mergeProfiles(existing: readonly ProfileOptions[], measured: readonly ProfileOptions[]): MergeResult {
  const key = (p: { model: string; hardware: string }): string => `${p.model}\u0000${p.hardware}`;
  const profiles = existing.map((p) => ({ ...p, points: [...p.points] }));
  const kept: KeptPoint[] = [];
  let written = 0;
  for (const m of measured) {
    let target = profiles.find((p) => key(p) === key(m));
    if (target === undefined) {
      target = { model: m.model, hardware: m.hardware, points: [] };
      profiles.push(target);
    }
    const points = new Map<number, ProfilePointOptions>(target.points.map((p) => [p.batchSize, p]));
    for (const p of m.points) {
      const old = points.get(p.batchSize);
      if (old !== undefined && old.stable === true && p.stable === false) {
        kept.push({ model: m.model, hardware: m.hardware, batchSize: p.batchSize });
        continue;
      }
      points.set(p.batchSize, p);
      written++;
    }
    target.points = [...points.values()].sort((a, b) => a.batchSize - b.batchSize);
    // A new measurement of the hop overhead replaces the old one (it is one figure, not a point).
    if (m.hopOverheadMs !== undefined) target.hopOverheadMs = m.hopOverheadMs;
    // Likewise its curve; a new single figure without a curve drops the old curve, which it would contradict.
    if (m.hopOverheadCurve !== undefined) target.hopOverheadCurve = m.hopOverheadCurve;
    else if (m.hopOverheadMs !== undefined) delete target.hopOverheadCurve;
  }
  return { profiles, kept, written };
}
