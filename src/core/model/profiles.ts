// Profiles: per (model, hardware), the latency of one batch at measured batch sizes.
//
// (ours) Latency at an unmeasured batch size is interpolated linearly between the nearest
// measured sizes. Below the smallest measured size the smallest point's latency is used (a smaller
// batch is never slower than a larger one, so this is conservative). Past the largest measured
// size there is no value: the usable max batch is capped at the largest measured size, and the
// cap is reported, never silently extrapolated.
import type { HopOverheadPoint, ModelProfile, PointProvenance, ProfilePoint } from './types.js';
import type { Problem } from './errors.js';

/** One raw point: throughput optional (derived as batch / latency), provenance optional. */
export interface ProfilePointOptions extends PointProvenance {
  readonly batchSize: number;
  readonly latencyMs: number;
  readonly throughputQps?: number;
  readonly p99LatencyMs?: number;
  readonly samples?: number;
}

/** Raw profile input. */
export interface ProfileOptions {
  readonly model: string;
  readonly hardware: string;
  readonly points: readonly ProfilePointOptions[];
  /** Fixed per-hop cost (see ModelProfile.hopOverheadMs). */
  readonly hopOverheadMs?: number;
  /** The hop overhead by requests in flight (see ModelProfile.hopOverheadCurve). */
  readonly hopOverheadCurve?: readonly HopOverheadPoint[];
}

const PROVENANCE_KEYS = ['source', 'measuredAt', 'stable', 'clientLatencyMs', 'computeLatencyMs'] as const;

/** The provenance fields a point has, and no others. */
export function provenanceOf(point: PointProvenance): PointProvenance {
  const out: Record<string, unknown> = {};
  for (const k of PROVENANCE_KEYS) if (point[k] !== undefined) out[k] = point[k];
  return out as PointProvenance;
}

/**
 * Checks raw profiles and returns usable ones (sorted, throughput filled in) plus every problem.
 * `pathOf(i)` names where profile i came from (e.g. `profiles[2]` or `profiles.yaml: profiles[2]`).
 */
export function normaliseProfiles(
  raw: readonly ProfileOptions[],
  pathOf: (index: number) => string,
): { profiles: ModelProfile[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const profiles: ModelProfile[] = [];
  const seen = new Map<string, string>();
  raw.forEach((p, i) => {
    const path = pathOf(i);
    const key = `${p.model}\u0000${p.hardware}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({ path, message: `duplicate profile for model "${p.model}" on hardware "${p.hardware}" (also at ${earlier})` });
      return;
    }
    seen.set(key, path);
    if (p.points.length === 0) {
      problems.push({ path: `${path}.points`, message: 'a profile needs at least one point' });
      return;
    }
    const before = problems.length;
    const sizes = new Map<number, number>();
    p.points.forEach((pt, j) => {
      const at = `${path}.points[${j}]`;
      if (!Number.isInteger(pt.batchSize) || pt.batchSize < 1) {
        problems.push({ path: `${at}.batchSize`, message: `${pt.batchSize} — must be an integer ≥ 1` });
      }
      if (!(pt.latencyMs > 0) || !Number.isFinite(pt.latencyMs)) {
        problems.push({ path: `${at}.latencyMs`, message: `${pt.latencyMs} — must be a latency > 0` });
      }
      if (pt.throughputQps !== undefined && (!(pt.throughputQps > 0) || !Number.isFinite(pt.throughputQps))) {
        problems.push({ path: `${at}.throughputQps`, message: `${pt.throughputQps} — must be > 0` });
      }
      const dup = sizes.get(pt.batchSize);
      if (dup !== undefined) {
        problems.push({ path: `${at}.batchSize`, message: `duplicate batch size ${pt.batchSize} (also at points[${dup}])` });
      }
      sizes.set(pt.batchSize, j);
    });
    if (p.hopOverheadMs !== undefined && (!(p.hopOverheadMs >= 0) || !Number.isFinite(p.hopOverheadMs))) {
      problems.push({ path: `${path}.hopOverheadMs`, message: `${p.hopOverheadMs} — must be a duration ≥ 0 ms` });
    }
    p.hopOverheadCurve?.forEach((h, j) => {
      const at = `${path}.hopOverheadCurve[${j}]`;
      if (!Number.isInteger(h.inFlight) || h.inFlight < 1) problems.push({ path: `${at}.inFlight`, message: `${h.inFlight} — must be an integer ≥ 1` });
      else if (j > 0 && !(h.inFlight > (p.hopOverheadCurve?.[j - 1]?.inFlight ?? 0))) {
        problems.push({ path: `${at}.inFlight`, message: `${h.inFlight} — must be above the point before's (ascending, no duplicates)` });
      }
      if (!(h.hopOverheadMs >= 0) || !Number.isFinite(h.hopOverheadMs)) problems.push({ path: `${at}.hopOverheadMs`, message: `${h.hopOverheadMs} — must be a duration ≥ 0 ms` });
    });
    if (problems.length > before) return;
    const points: ProfilePoint[] = [...p.points]
      .sort((a, b) => a.batchSize - b.batchSize)
      .map((pt) => ({
        batchSize: pt.batchSize,
        latencyMs: pt.latencyMs,
        throughputQps: pt.throughputQps ?? (pt.batchSize * 1000) / pt.latencyMs,
        ...(pt.p99LatencyMs !== undefined ? { p99LatencyMs: pt.p99LatencyMs } : {}),
        ...(pt.samples !== undefined ? { samples: pt.samples } : {}),
        ...provenanceOf(pt),
      }));
    profiles.push({
      model: p.model, hardware: p.hardware, points,
      ...(p.hopOverheadMs !== undefined ? { hopOverheadMs: p.hopOverheadMs } : {}),
      ...(p.hopOverheadCurve !== undefined && p.hopOverheadCurve.length > 0 ? { hopOverheadCurve: p.hopOverheadCurve.map((h) => ({ inFlight: h.inFlight, hopOverheadMs: h.hopOverheadMs })) } : {}),
    });
  });
  return { profiles, problems };
}

