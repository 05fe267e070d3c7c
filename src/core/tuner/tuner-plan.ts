// The tuner's view of a plan (tuner.ts TunerPlan): per stage the planned replicas, bounds, start-up
// time, scale factor and per-replica throughput at the planned batch size and hardware. One
// construction for the closed-loop harness and for the leader's live tuner. Pure.
import type { CompiledPipeline } from '../model/pipeline.js';
import type { Estimator } from '../sim/estimator.js';
import type { EnvelopePoint } from '../arrival/envelope.js';
import type { HardwareType, StageConfig } from '../model/types.js';
import type { TunerPlan, TunerScalingPoint } from './tuner.js';

/** The parts of a plan the tuner needs. */
export interface PlanForTuner {
  readonly stages: Readonly<Record<string, StageConfig>>;
  readonly envelope: readonly EnvelopePoint[];
  /** Mean arrival rate of the planning trace. */
  readonly plannedRateQps: number;
  /** The plan's slack (Plan.slack; default 1). */
  readonly slack?: number;
  /** The plan's scaling curve (Plan.scaling; without it the tuner scales in proportion). */
  readonly scaling?: readonly TunerScalingPoint[];
}

/** Queries per second one replica of stage `i` serves running full batches of `c.batchSize`. */
export function replicaThroughput(estimator: Estimator, i: number, c: StageConfig): number {
  const table = estimator.serviceTable(i, c.hardware, c.batchSize);
  const b = table.length - 1;
  return (b * 1000) / (table[b] as number);
}

export function tunerPlanOf(
  plan: PlanForTuner, compiled: CompiledPipeline, estimator: Estimator, hardware: readonly HardwareType[], maxReplicasPerStage: number,
): TunerPlan {
  const hw = new Map(hardware.map((h) => [h.name, h]));
  return {
    envelope: plan.envelope,
    plannedRateQps: plan.plannedRateQps,
    ...(plan.slack !== undefined ? { slack: plan.slack } : {}),
    ...(plan.scaling !== undefined ? { scaling: plan.scaling } : {}),
    stages: compiled.stageNames.map((name, i) => {
      const c = plan.stages[name] as StageConfig;
      const spec = compiled.spec.stages.find((s) => s.name === name);
      return {
        name,
        plannedReplicas: c.replicas,
        replicaThroughputQps: replicaThroughput(estimator, i, c),
        minReplicas: spec?.minReplicas ?? 1,
        maxReplicas: Math.min(spec?.maxReplicas ?? Infinity, maxReplicasPerStage),
        activationDelayMs: hw.get(c.hardware)?.activationDelayMs ?? 0,
        scaleFactor: compiled.scaleFactor[i] as number,
        downstream: downstreamVisits(compiled, i),
      };
    }),
  };
}

/** Expected visits of every stage downstream of stage `u` per visit of `u` (edge fractions multiplied along the DAG). */
export function downstreamVisits(compiled: CompiledPipeline, u: number): Record<string, number> {
  const visits = new Float64Array(compiled.stageNames.length);
  visits[u] = 1;
  for (const s of compiled.order) {
    const v = visits[s] as number;
    if (v === 0) continue;
    for (let e = compiled.edgeStart[s] as number; e < (compiled.edgeStart[s + 1] as number); e++) {
      const t = compiled.edgeTo[e] as number;
      visits[t] = (visits[t] as number) + v * (compiled.edgeFraction[e] as number);
    }
  }
  const out: Record<string, number> = {};
  visits.forEach((v, s) => {
    if (s !== u && v > 0) out[compiled.stageNames[s] as string] = v;
  });
  return out;
}
