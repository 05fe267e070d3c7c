// One observation of one model's traffic over an interval (ModelSample): what an agent's collector
// (runtime/collector.ts) derives from two reads of the counters and pushes to the leader. Pure.
import { counterRates } from './counter-rates.js';
import type { CounterRates } from './counter-rates.js';
import { modelDelta } from './counters.js';
import type { ModelCounters } from '../../ports/server-adapter.js';

export interface ModelSample {
  readonly model: string;
  /** The interval [fromMs, toMs) the increments cover. */
  readonly fromMs: number;
  readonly toMs: number;
  /**
   * Requests that arrived in the interval: those answered (or failed), plus the growth of the
   * server's pending requests where it reports them (a saturated server answers no faster than
   * it serves, so answers alone would hide a burst).
   */
  readonly arrivals: number;
  /** Requests received and not yet counted at the end of the interval, where the server says (ModelCounters.pending). */
  readonly pending?: number;
  /** Requests in the server's queue at the end of the interval, where it says (ModelCounters.queued). */
  readonly queued?: number;
  readonly rates: CounterRates;
  /** Executions per batch size in the interval (Triton). */
  readonly batchSizes?: readonly { readonly batchSize: number; readonly executions: number; readonly meanComputeMs: number | null }[];
  /** The counters went down since the last scrape: these increments count from the reset. */
  readonly reset: boolean;
}

/** One read of a model's counters. */
export interface CounterReading {
  /** The model's series as the server reported them (one per version). */
  readonly series: readonly ModelCounters[];
  /** Their sum, with the pending and queued figures of this read (or carried from an earlier one). */
  readonly counters: ModelCounters;
  readonly atMs: number;
}

/** The sample of one model between two reads of its counters. */
export function sampleOf(model: string, prev: CounterReading, next: CounterReading): ModelSample {
  const { counters } = next;
  const { reset, delta } = modelDelta(model, prev.series, next.series);
  const windowMs = next.atMs - prev.atMs;
  const answered = Number(delta.requests + delta.failures);
  const grown = counters.pending !== undefined && prev.counters.pending !== undefined ? counters.pending - prev.counters.pending : 0;
  return {
    model,
    fromMs: prev.atMs,
    toMs: next.atMs,
    arrivals: Math.max(0, answered + grown),
    ...(counters.pending !== undefined ? { pending: counters.pending } : {}),
    ...(counters.queued !== undefined ? { queued: counters.queued } : {}),
    rates: counterRates(delta, windowMs),
    ...(delta.batchSizes ? {
      batchSizes: delta.batchSizes.filter((b) => b.executions > 0n).map((b) => ({
        batchSize: b.batchSize, executions: Number(b.executions), meanComputeMs: Number(b.computeNs) / Number(b.executions) / 1e6,
      })),
    } : {}),
    reset,
  };
}
