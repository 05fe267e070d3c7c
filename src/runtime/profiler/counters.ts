// Reading one model's counters through the adapter, and their increments between two reads:
// per series (Triton reports one per version), then summed for the model.
import { counterDelta } from '../../core/observe/counters.js';
import { sumCounters } from '../../core/observe/counter-rates.js';
import type { ModelCounters } from '../../ports/server-adapter.js';

export interface ModelDelta {
  readonly delta: ModelCounters;
  /** Some series went down (a restart or a full reload): its increments count from the reset. */
  readonly reset: boolean;
}

export function modelDelta(model: string, before: readonly ModelCounters[], after: readonly ModelCounters[]): ModelDelta {
  const mine = (list: readonly ModelCounters[]): ModelCounters[] => list.filter((c) => c.model === model);
  const prev = new Map(mine(before).map((c) => [c.version ?? '', c]));
  const deltas = mine(after).map((c) => counterDelta(prev.get(c.version ?? ''), c));
  return { delta: sumCounters(model, deltas.map((d) => d.delta)), reset: deltas.some((d) => d.reset) };
}
