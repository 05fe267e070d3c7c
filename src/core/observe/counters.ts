// Counter deltas between two scrapes. Every counter of every server is treated as resettable: any
// decrease (a server restart, Triton's stats reset on reload, a TorchServe version swap) means the
// new values count from zero, so the delta is the new value itself and the reset is reported.
// A model's increments are taken per series (Triton reports one per version, TorchServe one per
// registered version) and then summed (modelDelta): the series reset independently, so a delta of
// the model's sums would miss one version's reset behind another's growth. The collector, the
// profiler, `inspect` and `replay` all take a model's increments through modelDelta.
import { sumCounters } from './counter-rates.js';
import type { BatchSizeCounters, ModelCounters } from '../../ports/server-adapter.js';

export interface CounterDelta {
  /** True when any counter went down since the previous sample. */
  readonly reset: boolean;
  /** Increments since the previous sample (or since the reset). */
  readonly delta: ModelCounters;
}

const FIELDS = ['requests', 'failures', 'inferences', 'executions', 'queueNs', 'computeNs'] as const;

export function counterDelta(prev: ModelCounters | undefined, next: ModelCounters): CounterDelta {
  if (!prev) return { reset: false, delta: next };
  let reset = false;
  for (const f of FIELDS) {
    const a = prev[f];
    const b = next[f];
    if (a !== undefined && b !== undefined && b < a) reset = true;
  }
  const prevSizes = new Map((prev.batchSizes ?? []).map((b) => [b.batchSize, b]));
  for (const b of next.batchSizes ?? []) {
    const a = prevSizes.get(b.batchSize);
    if (a && (b.executions < a.executions || b.computeNs < a.computeNs)) reset = true;
  }
  // A batch size seen before and missing now also means the statistics started over.
  if (next.batchSizes && [...prevSizes.keys()].some((k) => !next.batchSizes?.some((b) => b.batchSize === k))) reset = true;
  if (reset) return { reset: true, delta: next };
  const sub = (a: bigint | undefined, b: bigint | undefined): bigint | undefined => (b === undefined ? undefined : b - (a ?? 0n));
  const batchSizes: BatchSizeCounters[] | undefined = next.batchSizes?.map((b) => {
    const a = prevSizes.get(b.batchSize);
    return { batchSize: b.batchSize, executions: b.executions - (a?.executions ?? 0n), computeNs: b.computeNs - (a?.computeNs ?? 0n) };
  });
  const delta: ModelCounters = {
    model: next.model,
    ...(next.version !== undefined ? { version: next.version } : {}),
    requests: next.requests - prev.requests,
    failures: next.failures - prev.failures,
    ...(next.inferences !== undefined ? { inferences: sub(prev.inferences, next.inferences) as bigint } : {}),
    ...(next.executions !== undefined ? { executions: sub(prev.executions, next.executions) as bigint } : {}),
    ...(next.queueNs !== undefined ? { queueNs: sub(prev.queueNs, next.queueNs) as bigint } : {}),
    ...(next.computeNs !== undefined ? { computeNs: sub(prev.computeNs, next.computeNs) as bigint } : {}),
    ...(batchSizes ? { batchSizes } : {}),
  };
  return { reset: false, delta };
}

export interface ModelDelta {
  readonly delta: ModelCounters;
  /** Some series went down (a restart or a full reload): its increments count from the reset. */
  readonly reset: boolean;
}

/**
 * The increments of `model` between two reads of the counters: per series (by version), then
 * summed. A series new in `after` counts from zero; one gone from `after` adds nothing and is no
 * reset (what it served since `before` is not seen).
 */
export function modelDelta(model: string, before: readonly ModelCounters[], after: readonly ModelCounters[]): ModelDelta {
  const mine = (list: readonly ModelCounters[]): ModelCounters[] => list.filter((c) => c.model === model);
  const prev = new Map(mine(before).map((c) => [c.version ?? '', c]));
  const deltas = mine(after).map((c) => counterDelta(prev.get(c.version ?? ''), c));
  return { delta: sumCounters(model, deltas.map((d) => d.delta)), reset: deltas.some((d) => d.reset) };
}
