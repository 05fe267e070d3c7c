// (ours, beyond the paper) The batch-aware mode of the tuner. While the tuner holds, it asks the
// estimator, on the recent arrivals, whether one stage could run a larger batch with fewer
// replicas at an equal tail: the next larger measured batch size, and the fewest replicas whose
// SLO-percentile latency on the recent trace stays within `tolerance` of today's and within the
// SLO. Of the stages where that saves money, the one saving most wins. Hardware never changes.
// (The estimator models no batching delay, so the max queue delay is not tuned.)
import type { Estimator } from '../sim/estimator.js';
import type { StageConfig } from '../model/types.js';

export interface BatchAwareInput {
  readonly estimator: Estimator;
  /** Recent arrival times, seconds, ascending. */
  readonly recent: Float64Array;
  readonly config: Readonly<Record<string, StageConfig>>;
  /** Per stage name: the batch sizes it may use (measured, ascending). */
  readonly batchSizes: Readonly<Record<string, readonly number[]>>;
  readonly pricePerHour: Readonly<Record<string, number>>;
  readonly minReplicas: Readonly<Record<string, number>>;
  readonly sloMs: number;
  readonly percentile: number;
  readonly seed: number;
  /** "Equal" tail: within this fraction of today's (default 0.02). */
  readonly tolerance?: number;
}

export interface BatchProposal {
  readonly stage: string;
  readonly batchSize: number;
  readonly replicas: number;
  readonly savingPerHour: number;
  readonly percentileBeforeMs: number;
  readonly percentileAfterMs: number;
}

export function proposeBatchChange(input: BatchAwareInput): BatchProposal | undefined {
  if (input.recent.length < 50) return undefined;
  const { estimator } = input;
  const tolerance = input.tolerance ?? 0.02;
  const opts = { seed: input.seed, sloMs: input.sloMs, percentile: input.percentile };
  const base = estimator.estimate(input.config, input.recent, opts);
  if (base.sloPercentileMs > input.sloMs) return undefined;
  const limit = Math.min(input.sloMs, base.sloPercentileMs * (1 + tolerance));
  let best: BatchProposal | undefined;
  for (const name of estimator.pipeline.stageNames) {
    const c = input.config[name] as StageConfig;
    const next = (input.batchSizes[name] ?? []).find((b) => b > c.batchSize);
    if (next === undefined || c.replicas <= (input.minReplicas[name] ?? 1)) continue;
    let fewest: { replicas: number; ms: number } | undefined;
    for (let r = c.replicas - 1; r >= (input.minReplicas[name] ?? 1); r--) {
      const e = estimator.estimate({ ...input.config, [name]: { ...c, batchSize: next, replicas: r } }, input.recent, { ...opts, stopWhenInfeasible: true });
      if (e.stoppedEarly || e.sloPercentileMs > limit) break;
      fewest = { replicas: r, ms: e.sloPercentileMs };
    }
    if (!fewest) continue;
    const saving = (c.replicas - fewest.replicas) * (input.pricePerHour[name] ?? 0);
    if (saving > 0 && (!best || saving > best.savingPerHour)) {
      best = { stage: name, batchSize: next, replicas: fewest.replicas, savingPerHour: saving, percentileBeforeMs: base.sloPercentileMs, percentileAfterMs: fewest.ms };
    }
  }
  return best;
}
