// The coarse-grained baseline from the paper: the whole pipeline is one unit. One hardware type
// and one batch size for every stage, and n copies of the whole pipeline (n replicas of every
// stage). The cheapest (hardware, batch, n) that meets the SLO on the planning trace wins.
// (ours) A stage whose model cannot run on the chosen hardware uses its cheapest allowed hardware;
// a batch size past a stage's largest measured size is capped there.
import type { Evaluation, PlanningContext, StageOption } from './context.js';
import type { SearchOutcome } from './outcome.js';
import type { StageConfig } from '../model/types.js';

export function coarsePlan(ctx: PlanningContext): SearchOutcome {
  const S = ctx.pipeline.stageNames.length;
  const hardwareNames = [...new Set(ctx.pipeline.spec.stages.flatMap((s) => s.hardware))].filter((h) => ctx.prices.has(h));
  const batchSizes = [...new Set(ctx.stageOptions.flatMap((opts) => opts.map((o) => o.batchSize)))].sort((a, b) => a - b);
  let best: Evaluation | undefined;
  let lowest: Evaluation | undefined;
  for (const hw of hardwareNames) {
    for (const b of batchSizes) {
      const chosen: StageOption[] = [];
      for (let s = 0; s < S; s++) {
        const opts = ctx.stageOptions[s] ?? [];
        const onHw = opts.filter((o) => o.hardware === hw);
        let pool = onHw;
        if (pool.length === 0) {
          const cheapest = Math.min(...opts.map((o) => o.price));
          const fallback = opts.find((o) => o.price === cheapest)?.hardware;
          pool = opts.filter((o) => o.hardware === fallback);
        }
        // The largest choice not above b (the smallest when all are above).
        const fit = pool.filter((o) => o.batchSize <= b);
        chosen.push((fit.length > 0 ? fit[fit.length - 1] : pool[0]) as StageOption);
      }
      const lo = Math.max(...chosen.map((o) => o.minReplicas));
      const hi = Math.min(...chosen.map((o) => o.maxReplicas));
      const at = (n: number): Evaluation => {
        const config: Record<string, StageConfig> = {};
        chosen.forEach((o, s) => { config[ctx.stageName(s)] = { hardware: o.hardware, batchSize: o.batchSize, replicas: n }; });
        return ctx.evaluate(config);
      };
      const top = at(hi);
      if (!lowest || top.percentileMs < lowest.percentileMs) lowest = top;
      if (!top.feasible || lo > hi) continue;
      let a = lo;
      let z = hi;
      let found = top;
      while (a < z) {
        const mid = (a + z) >> 1;
        const ev = at(mid);
        if (ev.feasible) {
          found = ev;
          z = mid;
        } else {
          a = mid + 1;
        }
      }
      if (!best || found.costPerHour < best.costPerHour || (found.costPerHour === best.costPerHour && found.percentileMs < best.percentileMs)) best = found;
    }
  }
  if (best) return { best, feasible: true, notes: [] };
  if (!lowest) throw new Error('coarse search: the pipeline has no hardware to run on (validate first)');
  return { best: lowest, feasible: false, lowestReachableMs: lowest.percentileMs, notes: ['no whole-pipeline replication within the replica limits meets the SLO'] };
}