/** The latency curve of one (model, hardware), with interpolation between measured sizes. */
export class LatencyCurve {
  readonly model: string;
  readonly hardware: string;
  /** Measured batch sizes, ascending. */
  readonly batchSizes: readonly number[];
  /** The largest usable batch size: the largest measured one. */
  readonly maxBatch: number;
  /**
   * Cost of one hop to the server and back with one request in flight there, added to every visit
   * (0 when not measured): the least a hop costs, what bounds may use.
   */
  readonly hopOverheadMs: number;
  /** The hop overhead by requests in flight, non-decreasing; empty: always hopOverheadMs. */
  private readonly hopCurve: readonly HopOverheadPoint[];
  private readonly sizes: Float64Array;
  private readonly lat: Float64Array;
  /** Log-spread σ of the batch latency at each measured size (0 where no P99 was measured). */
  private readonly sigma: Float64Array;

  constructor(profile: ModelProfile) {
    this.model = profile.model;
    this.hardware = profile.hardware;
    this.batchSizes = profile.points.map((p) => p.batchSize);
    this.sizes = Float64Array.from(this.batchSizes);
    this.lat = Float64Array.from(profile.points.map((p) => p.latencyMs));
    this.sigma = Float64Array.from(profile.points.map(pointSigma));
    this.maxBatch = this.batchSizes[this.batchSizes.length - 1] ?? 0;
    this.hopCurve = hopCurveOf(profile);
    this.hopOverheadMs = this.hopCurve[0]?.hopOverheadMs ?? profile.hopOverheadMs ?? 0;
  }

  /** True when the hop overhead depends on the requests in flight. */
  get hopVaries(): boolean {
    return this.hopCurve.length > 1 && (this.hopCurve[this.hopCurve.length - 1] as HopOverheadPoint).hopOverheadMs > this.hopOverheadMs;
  }

  /**
   * The hop overhead with `inFlight` requests in flight at the server (this one included):
   * interpolated linearly between measured concurrencies, flat before the first and past the last.
   */
  hopOverheadAt(inFlight: number): number {
    const c = this.hopCurve;
    const first = c[0];
    if (first === undefined || inFlight <= first.inFlight) return this.hopOverheadMs;
    let hi = 1;
    while (hi < c.length && (c[hi] as HopOverheadPoint).inFlight < inFlight) hi++;
    if (hi === c.length) return (c[hi - 1] as HopOverheadPoint).hopOverheadMs;
    const a = c[hi - 1] as HopOverheadPoint;
    const b = c[hi] as HopOverheadPoint;
    return a.hopOverheadMs + ((b.hopOverheadMs - a.hopOverheadMs) * (inFlight - a.inFlight)) / (b.inFlight - a.inFlight);
  }

  /**
   * Hop overheads for 1..n requests in flight (index 0 unused; index n stands for n or more),
   * n the last measured concurrency; undefined when the hop does not vary (use hopOverheadMs).
   */
  hopTable(): Float64Array | undefined {
    if (!this.hopVaries) return undefined;
    const n = (this.hopCurve[this.hopCurve.length - 1] as HopOverheadPoint).inFlight;
    const t = new Float64Array(n + 1);
    for (let c = 1; c <= n; c++) t[c] = this.hopOverheadAt(c);
    return t;
  }

  /** True when some point measured a spread (P99 above the median). */
  get varies(): boolean {
    return this.sigma.some((x) => x > 0);
  }

  /** Latency of a batch of `k` queries (1 ≤ k ≤ maxBatch). Throws past the largest measured size. */
  latencyMs(k: number): number {
    return this.interpolate(this.lat, k);
  }

  /**
   * Log-spread σ of a batch of `k`'s latency, interpolated like the latency. A point's σ comes
   * from its measured P99 over its median: ln(P99 / P50) / z(0.99).
   */
  sigmaAt(k: number): number {
    return this.interpolate(this.sigma, k);
  }

