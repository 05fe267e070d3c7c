// Upstream parts of a configuration checked in isolation, for the exact search. A stage's queue,
// batches and service draws depend only on when its queries become ready and on its own
// configuration (estimator.ts); when they become ready depends only on the stages upstream. So
// for an upstream-closed set U of stages (every stage upstream of one in U is in U), each query's
// finish times at U's stages are the same in every configuration that agrees on U. One simulation
// gives them: U's stages as asked, every other stage replaced by a stand-in that takes exactly its
// latency floor (bound.ts: the fastest any of its options can visit, or of the choices the search
// has left it: the exact search drops those it cannot afford) with no queueing (checked: a
// stand-in that made a query wait makes the check inconclusive). Each query's latency there is at
// most its latency in any configuration that agrees on U, so if that simulation misses the SLO,
// they all do.
//
// The stand-ins are hardware types of the one estimator every check runs on (a stage's own
// `\0floor:s`), so a check of U ∪ {s} replays U's stages from the check of U (sim-record.ts):
// the exact search grows its parts one stage at a time, and each step simulates only the new
// stage and what lies below it. With every stage real, a check is the configuration's own run.
import { Estimator } from '../sim/estimator.js';
import type { SimulationRecord } from '../sim/sim-record.js';
import { compilePipeline } from '../model/pipeline.js';
import { ProfileSet } from '../model/profiles.js';
import type { LatencyCurve } from '../model/profiles.js';
import type { PipelineConfig, PipelineSpec, StageConfig } from '../model/types.js';
import type { PlanningContext } from './context.js';

const STAND_IN = '\u0000floor:';
/**
 * The share of a full run's time a run costs however little it simulates: measured on search-ranking
 * (8.6k queries), a check that simulates one stage seen by 5 % of them took about a tenth of a full run.
 */
const RUN_OVERHEAD = 0.1;
/** Replicas of a stand-in: enough that no query waits (checked after each run). */
const STAND_IN_REPLICAS = 256;

/** The original profiles, plus a stand-in hardware per stage: one batch size, its latency floor, no hop, no spread. */
class WithStandIns extends ProfileSet {
  private readonly base: ProfileSet;
  private readonly standIns: ProfileSet;

  constructor(base: ProfileSet, models: readonly string[], floors: readonly number[]) {
    super([]);
    this.base = base;
    this.standIns = new ProfileSet(floors.map((f, s) => ({
      model: models[s] as string, hardware: `${STAND_IN}${s}`,
      points: [{ batchSize: 1, latencyMs: Math.max(f, 1e-9), throughputQps: 1000 / Math.max(f, 1e-9) }],
    })));
  }

  override get(model: string, hardware: string): LatencyCurve | undefined {
    return hardware.startsWith(STAND_IN) ? this.standIns.get(model, hardware) : this.base.get(model, hardware);
  }
}

/** A part's verdict, with its run's record where the run completed (for the next, larger part). */
export interface PartVerdict {
  /** False when the part alone already misses the SLO (so does every configuration agreeing on it). */
  readonly ok: boolean;
  readonly record?: SimulationRecord;
}

/** What a check may replay: the record of a check of a smaller part, and that part's mask. */
export interface PartRun {
  readonly record: SimulationRecord;
  readonly mask: Uint8Array;
}

export class PartCheck {
  private readonly ctx: PlanningContext;
  private readonly estimator: Estimator;
  private readonly standIns: StageConfig[];
  /** Per stage: the stages upstream of it and itself (an upstream-closed set), as a mask. */
  readonly closure: readonly Uint8Array[];
  /** Per stage: the stages downstream of it and itself, as a mask. */
  private readonly below: readonly Uint8Array[];
  /** Parts' verdicts by their choices: every combination agreeing on a part that missed is ruled out without a run. */
  private readonly verdicts = new Map<string, boolean>();
  private readonly visitShare: Float64Array;
  /** Simulations run. */
  simulations = 0;
  /**
   * The same in full runs' worth: a run that replays a smaller part counts RUN_OVERHEAD (what every
   * run costs: its set-up, the replayed resolutions, the percentiles) plus the rest times the share
   * of stage visits it simulates.
   */
  work = 0;
  /** Checks answered "misses" from memory, without a run. */
  ruledOut = 0;

