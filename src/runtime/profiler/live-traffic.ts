// Is the server serving traffic? Its request counters, read twice a moment apart: any request
// or failure in between, on any model, is traffic that is not ours (nothing of ours runs yet).
import type { Clock } from '../../ports/clock.js';
import { modelDelta } from '../../core/observe/counters.js';
import { AdapterError } from '../../ports/server-adapter.js';
import type { ModelCounters, ServerAdapter } from '../../ports/server-adapter.js';

export type TrafficCheck =
  | { readonly kind: 'idle'; readonly windowMs: number }
  | { readonly kind: 'live'; readonly windowMs: number; readonly requests: number; readonly models: readonly string[] }
  /** The server gives no counters (TorchServe in metrics_mode=log, TF Serving without monitoring). */
  | { readonly kind: 'unknown'; readonly reason: string };

export async function checkLiveTraffic(adapter: ServerAdapter, clock: Clock, windowMs: number, signal?: AbortSignal): Promise<TrafficCheck> {
  const first = await readAll(adapter);
  if ('reason' in first) return { kind: 'unknown', reason: first.reason };
  const t0 = clock.nowMs();
  await clock.sleep(windowMs, signal);
  const second = await readAll(adapter);
  if ('reason' in second) return { kind: 'unknown', reason: second.reason };
  const elapsed = clock.nowMs() - t0;
  let requests = 0n;
  const models = new Set<string>();
  // Per series, as everywhere (core/observe modelDelta): a counter that went down was reset, and
  // what it counts now came after the reset.
  for (const model of new Set(second.counters.map((c) => c.model))) {
    const { delta } = modelDelta(model, first.counters, second.counters);
    const inc = delta.requests + delta.failures;
    if (inc > 0n) {
      requests += inc;
      models.add(model);
    }
  }
  if (requests > 0n) return { kind: 'live', windowMs: elapsed, requests: Number(requests), models: [...models].sort() };
  return { kind: 'idle', windowMs: elapsed };
}

async function readAll(adapter: ServerAdapter): Promise<{ counters: ModelCounters[] } | { reason: string }> {
  try {
    return { counters: await adapter.counters() };
  } catch (err) {
    // Unreachable or timing out: profiling would fail anyway, say so now.
    if (!(err instanceof AdapterError) || err.kind === 'unreachable' || err.kind === 'timeout') throw err;
    return { reason: err.message };
  }
}