  private interpolate(y: Float64Array, k: number): number {
    const n = this.sizes.length;
    if (k > this.maxBatch) {
      throw new RangeError(`${this.model} on ${this.hardware}: batch ${k} is past the largest measured size ${this.maxBatch}; not extrapolated`);
    }
    if (k <= (this.sizes[0] as number)) return y[0] as number;
    let hi = 1;
    while (hi < n && (this.sizes[hi] as number) < k) hi++;
    const x1 = this.sizes[hi] as number;
    const y1 = y[hi] as number;
    if (x1 === k) return y1;
    const x0 = this.sizes[hi - 1] as number;
    const y0 = y[hi - 1] as number;
    return y0 + ((y1 - y0) * (k - x0)) / (x1 - x0);
  }

  /** Queries per second of one replica running full batches of `k`. */
  throughputQps(k: number): number {
    return (k * 1000) / this.latencyMs(k);
  }

  /** Service times for batch sizes 0..cap (index 0 unused), for the simulator's hot path. */
  table(cap: number): Float64Array {
    const t = new Float64Array(cap + 1);
    for (let k = 1; k <= cap; k++) t[k] = this.latencyMs(k);
    return t;
  }

  /** σ for batch sizes 0..cap (index 0 unused), or undefined when the profile measured no spread. */
  sigmaTable(cap: number): Float64Array | undefined {
    if (!this.varies) return undefined;
    const t = new Float64Array(cap + 1);
    for (let k = 1; k <= cap; k++) t[k] = this.sigmaAt(k);
    return t;
  }
}

/**
 * A profile's hop curve: hopOverheadCurve made non-decreasing (a running maximum: more requests
 * in flight never make a hop cheaper, so a lower reading at a higher concurrency is taken as
 * noise), or the single hopOverheadMs at one in flight, or nothing.
 */
function hopCurveOf(profile: ModelProfile): readonly HopOverheadPoint[] {
  const c = profile.hopOverheadCurve;
  if (c === undefined || c.length === 0) return profile.hopOverheadMs !== undefined ? [{ inFlight: 1, hopOverheadMs: profile.hopOverheadMs }] : [];
  let top = 0;
  return c.map((h) => {
    top = Math.max(top, h.hopOverheadMs);
    return { inFlight: h.inFlight, hopOverheadMs: top };
  });
}

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/**
 * A point's log-spread: its P99 against its median (the client's median where measured, since the
 * P99 is client-observed too), as a lognormal's σ. 0 without a P99, or when P99 ≤ median.
 */
function pointSigma(p: ProfilePoint): number {
  if (p.p99LatencyMs === undefined) return 0;
  const median = p.clientLatencyMs ?? p.latencyMs;
  return p.p99LatencyMs > median ? Math.log(p.p99LatencyMs / median) / Z99 : 0;
}

/** Quantile bins of the service-time draw (see serviceFactor). */
const BINS = 1024;

/**
 * Standard normal quantiles at the bins' midpoints, (i + ½) / BINS: a draw is one lookup. Acklam's
 * rational approximation (relative error < 1.2e-9), computed once.
 */
const NORMAL_QUANTILES: Float64Array = (() => {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const tail = (q: number): number => (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  const out = new Float64Array(BINS);
  for (let i = 0; i < BINS; i++) {
    const u = (i + 0.5) / BINS;
    if (u < 0.02425) out[i] = tail(Math.sqrt(-2 * Math.log(u)));
    else if (u > 1 - 0.02425) out[i] = -tail(Math.sqrt(-2 * Math.log(1 - u)));
    else {
      const q = u - 0.5;
      const r = q * q;
      out[i] = ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
    }
  }
  return out;
})();

/**
 * The factor a batch's service time is multiplied by, for a uniform draw `u` in [0, 1) and a
 * log-spread σ: a lognormal with mean 1 (exp(σz − σ²/2)), so that the mean service time stays the
 * profile's latency and the planner's throughput figures hold. σ = 0 gives exactly 1.
 */
export function serviceFactor(sigma: number, u: number): number {
  if (sigma <= 0) return 1;
  const z = NORMAL_QUANTILES[Math.min(BINS - 1, Math.floor(u * BINS))] as number;
  return Math.exp(sigma * z - (sigma * sigma) / 2);
}

/** Profiles indexed by (model, hardware). */
export class ProfileSet {
  private readonly curves = new Map<string, LatencyCurve>();

  constructor(profiles: readonly ModelProfile[]) {
    for (const p of profiles) this.curves.set(key(p.model, p.hardware), new LatencyCurve(p));
  }

  get(model: string, hardware: string): LatencyCurve | undefined {
    return this.curves.get(key(model, hardware));
  }

  has(model: string, hardware: string): boolean {
    return this.curves.has(key(model, hardware));
  }
}

function key(model: string, hardware: string): string {
  return `${model}\u0000${hardware}`;
}
