// Profiles: per (model, hardware), the latency of one batch at measured batch sizes.
//
// (ours) Latency at an unmeasured batch size is interpolated linearly between the nearest
// measured sizes. Below the smallest measured size the smallest point's latency is used (a smaller
// batch is never slower than a larger one, so this is conservative). Past the largest measured
// size there is no value: the usable max batch is capped at the largest measured size, and the
// cap is reported, never silently extrapolated.
import type { ModelProfile, PointProvenance, ProfilePoint } from './types.js';
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
    profiles.push({ model: p.model, hardware: p.hardware, points });
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
  private readonly sizes: Float64Array;
  private readonly lat: Float64Array;

  constructor(profile: ModelProfile) {
    this.model = profile.model;
    this.hardware = profile.hardware;
    this.batchSizes = profile.points.map((p) => p.batchSize);
    this.sizes = Float64Array.from(this.batchSizes);
    this.lat = Float64Array.from(profile.points.map((p) => p.latencyMs));
    this.maxBatch = this.batchSizes[this.batchSizes.length - 1] ?? 0;
  }

  /** Latency of a batch of `k` queries (1 ≤ k ≤ maxBatch). Throws past the largest measured size. */
  latencyMs(k: number): number {
    const n = this.sizes.length;
    if (k > this.maxBatch) {
      throw new RangeError(`${this.model} on ${this.hardware}: batch ${k} is past the largest measured size ${this.maxBatch}; not extrapolated`);
    }
    if (k <= (this.sizes[0] as number)) return this.lat[0] as number;
    let hi = 1;
    while (hi < n && (this.sizes[hi] as number) < k) hi++;
    const x1 = this.sizes[hi] as number;
    const y1 = this.lat[hi] as number;
    if (x1 === k) return y1;
    const x0 = this.sizes[hi - 1] as number;
    const y0 = this.lat[hi - 1] as number;
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
