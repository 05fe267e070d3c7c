// The agent's collector: every scrape interval it reads its server's counters through the adapter
// and turns the increments into one sample per model: arrivals (requests answered and failed in the
// interval), inferences, mean queue and compute time, per-batch-size executions. Counter resets
// (a restart, Triton's stats reset on reload) are detected and flagged, never read as negative
// traffic. The leader feeds the arrival counts of entry stages to its tuner as per-interval counts.
import { counterDelta } from '../core/counters.js';
import { counterRates, sumCounters } from '../core/counter-rates.js';
import type { CounterRates } from '../core/counter-rates.js';
import type { ModelCounters, ServerAdapter } from '../ports/server-adapter.js';
import type { Clock } from '../ports/clock.js';
import { PeriodicTask } from './periodic.js';

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

export interface CollectorOptions {
  readonly adapter: ServerAdapter;
  readonly clock: Clock;
  readonly intervalMs: number;
  /** Models to sample (default: every model the counters report). */
  readonly models?: readonly string[];
  readonly onSample: (samples: readonly ModelSample[]) => void | Promise<void>;
  readonly onError?: (err: unknown) => void;
  /** Every scrape the server answered (the first, a baseline with no samples, included). */
  readonly onAnswered?: () => void;
}

export class Collector {
  private readonly options: CollectorOptions;
  private readonly task: PeriodicTask;
  private last = new Map<string, { counters: ModelCounters; atMs: number }>();

  constructor(options: CollectorOptions) {
    this.options = options;
    this.task = new PeriodicTask({
      name: 'collect', intervalMs: options.intervalMs, clock: options.clock, ...(options.onError ? { onError: options.onError } : {}),
    }, async () => {
      const samples = await this.scrape();
      if (samples.length > 0) await options.onSample(samples);
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Reads the counters now; returns a sample per model seen before (the first scrape is a baseline). */
  async scrape(): Promise<ModelSample[]> {
    const now = this.options.clock.nowMs();
    const all = await this.options.adapter.counters();
    this.options.onAnswered?.();
    const byModel = new Map<string, ModelCounters[]>();
    for (const c of all) {
      if (this.options.models && !this.options.models.includes(c.model)) continue;
      byModel.set(c.model, [...(byModel.get(c.model) ?? []), c]);
    }
    const samples: ModelSample[] = [];
    for (const [model, parts] of byModel) {
      const counters = sumCounters(model, parts);
      const prev = this.last.get(model);
      this.last.set(model, { counters, atMs: now });
      if (!prev || now <= prev.atMs) continue;
      const { reset, delta } = counterDelta(prev.counters, counters);
      const windowMs = now - prev.atMs;
      const answered = Number(delta.requests + delta.failures);
      const grown = counters.pending !== undefined && prev.counters.pending !== undefined ? counters.pending - prev.counters.pending : 0;
      samples.push({
        model,
        fromMs: prev.atMs,
        toMs: now,
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
      });
    }
    return samples;
  }
}
