// The engine's batching rule as pure functions of its settings and its queue: the settings
// checked, how many queued requests a batch takes now (Triton's GetDynamicBatch, everyone's rule
// without preferred sizes), which queue size wakes Triton's batcher next, and how many batches a
// queue packs into (TF Serving's max_enqueued_batches).
import type { LatencyCurve } from '../../core/model/profiles.js';
import type { BatchingSettings } from './types.js';

/** Batching settings once checked: preferred sizes as a set within 1..maxBatch. */
export interface CheckedSettings {
  readonly maxBatch: number;
  readonly maxQueueDelayMs: number;
  readonly merge: boolean;
  readonly preferred: ReadonlySet<number>;
}

/** Anything queued: a request of `size` items. */
export interface Sized {
  readonly size: number;
}

export function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be an integer ≥ 0, not ${n}`);
}

/** Checks batching settings against the model's curve (the emulator does not extrapolate). */
export function checkSettings(name: string, curve: LatencyCurve, s: BatchingSettings): CheckedSettings {
  checkCount('maxBatch', s.maxBatch);
  if (s.maxBatch < 1) throw new RangeError(`${name}: maxBatch must be ≥ 1`);
  if (s.maxBatch > curve.maxBatch) {
    throw new RangeError(`${name}: max batch ${s.maxBatch} is past the largest profiled batch size ${curve.maxBatch} on ${curve.hardware}; the emulator does not extrapolate`);
  }
  if (!(s.maxQueueDelayMs >= 0) || !Number.isFinite(s.maxQueueDelayMs)) throw new RangeError(`${name}: maxQueueDelayMs must be ≥ 0`);
  return {
    maxBatch: s.maxBatch,
    maxQueueDelayMs: s.maxQueueDelayMs,
    merge: s.merge ?? true,
    preferred: new Set((s.preferredBatchSizes ?? []).filter((k) => k >= 1 && k <= s.maxBatch)),
  };
}

/**
 * Triton's next_preferred_batch_size: the queued items at which an arriving request wakes the
 * batcher, once it has `total` items pending with `formedSize` of them already in a waiting
 * payload: the smallest preferred size above `total` (else the smallest), less `formedSize`.
 */
export function nextPreferredOf(settings: CheckedSettings, total: number, formedSize: number): number {
  const sizes = settings.preferred.size > 0 ? [...settings.preferred].sort((a, b) => a - b) : [settings.maxBatch];
  return (sizes.find((k) => k > total) ?? (sizes[0] as number)) - formedSize;
}

export function sizeOf(requests: readonly Sized[]): number {
  return requests.reduce((n, r) => n + r.size, 0);
}

/** Batches the waiting requests plus one more of `size` items pack into, in arrival order. */
export function batchesWith(settings: CheckedSettings, queue: readonly Sized[], size: number): number {
  const { maxBatch, merge } = settings;
  if (!merge) return queue.length + 1;
  let batches = 0;
  let open = maxBatch; // items the open batch still takes; none open yet
  for (const n of [...queue.map((r) => r.size), size]) {
    if (n > open || batches === 0) {
      batches++;
      open = maxBatch;
    }
    open -= n;
  }
  return batches;
}

/**
 * How many queued requests to take now into the batch being formed, which already holds
 * `formedSize` items (a Triton payload waiting for an instance; 0 for a new batch); 0: wait for
 * more until the delay runs out. `saturated`: the batch takes no more after this.
 *
 * Triton's dynamic batcher (GetDynamicBatch), in our words: walk the queue in arrival order while
 * requests fit the max batch; remember the last point where the batch had a preferred size, or
 * the point just before it would pass the largest preferred size (which saturates it). Before the
 * delay runs out that remembered batch is taken at once; otherwise the batch is taken when it
 * cannot grow (the next request does not fit, or it reached the largest preferred size), when the
 * delay has run out, at once with no delay, or at once into a waiting batch that is not at a
 * preferred size. With no preferred sizes (the largest is then the max batch) this is also
 * TorchServe's and TF Serving's rule: run when full, else when the delay runs out.
 */
export function pickBatch(
  settings: CheckedSettings, queue: readonly Sized[], expired: boolean, formedSize: number,
): { count: number; saturated: boolean } {
  const { maxBatch, maxQueueDelayMs, merge, preferred } = settings;
  if (!merge) return { count: formedSize > 0 ? 0 : 1, saturated: true };
  const largestPreferred = preferred.size > 0 ? Math.max(...preferred) : maxBatch;
  let total = 0;
  let count = 0;
  let bestTotal = 0;
  let bestCount = 0;
  let full = false;
  let saturated = false;
  for (const r of queue) {
    if (formedSize + count > 0) {
      if (bestTotal === 0 && formedSize + total + r.size > largestPreferred) {
        bestTotal = total;
        bestCount = count;
        saturated = true;
      }
      if (formedSize + total + r.size > maxBatch) {
        full = true;
        break;
      }
    }
    total += r.size;
    count++;
    if (preferred.has(formedSize + total)) {
      bestTotal = total;
      bestCount = count;
    }
  }
  if (bestTotal > 0 && !expired) return { count: bestCount, saturated: saturated || maxQueueDelayMs === 0 };
  if (count === 0) return { count: 0, saturated };
  if (full || formedSize + total >= largestPreferred) return { count, saturated: true };
  if (expired || maxQueueDelayMs === 0) return { count, saturated };
  if (!saturated && formedSize > 0 && !preferred.has(formedSize)) return { count, saturated };
  return { count: 0, saturated };
}
