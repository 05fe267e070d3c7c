// What every search shares: the pipeline, the profiles, prices, the planning trace, and a memoised
// feasibility test. A configuration is judged by the estimator's SLO percentile on the planning
// trace; one that is unstable at the trace's mean rate (ρ ≥ 1 at some stage even at its best batch
// size) is rejected without simulation.
import { Estimator } from '../sim/estimator.js';
import type { Estimate } from '../sim/estimator.js';
import type { SimulationRecord } from '../sim/sim-record.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import { serviceFactor } from '../model/profiles.js';
import type { ProfileSet } from '../model/profiles.js';
import { configFloors, costBound, LatencyFloor } from './bound.js';
import type { CostBound } from './bound.js';
import { roundCost } from './cost.js';
import { BatchCapacity } from './late-bound.js';
import type { HardwareType, PipelineConfig, StageConfig } from '../model/types.js';

export interface PlannerOptions {
  /** Seed of the estimator's routing stream. */
  readonly seed: number;
  /** Upper bound on the replicas of one stage. */
  readonly maxReplicasPerStage: number;
  /** Budget of estimator runs for the exact search. */
  readonly exactMaxEvaluations?: number;
}

export interface Evaluation {
  readonly config: PipelineConfig;
  readonly costPerHour: number;
  readonly feasible: boolean;
  /** Latency at the SLO percentile; Infinity when rejected as unstable or stopped early. */
  readonly percentileMs: number;
  /** Present when a full simulation ran. */
  readonly estimate?: Estimate;
}

/** One choice of hardware and batch size for a stage, with what it implies. */
export interface StageOption {
  readonly hardware: string;
  readonly batchSize: number;
  readonly price: number;
  /** Fewest replicas with ρ < 1 at the trace's mean rate (and ≥ the stage's minReplicas). */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Latency of a batch of one on this hardware. */
  readonly latency1Ms: number;
  /** The fixed cost of one visit (the profile's hop overhead): part of any path's latency. */
  readonly hopMs: number;
  /** The least hop overhead at any number of requests in flight (= hopMs without a hop curve). */
  readonly leastHopMs: number;
  /** The shortest a visit can take: leastHopMs + the shortest service time any batch ≤ batchSize can draw (bound.ts). */
  readonly floorMs: number;
  /** The most queries per ms one replica can serve at these shortest service times (bound.ts). */
  readonly peakRatePerMs: number;
  /** The most queries one replica can serve inside a window at these shortest service times (late-bound.ts). */
  readonly capacity: BatchCapacity;
}

export class PlanningContext {
  readonly pipeline: CompiledPipeline;
  readonly profiles: ProfileSet;
  readonly prices: ReadonlyMap<string, number>;
  readonly trace: Float64Array;
  readonly meanRateQps: number;
  readonly sloMs: number;
  readonly percentile: number;
  readonly options: PlannerOptions;
  readonly estimator: Estimator;
  /** Per stage, every (hardware, batch size) choice, in allowed-hardware then batch order. */
  readonly stageOptions: readonly (readonly StageOption[])[];
  /** Which stages and edges each query takes, for the latency floor (bound.ts). */
  readonly floor: LatencyFloor;
  /** Estimator runs and cache hits, for reporting. */
  simulations = 0;
  evaluations = 0;
  /** Configurations rejected by the latency floor without a simulation. */
  screened = 0;
  private readonly cache = new Map<string, Evaluation>();
  /** Records of the latest bases, by configuration key (at most RECORDS_KEPT). */
  private readonly records = new Map<string, SimulationRecord>();
  /** The record simulations replay unchanged stages from (setBase). */
  private base: SimulationRecord | undefined;
  private readonly floorBuf: Float64Array;
  private boundMemo: CostBound | undefined;
  private everyOptionMemo: CostBound | undefined;
  /** The late-query floor's replicas by `stage/hardware`, shared by the two bounds. */
  private readonly refinedReplicas = new Map<string, number>();

