// Upstream parts of a configuration checked in isolation, for the exact search. A stage's queue,
// batches and service draws depend only on when its queries become ready and on its own
// configuration (estimator.ts); when they become ready depends only on the stages upstream. So
// for an upstream-closed set U of stages (every stage upstream of one in U is in U), each query's
// finish times at U's stages are the same in every configuration that agrees on U. One simulation
// gives them: U's stages as asked, every other stage replaced by a stand-in that takes exactly its
// latency floor (bound.ts: the fastest any of its options can visit) with no queueing (checked: a
// stand-in that made a query wait makes the check inconclusive). Each query's latency there is at
// most its latency in any configuration that agrees on U, so if that simulation misses the SLO,
// they all do.
//
// - Root stages (U = {s}): its choices that alone lose the SLO are dropped before the search
//   (RootStageCheck.admits).
// - Larger parts: each combination is checked, memoised by U's choices, before its simulation
//   (RootStageCheck.prefixAdmits); a part shared by many combinations is simulated once.
import { Estimator } from '../sim/estimator.js';
import { compilePipeline } from '../model/pipeline.js';
import { ProfileSet } from '../model/profiles.js';
import type { LatencyCurve } from '../model/profiles.js';
import type { PipelineConfig, PipelineSpec, StageConfig } from '../model/types.js';
import type { PlanningContext } from './context.js';

const STAND_IN = '\u0000floor';
/** Replicas of a stand-in: enough that no query waits (checked after each run). */
const STAND_IN_REPLICAS = 256;

/** The original profiles, plus a stand-in per stage: one batch size, its latency floor, no hop, no spread. */
class WithStandIns extends ProfileSet {
  private readonly base: ProfileSet;
  private readonly standIns: ProfileSet;

  constructor(base: ProfileSet, floors: readonly number[]) {
    super([]);
    this.base = base;
    this.standIns = new ProfileSet(floors.map((f, s) => ({
      model: `${STAND_IN}${s}`, hardware: STAND_IN, points: [{ batchSize: 1, latencyMs: Math.max(f, 1e-9), throughputQps: 1000 / Math.max(f, 1e-9) }],
    })));
  }

  override get(model: string, hardware: string): LatencyCurve | undefined {
    return hardware === STAND_IN ? this.standIns.get(model, hardware) : this.base.get(model, hardware);
  }
}

export class RootStageCheck {
  private readonly ctx: PlanningContext;
  private readonly floors: number[];
  /** Per stage: the stages upstream of it and itself (an upstream-closed set), as a mask. */
  private readonly closure: Uint8Array[];
  private readonly estimators = new Map<string, Estimator>();
  private readonly memo = new Map<string, boolean>();
  /** Simulations run (for the plan's count). */
  simulations = 0;

  constructor(ctx: PlanningContext) {
    this.ctx = ctx;
    this.floors = ctx.stageOptions.map((opts) => opts.reduce((m, o) => Math.min(m, o.floorMs), Infinity));
    const p = ctx.pipeline;
    const S = p.stageNames.length;
    const parents: number[][] = p.stageNames.map(() => []);
    for (let s = 0; s < S; s++) {
      for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) (parents[p.edgeTo[k] as number] as number[]).push(s);
    }
    this.closure = p.stageNames.map(() => new Uint8Array(S));
    for (let i = 0; i < S; i++) {
      const s = p.order[i] as number;
      const mask = this.closure[s] as Uint8Array;
      mask[s] = 1;
      for (const u of parents[s] as number[]) {
        const up = this.closure[u] as Uint8Array;
        for (let j = 0; j < S; j++) if (up[j]) mask[j] = 1;
      }
    }
  }

  /** False when stage s (a root) with `choice` alone loses the SLO. */
  admits(s: number, choice: StageConfig): boolean {
    const config: Record<string, StageConfig> = { [this.ctx.stageName(s)]: choice };
    return this.check(this.closure[s] as Uint8Array, config);
  }

  /**
   * False when some upstream-closed part of `config` (a stage and everything upstream of it,
   * short of the whole pipeline) already loses the SLO with the rest at its floors.
   */
  prefixAdmits(config: PipelineConfig): boolean {
    const S = this.closure.length;
    for (let i = 0; i < S; i++) {
      const s = this.ctx.pipeline.order[i] as number;
      const mask = this.closure[s] as Uint8Array;
      let size = 0;
      for (let j = 0; j < S; j++) size += mask[j] as number;
      if (size === S) continue;
      const part: Record<string, StageConfig> = {};
      for (let j = 0; j < S; j++) if (mask[j]) part[this.ctx.stageName(j)] = config[this.ctx.stageName(j)] as StageConfig;
      if (!this.check(mask, part)) return false;
    }
    return true;
  }

  private check(mask: Uint8Array, part: Readonly<Record<string, StageConfig>>): boolean {
    const ctx = this.ctx;
    const names = ctx.pipeline.stageNames;
    let key = '';
    for (let j = 0; j < names.length; j++) {
      if (!mask[j]) continue;
      const c = part[names[j] as string] as StageConfig;
      key += `${j}:${c.hardware}/${c.batchSize}/${c.replicas}/${c.batchDelayMs ?? 0};`;
    }
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit;
    const maskKey = mask.join('');
    let est = this.estimators.get(maskKey);
    if (!est) {
      const spec = ctx.pipeline.spec;
      const standIn: PipelineSpec = {
        ...spec,
        stages: spec.stages.map((st, j) => (mask[j] ? st : { ...st, model: `${STAND_IN}${j}`, hardware: [STAND_IN], minReplicas: undefined, maxReplicas: undefined, maxBatch: undefined })),
      };
      est = new Estimator(compilePipeline(standIn), new WithStandIns(ctx.profiles, this.floors));
      this.estimators.set(maskKey, est);
    }
    const config: Record<string, StageConfig> = {};
    names.forEach((name, j) => {
      config[name] = mask[j] ? (part[name] as StageConfig) : { hardware: STAND_IN, batchSize: 1, replicas: STAND_IN_REPLICAS };
    });
    this.simulations++;
    const e = est.estimate(config, ctx.trace, { seed: ctx.options.seed, sloMs: ctx.sloMs, percentile: ctx.percentile, stopWhenInfeasible: true });
    // A stand-in that made a query wait is slower than its floor: the run proves nothing.
    const waited = e.stages.some((st, j) => !mask[j] && st.meanQueueDelayMs > 0);
    const ok = waited || (!e.stoppedEarly && e.sloPercentileMs <= ctx.sloMs);
    this.memo.set(key, ok);
    return ok;
  }
}
