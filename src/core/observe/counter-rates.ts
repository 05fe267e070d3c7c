// Rates over a window from counter increments (core/observe/counters.ts counterDelta): per second, and
// per request. Pure. A mean per request exists only when requests were answered in the window;
// a field the server does not count stays null.
import type { BatchSizeCounters, ModelCounters } from '../../ports/server-adapter.js';

export interface CounterRates {
  readonly windowMs: number;
  readonly requestsPerS: number;
  readonly failuresPerS: number;
  /** Queries inferred per second (a batched request of n counts n). */
  readonly inferencesPerS: number | null;
  readonly executionsPerS: number | null;
  /** Mean queue time of the requests answered in the window. */
  readonly meanQueueMs: number | null;
  /** Mean compute time of the requests answered in the window. */
  readonly meanComputeMs: number | null;
  /** Mean items per execution. */
  readonly meanBatchSize: number | null;
}

/** Rates from the increments `delta` seen over `windowMs` (> 0). */
export function counterRates(delta: ModelCounters, windowMs: number): CounterRates {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  const perS = (n: bigint): number => (Number(n) * 1000) / windowMs;
  const optPerS = (n: bigint | undefined): number | null => (n === undefined ? null : perS(n));
  const perRequestMs = (ns: bigint | undefined): number | null => (ns === undefined || delta.requests <= 0n ? null : Number(ns) / Number(delta.requests) / 1e6);
  const { inferences, executions } = delta;
  return {
    windowMs,
    requestsPerS: perS(delta.requests),
    failuresPerS: perS(delta.failures),
    inferencesPerS: optPerS(inferences),
    executionsPerS: optPerS(executions),
    meanQueueMs: perRequestMs(delta.queueNs),
    meanComputeMs: perRequestMs(delta.computeNs),
    meanBatchSize: inferences === undefined || executions === undefined || executions <= 0n ? null : Number(inferences) / Number(executions),
  };
}

/** Sums the increments of several series of one model (Triton's versions, say), per batch size too. */
export function sumCounters(model: string, parts: readonly ModelCounters[]): ModelCounters {
  const add = (k: 'inferences' | 'executions' | 'queueNs' | 'computeNs'): bigint | undefined =>
    parts.some((p) => p[k] !== undefined) ? parts.reduce((s, p) => s + (p[k] ?? 0n), 0n) : undefined;
  const inferences = add('inferences');
  const executions = add('executions');
  const queueNs = add('queueNs');
  const computeNs = add('computeNs');
  const batchSizes = sumBatchSizes(parts);
  const gauge = (k: 'pending' | 'queued'): number | undefined => (parts.some((p) => p[k] !== undefined) ? parts.reduce((s, p) => s + (p[k] ?? 0), 0) : undefined);
  const pending = gauge('pending');
  const queued = gauge('queued');
  return {
    model,
    requests: parts.reduce((s, p) => s + p.requests, 0n),
    failures: parts.reduce((s, p) => s + p.failures, 0n),
    ...(inferences !== undefined ? { inferences } : {}),
    ...(executions !== undefined ? { executions } : {}),
    ...(queueNs !== undefined ? { queueNs } : {}),
    ...(computeNs !== undefined ? { computeNs } : {}),
    ...(batchSizes !== undefined ? { batchSizes } : {}),
    ...(pending !== undefined ? { pending } : {}),
    ...(queued !== undefined ? { queued } : {}),
  };
}

function sumBatchSizes(parts: readonly ModelCounters[]): BatchSizeCounters[] | undefined {
  if (!parts.some((p) => p.batchSizes !== undefined)) return undefined;
  const bySize = new Map<number, { executions: bigint; computeNs: bigint }>();
  for (const p of parts) {
    for (const b of p.batchSizes ?? []) {
      const acc = bySize.get(b.batchSize) ?? { executions: 0n, computeNs: 0n };
      acc.executions += b.executions;
      acc.computeNs += b.computeNs;
      bySize.set(b.batchSize, acc);
    }
  }
  return [...bySize.entries()].sort(([a], [b]) => a - b).map(([batchSize, acc]) => ({ batchSize, ...acc }));
}
