// One point of an active sweep: its measurement windows summarised, and the result the profile
// table and the report are made from.
import { percentileOfSorted, sortedCopy } from '../math/percentiles.js';
import { DEFAULT_STABILITY, lastWindows, windowSpread } from './stability.js';
import type { StabilityCriterion, WindowSpread, WindowSummary } from './stability.js';
import type { ServerTiming } from './server-timing.js';

/** What the load generator saw during one window. */
export interface WindowRecord {
  readonly startMs: number;
  readonly endMs: number;
  /** Client-observed latency of each batch completed in the window. */
  readonly latenciesMs: readonly number[];
  /** Items in those batches. */
  readonly items: number;
  /** The server's mean compute time of a batch over the window, where it reports timings. */
  readonly computeMs?: number;
}

export type PointStatus = 'stable' | 'unstable' | 'cut' | 'failed';

export interface PointResult {
  readonly batchSize: number;
  /**
   * `stable`: the criterion held; `unstable`: the trials cap came first; `cut`: the time budget
   * ended the point (its figures, if any, are from the windows it had); `failed`: a request failed.
   */
  readonly status: PointStatus;
  /** When the point's measurement ended (ms since the epoch). */
  readonly measuredAtMs: number;
  /** Windows measured, warm-up excluded. */
  readonly windows: number;
  /** Batches behind the figures: those of the last three windows. */
  readonly samples: number;
  /** Median of the client-observed batch latency over the last three windows. */
  readonly clientP50Ms?: number;
  /**
   * Mean of the same latencies: the hop overhead is read from it (table.ts), since a request's
   * client latency is its hop plus its queue and compute, and the server reports those two as means.
   */
  readonly clientMeanMs?: number;
  /**
   * P99 of the client-observed batch latency: the median of the last three windows' own P99s, so
   * that a host stall in one window (a descheduled client or server) does not become the profile's
   * spread. With fewer windows, of those it has.
   */
  readonly clientP99Ms?: number;
  /** Items per second per replica (throughput of all replicas ÷ replicas). */
  readonly throughputQps?: number;
  /** The server's split of the time, where it reports timings. */
  readonly server?: ServerTiming;
  /** Spread of the last three windows (the stability criterion's measure). */
  readonly spread?: WindowSpread;
  /** Batches kept in flight (the replicas, unless the point measured the hop at a higher concurrency). */
  readonly inFlight?: number;
  readonly error?: string;
}

/** A window's figures for the stability criterion. */
export function summariseWindow(w: WindowRecord): WindowSummary {
  const durationMs = Math.max(1e-9, w.endMs - w.startMs);
  return {
    startMs: w.startMs,
    endMs: w.endMs,
    requests: w.latenciesMs.length,
    latencyMs: w.latenciesMs.length === 0 ? Number.NaN : percentileOfSorted(sortedCopy(Float64Array.from(w.latenciesMs)), 50),
    throughputQps: (w.items * 1000) / durationMs,
    ...(w.computeMs !== undefined ? { computeMs: w.computeMs } : {}),
  };
}

export interface PointInput {
  readonly batchSize: number;
  readonly status: PointStatus;
  readonly measuredAtMs: number;
  readonly windows: readonly WindowRecord[];
  /** Replicas serving. */
  readonly replicas: number;
  /** Batches kept in flight (default: the replicas). */
  readonly inFlight?: number;
  /** Server timings over the last three windows, where known. */
  readonly server?: ServerTiming;
  readonly error?: string;
  readonly criterion?: StabilityCriterion;
}

/** The point's figures from its last three windows (fewer when it had fewer). */
export function summarisePoint(input: PointInput): PointResult {
  const used = lastWindows(input.windows, input.criterion ?? DEFAULT_STABILITY);
  const latencies = Float64Array.from(used.flatMap((w) => w.latenciesMs));
  const base = {
    batchSize: input.batchSize,
    status: input.status,
    measuredAtMs: input.measuredAtMs,
    windows: input.windows.length,
    samples: latencies.length,
    inFlight: input.inFlight ?? input.replicas,
    ...(input.error !== undefined ? { error: input.error } : {}),
  };
  if (latencies.length === 0) return base;
  const sorted = sortedCopy(latencies);
  const spanMs = used.reduce((s, w) => s + Math.max(0, w.endMs - w.startMs), 0);
  const items = used.reduce((s, w) => s + w.items, 0);
  return {
    ...base,
    clientP50Ms: percentileOfSorted(sorted, 50),
    clientMeanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    clientP99Ms: medianWindowP99(used),
    ...(spanMs > 0 ? { throughputQps: (items * 1000) / spanMs / Math.max(1, input.replicas) } : {}),
    ...(input.server !== undefined ? { server: input.server } : {}),
    spread: windowSpread(used.map(summariseWindow)),
  };
}

/** The median over windows of each window's P99 (windows without answers left out). */
function medianWindowP99(windows: readonly WindowRecord[]): number {
  const p99s = windows.filter((w) => w.latenciesMs.length > 0).map((w) => percentileOfSorted(sortedCopy(Float64Array.from(w.latenciesMs)), 99));
  return percentileOfSorted(sortedCopy(Float64Array.from(p99s)), 50);
}

/** The latency the profile table records: the server's compute time where known, else the client median. */
export function pointLatencyMs(p: PointResult): number | undefined {
  return p.server?.computeMs ?? p.clientP50Ms;
}
