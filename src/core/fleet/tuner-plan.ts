// The tuner's view of a plan in the running system: per stage the planned replicas, bounds, start-up
// time and per-replica throughput at the planned batch size and hardware. Pure.
import { compilePipeline } from '../pipeline.js';
import { Estimator } from '../estimator.js';
import type { Plan } from '../planner/index.js';
import type { ProfileSet } from '../profiles.js';
import type { HardwareType, PipelineSpec, StageConfig } from '../types.js';
import type { TunerPlan } from '../tuner/tuner.js';

export function tunerPlanOf(plan: Plan, pipeline: PipelineSpec, hardware: readonly HardwareType[], profiles: ProfileSet, maxReplicasPerStage: number): TunerPlan {
  const compiled = compilePipeline(pipeline);
  const estimator = new Estimator(compiled, profiles);
  const hw = new Map(hardware.map((h) => [h.name, h]));
  return {
    envelope: plan.envelope,
    plannedRateQps: plan.workload.meanRateQps,
    slack: plan.slack,
    // Plan files of older versions have no scaling curve: the tuner then scales in proportion.
    ...(plan.scaling === undefined ? {} : { scaling: plan.scaling }),
    stages: compiled.stageNames.map((name, i) => {
      const c = plan.stages[name] as StageConfig;
      const spec = pipeline.stages.find((s) => s.name === name);
      const table = estimator.serviceTable(i, c.hardware, c.batchSize);
      const b = table.length - 1;
      return {
        name,
        plannedReplicas: c.replicas,
        replicaThroughputQps: (b * 1000) / (table[b] as number),
        minReplicas: spec?.minReplicas ?? 1,
        maxReplicas: Math.min(spec?.maxReplicas ?? Infinity, maxReplicasPerStage),
        activationDelayMs: hw.get(c.hardware)?.activationDelayMs ?? 0,
        scaleFactor: compiled.scaleFactor[i] as number,
      };
    }),
  };
}
