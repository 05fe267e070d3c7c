// Sweep results → the planner's profile table (with provenance per point), and what the table
// says about batching.
import type { ProfileOptions, ProfilePointOptions } from '../model/profiles.js';
import type { HopOverheadPoint } from '../model/types.js';
import { pointLatencyMs } from './point.js';
import type { PointResult } from './point.js';
import type { PassivePoint } from './passive.js';

/** ISO 8601 of an epoch time in milliseconds. */
export function isoTime(ms: number): string {
  return new Date(Math.round(ms)).toISOString();
}

/**
 * The profile of one (model, hardware) from an active sweep: every point with figures (failed
 * points and points cut before their first window have none). Unstable and cut points are kept,
 * marked `stable: false`.
 */
export function activeProfile(model: string, hardware: string, points: readonly PointResult[], hopPoints: readonly PointResult[] = []): ProfileOptions | undefined {
  const out: ProfilePointOptions[] = [];
  for (const p of points) {
    const latencyMs = pointLatencyMs(p);
    if (p.status === 'failed' || latencyMs === undefined || !(latencyMs > 0)) continue;
    out.push({
      batchSize: p.batchSize,
      latencyMs: round(latencyMs),
      ...(p.throughputQps !== undefined && p.throughputQps > 0 ? { throughputQps: round(p.throughputQps) } : {}),
      ...(p.clientP99Ms !== undefined && p.clientP99Ms > 0 ? { p99LatencyMs: round(p.clientP99Ms) } : {}),
      samples: p.samples,
      source: 'active',
      measuredAt: isoTime(p.measuredAtMs),
      stable: p.status === 'stable',
      ...(p.clientP50Ms !== undefined && p.clientP50Ms > 0 ? { clientLatencyMs: round(p.clientP50Ms) } : {}),
      ...(p.server !== undefined ? { computeLatencyMs: round(p.server.computeMs) } : {}),
    });
  }
  if (out.length === 0) return undefined;
  const hop = hopOverheadMs(points);
  const curve = hopOverheadCurve(points, hopPoints);
  return { model, hardware, points: out, ...(hop !== undefined ? { hopOverheadMs: hop } : {}), ...(curve !== undefined ? { hopOverheadCurve: curve } : {}) };
}

/**
 * The hop overhead by requests in flight: the sweep's hop point (at its concurrency, the replicas)
 * and each extra batch-1 point measured with more requests in flight, by the same rule (client
 * median − server queue − compute). Undefined unless at least two concurrencies have a figure.
 */
export function hopOverheadCurve(points: readonly PointResult[], hopPoints: readonly PointResult[]): HopOverheadPoint[] | undefined {
  const base = hopPointOf(points);
  const byInFlight = new Map<number, number>();
  for (const p of [...(base ? [base] : []), ...hopPoints]) {
    const ms = hopOf(p);
    if (ms !== undefined) byInFlight.set(p.inFlight ?? 1, ms);
  }
  if (byInFlight.size < 2) return undefined;
  return [...byInFlight.entries()].sort((a, b) => a[0] - b[0]).map(([inFlight, ms]) => ({ inFlight, hopOverheadMs: ms }));
}

/**
 * The fixed cost of one hop (HTTP, serialization, the client's scheduling): at the smallest batch
 * size that has both figures, the client's median latency minus the server's own queue and compute
 * time. The smallest batch because that is what a pipeline's hops carry (one query a request);
 * undefined when the server reports no timings.
 */
export function hopOverheadMs(points: readonly PointResult[]): number | undefined {
  const p = hopPointOf(points);
  return p === undefined ? undefined : hopOf(p);
}

/** The point the hop overhead is read from: the smallest batch size with client and server figures. */
function hopPointOf(points: readonly PointResult[]): PointResult | undefined {
  return points.filter((p) => hopOf(p) !== undefined).sort((a, b) => a.batchSize - b.batchSize)[0];
}

/**
 * One point's hop: its client mean minus the server's mean queue and compute over the same windows
 * (≥ 0); undefined without both figures. Means, not the client's median: every request's client
 * latency is its hop plus its queue and compute, so the means subtract exactly, while with requests
 * queueing behind a batch the median sits in one mode of a two-mode distribution (a batch's
 * requests wait either nothing or a whole batch) and took that mode's wait for hop: 11.8 ms at 8
 * requests in flight on a stage whose hop is about 1.3 ms. Points measured before the client mean
 * existed fall back to the median.
 */
function hopOf(p: PointResult): number | undefined {
  const client = p.clientMeanMs ?? p.clientP50Ms;
  if (p.status === 'failed' || p.server === undefined || client === undefined) return undefined;
  return round(Math.max(0, client - p.server.computeMs - (p.server.queueMs ?? 0)));
}

/** The profile of one (model, hardware) from passive observation; throughput is batch / compute time. */
export function passiveProfile(model: string, hardware: string, points: readonly PassivePoint[], measuredAtMs: number): ProfileOptions | undefined {
  if (points.length === 0) return undefined;
  return {
    model,
    hardware,
    points: points.map((p) => ({
      batchSize: p.batchSize,
      latencyMs: round(p.computeMs),
      throughputQps: round((p.batchSize * 1000) / p.computeMs),
      samples: p.samples,
      source: 'passive',
      measuredAt: isoTime(measuredAtMs),
      stable: p.enough,
      computeLatencyMs: round(p.computeMs),
    })),
  };
}

/**
 * Where batching stops paying: the smallest measured batch size after which the next measured
 * size raises throughput per replica by less than `minGain` (default 10 %). Undefined when every
 * step pays, or with fewer than two points.
 */
export function batchingKnee(points: readonly { readonly batchSize: number; readonly throughputQps: number }[], minGain = 0.1): number | undefined {
  const sorted = [...points].filter((p) => p.throughputQps > 0).sort((a, b) => a.batchSize - b.batchSize);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i] as { batchSize: number; throughputQps: number };
    const b = sorted[i + 1] as { batchSize: number; throughputQps: number };
    if (b.throughputQps < a.throughputQps * (1 + minGain)) return a.batchSize;
  }
  return undefined;
}

/** Four significant digits: enough for a profile, short in a file. */
function round(x: number): number {
  return Number(x.toPrecision(4));
}
