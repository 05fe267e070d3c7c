// Active profiling of one model on one server, per hardware: a warm-up and a sweep of batch
// sizes at each, with closed-loop load (one batch in flight per replica), measurement windows
// until three agree within 10 % (a trials cap and a time budget bound it), and the server's own
// timings split compute from queueing where it reports them. On Triton it can switch the model's
// instance kind (KIND_CPU / KIND_GPU) for a hardware; whatever it changed is put back at the end,
// on error and on abort (Ctrl-C) alike.
import type { Clock } from '../../ports/clock.js';
import { hasConfigRestore, hasReplicaControl, isProfilable } from '../../ports/server-adapter.js';
import type { ConfigSnapshot, ModelCounters, ModelStatus, Profilable, ServerAdapter } from '../../ports/server-adapter.js';
import { sumCounters } from '../../core/observe/counter-rates.js';
import {
  checkBatchSizes, DEFAULT_STABILITY, lastWindows, nextPointStep, pointDeadlineMs, serverTiming, summarisePoint, summariseWindow,
  sweepBatchSizes,
} from '../../core/profiler/index.js';
import type { PointResult, PointStatus, StabilityCriterion, WindowRecord, WindowSummary } from '../../core/profiler/index.js';
import { ClosedLoop } from './closed-loop.js';
import { modelDelta } from '../../core/observe/counters.js';
import { LiveTrafficError, ProfilerError } from './errors.js';
import { checkLiveTraffic } from './live-traffic.js';
import type {
  ActiveProfileOptions, ActiveProfileResult, HardwareResult, HardwareTarget, ProfileEvent, ProfileRunContext, RestoreOutcome,
} from './active-types.js';

export const ACTIVE_DEFAULTS = {
  budgetMs: 120_000,
  windowMs: 1000,
  minWindowRequests: 5,
  maxWindows: 10,
  warmupRequests: 2,
  hopInFlightPerReplica: [] as readonly number[],
  timeoutMs: 30_000,
  liveTrafficCheckMs: 1000,
} as const;

interface Settings {
  readonly budgetMs: number;
  readonly windowMs: number;
  readonly minWindowRequests: number;
  readonly maxWindows: number;
  readonly warmupRequests: number;
  readonly hopInFlightPerReplica: readonly number[];
  readonly timeoutMs: number;
  readonly criterion: StabilityCriterion;
  readonly seed: number;
}

/** Profiles `options.model` on each hardware in turn. Throws before changing anything when it cannot start. */
export async function runActiveProfile(adapter: ServerAdapter, options: ActiveProfileOptions, ctx: ProfileRunContext): Promise<ActiveProfileResult> {
  const { clock, signal } = ctx;
  const emit = ctx.onEvent ?? (() => undefined);
  const settings = settingsOf(options);
  const startedAtMs = clock.nowMs();
  const warnings: string[] = [];
  if (!isProfilable(adapter)) throw new ProfilerError(`the ${adapter.kind} adapter cannot send inference requests: no active profiling`);
  if (options.hardware.length === 0) throw new RangeError('no hardware to profile');

  const original = await adapter.model(options.model);
  if (!original.ready) throw new ProfilerError(`model ${options.model} is not ready on ${adapter.endpoint}`);
  if (!options.allowLiveTraffic) {
    const checkMs = options.liveTrafficCheckMs ?? ACTIVE_DEFAULTS.liveTrafficCheckMs;
    emit({ kind: 'traffic-check', windowMs: checkMs });
    const traffic = await checkLiveTraffic(adapter, clock, checkMs, signal);
    if (traffic.kind === 'live') throw new LiveTrafficError(traffic.requests, traffic.windowMs, traffic.models);
    if (traffic.kind === 'unknown') warnings.push(`could not check the server for live traffic (${traffic.reason}); profiling anyway`);
  }

  const switching = options.hardware.some((h) => h.device !== undefined && h.device !== original.device);
  if (switching && !hasReplicaControl(adapter)) {
    throw new ProfilerError(`the ${adapter.kind} adapter cannot change the model's device: profile the hardware the model runs on`);
  }
  const snapshot: ConfigSnapshot | undefined = switching && hasConfigRestore(adapter) ? await adapter.snapshotConfig(options.model) : undefined;

  const results: HardwareResult[] = [];
  let changed = false;
  let interrupted = false;
  let current: ModelStatus = original;
  let restore: RestoreOutcome = { needed: false, ok: true };
  try {
    for (const target of options.hardware) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const t0 = clock.nowMs();
      let switched = false;
      if (target.device !== undefined && target.device !== current.device) {
        emit({ kind: 'switch', hardware: target.name, device: target.device });
        changed = true;
        try {
          if (!hasReplicaControl(adapter)) throw new ProfilerError('the adapter cannot change the device'); // checked above
          current = await adapter.setReplicas(options.model, Math.max(1, original.replicas), target.device);
          switched = true;
        } catch (err) {
          const error = `switching ${options.model} to ${target.device.toUpperCase()} instances failed: ${messageOf(err)}`;
          emit({ kind: 'hardware-failed', hardware: target.name, error });
          results.push({
            hardware: target.name, device: target.device, switched: false, replicas: 0, batchSizes: [], points: [], hopPoints: [],
            budgetMs: settings.budgetMs, wallMs: clock.nowMs() - t0, error,
          });
          current = await adapter.model(options.model).catch(() => current);
          continue;
        }
      }
      const swept = await sweep(adapter, options, settings, target, current, ctx, warnings);
      results.push({ ...swept.result, switched, wallMs: clock.nowMs() - t0 });
      if (swept.interrupted) {
        interrupted = true;
        break;
      }
    }
  } finally {
    if (changed) {
      // Nothing may stand between a change and its undoing: a listener that throws here is ignored.
      const tell = (e: ProfileEvent): void => {
        try {
          emit(e);
        } catch {
          // the restore matters more than the report of it
        }
      };
      tell({ kind: 'restoring' });
      restore = await restoreOriginal(adapter, options.model, original, snapshot, clock);
      tell({ kind: 'restored', outcome: restore });
    }
  }
  return {
    mode: 'active',
    server: adapter.kind,
    endpoint: adapter.endpoint,
    model: options.model,
    startedAtMs,
    wallMs: clock.nowMs() - startedAtMs,
    hardware: results,
    restore,
    interrupted: interrupted || signal?.aborted === true,
    warnings,
  };
}

