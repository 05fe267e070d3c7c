// The live arrival envelope: for each window length Δ_i, the most arrivals in any window of that
// length within the recent horizon (default 60 s), kept incrementally.
//
// Time is cut into buckets of `resolutionMs`; a window of Δ spans ⌈Δ / resolution⌉ buckets, so the
// live envelope counts bucket-aligned windows (a busiest window straddling a bucket edge is seen
// as one bucket longer: slightly conservative). Each closed bucket updates every window's running
// sum and a monotonic deque of its maxima: O(number of windows) per bucket, amortised, and memory
// bounded by horizon / resolution per window, whatever the arrival rate.
// Arrivals come as exact timestamps (addArrival) or as counts over an interval (addCount), which is
// what polling a server's request counter gives; a count is spread evenly over its interval.
import type { EnvelopePoint } from './envelope.js';

export interface LiveEnvelopeOptions {
  /** Window lengths, ascending (e.g. envelopeWindowsMs(slowest service time)). */
  readonly windowsMs: readonly number[];
  /** Bucket width; default a quarter of the shortest window, within [1, 250] ms. */
  readonly resolutionMs?: number;
  /** How far back the maxima reach (default 60 s). */
  readonly horizonMs?: number;
  /**
   * Arrivals are spread evenly within a bucket (they come as polled counts, addCount): a window
   * then holds its share of the buckets it spans, window / (span × resolution), rather than all
   * of them, and a window shorter than a bucket its share of the busiest bucket. Lets a coarse
   * resolution (a fraction of the scrape interval; memory is horizon / resolution per window)
   * serve windows shorter than the interval. Default false: bucket-aligned windows, conservative.
   */
  readonly evenWithinBucket?: boolean;
}

/** A fixed-capacity deque of (bucket index, value) with decreasing values: sliding-window max. */
class MaxDeque {
  private readonly idx: Float64Array;
  private readonly val: Float64Array;
  private head = 0;
  private size = 0;

  constructor(capacity: number) {
    this.idx = new Float64Array(capacity);
    this.val = new Float64Array(capacity);
  }

  push(i: number, v: number): void {
    const cap = this.idx.length;
    while (this.size > 0) {
      const last = (this.head + this.size - 1) % cap;
      if ((this.val[last] as number) > v) break;
      this.size--;
    }
    if (this.size === cap) { // cannot happen when capacity ≥ the horizon in buckets; keep the newest
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    const at = (this.head + this.size) % cap;
    this.idx[at] = i;
    this.val[at] = v;
    this.size++;
  }

  /** Drops entries with index < minIndex. */
  expire(minIndex: number): void {
    const cap = this.idx.length;
    while (this.size > 0 && (this.idx[this.head] as number) < minIndex) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
  }

  max(): number {
    return this.size > 0 ? (this.val[this.head] as number) : 0;
  }
}

export class LiveEnvelope {
  readonly windowsMs: readonly number[];
  readonly resolutionMs: number;
  readonly horizonMs: number;
  private readonly spans: Int32Array;
  private readonly ring: Float64Array;
  private readonly sums: Float64Array;
  private readonly deques: MaxDeque[];
  private readonly horizonBuckets: number;
  /** Per window: the share of its span's arrivals it holds (1, or window / (span × resolution) with evenWithinBucket). */
  private readonly shares: Float64Array;
  /** Index of the open (current) bucket; buckets before it are closed. */
  private open = -1;
  private openCount = 0;
  private total = 0;
  /** Arrivals too old to place (before the ring): counted, not used. */
  late = 0;

  constructor(options: LiveEnvelopeOptions) {
    if (options.windowsMs.length === 0) throw new RangeError('LiveEnvelope needs at least one window');
    this.windowsMs = [...options.windowsMs];
    const shortest = Math.min(...this.windowsMs);
    this.resolutionMs = options.resolutionMs ?? Math.min(250, Math.max(1, shortest / 4));
    this.horizonMs = options.horizonMs ?? 60_000;
    this.spans = Int32Array.from(this.windowsMs, (w) => Math.max(1, Math.ceil(w / this.resolutionMs - 1e-9)));
    this.shares = Float64Array.from(this.windowsMs, (w, i) => (options.evenWithinBucket === true ? w / ((this.spans[i] as number) * this.resolutionMs) : 1));
    const longest = Math.max(...this.spans);
    this.horizonBuckets = Math.max(longest, Math.ceil(this.horizonMs / this.resolutionMs));
    this.ring = new Float64Array(longest + 1);
    this.sums = new Float64Array(this.windowsMs.length);
    this.deques = this.windowsMs.map(() => new MaxDeque(this.horizonBuckets + 1));
  }

