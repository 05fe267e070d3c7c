// Passive profiling: watches a model's per-batch-size statistics (Triton's batch_stats) under the
// traffic it already serves, for a while, and turns them into compute latency per executed batch
// size. It sends nothing and changes nothing, so it needs no permission to run beside live
// traffic. It samples through the agent's collector every interval and adds the intervals up, so a
// counter reset (a reload) loses at most the interval it happened in.
import type { Clock } from '../../ports/clock.js';
import type { ServerAdapter, ServerKind } from '../../ports/server-adapter.js';
import { passivePoints, tallyBatchSizes } from '../../core/profiler/index.js';
import type { BatchSizeTally, PassivePoint } from '../../core/profiler/index.js';
import { Collector } from '../collector.js';
import { ProfilerError } from './errors.js';

export interface PassiveProfileOptions {
  readonly model: string;
  /** The name the profile is recorded under. */
  readonly hardware: string;
  /** How long to watch (default 60 s). */
  readonly durationMs?: number;
  /** How often to read the counters (default 5 s). */
  readonly intervalMs?: number;
  /** Executions a batch size needs before its point counts as stable (default 20). */
  readonly minSamples?: number;
}

export type PassiveEvent = { readonly kind: 'observing'; readonly elapsedMs: number; readonly durationMs: number; readonly executions: number };

export interface PassiveProfileResult {
  readonly mode: 'passive';
  readonly server: ServerKind;
  readonly endpoint: string;
  readonly model: string;
  readonly hardware: string;
  readonly startedAtMs: number;
  /** How long the counters were watched. */
  readonly observedMs: number;
  readonly minSamples: number;
  /** Executed batch sizes, ascending. */
  readonly points: readonly PassivePoint[];
  /** Requests answered or failed meanwhile (any batch size). */
  readonly requests: number;
  /** Intervals in which the counters were reset (a reload): their increments count from the reset. */
  readonly resets: number;
  readonly interrupted: boolean;
  readonly warnings: readonly string[];
}

export const PASSIVE_DEFAULTS = { durationMs: 60_000, intervalMs: 5000, minSamples: 20 } as const;

export async function runPassiveProfile(
  adapter: ServerAdapter, options: PassiveProfileOptions,
  ctx: { readonly clock: Clock; readonly signal?: AbortSignal; readonly onEvent?: (e: PassiveEvent) => void },
): Promise<PassiveProfileResult> {
  const { clock, signal } = ctx;
  const durationMs = options.durationMs ?? PASSIVE_DEFAULTS.durationMs;
  const intervalMs = Math.min(options.intervalMs ?? PASSIVE_DEFAULTS.intervalMs, durationMs);
  const minSamples = options.minSamples ?? PASSIVE_DEFAULTS.minSamples;
  if (!(durationMs > 0) || !(intervalMs > 0)) throw new RangeError('durationMs and intervalMs must be > 0');
  const caps = await adapter.capabilities();
  if (!caps.perBatchStats) {
    throw new ProfilerError(`passive profiling needs per-batch-size execution statistics, which this ${adapter.kind} server does not report`
      + (caps.warnings.length > 0 ? ` (${caps.warnings.join('; ')})` : ''));
  }
  const status = await adapter.model(options.model);
  if (!status.ready) throw new ProfilerError(`model ${options.model} is not ready on ${adapter.endpoint}`);

  const collector = new Collector({ adapter, clock, intervalMs, models: [options.model], onSample: () => undefined });
  const startedAtMs = clock.nowMs();
  await collector.scrape(); // the baseline
  let tally: BatchSizeTally[] = [];
  let requests = 0;
  let resets = 0;
  let interrupted = false;
  while (clock.nowMs() - startedAtMs < durationMs) {
    try {
      await clock.sleep(Math.min(intervalMs, durationMs - (clock.nowMs() - startedAtMs)), signal);
    } catch (err) {
      if (!signal?.aborted) throw err;
      interrupted = true;
    }
    for (const s of await collector.scrape()) {
      if (s.reset) resets++;
      requests += s.arrivals;
      tally = tallyBatchSizes(tally, s.batchSizes ?? []);
    }
    ctx.onEvent?.({ kind: 'observing', elapsedMs: clock.nowMs() - startedAtMs, durationMs, executions: tally.reduce((n, t) => n + t.executions, 0) });
    if (interrupted) break;
  }
  const points = passivePoints(tally, minSamples);
  const warnings: string[] = [];
  if (resets > 0) warnings.push(`the counters were reset ${resets} time(s) while watching (a reload): increments count from each reset`);
  if (points.length === 0) warnings.push(`no batch was executed in ${((clock.nowMs() - startedAtMs) / 1000).toFixed(1)} s: nothing to profile`);
  const few = points.filter((p) => !p.enough);
  if (few.length > 0) {
    warnings.push(`batch size ${few.map((p) => p.batchSize).join(', ')}: fewer than ${minSamples} executions, marked stable: false`);
  }
  return {
    mode: 'passive',
    server: adapter.kind,
    endpoint: adapter.endpoint,
    model: options.model,
    hardware: options.hardware,
    startedAtMs,
    observedMs: clock.nowMs() - startedAtMs,
    minSamples,
    points,
    requests,
    resets,
    interrupted,
    warnings,
  };
}
