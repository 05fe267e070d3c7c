// Arrival envelopes (network calculus): for each window length Δ, the largest number of arrivals
// in any interval of that length. The planner records the envelope of its planning trace (the
// planned envelope); the tuner computes the same quantity over recent live traffic and compares.
//
// Intervals are half-open, [t, t + Δ): an arrival exactly Δ after another is in the next window.
// Comparisons are done on float seconds, so "exactly Δ" holds up to floating-point rounding.

/** One window of an envelope. */
export interface EnvelopePoint {
  /** Window length Δ, in milliseconds. */
  readonly windowMs: number;
  /** The most arrivals in any half-open interval [t, t + Δ). */
  readonly maxArrivals: number;
  /** maxArrivals / Δ, in queries per second. */
  readonly rateQps: number;
}

/** An envelope: points in increasing window length. */
export type Envelope = readonly EnvelopePoint[];

/** The envelope of the planning trace, as written in a plan file (`envelope`). */
export type PlannedEnvelope = Envelope;

/** The default longest window: 60 s, as in the paper. */
export const DEFAULT_MAX_WINDOW_MS = 60_000;

/**
 * Window lengths from `minWindowMs` doubling while ≤ `maxWindowMs`, then `maxWindowMs` itself
 * when the doubling does not land on it, so the longest window is always exactly the maximum
 * (the paper's 60 s) rather than somewhere between max/2 and max. When min ≥ max, only max.
 */
export function envelopeWindowsMs(minWindowMs: number, maxWindowMs: number = DEFAULT_MAX_WINDOW_MS): number[] {
  if (!(Number.isFinite(minWindowMs) && minWindowMs > 0) || !(Number.isFinite(maxWindowMs) && maxWindowMs > 0)) {
    throw new RangeError(`envelopeWindowsMs: windows must be positive and finite, got ${minWindowMs}, ${maxWindowMs}`);
  }
  if (minWindowMs >= maxWindowMs) return [maxWindowMs];
  const windows: number[] = [];
  for (let w = minWindowMs; w <= maxWindowMs; w *= 2) windows.push(w);
  if (windows[windows.length - 1] !== maxWindowMs) windows.push(maxWindowMs);
  return windows;
}

/**
 * The most arrivals of a sorted trace (seconds) in any interval [t, t + Δ), Δ = `windowMs`.
 * Two-pointer sweep, O(N): a busiest interval can always start at an arrival, so for each arrival
 * i it counts the arrivals j ≤ i with t_i − t_j < Δ.
 */
export function maxArrivalsInWindow(trace: Float64Array, windowMs: number): number {
  const windowS = windowMs / 1000;
  let best = 0;
  let j = 0;
  for (let i = 0; i < trace.length; i++) {
    const ti = trace[i] as number;
    while (ti - (trace[j] as number) >= windowS) j++;
    const count = i - j + 1;
    if (count > best) best = count;
  }
  return best;
}

/**
 * The envelope of a trace (arrival times in seconds, non-decreasing; not checked, since the tuner
 * calls this often on data it built) for each window length in `windowsMs`, in the given order.
 */
export function computeEnvelope(trace: Float64Array, windowsMs: readonly number[]): EnvelopePoint[] {
  return windowsMs.map((windowMs) => {
    const maxArrivals = maxArrivalsInWindow(trace, windowMs);
    return { windowMs, maxArrivals, rateQps: maxArrivals / (windowMs / 1000) };
  });
}

/** The highest rate over the windows of an envelope (0 for an empty one). */
export function envelopePeakRateQps(envelope: Envelope): number {
  let peak = 0;
  for (const p of envelope) if (p.rateQps > peak) peak = p.rateQps;
  return peak;
}