  private bucketOf(tMs: number): number {
    return Math.floor(tMs / this.resolutionMs);
  }

  /** Closes buckets up to (not including) the one holding `nowMs`. */
  advanceTo(nowMs: number): void {
    const target = this.bucketOf(nowMs);
    if (this.open < 0) {
      this.open = target;
      return;
    }
    if (target <= this.open) return;
    this.close(this.open, this.openCount);
    this.openCount = 0;
    this.open++;
    // After longest-span empty buckets every running sum is zero and the ring is empty, so a long
    // gap is skipped rather than closed bucket by bucket; stale maxima expire on the next read.
    const emptyEnd = Math.min(target, this.open + this.ring.length);
    while (this.open < emptyEnd) this.close(this.open++, 0);
    this.open = target;
  }

  private close(bucket: number, count: number): void {
    const ring = this.ring;
    const cap = ring.length;
    ring[bucket % cap] = count;
    for (let i = 0; i < this.spans.length; i++) {
      const span = this.spans[i] as number;
      const dropped = bucket - span >= 0 ? (ring[(bucket - span) % cap] as number) : 0;
      const s = (this.sums[i] as number) + count - dropped;
      this.sums[i] = s;
      const dq = this.deques[i] as MaxDeque;
      dq.push(bucket, s);
      // A window ending at bucket e covers (e − span, e]; keep those inside the horizon.
      dq.expire(bucket - this.horizonBuckets + span);
    }
  }

  /** One arrival at `tMs` (not earlier than the open bucket's start, or it is counted as late). */
  addArrival(tMs: number): void {
    this.addAt(this.bucketOf(tMs), 1);
  }

  /** `count` arrivals spread evenly over [fromMs, toMs). */
  addCount(fromMs: number, toMs: number, count: number): void {
    if (!(count > 0)) return;
    if (!(toMs > fromMs)) {
      this.addAt(this.bucketOf(fromMs), count);
      return;
    }
    const first = this.bucketOf(fromMs);
    const last = this.bucketOf(toMs - 1e-9);
    const per = count / (toMs - fromMs);
    for (let b = first; b <= last; b++) {
      const lo = Math.max(fromMs, b * this.resolutionMs);
      const hi = Math.min(toMs, (b + 1) * this.resolutionMs);
      this.addAt(b, per * (hi - lo));
    }
  }

  private addAt(bucket: number, count: number): void {
    if (this.open < 0) this.open = bucket;
    if (bucket > this.open) this.advanceTo(bucket * this.resolutionMs);
    this.total += count;
    if (bucket === this.open) {
      this.openCount += count;
      return;
    }
    // A late arrival for a closed bucket: it cannot be placed exactly any more.
    this.late += count;
  }

  /** Arrivals seen (including late ones). */
  get arrivals(): number {
    return this.total;
  }

  /**
   * The envelope as of `nowMs`: per window, the most arrivals in any window within the horizon,
   * including the open bucket, and the rate that is.
   */
  snapshot(nowMs: number): EnvelopePoint[] {
    this.advanceTo(nowMs);
    const cap = this.ring.length;
    return this.windowsMs.map((windowMs, i) => {
      const span = this.spans[i] as number;
      // The window ending in the open bucket: the last span − 1 closed buckets plus the open one.
      const dropped = this.open - span >= 0 ? (this.ring[(this.open - span) % cap] as number) : 0;
      const current = (this.sums[i] as number) - dropped + this.openCount;
      const dq = this.deques[i] as MaxDeque;
      dq.expire(this.open - this.horizonBuckets + span);
      const maxArrivals = Math.max(dq.max(), current) * (this.shares[i] as number);
      return { windowMs, maxArrivals, rateQps: maxArrivals / (windowMs / 1000) };
    });
  }
}
