// Queueing and compute time of a batch from the server's own counters, over an interval of a
// sweep point: counter increments (core/observe/counters.ts) in, milliseconds per batch out.
import type { ModelCounters } from '../../ports/server-adapter.js';

export interface ServerTiming {
  /** Compute time of one batch: what a replica is busy for (the estimator's service time). */
  readonly computeMs: number;
  /** Queue wait per request, where the server counts it. */
  readonly queueMs?: number;
  /**
   * `batch-stats`: Triton's executions of exactly this batch size (compute_input + infer + output).
   * `per-request`: compute time per answered request. Each request of a batch is charged the whole
   * batch's time, so this too is the time of one batch, as long as every batch had this size.
   */
  readonly basis: 'batch-stats' | 'per-request';
  /** Executions (batch-stats) or requests (per-request) behind the figure. */
  readonly count: number;
}

/**
 * Server timings of batches of `batchSize` from the increments `delta`, or undefined when the
 * server reports none. `perRequest`: always the per-request basis, what one request's batch took
 * whatever its size (for requests the server may have batched together).
 */
export function serverTiming(delta: ModelCounters, batchSize: number, perRequest = false): ServerTiming | undefined {
  const queueMs = delta.queueNs !== undefined && delta.requests > 0n ? nsToMs(delta.queueNs) / Number(delta.requests) : undefined;
  const exact = perRequest ? undefined : delta.batchSizes?.find((b) => b.batchSize === batchSize);
  if (exact !== undefined && exact.executions > 0n) {
    return {
      computeMs: nsToMs(exact.computeNs) / Number(exact.executions),
      ...(queueMs !== undefined ? { queueMs } : {}),
      basis: 'batch-stats',
      count: Number(exact.executions),
    };
  }
  if (delta.computeNs === undefined || delta.requests <= 0n || delta.computeNs <= 0n) return undefined;
  return {
    computeMs: nsToMs(delta.computeNs) / Number(delta.requests),
    ...(queueMs !== undefined ? { queueMs } : {}),
    basis: 'per-request',
    count: Number(delta.requests),
  };
}

/** Nanoseconds (possibly past 2^53) to milliseconds, exact to the microsecond. */
export function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000 + Number(ns % 1000n) / 1e6;
}