function settingsOf(o: ActiveProfileOptions): Settings {
  const s: Settings = {
    budgetMs: o.budgetMs ?? ACTIVE_DEFAULTS.budgetMs,
    windowMs: o.windowMs ?? ACTIVE_DEFAULTS.windowMs,
    minWindowRequests: o.minWindowRequests ?? ACTIVE_DEFAULTS.minWindowRequests,
    maxWindows: o.maxWindows ?? ACTIVE_DEFAULTS.maxWindows,
    warmupRequests: o.warmupRequests ?? ACTIVE_DEFAULTS.warmupRequests,
    hopInFlightPerReplica: o.hopInFlightPerReplica ?? ACTIVE_DEFAULTS.hopInFlightPerReplica,
    timeoutMs: o.timeoutMs ?? ACTIVE_DEFAULTS.timeoutMs,
    criterion: o.criterion ?? DEFAULT_STABILITY,
    seed: o.seed ?? 1,
  };
  const positive = (k: keyof Settings): void => {
    const v = s[k];
    if (typeof v === 'number' && !(v > 0 && Number.isFinite(v))) throw new RangeError(`${k} must be > 0, got ${v}`);
  };
  for (const k of ['budgetMs', 'windowMs', 'minWindowRequests', 'maxWindows', 'timeoutMs'] as const) positive(k);
  for (const k of s.hopInFlightPerReplica) if (!Number.isInteger(k) || k < 2 || k > 64) throw new RangeError(`hopInFlightPerReplica must hold integers from 2 to 64, got ${k}`);
  if (!(s.warmupRequests >= 0)) throw new RangeError(`warmupRequests must be ≥ 0, got ${s.warmupRequests}`);
  if (s.maxWindows < s.criterion.windows) throw new RangeError(`maxWindows (${s.maxWindows}) must be at least the ${s.criterion.windows} windows the stability criterion compares`);
  return s;
}

interface Swept {
  readonly result: Omit<HardwareResult, 'switched' | 'wallMs'>;
  readonly interrupted: boolean;
}

