// The agent's collector: every scrape interval it reads its server's counters through the adapter
// and turns the increments into one sample per model: arrivals (requests answered and failed in the
// interval), inferences, mean queue and compute time, per-batch-size executions. Counter resets
// (a restart, Triton's stats reset on reload) are detected and flagged, never read as negative
// traffic. The increments and the sample come from core/observe (modelDelta per version, sampleOf).
// The leader feeds the arrival counts of entry stages to its tuner as per-interval counts.
// With a push rule (core/observe/push-rule.ts) the samples are handed on only when the traffic changed or
// the push interval has passed: the scrapes held meanwhile go with the next push as one sample
// (from the counters at the last push to those of the scrape before), then the new scrape's own,
// so a burst is never diluted over the calm before it.
import { sumCounters } from '../core/observe/counter-rates.js';
import { sampleOf } from '../core/observe/sample.js';
import type { CounterReading, ModelSample } from '../core/observe/sample.js';
import type { ModelCounters, ServerAdapter } from '../ports/server-adapter.js';
import type { Clock } from '../ports/clock.js';
import { decidePush, initialPushState } from '../core/observe/push-rule.js';
import type { PushDecision, PushRuleOptions, PushRuleState } from '../core/observe/push-rule.js';
import { backedOffIntervalMs, PeriodicTask } from '../platform/periodic.js';

export type { ModelSample } from '../core/observe/sample.js';

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
  /** Hand samples on only when this rule says (default: every scrape's). */
  readonly push?: PushRuleOptions;
  /** Every push decision, with the scrape's time (for metrics and the reaction bench). */
  readonly onPushDecision?: (decision: PushDecision, atMs: number) => void;
  /**
   * While the server is idle (the last scrape saw no arrivals and nothing pending or queued), read
   * the queues (CounterReadOptions.queues: a second request per scrape on Triton and TorchServe)
   * only this often, carrying the last values meanwhile; on every scrape once traffic shows.
   * Default: on every scrape.
   */
  readonly idleQueueReadMs?: number;
  /**
   * Once the server has been idle (no arrivals, nothing pending or queued) for `idleAfterMs`,
   * scrape only this often, back to intervalMs at the first scrape that sees traffic. Default:
   * always intervalMs. A server's first traffic after idling is then seen up to this late.
   */
  readonly idleIntervalMs?: number;
  /** How long the server must be idle before the idle interval applies (default 1 s). */
  readonly idleAfterMs?: number;
}

export class Collector {
  private readonly options: CollectorOptions;
  private readonly task: PeriodicTask;
  private last = new Map<string, CounterReading>();
  /** Per model, the reading at the last push (with a push rule). */
  private pushed = new Map<string, CounterReading>();
  private pushState: PushRuleState = initialPushState();
  /** When the queues were last read, and whether the last scrape saw traffic. */
  private queuesReadAtMs = Number.NEGATIVE_INFINITY;
  private busy = true;
  /** The last scrape that saw traffic (or the start). */
  private busyAtMs: number | undefined;

  constructor(options: CollectorOptions) {
    this.options = options;
    this.task = new PeriodicTask({
      name: 'collect', intervalMs: options.intervalMs, clock: options.clock, ...(options.onError ? { onError: options.onError } : {}),
      ...(options.idleIntervalMs !== undefined ? { nextIntervalMs: () => this.nextIntervalMs() } : {}),
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

  /** The scrape interval from now: the idle one once the server has been idle long enough. */
  nextIntervalMs(): number {
    const { idleIntervalMs, intervalMs, idleAfterMs = 1000, clock } = this.options;
    const nowMs = clock.nowMs();
    return backedOffIntervalMs({ intervalMs, idleIntervalMs, idleAfterMs, quietSinceMs: this.busy ? undefined : (this.busyAtMs ?? nowMs), nowMs });
  }

  /**
   * Reads the counters now; returns the samples to hand on: without a push rule, one per model seen
   * before (the first scrape is a baseline); with one, none while it holds.
   */
  async scrape(): Promise<ModelSample[]> {
    const now = this.options.clock.nowMs();
    const idleEvery = this.options.idleQueueReadMs;
    const queues = idleEvery === undefined || this.busy || now - this.queuesReadAtMs >= idleEvery;
    const all = await this.options.adapter.counters(undefined, queues ? {} : { queues: false });
    if (queues) this.queuesReadAtMs = now;
    this.options.onAnswered?.();
    const byModel = new Map<string, ModelCounters[]>();
    for (const c of all) {
      if (this.options.models && !this.options.models.includes(c.model)) continue;
      byModel.set(c.model, [...(byModel.get(c.model) ?? []), c]);
    }
    const scraped: { model: string; prev: CounterReading; next: CounterReading; sample: ModelSample }[] = [];
    for (const [model, parts] of byModel) {
      const prev = this.last.get(model);
      const summed = sumCounters(model, parts);
      // Queues not read this scrape: the last values stand (read at most idleQueueReadMs ago, idle).
      const next = { series: parts, counters: queues || !prev ? summed : withQueuesOf(summed, prev.counters), atMs: now };
      this.last.set(model, next);
      if (!prev || now <= prev.atMs) {
        this.pushed.set(model, next);
        continue;
      }
      scraped.push({ model, prev, next, sample: sampleOf(model, prev, next) });
    }
    this.busy = scraped.some((x) => x.sample.arrivals > 0 || (x.sample.pending ?? 0) > 0 || (x.sample.queued ?? 0) > 0)
      || scraped.length === 0;
    if (this.busy || this.busyAtMs === undefined) this.busyAtMs = now;
    const rule = this.options.push;
    if (rule === undefined) return scraped.map((x) => x.sample);
    if (scraped.length === 0) return [];
    const { decision, state } = decidePush(now, scraped.map((x) => ({ model: x.model, windowMs: x.next.atMs - x.prev.atMs, arrivals: x.sample.arrivals, reset: x.sample.reset })), this.pushState, rule);
    this.pushState = state;
    this.options.onPushDecision?.(decision, now);
    if (decision.kind === 'hold') return [];
    const out: ModelSample[] = [];
    for (const x of scraped) {
      const since = this.pushed.get(x.model);
      // What was held since the last push, then this scrape on its own.
      if (since !== undefined && since.atMs < x.prev.atMs) out.push(sampleOf(x.model, since, x.prev));
      out.push(x.sample);
      this.pushed.set(x.model, x.next);
    }
    return out;
  }
}

/** `counters` with the pending and queued figures of an earlier reading (or none, as it had). */
function withQueuesOf(counters: ModelCounters, earlier: ModelCounters): ModelCounters {
  const { pending: _p, queued: _q, ...rest } = counters;
  return {
    ...rest,
    ...(earlier.pending !== undefined ? { pending: earlier.pending } : {}),
    ...(earlier.queued !== undefined ? { queued: earlier.queued } : {}),
  };
}
