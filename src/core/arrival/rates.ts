// What a spec asks for over time: each segment's rate profile, its length and its expected count.
import { compileRateProfile, integrateRate } from './rate-profile.js';
import type { RateProfile } from './rate-profile.js';
import type { ArrivalSpec, ArrivalSegment, ModulatedSegment } from './types.js';

/** The rate λ(t) of a modulated segment, t in seconds from the segment's start. */
export function segmentRateProfile(seg: ModulatedSegment): RateProfile {
  switch (seg.kind) {
    case 'step': {
      const peak = seg.rateQps * seg.factor;
      return {
        periodic: false,
        pieces: [
          { lengthS: seg.atMs / 1000, fromQps: seg.rateQps, toQps: seg.rateQps },
          { lengthS: (seg.durationMs - seg.atMs) / 1000, fromQps: peak, toQps: peak },
        ],
      };
    }
    case 'ramp':
      return { periodic: false, pieces: [{ lengthS: seg.durationMs / 1000, fromQps: seg.fromQps, toQps: seg.toQps }] };
    case 'spikes': {
      const peak = seg.rateQps * seg.factor;
      return {
        periodic: true,
        pieces: [
          { lengthS: (seg.everyMs - seg.widthMs) / 1000, fromQps: seg.rateQps, toQps: seg.rateQps },
          { lengthS: seg.widthMs / 1000, fromQps: peak, toQps: peak },
        ],
      };
    }
  }
}

/** The mean number of arrivals of one segment: rate × duration, or the integral of its rate. */
export function segmentExpectedArrivals(seg: ArrivalSegment): number {
  if (seg.kind === 'poisson' || seg.kind === 'gamma') return (seg.rateQps * seg.durationMs) / 1000;
  return integrateRate(compileRateProfile(segmentRateProfile(seg)), seg.durationMs / 1000);
}

/** Total length of the spec, in milliseconds. */
export function arrivalSpecDurationMs(spec: ArrivalSpec): number {
  let total = 0;
  for (const seg of spec.segments) total += seg.durationMs;
  return total;
}

/** The mean number of arrivals the spec generates. */
export function expectedArrivals(spec: ArrivalSpec): number {
  let total = 0;
  for (const seg of spec.segments) total += segmentExpectedArrivals(seg);
  return total;
}
