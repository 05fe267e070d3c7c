// Arrival traces from specs. Constant-rate kinds (poisson, gamma) add renewal gaps in real time;
// modulated kinds (step, ramp, spikes) add unit-mean gaps in operational time τ and map each τ
// to t = Λ⁻¹(τ), so the rate at t is the segment's λ(t) and the gaps' CV holds wherever λ is flat.
import { RandomStream } from '../math/random.js';
import { compileRateProfile, invertIntegratedRate } from './rate-profile.js';
import { expectedArrivals, segmentRateProfile } from './rates.js';
import { MAX_EXPECTED_ARRIVALS } from './types.js';
import type { ArrivalSegment, ArrivalSpec } from './types.js';

/** Unit-mean renewal gaps with the given CV: gamma with shape 1/cv², scale cv²; exponential at CV 1. */
function unitGaps(cv: number, rs: RandomStream): () => number {
  if (cv === 1) return () => rs.exponential(1);
  const cv2 = cv * cv;
  const shape = 1 / cv2;
  return () => rs.gamma(shape, cv2);
}

/** Successive arrival times of a segment, in seconds from its start (Infinity once it has no more). */
function arrivalTimes(seg: ArrivalSegment, rs: RandomStream): () => number {
  let t = 0;
  switch (seg.kind) {
    // These two must keep their exact arithmetic: traces of existing specs stay bit for bit the same.
    case 'poisson': {
      const mean = 1 / seg.rateQps;
      return () => (t += rs.exponential(mean));
    }
    case 'gamma': {
      const cv2 = seg.cv * seg.cv;
      const shape = 1 / cv2;
      const scale = cv2 / seg.rateQps;
      return () => (t += rs.gamma(shape, scale));
    }
    default: {
      const profile = compileRateProfile(segmentRateProfile(seg));
      const gap = unitGaps(seg.cv, rs);
      let tau = 0;
      return () => invertIntegratedRate(profile, (tau += gap()));
    }
  }
}

/**
 * Generates the arrival times (seconds) of a spec. Deterministic: the same spec and seed give the
 * same trace, bit for bit. Segment i draws from stream `arrivals/i` of its own seed (or
 * `defaultSeed`), starts at the sum of the previous durations, and keeps the arrivals strictly
 * before its end; the first arrival comes one drawn gap after its start.
 */
export function generateTrace(spec: ArrivalSpec, defaultSeed: number): Float64Array {
  if (!Number.isSafeInteger(defaultSeed) || defaultSeed < 0) {
    throw new RangeError(`generateTrace: seed must be a non-negative integer, got ${defaultSeed}`);
  }
  let buf = new Float64Array(Math.min(MAX_EXPECTED_ARRIVALS, Math.ceil(expectedArrivals(spec) * 1.05) + 64));
  let n = 0;
  let last = 0;
  let offsetMs = 0;
  spec.segments.forEach((seg, index) => {
    const rs = new RandomStream(seg.seed ?? defaultSeed, `arrivals/${index}`);
    const offsetS = offsetMs / 1000;
    const endS = seg.durationMs / 1000;
    const next = arrivalTimes(seg, rs);
    for (;;) {
      const t = next();
      if (t >= endS) break;
      // Rounding in offset + t could put a segment's first arrival an ulp before the previous
      // segment's last (or, in a periodic profile, an arrival an ulp before the one before it);
      // clamping keeps the trace non-decreasing.
      let at = offsetS + t;
      if (at < last) at = last;
      if (n === buf.length) {
        const bigger = new Float64Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      buf[n++] = at;
      last = at;
    }
    offsetMs += seg.durationMs;
  });
  return buf.slice(0, n);
}