  /**
   * `floors`: per stage, the least latency floor of the choices the caller may still give it (by
   * default every option's); a stand-in takes exactly that.
   */
  constructor(ctx: PlanningContext, floors: readonly number[] = ctx.stageOptions.map((opts) => opts.reduce((m, o) => Math.min(m, o.floorMs), Infinity))) {
    this.ctx = ctx;
    const p = ctx.pipeline;
    const S = p.stageNames.length;
    const spec: PipelineSpec = { ...p.spec, stages: p.spec.stages.map((st, s) => ({ ...st, hardware: [...st.hardware, `${STAND_IN}${s}`] })) };
    this.estimator = new Estimator(compilePipeline(spec), new WithStandIns(ctx.profiles, p.spec.stages.map((st) => st.model), floors));
    this.standIns = p.stageNames.map((_, s) => ({ hardware: `${STAND_IN}${s}`, batchSize: 1, replicas: STAND_IN_REPLICAS }));
    const parents: number[][] = p.stageNames.map(() => []);
    for (let s = 0; s < S; s++) {
      for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) (parents[p.edgeTo[k] as number] as number[]).push(s);
    }
    const closure = p.stageNames.map(() => new Uint8Array(S));
    const below = p.stageNames.map(() => new Uint8Array(S));
    for (let i = 0; i < S; i++) {
      const s = p.order[i] as number;
      const mask = closure[s] as Uint8Array;
      mask[s] = 1;
      for (const u of parents[s] as number[]) {
        const up = closure[u] as Uint8Array;
        for (let j = 0; j < S; j++) if (up[j]) mask[j] = 1;
      }
    }
    for (let s = 0; s < S; s++) for (let u = 0; u < S; u++) if ((closure[u] as Uint8Array)[s]) (below[s] as Uint8Array)[u] = 1;
    this.closure = closure;
    this.below = below;
    let total = 0;
    for (let s = 0; s < S; s++) total += p.scaleFactor[s] as number;
    this.visitShare = Float64Array.from(p.scaleFactor, (f) => (total > 0 ? f / total : 1 / S));
  }

  /**
   * The part `mask` (upstream-closed) of `config` with every other stage at its floor, remembered
   * by the part's choices. `from`: where a run may replay a smaller part's check (its stages in
   * `mask` are replayed, not simulated); asked only when this check has to run. The record of the
   * run comes back when it ran now and `keepRecord`.
   */
  check(mask: Uint8Array, config: PipelineConfig, from?: () => PartRun | undefined, keepRecord = true): PartVerdict {
    const key = this.keyOf(mask, config);
    const known = this.verdicts.get(key);
    if (known === false) this.ruledOut++;
    if (known !== undefined) return { ok: known };
    const v = this.run(mask, config, from?.(), keepRecord);
    this.verdicts.set(key, v.ok);
    return v;
  }

  /** Runs a part again for its record (a check remembered without one). */
  rerun(mask: Uint8Array, config: PipelineConfig, from?: PartRun): PartRun | undefined {
    const v = this.run(mask, config, from, true);
    return v.record ? { record: v.record, mask: mask.slice() } : undefined;
  }

  private run(mask: Uint8Array, config: PipelineConfig, from: PartRun | undefined, keepRecord: boolean): PartVerdict {
    const ctx = this.ctx;
    const names = ctx.pipeline.stageNames;
    const run: Record<string, StageConfig> = {};
    names.forEach((name, j) => { run[name] = mask[j] ? (config[name] as StageConfig) : (this.standIns[j] as StageConfig); });
    this.simulations++;
    this.work += from ? RUN_OVERHEAD + (1 - RUN_OVERHEAD) * this.newShare(from.mask, mask) : 1;
    const e = this.estimator.estimate(run, ctx.trace, {
      seed: ctx.options.seed, sloMs: ctx.sloMs, percentile: ctx.percentile, stopWhenInfeasible: true, record: keepRecord, ...(from ? { reuse: from.record } : {}),
    });
    // A stand-in that made a query wait is slower than its floor: the run proves nothing.
    const waited = e.stages.some((st, j) => !mask[j] && st.meanQueueDelayMs > 0);
    const ok = waited || (!e.stoppedEarly && e.sloPercentileMs <= ctx.sloMs);
    return e.record && !waited ? { ok, record: e.record } : { ok };
  }

  /**
   * Whether stage s's own closure (it and everything upstream) of `config` leaves the SLO
   * reachable, remembered by the closure's choices: combinations that differ only elsewhere share
   * it. `from` may be any check whose part holds the closure's other stages.
   */
  closureAdmits(s: number, config: PipelineConfig, from?: () => PartRun | undefined): boolean {
    return this.check(this.closure[s] as Uint8Array, config, from, false).ok;
  }

  /** Whether a whole configuration meets the SLO, by the same run (every stage real). */
  meets(config: PipelineConfig, from?: () => PartRun | undefined): boolean {
    const all = new Uint8Array(this.ctx.pipeline.stageNames.length).fill(1);
    return this.check(all, config, from, false).ok;
  }

  private keyOf(mask: Uint8Array, config: PipelineConfig): string {
    const names = this.ctx.pipeline.stageNames;
    let key = '';
    for (let j = 0; j < names.length; j++) {
      if (!mask[j]) continue;
      const c = config[names[j] as string] as StageConfig;
      key += `${j}:${c.hardware}/${c.batchSize}/${c.replicas}/${c.batchDelayMs ?? 0};`;
    }
    return key;
  }

  /** The share of stage visits a check of `mask` simulates when it replays the check of `from`: the stages below those that differ. */
  private newShare(from: Uint8Array, mask: Uint8Array): number {
    const S = mask.length;
    const dirty = new Uint8Array(S);
    for (let s = 0; s < S; s++) {
      if (mask[s] !== from[s]) {
        const b = this.below[s] as Uint8Array;
        for (let u = 0; u < S; u++) if (b[u]) dirty[u] = 1;
      }
    }
    let share = 0;
    for (let u = 0; u < S; u++) if (dirty[u]) share += this.visitShare[u] as number;
    return share;
  }
}