/** The sweep of one hardware: every batch size in turn, each within its share of the budget. */
async function sweep(
  adapter: ServerAdapter & Profilable, options: ActiveProfileOptions, settings: Settings, target: HardwareTarget, status: ModelStatus,
  ctx: ProfileRunContext, warnings: string[],
): Promise<Swept> {
  const { clock } = ctx;
  const emit = ctx.onEvent ?? (() => undefined);
  const replicas = Math.max(1, status.replicas);
  let sizes: number[];
  if (options.batchSizes === undefined) sizes = sweepBatchSizes(Math.max(1, status.maxBatchSize));
  else {
    const checked = checkBatchSizes(options.batchSizes, status.maxBatchSize);
    sizes = checked.sizes;
    for (const w of checked.warnings) if (!warnings.includes(w)) warnings.push(w);
  }
  emit({ kind: 'hardware', hardware: target.name, device: status.device, replicas, batchSizes: sizes });
  const budgetEndMs = clock.nowMs() + settings.budgetMs;
  const points: PointResult[] = [];
  const hopPoints: PointResult[] = [];
  const counters = new CounterReader(adapter, options.model, warnings);
  // The sweep, then (where it covers batch 1) the hop at the higher concurrencies: batch 1 because
  // that is what a pipeline's hops carry.
  const hopInFlight = sizes.includes(1) ? settings.hopInFlightPerReplica.map((k) => k * replicas) : [];
  const steps = [...sizes.map((batchSize) => ({ batchSize, inFlight: replicas })), ...hopInFlight.map((inFlight) => ({ batchSize: 1, inFlight }))];
  let interrupted = false;
  for (const [i, step] of steps.entries()) {
    if (ctx.signal?.aborted) {
      interrupted = true;
      break;
    }
    const deadlineMs = pointDeadlineMs(clock.nowMs(), budgetEndMs, steps.length - i);
    const measured = await measurePoint(adapter, options.model, settings, { hardware: target.name, ...step, replicas, deadlineMs }, counters, ctx);
    if (step.inFlight === replicas) {
      points.push(measured.point);
      emit({ kind: 'point-done', hardware: target.name, point: measured.point });
    } else hopPoints.push(measured.point);
    if (measured.interrupted) {
      interrupted = true;
      break;
    }
  }
  return { result: { hardware: target.name, device: status.device, replicas, batchSizes: sizes, points, hopPoints, budgetMs: settings.budgetMs }, interrupted };
}

interface PointTarget {
  readonly hardware: string;
  readonly batchSize: number;
  readonly replicas: number;
  /** Batches kept in flight (the replicas, or more for the hop's curve). */
  readonly inFlight: number;
  readonly deadlineMs: number;
}

/** Reads the model's counters between windows; after the first failure it stops asking (with a warning). */
class CounterReader {
  private available = true;

  constructor(private readonly adapter: ServerAdapter, private readonly model: string, private readonly warnings: string[]) {}

  async read(): Promise<ModelCounters[] | undefined> {
    if (!this.available) return undefined;
    try {
      return await this.adapter.counters(this.model);
    } catch (err) {
      this.available = false;
      this.warnings.push(`no server-side timings: reading the counters failed (${messageOf(err)}); latencies are client-observed`);
      return undefined;
    }
  }
}

