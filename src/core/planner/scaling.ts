// The plan's scaling curve: per stage, the replicas that keep the SLO on the planning trace sped up
// by a factor k, at the planned hardware and batch sizes, for k from just above the plan's slack up
// to MAX_FACTOR. The tuner scales replicas along this curve instead of multiplying every stage by
// the same ratio: a stage whose planned count is set by the tail (a slow batch-1 stage) needs
// replicas sooner than one that runs one half-idle replica at a large batch, and many replicas
// absorb a rise with proportionally fewer extra than a few do (queueing's economy of scale).
//
// Each point is found from the one below it (so the curve never falls): start from the fewest
// replicas that are stable at the sped-up mean rate, then add one replica at a time to the stage
// where queries wait longest per dollar of a replica, until the estimator says the SLO holds. Every point is therefore
// a configuration the estimator has checked, on the same trace and seed as the plan.
import type { StageConfig } from '../model/types.js';
import type { PlanningContext } from './context.js';

/** One point of the scaling curve: at `factor` × the planning traffic, these replicas meet the SLO. */
export interface ScalingPoint {
  readonly factor: number;
  readonly replicas: Readonly<Record<string, number>>;
}

/** The curve's largest factor (the slack's own bound); beyond it the tuner scales linearly. */
export const MAX_SCALING_FACTOR = 4;
/** Ratio between successive factors of the curve. */
export const SCALING_STEP = 1.25;

export function scalingCurve(ctx: PlanningContext, config: Readonly<Record<string, StageConfig>>, slack: number): ScalingPoint[] {
  const names = ctx.pipeline.stageNames;
  const current: Record<string, StageConfig> = {};
  for (const name of names) current[name] = { ...(config[name] as StageConfig) };
  const limit = names.map((_, s) => {
    const spec = ctx.pipeline.spec.stages[s];
    return Math.min(spec?.maxReplicas ?? Infinity, ctx.options.maxReplicasPerStage);
  });
  const points: ScalingPoint[] = [];
  for (let k = slack * SCALING_STEP; slack < MAX_SCALING_FACTOR; k *= SCALING_STEP) {
    const factor = Math.min(k, MAX_SCALING_FACTOR);
    const compressed = ctx.trace.map((t) => t / factor);
    // The fewest replicas stable at the sped-up mean rate: the search needs no simulation below it.
    names.forEach((name, s) => {
      const c = current[name] as StageConfig;
      current[name] = { ...c, replicas: Math.min(limit[s] as number, Math.max(c.replicas, ctx.minStableReplicas(s, c.hardware, c.batchSize, factor))) };
    });
    let met = false;
    for (;;) {
      const e = ctx.estimator.estimate(current, compressed, {
        seed: ctx.options.seed, sloMs: ctx.sloMs, percentile: ctx.percentile, stopWhenInfeasible: true,
      });
      if (!e.stoppedEarly && e.sloPercentileMs <= ctx.sloMs) {
        met = true;
        break;
      }
      // Where queries wait longest per dollar of a replica (then the busiest), among stages that
      // may still grow: the curve, like the plan, should cost as little as it can.
      let pick = -1;
      let worst = -Infinity;
      e.stages.forEach((st, s) => {
        const c = current[names[s] as string] as StageConfig;
        if (c.replicas >= (limit[s] as number)) return;
        const score = (st.meanQueueDelayMs + st.utilisation * 1e-6) / Math.max(ctx.prices.get(c.hardware) ?? 1, 1e-9);
        if (score > worst) {
          worst = score;
          pick = s;
        }
      });
      if (pick < 0) break;
      const name = names[pick] as string;
      const c = current[name] as StageConfig;
      current[name] = { ...c, replicas: c.replicas + 1 };
    }
    // A factor the stage limits cannot meet ends the curve; the tuner goes on linearly from the last point.
    if (!met) break;
    const replicas: Record<string, number> = {};
    for (const name of names) replicas[name] = (current[name] as StageConfig).replicas;
    points.push({ factor: Math.round(factor * 1000) / 1000, replicas });
    if (factor >= MAX_SCALING_FACTOR) break;
  }
  return points;
}