  constructor(args: {
    pipeline: CompiledPipeline;
    profiles: ProfileSet;
    hardware: readonly HardwareType[];
    trace: Float64Array;
    options: PlannerOptions;
  }) {
    this.pipeline = args.pipeline;
    this.profiles = args.profiles;
    this.prices = new Map(args.hardware.map((h) => [h.name, h.costPerHour]));
    this.trace = args.trace;
    const n = args.trace.length;
    const span = n > 1 ? (args.trace[n - 1] as number) - (args.trace[0] as number) : 0;
    this.meanRateQps = span > 0 ? n / span : n;
    this.sloMs = args.pipeline.spec.slo.latencyMs;
    this.percentile = args.pipeline.spec.slo.percentile;
    this.options = args.options;
    this.estimator = new Estimator(args.pipeline, args.profiles);
    this.stageOptions = args.pipeline.spec.stages.map((_, s) => this.buildOptions(s));
    this.floor = new LatencyFloor(args.pipeline, args.trace, args.options.seed, this.sloMs, this.percentile);
    this.floorBuf = new Float64Array(args.pipeline.stageNames.length);
  }

  /** The lower bound on the cost of any plan meeting the SLO (bound.ts), computed once. */
  get bound(): CostBound {
    this.boundMemo ??= costBound(this.pipeline.stageNames, this.stageOptions, this.floor, false, this.refinedReplicas);
    return this.boundMemo;
  }

  /** The same bound with every option's replicas refined by the late-query bound (the exact search's choices). */
  get boundEveryOption(): CostBound {
    this.everyOptionMemo ??= costBound(this.pipeline.stageNames, this.stageOptions, this.floor, true, this.refinedReplicas);
    return this.everyOptionMemo;
  }

  /**
   * False when the bound's floors alone rule `config` out (no simulation needed): some stage runs
   * an option that is not admissible, or fewer replicas than its stability and burst floors need,
   * or the configuration's latency floors leave too many queries above the SLO.
   */
  withinFloors(config: PipelineConfig): boolean {
    const { admissible, fewestReplicas } = this.bound;
    for (let s = 0; s < this.stageOptions.length; s++) {
      const c = config[this.stageName(s)] as StageConfig;
      const i = (this.stageOptions[s] ?? []).findIndex((o) => o.hardware === c.hardware && o.batchSize === c.batchSize);
      if (i < 0) continue;
      if (!admissible[s]?.[i] || c.replicas < (fewestReplicas[s]?.[i] as number)) return false;
    }
    const floors = configFloors(this.pipeline.stageNames, this.stageOptions, config, this.floorBuf);
    return floors === undefined || this.floor.fits(floors);
  }

  /** The fewest replicas the bound allows stage s at an option (≥ its stability floor; Infinity when not admissible). */
  fewestAllowed(s: number, option: StageOption): number {
    const i = (this.stageOptions[s] ?? []).indexOf(option);
    return i < 0 ? option.minReplicas : Math.max(option.minReplicas, this.bound.fewestReplicas[s]?.[i] ?? Infinity);
  }

