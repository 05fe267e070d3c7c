// Passive profiling: the compute latency of each batch size the server actually executed under
// live traffic, from Triton's per-batch-size statistics (batch_stats: executions and their compute
// time per executed size), added up over the intervals the collector sampled. No load is sent;
// what is not executed is not measured, and a size seen only a few times is marked.

/** Executions of one batch size and their total compute time, over the observation so far. */
export interface BatchSizeTally {
  readonly batchSize: number;
  readonly executions: number;
  readonly computeMs: number;
}

/** One interval's executions per batch size, as the collector samples them (runtime/collector.ts). */
export interface BatchSizeInterval {
  readonly batchSize: number;
  readonly executions: number;
  readonly meanComputeMs: number | null;
}

export interface PassivePoint {
  readonly batchSize: number;
  /** Mean compute time (input + infer + output) of one execution of this size. */
  readonly computeMs: number;
  /** Executions of this size observed. */
  readonly samples: number;
  /** samples ≥ the minimum asked for. */
  readonly enough: boolean;
}

/** Adds one interval's executions to the tally; ascending by batch size. */
export function tallyBatchSizes(tally: readonly BatchSizeTally[], interval: readonly BatchSizeInterval[]): BatchSizeTally[] {
  const bySize = new Map(tally.map((t) => [t.batchSize, t]));
  for (const b of interval) {
    if (!(b.executions > 0) || b.meanComputeMs === null || !(b.meanComputeMs > 0)) continue;
    const t = bySize.get(b.batchSize) ?? { batchSize: b.batchSize, executions: 0, computeMs: 0 };
    bySize.set(b.batchSize, { batchSize: b.batchSize, executions: t.executions + b.executions, computeMs: t.computeMs + b.meanComputeMs * b.executions });
  }
  return [...bySize.values()].sort((a, b) => a.batchSize - b.batchSize);
}

/** The executed batch sizes of the tally, ascending, marked where fewer than `minSamples` were seen. */
export function passivePoints(tally: readonly BatchSizeTally[], minSamples: number): PassivePoint[] {
  return tally
    .filter((t) => t.executions > 0 && t.computeMs > 0)
    .map((t) => ({ batchSize: t.batchSize, computeMs: t.computeMs / t.executions, samples: t.executions, enough: t.executions >= minSamples }))
    .sort((a, b) => a.batchSize - b.batchSize);
}
