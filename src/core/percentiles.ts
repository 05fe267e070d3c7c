// Percentiles by the nearest-rank method on a sorted sample: the value at rank ⌈p/100 · n⌉.
// A P99 computed this way is an observed latency, never an interpolated one.

/** Sorts a copy of `values` ascending (typed-array sort: numeric). */
export function sortedCopy(values: Float64Array, count = values.length): Float64Array {
  const out = values.slice(0, count);
  out.sort();
  return out;
}

/** Nearest-rank percentile of an ascending sample; NaN when the sample is empty. */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1] as number;
}
