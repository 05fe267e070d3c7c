// When a profile point is stable: perf_analyzer's criterion (inference_profiler.cc,
// IsInferWindowStable / IsLatencyWindowStable). Over the last three measurement windows, the
// largest throughput is within 10 % of the smallest, and so is the largest latency, and no window
// is empty. (ours) The window's latency is its median client-observed latency, not its mean: one
// slow request (a collection pause) then does not reset the count. (ours) Where the server reports
// its compute time, the windows' compute times must agree within 10 % too: that is the figure the
// profile records, and it is a mean, which one stalled batch moves.

/** What one measurement window saw. */
export interface WindowSummary {
  readonly startMs: number;
  readonly endMs: number;
  /** Batches completed in the window. */
  readonly requests: number;
  /** Median client-observed latency of those batches. */
  readonly latencyMs: number;
  /** Items completed per second, every replica together. */
  readonly throughputQps: number;
  /** The server's mean compute time of a batch in the window, where it reports timings. */
  readonly computeMs?: number;
}

export interface StabilityCriterion {
  /** Consecutive windows that must agree (perf_analyzer: 3). */
  readonly windows: number;
  /** Largest allowed max/min − 1 of latency and of throughput across them (perf_analyzer: 0.1). */
  readonly tolerance: number;
}

export const DEFAULT_STABILITY: StabilityCriterion = { windows: 3, tolerance: 0.1 };

/** max/min − 1 of latency and throughput over the last `windows` windows; Infinity where a window is empty. */
export interface WindowSpread {
  readonly latency: number;
  readonly throughput: number;
  /** Present when every window has the server's compute time. */
  readonly compute?: number;
}

/** The windows the criterion looks at: the last `criterion.windows`. */
export function lastWindows<T>(windows: readonly T[], criterion: StabilityCriterion = DEFAULT_STABILITY): readonly T[] {
  return windows.slice(Math.max(0, windows.length - criterion.windows));
}

export function windowSpread(windows: readonly WindowSummary[]): WindowSpread {
  const compute = windows.map((w) => w.computeMs);
  return {
    latency: relativeSpread(windows.map((w) => w.latencyMs)),
    throughput: relativeSpread(windows.map((w) => w.throughputQps)),
    ...(windows.length > 0 && compute.every((c) => c !== undefined) ? { compute: relativeSpread(compute as number[]) } : {}),
  };
}

/** True when the last `criterion.windows` windows exist, none is empty, and both spreads are within the tolerance. */
export function isStable(windows: readonly WindowSummary[], criterion: StabilityCriterion = DEFAULT_STABILITY): boolean {
  if (windows.length < criterion.windows) return false;
  const last = lastWindows(windows, criterion);
  if (last.some((w) => w.requests <= 0)) return false;
  const s = windowSpread(last);
  // A tiny epsilon absorbs float rounding at exactly the tolerance (1.1 / 1.0 − 1 ≠ 0.1 in binary).
  const within = (x: number | undefined): boolean => x === undefined || x <= criterion.tolerance + 1e-12;
  return within(s.latency) && within(s.throughput) && within(s.compute);
}

/** max/min − 1; Infinity when the smallest is not positive; 0 for fewer than two values. */
export function relativeSpread(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (!(min > 0)) return Number.POSITIVE_INFINITY;
  return max / min - 1;
}