  private buildOptions(s: number): StageOption[] {
    const spec = this.pipeline.spec.stages[s];
    if (!spec) return [];
    const out: StageOption[] = [];
    const lo = spec.minReplicas ?? 1;
    const hi = Math.min(spec.maxReplicas ?? Infinity, this.options.maxReplicasPerStage);
    for (const hw of spec.hardware) {
      const curve = this.profiles.get(spec.model, hw);
      const price = this.prices.get(hw);
      if (!curve || price === undefined) continue;
      const cap = Math.min(curve.maxBatch, spec.maxBatch ?? Infinity);
      const sizes = curve.batchSizes.filter((b) => b <= cap);
      // The hop may vary with the requests in flight (the profile's hop curve): the least of it bounds every visit.
      const hops = curve.hopTable();
      let leastHop = curve.hopOverheadMs;
      if (hops) for (let c = 1; c < hops.length; c++) leastHop = Math.min(leastHop, hops[c] as number);
      if (cap < curve.maxBatch && !sizes.includes(cap)) sizes.push(cap);
      for (const b of sizes) {
        const minStable = this.minStableReplicas(s, hw, b);
        const shortest = this.shortestServiceMs(s, hw, b);
        out.push({
          hardware: hw, batchSize: b, price, minReplicas: Math.max(lo, minStable), maxReplicas: hi,
          latency1Ms: curve.latencyMs(1), hopMs: curve.hopOverheadMs, leastHopMs: leastHop,
          floorMs: leastHop + shortest.floorMs, peakRatePerMs: shortest.peakRatePerMs, capacity: shortest.capacity,
        });
      }
    }
    return out;
  }

  /** The shortest service time a batch of ≤ b can draw: L(k) × the lowest factor of the spread, over k ≤ b. */
  private shortestServiceMs(s: number, hw: string, b: number): { floorMs: number; peakRatePerMs: number; capacity: BatchCapacity } {
    const table = this.estimator.serviceTable(s, hw, b);
    const model = this.pipeline.spec.stages[s]?.model ?? '';
    const sigma = this.profiles.get(model, hw)?.sigmaTable(table.length - 1);
    let floorMs = Infinity;
    let peakRatePerMs = 0;
    const shortest = new Float64Array(table.length);
    for (let k = 1; k < table.length; k++) {
      const t = (table[k] as number) * (sigma ? serviceFactor(sigma[k] as number, 0) : 1);
      shortest[k] = t;
      if (t < floorMs) floorMs = t;
      if (k / t > peakRatePerMs) peakRatePerMs = k / t;
    }
    return { floorMs, peakRatePerMs, capacity: new BatchCapacity(shortest) };
  }

  /** The best per-replica throughput over batch sizes ≤ b, in queries per second. */
  private bestThroughput(s: number, hw: string, b: number): number {
    const table = this.estimator.serviceTable(s, hw, b);
    let best = 0;
    for (let k = 1; k < table.length; k++) best = Math.max(best, (k * 1000) / (table[k] as number));
    return best;
  }

  /** Fewest replicas with ρ = rate × scaleFactor / (replicas × throughput) < 1, at `factor` × the trace's mean rate. */
  minStableReplicas(s: number, hw: string, b: number, factor = 1): number {
    const load = this.meanRateQps * factor * (this.pipeline.scaleFactor[s] as number);
    return Math.max(1, Math.floor(load / this.bestThroughput(s, hw, b)) + 1);
  }

  stageName(s: number): string {
    return this.pipeline.stageNames[s] as string;
  }

  price(hw: string): number {
    return this.prices.get(hw) ?? Infinity;
  }

  cost(config: PipelineConfig): number {
    let c = 0;
    for (const name of this.pipeline.stageNames) {
      const sc = config[name] as StageConfig;
      c += sc.replicas * this.price(sc.hardware);
    }
    return roundCost(c);
  }

  isStable(config: PipelineConfig): boolean {
    return this.pipeline.stageNames.every((name, s) => {
      const sc = config[name] as StageConfig;
      return sc.replicas >= this.minStableReplicas(s, sc.hardware, sc.batchSize);
    });
  }

  /** Judges a configuration (memoised). Feasible when the SLO percentile ≤ the SLO. */
  evaluate(config: PipelineConfig): Evaluation {
    this.evaluations++;
    const key = configKey(this.pipeline.stageNames, config);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const costPerHour = this.cost(config);
    let ev: Evaluation;
    if (!this.isStable(config)) {
      ev = { config, costPerHour, feasible: false, percentileMs: Infinity };
    } else if (!this.withinFloors(config)) {
      this.screened++;
      ev = { config, costPerHour, feasible: false, percentileMs: Infinity };
    } else {
      this.simulations++;
      const estimate = this.estimator.estimate(config, this.trace, {
        seed: this.options.seed, sloMs: this.sloMs, percentile: this.percentile, stopWhenInfeasible: true, reuse: this.base,
      });
      ev = estimate.stoppedEarly
        ? { config, costPerHour, feasible: false, percentileMs: Infinity }
        : { config, costPerHour, feasible: estimate.sloPercentileMs <= this.sloMs, percentileMs: estimate.sloPercentileMs, estimate };
    }
    this.cache.set(key, ev);
    return ev;
  }

