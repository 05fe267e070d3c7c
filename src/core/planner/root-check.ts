// Root stages in isolation, for the exact search. A root stage's queue receives every query at its
// arrival plus the stage's hop overhead, whatever the other stages do, and its batches and service
// draws depend only on that queue and its own configuration (estimator.ts). So its per-query time
// (hop + queue + service) under one configuration is the same in every pipeline configuration, and
// one simulation gives it: the pipeline's stages with no edges, each a root, the stage under test
// set as asked and the others set fast and cheap to simulate. A query then takes at least that
// time plus the least its route needs after the stage (the other stages at their latency floors,
// bound.ts). If more queries exceed the SLO that way than the percentile allows, no configuration
// that gives the stage this choice meets the SLO.
import { Estimator } from '../estimator.js';
import { compilePipeline } from '../pipeline.js';
import type { PipelineConfig, StageConfig } from '../types.js';
import type { PlanningContext } from './context.js';

export class RootStageCheck {
  private readonly ctx: PlanningContext;
  private estimator: Estimator | undefined;
  private filler: Record<string, StageConfig> | undefined;
  private readonly downMs = new Map<number, number>();
  private readonly memo = new Map<string, boolean>();
  /** Simulations run (for the plan's count). */
  simulations = 0;

  constructor(ctx: PlanningContext) {
    this.ctx = ctx;
  }

  /** False when stage s (a root) with `choice` alone loses more queries than the SLO allows. */
  admits(s: number, choice: StageConfig): boolean {
    const ctx = this.ctx;
    const key = `${s}/${choice.hardware}/${choice.batchSize}/${choice.replicas}/${choice.batchDelayMs ?? 0}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const names = ctx.pipeline.stageNames;
    if (!this.estimator || !this.filler) {
      const spec = ctx.pipeline.spec;
      const { roots: _roots, ...rest } = spec;
      this.estimator = new Estimator(compilePipeline({ ...rest, stages: spec.stages.map((st) => ({ ...st, next: [] })) }), ctx.profiles);
      // The others: their fastest option at its largest batch, with replicas enough to keep up.
      const filler: Record<string, StageConfig> = {};
      names.forEach((name, i) => {
        const opts = ctx.stageOptions[i] ?? [];
        const fast = opts.reduce((a, o) => (o.floorMs < a.floorMs || (o.floorMs === a.floorMs && o.batchSize > a.batchSize) ? o : a), opts[0] as (typeof opts)[number]);
        filler[name] = { hardware: fast.hardware, batchSize: fast.batchSize, replicas: Math.min(fast.maxReplicas, 64) };
      });
      this.filler = filler;
    }
    let down = this.downMs.get(s);
    if (down === undefined) {
      const fastest = (ctx.stageOptions).map((opts) => opts.reduce((m, o) => Math.min(m, o.floorMs), Infinity));
      down = ctx.floor.margins(s, fastest).downMs;
      this.downMs.set(s, down);
    }
    const config: PipelineConfig = { ...this.filler, [names[s] as string]: choice };
    this.simulations++;
    const e = this.estimator.estimate(config, ctx.trace, { seed: ctx.options.seed, sloMs: ctx.sloMs, percentile: ctx.percentile, recordVisits: true });
    const visits = e.visitLatencyMs?.[s] ?? new Float64Array(0);
    const limit = ctx.sloMs * (1 + 1e-12) + 1e-9 - down;
    let misses = 0;
    for (let i = visits.length - 1; i >= 0 && (visits[i] as number) > limit; i--) misses++;
    const ok = misses <= ctx.floor.allowedMisses;
    this.memo.set(key, ok);
    return ok;
  }
}
