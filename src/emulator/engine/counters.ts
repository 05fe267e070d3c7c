// An engine's cumulative counters: what it adds up as requests succeed or fail and batches run,
// and the copy every face reads (Triton statistics and metrics, TorchServe and TF Serving metrics).
import type { EngineCounters, FailureReason } from './types.js';

interface MutableDuration {
  count: bigint;
  ns: bigint;
}

/** One finished execution: its size, its compute time, and each request's queue and total time. */
export interface FinishedBatch {
  readonly size: number;
  readonly computeNs: bigint;
  readonly requests: readonly { readonly queueNs: bigint; readonly totalNs: bigint }[];
}

export class EngineStats {
  private readonly success: MutableDuration = { count: 0n, ns: 0n };
  private readonly failure: MutableDuration = { count: 0n, ns: 0n };
  private readonly failuresByReason: Record<FailureReason, bigint> = { REJECTED: 0n, CANCELED: 0n, BACKEND: 0n, OTHER: 0n };
  private readonly queueStat: MutableDuration = { count: 0n, ns: 0n };
  private readonly computeStat: MutableDuration = { count: 0n, ns: 0n };
  private inferenceCount = 0n;
  private executionCount = 0n;
  private readonly batchStats = new Map<number, MutableDuration>();
  private lastInferenceMs = 0;

  recordFailure(reason: FailureReason, ns: bigint): void {
    this.failure.count += 1n;
    this.failure.ns += ns;
    this.failuresByReason[reason] += 1n;
  }

  /** Counts an execution and its requests' successes; `wallMs` is when it finished. */
  recordBatch(batch: FinishedBatch, wallMs: number): void {
    const { size, computeNs } = batch;
    const n = BigInt(batch.requests.length);
    this.executionCount += 1n;
    this.inferenceCount += BigInt(size);
    const stat = this.batchStats.get(size) ?? { count: 0n, ns: 0n };
    stat.count += 1n;
    stat.ns += computeNs;
    this.batchStats.set(size, stat);
    this.computeStat.count += n;
    this.computeStat.ns += computeNs * n;
    this.lastInferenceMs = wallMs;
    for (const r of batch.requests) {
      this.success.count += 1n;
      this.success.ns += r.totalNs;
      this.queueStat.count += 1n;
      this.queueStat.ns += r.queueNs;
    }
  }

  /** A copy of the counters now. */
  snapshot(): EngineCounters {
    return {
      success: { ...this.success },
      failure: { ...this.failure },
      failuresByReason: { ...this.failuresByReason },
      queue: { ...this.queueStat },
      compute: { ...this.computeStat },
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      batchStats: [...this.batchStats.entries()].sort(([a], [b]) => a - b).map(([batchSize, s]) => ({ batchSize, count: s.count, ns: s.ns })),
      lastInferenceMs: this.lastInferenceMs,
    };
  }
}
