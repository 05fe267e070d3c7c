// Counter deltas between two scrapes. Every counter of every server is treated as resettable: any
// decrease (a server restart, Triton's stats reset on reload, a TorchServe version swap) means the
// new values count from zero, so the delta is the new value itself and the reset is reported.
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
