// A finished run's result: the latency percentiles and mean of the completed queries, the
// per-stage figures, the record a later run may replay (sim-record.ts), and in a closed loop the
// cost, the scaling actions and the timeline.
import { orderFreeMean, percentileOfSorted, percentilesInPlace } from '../math/percentiles.js';
import { recomputeCostRate } from './closed-loop-events.js';
import type { SimState } from './sim-state.js';
import type { ClosedLoopEstimate, ClosedLoopOptions, Estimate, EstimateOptions, StageEstimate } from './estimate-types.js';
import type { RunReplay, StagePlan } from './stage-plan.js';

/** Per stage: visits, batches, utilisation over `span`, queue delay (visits counted only where simulated). */
function stageEstimates(st: SimState, span: number): { stages: StageEstimate[]; stageVisits: number } {
  let stageVisits = 0;
  const stages: StageEstimate[] = st.p.stageNames.map((name, s) => {
    const b = st.batches[s] as number;
    const v = st.visits[s] as number;
    if (!st.replayed?.[s]) stageVisits += v;
    return {
      stage: name,
      visits: v,
      batches: b,
      meanBatchSize: b > 0 ? v / b : 0,
      utilisation: (st.busyMs[s] as number) / (Math.max((st.plans[s] as StagePlan).replicas, 1) * span),
      meanQueueDelayMs: v > 0 ? (st.queueDelayMs[s] as number) / v : 0,
      maxQueueLength: st.maxQueue[s] as number,
    };
  });
  return { stages, stageVisits };
}

/** The estimate of a run whose events have all run (or that stopped early). `owner` is the Estimator, for the record. */
export function estimateOf(
  st: SimState, options: EstimateOptions, closed: ClosedLoopOptions | undefined, replay: RunReplay | undefined, owner: object,
): Estimate | ClosedLoopEstimate {
  const { n, S, latency, completed, missed, visitLog, laidOut, replayed } = st;
  const stoppedEarly = missed > st.allowedMisses;
  if (laidOut && !stoppedEarly && laidOut.collapsedLastMs > st.lastTime) st.lastTime = laidOut.collapsedLastMs;
  const lastTime = st.lastTime;
  const span = n > 0 ? Math.max(lastTime - st.firstArrival, 1e-9) : 1;
  // The percentiles by selection, not a sort (a sort of 100k latencies took 12 ms, a fifth of
  // the run); a sorted copy only where the caller asked for every latency (recordVisits).
  const sorted = visitLog ? latency.slice(0, completed).sort() : undefined;
  const reported = [50, 95, 99, 99.9, options.percentile, 100];
  const [p50Ms, p95Ms, p99Ms, p999Ms, sloPercentileMs, maxMs] = sorted
    ? reported.map((q) => percentileOfSorted(sorted, q))
    : percentilesInPlace(latency, completed, reported);
  const { stages, stageVisits } = stageEstimates(st, span);
  if (!stoppedEarly && completed !== n) throw new Error(`estimator lost queries: ${n} arrived, ${completed} completed`);
  const estimate: Estimate = {
    queries: n,
    p50Ms: p50Ms as number,
    p95Ms: p95Ms as number,
    p99Ms: p99Ms as number,
    p999Ms: p999Ms as number,
    // Summed in no particular order: a run that replays stages completes queries in another.
    meanMs: orderFreeMean(latency, completed, maxMs as number),
    maxMs: maxMs as number,
    sloPercentileMs: sloPercentileMs as number,
    sloMissRate: n > 0 ? missed / n : 0,
    stageVisits,
    stoppedEarly,
    stages,
    ...(visitLog && sorted ? { visitLatencyMs: visitLog.map((l) => Float64Array.from(l).sort()), latencyMs: sorted } : {}),
    ...(st.recording && !stoppedEarly && replay?.stageKeys ? {
      record: {
        owner, trace: replay.trace, seed: options.seed, stageKeys: replay.stageKeys,
        resolvedAt: st.recResolvedAt.slice(0, n * S), visited: st.recVisited.slice(0, n * S), order: st.recOrder.slice(0, st.recCount),
        totals: { busyMs: st.busyMs.slice(), queueDelayMs: st.queueDelayMs.slice(), batches: st.batches.slice(), visits: st.visits.slice(), maxQueue: st.maxQueue.slice() },
      },
    } : {}),
    ...(replayed ? { replayedStages: replayed.reduce((a, b) => a + b, 0) } : {}),
  };
  if (!closed) return estimate;
  recomputeCostRate(st, lastTime);
  return {
    ...estimate,
    controller: closed.controller.name,
    durationMs: span,
    cost: st.cost,
    meanCostPerHour: (st.cost / span) * 3_600_000,
    scalingActions: st.actions,
    timeline: st.timeline,
  };
}