  /**
   * Simulations from here on replay, from `ev`'s run, the stages that have no changed stage
   * upstream of them (sim-record.ts): the searches try configurations one stage away from the
   * current one. Runs `ev` again, recording (and replaying what it can from the base before).
   */
  setBase(ev: Evaluation): void {
    const key = configKey(this.pipeline.stageNames, ev.config);
    let record = this.records.get(key);
    if (!record) {
      this.simulations++;
      record = this.estimator.estimate(ev.config, this.trace, {
        seed: this.options.seed, sloMs: this.sloMs, percentile: this.percentile, record: true, reuse: this.base,
      }).record;
      if (record) this.keepRecord(key, record);
    }
    this.base = record;
  }

  private keepRecord(key: string, record: SimulationRecord): void {
    this.records.delete(key);
    this.records.set(key, record);
    if (this.records.size > RECORDS_KEPT) this.records.delete(this.records.keys().next().value as string);
  }

  /** A full simulation (no early stop), for reporting the chosen plan. */
  estimateFully(config: PipelineConfig): Estimate {
    return this.estimator.estimate(config, this.trace, { seed: this.options.seed, sloMs: this.sloMs, percentile: this.percentile });
  }

  /**
   * Fewest replicas in [lo, hi] for stage `s` (others as in `config`) that meet the SLO, taking
   * feasibility as monotone in replicas. Undefined when even `hi` does not. The search gallops up
   * from `lo` (1, 2, 4, … above it) and then bisects: the answer is usually a few replicas above
   * the stability bound, and infeasible runs stop early, so this costs fewer full simulations
   * than bisecting [lo, hi] from the top.
   */
  fewestReplicas(config: PipelineConfig, s: number, choice: Omit<StageConfig, 'replicas'>, lo: number, hi: number): Evaluation | undefined {
    if (lo > hi) return undefined;
    const name = this.stageName(s);
    const at = (r: number): Evaluation => this.evaluate({ ...config, [name]: { ...choice, replicas: r } });
    const first = at(lo);
    if (first.feasible) return first;
    let below = lo; // known infeasible
    let found: Evaluation | undefined;
    let upper: number;
    for (let step = 1; ; step *= 2) {
      const r = Math.min(hi, lo + step);
      const ev = at(r);
      if (ev.feasible) {
        found = ev;
        upper = r;
        break;
      }
      below = r;
      if (r === hi) return undefined;
    }
    while (upper - below > 1) {
      const mid = (below + upper) >> 1;
      const ev = at(mid);
      if (ev.feasible) {
        found = ev;
        upper = mid;
      } else {
        below = mid;
      }
    }
    return found;
  }
}

/** Simulation records a context keeps (about 1 MB each for a 10-stage pipeline on 8.6k queries). */
const RECORDS_KEPT = 4;

export function configKey(stageNames: readonly string[], config: PipelineConfig): string {
  let k = '';
  for (const name of stageNames) {
    const c = config[name] as StageConfig;
    k += `${c.hardware}/${c.batchSize}/${c.replicas}/${c.batchDelayMs ?? 0};`;
  }
  return k;
}

/** Orders evaluations: lower cost, then lower percentile latency. */
export function better(a: Evaluation, b: Evaluation): boolean {
  if (a.costPerHour !== b.costPerHour) return a.costPerHour < b.costPerHour;
  return a.percentileMs < b.percentileMs;
}
