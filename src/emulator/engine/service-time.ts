// The default service time of a batch: the profile's L(k), with its measured spread.
import { serviceFactor } from '../../core/model/profiles.js';
import type { LatencyCurve } from '../../core/model/profiles.js';
import { hashUnit, streamKey } from '../../core/math/random.js';

/**
 * The default service time: the profile's L(k), times the same mean-1 lognormal spread the
 * estimator draws where the profile measured one (core/profiles serviceFactor), keyed by the
 * engine's name and the execution's number so a run is repeatable. Exactly L(k) otherwise.
 */
export function profileServiceMs(curve: LatencyCurve, name: string): (k: number, seq: number) => number {
  if (!curve.varies) return (k) => curve.latencyMs(k);
  const key = streamKey(0, `service:${name}`);
  return (k, seq) => curve.latencyMs(k) * serviceFactor(curve.sigmaAt(k), hashUnit(key, seq, k));
}