/** Warm-up, then windows until the point is stable, unstable (trials cap), cut (deadline), failed or aborted. */
async function measurePoint(
  adapter: ServerAdapter & Profilable, model: string, s: Settings, target: PointTarget, counters: CounterReader, ctx: ProfileRunContext,
): Promise<{ point: PointResult; interrupted: boolean }> {
  const { clock, signal } = ctx;
  const emit = ctx.onEvent ?? (() => undefined);
  const { batchSize, replicas, inFlight } = target;
  const loop = new ClosedLoop({ adapter, model, batchSize, concurrency: inFlight, timeoutMs: s.timeoutMs, clock, seed: s.seed * 7919 + batchSize + (inFlight - replicas) * 101 });
  const windows: WindowRecord[] = [];
  const summaries: WindowSummary[] = [];
  const deltas: ModelCounters[] = [];
  let status: PointStatus;
  let interrupted = false;
  const plan = { maxWindows: s.maxWindows, windowMs: s.windowMs, criterion: s.criterion };
  // Nothing is sent when the budget cannot hold even one window.
  const first = nextPointStep([], clock.nowMs(), target.deadlineMs, plan);
  if (first.kind === 'done') {
    return { point: summarisePoint({ batchSize, status: first.status, measuredAtMs: clock.nowMs(), windows: [], replicas, inFlight }), interrupted: false };
  }
  loop.start();
  try {
    emit({ kind: 'point', hardware: target.hardware, batchSize, phase: 'warm-up', windows: 0 });
    await untilOrDeadline(loop.waitFor(s.warmupRequests * inFlight, signal), clock, target.deadlineMs, signal);
    let before = loop.failed ? undefined : await counters.read();
    // (ours) A window runs from one answer to another: it starts at the last answer before it and
    // ends at its own last answer, so a closed loop's throughput is not rounded to whole batches
    // per window (with 10 batches a window, ±1 batch would be ±10 %, the whole tolerance).
    let startIndex = loop.completed.length;
    let startMs = loop.completed[startIndex - 1]?.endMs ?? clock.nowMs();
    for (;;) {
      if (loop.failed) {
        status = 'failed';
        break;
      }
      const step = nextPointStep(summaries, clock.nowMs(), target.deadlineMs, plan);
      if (step.kind === 'done') {
        status = step.status;
        break;
      }
      emit({ kind: 'point', hardware: target.hardware, batchSize, phase: 'measuring', windows: windows.length });
      await clock.sleep(Math.max(0, startMs + s.windowMs - clock.nowMs()), signal);
      if (loop.completed.length - startIndex < s.minWindowRequests) {
        await untilOrDeadline(loop.waitFor(startIndex + s.minWindowRequests, signal), clock, target.deadlineMs, signal);
      }
      if (loop.failed) continue;
      const done = loop.completed.slice(startIndex);
      const endMs = done[done.length - 1]?.endMs ?? clock.nowMs();
      const after = await counters.read();
      let computeMs: number | undefined;
      if (before !== undefined && after !== undefined) {
        const delta = modelDelta(model, before, after).delta;
        deltas.push(delta);
        computeMs = serverTiming(delta, batchSize)?.computeMs;
      } else deltas.length = 0; // timings only over windows that all have them
      before = after;
      const record: WindowRecord = {
        startMs, endMs, latenciesMs: done.map((c) => c.latencyMs), items: done.length * batchSize, ...(computeMs !== undefined ? { computeMs } : {}),
      };
      startIndex += done.length;
      startMs = endMs;
      windows.push(record);
      summaries.push(summariseWindow(record));
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
    interrupted = true;
    status = 'cut';
  } finally {
    await loop.stop();
  }
  // Server timings over the same windows as the client figures: the last three.
  const used = lastWindows(deltas, s.criterion);
  const server = used.length > 0 && used.length === lastWindows(windows, s.criterion).length
    // With more requests in flight than replicas the server may batch them: each request's own batch time.
    ? serverTiming(sumCounters(model, used), batchSize, inFlight > replicas) : undefined;
  const point = summarisePoint({
    batchSize, status, measuredAtMs: clock.nowMs(), windows, replicas, inFlight, criterion: s.criterion,
    ...(server !== undefined && status !== 'failed' ? { server } : {}),
    ...(status === 'failed' ? { error: messageOf(loop.error) } : {}),
  });
  return { point, interrupted };
}

/** Waits for `p`, but no later than the deadline; an abort rejects. */
async function untilOrDeadline(p: Promise<void>, clock: Clock, deadlineMs: number, signal?: AbortSignal): Promise<void> {
  const timer = new AbortController();
  const onAbort = (): void => timer.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([p, clock.sleep(Math.max(0, deadlineMs - clock.nowMs()), timer.signal).catch(() => undefined)]);
  } finally {
    timer.abort();
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw signal.reason;
}

/**
 * Puts the model back as it was: the whole snapshotted config where the adapter can (Triton), else
 * its replica count and device. Tries twice; never throws; says what it found afterwards.
 */
async function restoreOriginal(
  adapter: ServerAdapter, model: string, original: ModelStatus, snapshot: ConfigSnapshot | undefined, clock: Clock,
): Promise<RestoreOutcome> {
  const method = snapshot !== undefined ? 'config' : 'replicas';
  let lastError = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      let now: ModelStatus;
      if (snapshot !== undefined && hasConfigRestore(adapter)) now = await adapter.restoreConfig(snapshot);
      else if (hasReplicaControl(adapter)) {
        now = await adapter.setReplicas(model, Math.max(1, original.replicas), original.device === 'unknown' ? undefined : original.device);
      } else return { needed: true, ok: false, method, detail: 'the adapter can change nothing back' };
      if (now.device === original.device && now.replicas === original.replicas) return { needed: true, ok: true, method };
      lastError = `after restoring, ${model} has ${now.replicas} ${now.device} replica(s); it had ${original.replicas} ${original.device}`;
    } catch (err) {
      lastError = messageOf(err);
    }
    if (attempt === 1) await clock.sleep(1000).catch(() => undefined);
  }
  return { needed: true, ok: false, method, detail: lastError };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
