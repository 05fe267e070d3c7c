// Whether a profile makes physical sense, beyond its shape: sizes within the limits, latency that
// does not fall as the batch grows, throughput that one replica can reach at its latency, and a
// point at batch 1. What a real server could produce under noise is a warning; what nothing could
// is an error. Run on raw profiles, so each problem names the point as the file has it.
import type { Problem } from './errors.js';
import { MAX_BATCH_LATENCY_MS, MAX_BATCH_SIZE, MAX_PROFILE_POINTS } from './limits.js';
import type { ProfileOptions } from './profiles.js';

/** A larger batch faster than this fraction of a smaller one's latency is a broken measurement. */
export const MIN_LATENCY_RATIO = 0.5;

/** Throughput above batch / latency by more than this factor: batches overlapped in the replica (warned). */
export const THROUGHPUT_WARN_FACTOR = 1.1;

/** … and by more than this one: no replica overlaps that many batches (refused). */
export const THROUGHPUT_ERROR_FACTOR = 10;

export interface ProfileSense {
  readonly errors: readonly Problem[];
  readonly warnings: readonly Problem[];
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4)));
}

/**
 * Errors and warnings of raw profiles; `pathOf(i)` names profile i (`profiles[2]`,
 * `./profiles.yaml: profiles[2]`). Points with values the shape check refuses are skipped here.
 */
export function checkProfileSense(raw: readonly ProfileOptions[], pathOf: (index: number) => string): ProfileSense {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  raw.forEach((p, i) => {
    const path = pathOf(i);
    const what = `${p.model} on ${p.hardware}`;
    if (p.points.length > MAX_PROFILE_POINTS) {
      errors.push({ path: `${path}.points`, message: `${p.points.length} points — must have at most ${MAX_PROFILE_POINTS} (one per measured batch size)` });
      return;
    }
    const usable: { batchSize: number; latencyMs: number; throughputQps?: number; at: string }[] = [];
    p.points.forEach((pt, j) => {
      const at = `${path}.points[${j}]`;
      if (!(Number.isInteger(pt.batchSize) && pt.batchSize >= 1 && pt.latencyMs > 0 && Number.isFinite(pt.latencyMs))) return;
      let ok = true;
      if (pt.batchSize > MAX_BATCH_SIZE) {
        errors.push({ path: `${at}.batchSize`, message: `${pt.batchSize} — must be at most ${MAX_BATCH_SIZE}` });
        ok = false;
      }
      if (pt.latencyMs > MAX_BATCH_LATENCY_MS) {
        errors.push({ path: `${at}.latencyMs`, message: `${pt.latencyMs} — must be at most ${MAX_BATCH_LATENCY_MS} (one hour): latencies are milliseconds` });
        ok = false;
      }
      if (ok) usable.push({ batchSize: pt.batchSize, latencyMs: pt.latencyMs, ...(pt.throughputQps !== undefined ? { throughputQps: pt.throughputQps } : {}), at });
    });
    if (usable.length === 0) return;

    for (const pt of usable) {
      if (pt.throughputQps === undefined || !Number.isFinite(pt.throughputQps)) continue;
      const reachable = (pt.batchSize * 1000) / pt.latencyMs;
      const ratio = pt.throughputQps / reachable;
      const tail = `one replica finishing a batch of ${pt.batchSize} every ${fmt(pt.latencyMs)} ms serves ${fmt(reachable)} qps`;
      if (ratio > THROUGHPUT_ERROR_FACTOR) {
        errors.push({ path: `${pt.at}.throughputQps`, message: `${fmt(pt.throughputQps)} — impossible at its latency: ${tail}; fix it or leave it out (it is derived from the latency)` });
      } else if (ratio > THROUGHPUT_WARN_FACTOR) {
        warnings.push({ path: `${pt.at}.throughputQps`, message: `${fmt(pt.throughputQps)} is ${fmt(ratio)}× what its latency allows (${tail}): only a server that overlaps batches reaches it` });
      }
    }

    const sorted = [...usable].sort((a, b) => a.batchSize - b.batchSize);
    for (let k = 1; k < sorted.length; k++) {
      const a = sorted[k - 1] as (typeof sorted)[number];
      const b = sorted[k] as (typeof sorted)[number];
      if (b.latencyMs >= a.latencyMs || a.batchSize === b.batchSize) continue;
      const message = `${fmt(b.latencyMs)} ms at batch ${b.batchSize} is less than ${fmt(a.latencyMs)} ms at batch ${a.batchSize} (${a.at})`;
      if (b.latencyMs < a.latencyMs * MIN_LATENCY_RATIO) {
        errors.push({ path: `${b.at}.latencyMs`, message: `${message}: no server runs a larger batch in under half the time of a smaller one — re-measure ${what}` });
      } else {
        warnings.push({ path: `${b.at}.latencyMs`, message: `${message}: latency should not fall as the batch grows (measurement noise?) — the planner takes the points as given` });
      }
    }

    const smallest = sorted[0] as (typeof sorted)[number];
    if (smallest.batchSize > 1) {
      warnings.push({
        path: `${path}.points`,
        message: `no point at batch 1: smaller batches are planned at ${fmt(smallest.latencyMs)} ms, the latency of batch ${smallest.batchSize} — measure batch 1`,
      });
    }
  });
  return { errors, warnings };
}
