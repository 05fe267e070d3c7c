// Merging polled arrival counts from several agents into one time-ordered stream for a live
// envelope. Pure. Agents report "n requests in the last interval", some time after the interval
// ends. A live envelope can only take arrivals at or after its open bucket, so the leader must
// not move the envelope's clock past a moment some agent has yet to report: the merger holds each
// source's intervals and releases them up to the watermark, the earliest time every live source
// has reported up to. Intervals are re-timed onto the leader's clock (they end when they are
// received: agents' clocks may disagree with the leader's, intervals' lengths do not), and a
// source that has not reported for `staleAfterMs` stops holding the watermark back.

export interface CountInterval {
  readonly fromMs: number;
  readonly toMs: number;
  readonly count: number;
}

interface Source {
  /** Re-timed intervals not yet released, in order. */
  pending: CountInterval[];
  /** End of the last interval received (leader clock). */
  reportedToMs: number;
  lastHeardMs: number;
}

export interface CountMergerOptions {
  /** A source silent this long no longer holds the watermark back. */
  readonly staleAfterMs: number;
}

export class CountMerger {
  private readonly sources = new Map<string, Source>();
  private readonly staleAfterMs: number;
  /** Everything before this has been released. */
  private watermark = -Infinity;

  constructor(options: CountMergerOptions) {
    this.staleAfterMs = options.staleAfterMs;
  }

  get watermarkMs(): number {
    return this.watermark;
  }

  /** `count` arrivals over an interval of `durationMs` that ended when it was received, `receivedMs`. */
  add(source: string, durationMs: number, count: number, receivedMs: number): void {
    let s = this.sources.get(source);
    if (s === undefined) {
      s = { pending: [], reportedToMs: receivedMs - durationMs, lastHeardMs: receivedMs };
      this.sources.set(source, s);
    }
    // Never ending before the source's previous interval, never starting before what was released.
    const toMs = Math.max(receivedMs, s.reportedToMs);
    const fromMs = Math.min(toMs, Math.max(this.watermark, toMs - Math.max(0, durationMs)));
    if (count > 0) s.pending.push({ fromMs, toMs, count });
    s.reportedToMs = toMs;
    s.lastHeardMs = receivedMs;
  }

  /** Releases, in time order, every interval (or part of one) before the new watermark. */
  drain(nowMs: number): { readonly intervals: readonly CountInterval[]; readonly watermarkMs: number } {
    let wm = Infinity;
    for (const [id, s] of this.sources) {
      if (nowMs - s.lastHeardMs > this.staleAfterMs) {
        if (s.pending.length === 0) this.sources.delete(id);
        continue;
      }
      wm = Math.min(wm, s.reportedToMs);
    }
    if (wm === Infinity) wm = Math.max(...[...this.sources.values()].map((s) => s.reportedToMs), this.watermark);
    wm = Math.min(wm, nowMs);
    if (!(wm > this.watermark)) return { intervals: [], watermarkMs: this.watermark };
    const out: CountInterval[] = [];
    for (const s of this.sources.values()) {
      const keep: CountInterval[] = [];
      for (const iv of s.pending) {
        if (iv.toMs <= wm) out.push(iv);
        else if (iv.fromMs >= wm) keep.push(iv);
        else {
          const share = (wm - iv.fromMs) / (iv.toMs - iv.fromMs);
          out.push({ fromMs: iv.fromMs, toMs: wm, count: iv.count * share });
          keep.push({ fromMs: wm, toMs: iv.toMs, count: iv.count * (1 - share) });
        }
      }
      s.pending = keep;
    }
    this.watermark = wm;
    out.sort((a, b) => a.fromMs - b.fromMs || a.toMs - b.toMs);
    return { intervals: out, watermarkMs: wm };
  }
}

/**
 * Cuts intervals into buckets of `resolutionMs` and sums them, ascending: what a live envelope can
 * take in order even when intervals from several sources overlap.
 */
export function bucketCounts(intervals: readonly CountInterval[], resolutionMs: number): CountInterval[] {
  const buckets = new Map<number, number>();
  for (const iv of intervals) {
    if (!(iv.count > 0)) continue;
    if (!(iv.toMs > iv.fromMs)) {
      const b = Math.floor(iv.fromMs / resolutionMs);
      buckets.set(b, (buckets.get(b) ?? 0) + iv.count);
      continue;
    }
    const per = iv.count / (iv.toMs - iv.fromMs);
    for (let b = Math.floor(iv.fromMs / resolutionMs); b * resolutionMs < iv.toMs; b++) {
      const lo = Math.max(iv.fromMs, b * resolutionMs);
      const hi = Math.min(iv.toMs, (b + 1) * resolutionMs);
      if (hi > lo) buckets.set(b, (buckets.get(b) ?? 0) + per * (hi - lo));
    }
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([b, count]) => ({ fromMs: b * resolutionMs, toMs: (b + 1) * resolutionMs, count }));
}

/**
 * A planning trace (arrival times in seconds, from 0) from counted intervals: each interval's
 * arrivals spread evenly across it. Within an interval the burstiness is lost; the intervals are
 * the scrape interval, so the trace keeps the variation from one interval to the next.
 */
export function traceFromCounts(intervals: readonly CountInterval[]): Float64Array {
  // Counts may be fractions (an interval split at a watermark, a root's requests weighed as
  // queries): the carry sums them, so none is dropped.
  const sorted = [...intervals].filter((iv) => iv.count > 0).sort((a, b) => a.fromMs - b.fromMs);
  const first = sorted[0];
  if (first === undefined) return new Float64Array(0);
  const times: number[] = [];
  let carry = 0;
  for (const iv of sorted) {
    const total = iv.count + carry;
    const n = Math.floor(total);
    carry = total - n;
    const span = Math.max(0, iv.toMs - iv.fromMs);
    for (let i = 0; i < n; i++) times.push((iv.fromMs - first.fromMs + ((i + 0.5) * span) / n) / 1000);
  }
  times.sort((a, b) => a - b);
  return Float64Array.from(times);
}
