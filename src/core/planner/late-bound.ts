// How many queries a stage must serve late, whatever its schedule: a lower bound that holds for
// every batching rule, batch delay and queue order (the estimator's own included), so it stays
// true when the queries become ready later than assumed.
//
// Each query j visiting the stage is a job with a window [release_j, deadline_j]: it cannot start
// service before release_j (its earliest ready time plus the stage's least hop) and is on time only
// if its batch ends by deadline_j (arrival + SLO − the least time its route needs after the stage).
// A replica runs one batch at a time, and a batch of k takes at least shortest[k]. So inside any
// time interval of length w, one replica serves at most cap(w) queries whose windows lie inside
// it (BatchCapacity: the most queries any sequence of batches fits into w). Intervals that do not
// overlap share no replica time and, windows being inside them, no query; so over any set of
// disjoint intervals I, at least Σ max(0, queries inside I − replicas × cap(|I|)) queries are late.
// leastLate finds the best such set over intervals spanning runs of consecutive jobs (sorted by
// deadline) by dynamic programming, as weighted interval scheduling does.
//
// Delaying a query's release only shrinks its window: a bound computed on the earliest releases
// holds for any later ones, so it holds whatever the stages upstream do (bound.ts, fact 4).

/** Queries any run of consecutive jobs counts at most: bounds the work per job. */
const MAX_RUN = 256;
/** Queries the capacity table covers exactly; beyond it the fluid rate bounds it. */
const TABLE_QUERIES = MAX_RUN;

/** The most queries one replica serves inside a window, its batches ≤ b taking at least `shortestMs[k]` for k queries. */
export class BatchCapacity {
  private readonly shortestMs: ArrayLike<number>;
  /** least[n]: the least time in which one replica can serve at least n queries (non-decreasing); built when first asked. */
  private least: Float64Array | undefined;
  private peakRatePerMs = 0;

  /** `shortestMs[k]` for k = 1..b (index 0 unused): the shortest service time of a batch of k. */
  constructor(shortestMs: ArrayLike<number>) {
    this.shortestMs = shortestMs;
  }

  private build(): Float64Array {
    const shortestMs = this.shortestMs;
    const b = shortestMs.length - 1;
    const least = new Float64Array(TABLE_QUERIES + 1);
    let peak = 0;
    for (let k = 1; k <= b; k++) peak = Math.max(peak, k / (shortestMs[k] as number));
    for (let n = 1; n <= TABLE_QUERIES; n++) {
      let best = Infinity;
      for (let k = 1; k <= Math.min(b, n); k++) best = Math.min(best, (shortestMs[k] as number) + (least[n - k] as number));
      least[n] = best;
    }
    // Serving more queries in less time serves the fewer too: a suffix minimum.
    for (let n = TABLE_QUERIES - 1; n >= 1; n--) if ((least[n + 1] as number) < (least[n] as number)) least[n] = least[n + 1] as number;
    this.least = least;
    this.peakRatePerMs = peak;
    return least;
  }

  /** least[n] for n = 0..TABLE_QUERIES: the least time one replica needs to serve n queries (non-decreasing). */
  table(): Float64Array {
    return this.least ?? this.build();
  }

  /** At most this many queries fit inside a window of `windowMs` (generous by a hair for float sums). */
  of(windowMs: number): number {
    const w = windowMs * (1 + 1e-12) + 1e-9;
    const least = this.least ?? this.build();
    if (w >= (least[TABLE_QUERIES] as number)) return Math.max(TABLE_QUERIES, Math.floor(w * this.peakRatePerMs));
    let lo = 0;
    let hi = TABLE_QUERIES;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((least[mid] as number) <= w) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Jobs of one stage, sorted by deadline (ms, on the trace's clock). */
export interface StageJobs {
  readonly release: Float64Array;
  readonly deadline: Float64Array;
}

/**
 * A lower bound on the jobs served late by `replicas` replicas (file comment). Stops counting once
 * it exceeds `stopAbove` (the answer is then some value above it). A job whose own window is
 * shorter than the fastest batch is late under any schedule and counted directly.
 */
export function leastLate(jobs: StageJobs, replicas: number, cap: BatchCapacity, stopAbove: number): number {
  const { release, deadline } = jobs;
  const n = release.length;
  // The jobs that can be on time at all (kept in deadline order); the others are late.
  const r: number[] = [];
  const d: number[] = [];
  let hopeless = 0;
  for (let j = 0; j < n; j++) {
    if (cap.of((deadline[j] as number) - (release[j] as number)) < 1) hopeless++;
    else {
      r.push(release[j] as number);
      d.push(deadline[j] as number);
    }
  }
  if (hopeless > stopAbove) return hopeless;
  const m = r.length;
  const least = cap.table();
  const top = least.length - 1;
  // f[j]: the best bound over the first j jobs.
  const f = new Float64Array(m + 1);
  for (let j = 0; j < m; j++) {
    let best = f[j] as number;
    let minRelease = Infinity;
    const most = Math.min(j + 1, MAX_RUN);
    const dj = d[j] as number;
    // The interval only grows as i falls, so its capacity (n: the most one replica fits) does too.
    let n = 0;
    for (let i = j; i > j - most; i--) {
      const ri = r[i] as number;
      if (ri < minRelease) {
        minRelease = ri;
        const w = (dj - ri) * (1 + 1e-12) + 1e-9;
        while (n < top && (least[n + 1] as number) <= w) n++;
        if (n === top) n = cap.of(dj - ri);
      }
      const capacity = replicas * n;
      // Once it holds as many as the run can count, stop.
      if (capacity >= most) break;
      const count = j - i + 1;
      if (count <= capacity) continue;
      // Earlier intervals must end by this one's start: the jobs due by minRelease (all before i,
      // every job here being due after its release).
      const v = (f[countDueBy(d, minRelease, i)] as number) + count - capacity;
      if (v > best) best = v;
    }
    f[j + 1] = best;
    if (hopeless + best > stopAbove) return hopeless + best;
  }
  return hopeless + (f[m] as number);
}

/** The number of jobs among the first `limit` (sorted by deadline) due by `t`. */
function countDueBy(deadline: readonly number[], t: number, limit: number): number {
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((deadline[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
