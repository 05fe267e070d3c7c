// Predicted against measured, for `inferline replay`: latency figures side by side with the
// relative error of each, and the verdict on whether the harness itself could be trusted.
import { percentileOfSorted } from '../math/percentiles.js';

export interface LatencyFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Share of queries over the SLO (failed queries count as misses when measured). */
  readonly missRate: number;
}

export interface Compared<T> {
  readonly predicted: T;
  readonly measured: T;
}

/** (measured − predicted) / predicted per percentile; the miss rate's difference in points. */
export interface LatencyErrors {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly missRatePoints: number;
}

/** Percentiles and SLO misses of sorted latencies; `failed` extra queries count as misses. */
export function latencyFigures(sorted: Float64Array, sloMs: number, failed = 0): LatencyFigures {
  let over = failed;
  for (let i = sorted.length - 1; i >= 0 && (sorted[i] as number) > sloMs; i--) over++;
  const total = sorted.length + failed;
  return {
    p50Ms: percentileOfSorted(sorted, 50),
    p99Ms: percentileOfSorted(sorted, 99),
    p999Ms: percentileOfSorted(sorted, 99.9),
    missRate: total > 0 ? over / total : 0,
  };
}

export function latencyErrors(c: Compared<LatencyFigures>): LatencyErrors {
  const rel = (m: number, p: number): number => (p > 0 ? (m - p) / p : Number.NaN);
  return {
    p50: rel(c.measured.p50Ms, c.predicted.p50Ms),
    p99: rel(c.measured.p99Ms, c.predicted.p99Ms),
    p999: rel(c.measured.p999Ms, c.predicted.p999Ms),
    missRatePoints: (c.measured.missRate - c.predicted.missRate) * 100,
  };
}

export interface HealthFigures {
  readonly sendSlipP99Ms: number;
  readonly loopDelayP99Ms: number;
  /** Whose event loop that is, where the harness has several processes (the demo: the slowest one's). */
  readonly loopDelayOf?: string;
  readonly loadAverage: number;
  readonly cores: number;
  /**
   * CPU, in cores, that the host gave to work other than the run's own processes over the run,
   * where the harness knows its processes (the demo). Given, it replaces the load-average rule:
   * a load average counts the run's own processes and what came before the run (the setup).
   */
  readonly otherCpuCores?: number;
  /** Queries that failed or were not answered. */
  readonly failed: number;
}

/** The most of the host's cores that other work may take during a run the harness trusts. */
export const OTHER_WORK_SHARE = 0.25;

export interface HarnessVerdict {
  readonly trustworthy: boolean;
  /** Why not, one line each. */
  readonly reasons: readonly string[];
}

/**
 * Whether the run measured the fleet rather than the harness or the host:
 * - the sender kept close to its schedule (P99 slip ≤ max(5 ms, 10 % of the predicted P50)), so the
 *   load offered is the trace asked for (the prediction is made on the arrivals as sent, so a
 *   small slip costs the comparison nothing);
 * - its event loop answered promptly (P99 delay ≤ max(1 ms, 5 % of the predicted P99)): a late
 *   loop adds its delay to every hop it times, so it could add no more than that to the tail;
 * - the host was not oversubscribed (1-minute load ≤ its cores), or, where the harness measured
 *   what other work took (otherCpuCores), that took no more than a quarter of the host's cores;
 * - no query failed.
 */
export function harnessVerdict(h: HealthFigures, predicted: { readonly p50Ms: number; readonly p99Ms: number; readonly slipLimitMs?: number }): HarnessVerdict {
  const reasons: string[] = [];
  const slipLimit = predicted.slipLimitMs ?? Math.max(5, 0.1 * predicted.p50Ms);
  if (h.sendSlipP99Ms > slipLimit) reasons.push(`the sender fell behind its schedule: P99 slip ${h.sendSlipP99Ms.toFixed(2)} ms > ${slipLimit.toFixed(2)} ms`);
  const loopLimit = Math.max(1, 0.05 * predicted.p99Ms);
  if (h.loopDelayP99Ms > loopLimit) reasons.push(`${h.loopDelayOf === undefined ? "the harness's event loop" : `the event loop of ${h.loopDelayOf}`} was slow: P99 delay ${h.loopDelayP99Ms.toFixed(1)} ms > ${loopLimit.toFixed(1)} ms (5 % of the predicted P99)`);
  if (h.otherCpuCores !== undefined) {
    const otherLimit = OTHER_WORK_SHARE * h.cores;
    if (h.otherCpuCores > otherLimit) reasons.push(`other work on the host took ${h.otherCpuCores.toFixed(2)} of its ${h.cores} cores during the run (> ${otherLimit.toFixed(2)})`);
  } else if (h.loadAverage > h.cores) {
    reasons.push(`the host was oversubscribed: load average ${h.loadAverage.toFixed(2)} > ${h.cores} cores`);
  }
  if (h.failed > 0) reasons.push(`${h.failed} queries failed or were not answered`);
  return { trustworthy: reasons.length === 0, reasons };
}
