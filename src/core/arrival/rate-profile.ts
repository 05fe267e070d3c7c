// Piecewise-linear arrival rates λ(t) and their integral Λ(t) = ∫₀ᵗ λ(s) ds, for non-homogeneous
// arrivals by time rescaling: a unit-rate renewal process in "operational time" τ becomes, through
// t = Λ⁻¹(τ), a process whose rate at t is λ(t). Both directions are exact on every piece.

/** One piece: the rate goes linearly from `fromQps` to `toQps` over `lengthS` seconds. */
export interface RatePiece {
  /** > 0. */
  readonly lengthS: number;
  /** > 0, as is `toQps`: Λ is then strictly increasing and Λ⁻¹ is a function. */
  readonly fromQps: number;
  readonly toQps: number;
}

/** Pieces played in order; when `periodic` they repeat forever, else λ is 0 after the last one. */
export interface RateProfile {
  readonly pieces: readonly RatePiece[];
  readonly periodic: boolean;
}

/** A profile with its piece boundaries and partial integrals precomputed. */
export interface CompiledRateProfile {
  readonly periodic: boolean;
  /** Rate at the start of each piece, and its slope (qps per second). */
  readonly startQps: Float64Array;
  readonly slope: Float64Array;
  /** Where each piece starts, in seconds, and Λ there. */
  readonly startS: Float64Array;
  readonly areaBefore: Float64Array;
  /** Length and Λ of the whole profile (one period when periodic). */
  readonly lengthS: number;
  readonly area: number;
}

export function compileRateProfile(profile: RateProfile): CompiledRateProfile {
  const n = profile.pieces.length;
  if (n === 0) throw new RangeError('compileRateProfile: a profile needs at least one piece');
  const startQps = new Float64Array(n);
  const slope = new Float64Array(n);
  const startS = new Float64Array(n);
  const areaBefore = new Float64Array(n);
  let t = 0;
  let area = 0;
  profile.pieces.forEach((p, i) => {
    if (!(p.lengthS > 0 && p.fromQps > 0 && p.toQps > 0)) {
      throw new RangeError(`compileRateProfile: piece ${i} needs a length and rates > 0`);
    }
    const m = (p.toQps - p.fromQps) / p.lengthS;
    startQps[i] = p.fromQps;
    slope[i] = m;
    startS[i] = t;
    areaBefore[i] = area;
    t += p.lengthS;
    // The same expression as integrateRate's, so that Λ at a piece's end is its next Λ exactly.
    area += (p.lengthS * (2 * p.fromQps + m * p.lengthS)) / 2;
  });
  return { periodic: profile.periodic, startQps, slope, startS, areaBefore, lengthS: t, area };
}

// Profiles have a handful of pieces (one or two per period), so a linear scan beats a search.
function pieceAt(sorted: Float64Array, x: number): number {
  let i = 0;
  while (i + 1 < sorted.length && x >= (sorted[i + 1] as number)) i++;
  return i;
}

/** Λ(t): the expected number of arrivals in [0, t). */
export function integrateRate(profile: CompiledRateProfile, tS: number): number {
  if (!(tS > 0)) return 0;
  let periods = 0;
  let r = tS;
  if (profile.periodic) {
    periods = Math.floor(tS / profile.lengthS);
    r = Math.max(0, tS - periods * profile.lengthS);
  } else if (tS >= profile.lengthS) {
    return profile.area;
  }
  const i = pieceAt(profile.startS, r);
  const s = r - (profile.startS[i] as number);
  const a = profile.startQps[i] as number;
  const m = profile.slope[i] as number;
  return periods * profile.area + (profile.areaBefore[i] as number) + (s * (2 * a + m * s)) / 2;
}

/**
 * Λ⁻¹(τ): the time at which the integral of the rate reaches τ; Infinity past the end of a
 * profile that is not periodic. On a piece with rate a + m·s, solving a·s + m·s²/2 = u gives
 * s = 2u / (a + √(a² + 2mu)): no cancellation for either sign of m, and u/a when m is 0.
 */
export function invertIntegratedRate(profile: CompiledRateProfile, tau: number): number {
  if (!(tau > 0)) return 0;
  let periods = 0;
  let u = tau;
  if (profile.periodic) {
    periods = Math.floor(tau / profile.area);
    u = Math.max(0, tau - periods * profile.area);
  } else if (tau >= profile.area) {
    return Infinity;
  }
  const i = pieceAt(profile.areaBefore, u);
  const v = u - (profile.areaBefore[i] as number);
  const a = profile.startQps[i] as number;
  const m = profile.slope[i] as number;
  // a² + 2mv is λ² at the answer, so ≥ 0 but for rounding.
  const s = (2 * v) / (a + Math.sqrt(Math.max(0, a * a + 2 * m * v)));
  return periods * profile.lengthS + (profile.startS[i] as number) + s;
}
