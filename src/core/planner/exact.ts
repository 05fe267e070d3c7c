// The exact search, to certify the greedy planner: branch and bound over every combination of
// per-stage (hardware, batch size, replicas, batch delay), where a stage's choices are only those
// admissible under the latency floor with at least the replicas its stability and burst floors
// need (bound.ts), and the batch delays are those the greedy planner may set (none, or ¼, ½ or all
// of the full batch's service time).
//
// It chooses stage by stage in a topological order, so that the stages chosen so far are always
// an upstream-closed part, and checks that part in isolation (part-check.ts) before going deeper:
// a part that already misses the SLO rules out every combination below it at once, and each check
// replays the part before it and simulates only the stage just added and what lies below it. A
// complete combination is the configuration's own run.
//
// Passes with a rising cost ceiling: a pass visits every combination cheaper than its ceiling
// (a branch whose cost so far plus the cheapest choices left reaches it is cut). A pass that ends
// without a feasible combination proves that none costs less than the least cost it cut: the
// search's lower bound (`searchBound`), reported whatever happens next. A feasible combination
// lowers the ceiling to its cost (branch and bound), and a pass that then ends proves it optimal.
// The last ceiling is the greedy incumbent's cost: a pass under it that finds nothing proves the
// incumbent optimal. Out of budget, the bound of the last complete pass stands.
import type { Evaluation, PlanningContext } from './context.js';
import { roundCost } from './cost.js';
import { PartCheck } from './part-check.js';
import type { PartRun } from './part-check.js';
import { batchDelays } from './greedy.js';
import type { SearchOutcome } from './outcome.js';
import type { StageConfig } from '../model/types.js';

interface Choice {
  readonly config: StageConfig;
  readonly cost: number;
  /** The option's latency floor (bound.ts). */
  readonly floorMs: number;
}

/** Costs within this of each other are equal (prices are summed in different orders). */
const EPS = 1e-9;
/** Each pass's ceiling is at least this factor above the last one's proven bound. */
const CEILING_STEP = 1.025;
/** Without a feasible incumbent, a stage's replicas go at most this far above its floor. */
const OPEN_REPLICAS = 64;

export function exactPlan(ctx: PlanningContext, incumbent: Evaluation, maxEvaluations: number): SearchOutcome {
  const upper = incumbent.feasible ? incumbent.costPerHour : Infinity;
  const relaxed = ctx.boundEveryOption.costPerHour;
  if (incumbent.feasible && incumbent.costPerHour <= relaxed + EPS) {
    return { best: incumbent, feasible: true, proven: true, searchBound: incumbent.costPerHour, notes: [] };
  }
  const lists = stageChoices(ctx, upper);
  if (lists.some((l) => l.length === 0)) {
    if (incumbent.feasible) return { best: incumbent, feasible: true, proven: true, searchBound: incumbent.costPerHour, notes: [] };
    return { best: incumbent, feasible: false, proven: true, notes: ['no stable configuration whose latency floors fit the SLO exists within the replica limits'] };
  }
  const search = new BranchAndBound(ctx, lists, maxEvaluations);
  let bound = relaxed;
  let proven = false;
  for (;;) {
    const target = Math.min(upper, Math.max(bound * CEILING_STEP, bound + EPS));
    const pass = search.pass(target);
    if (!pass.complete) break;
    if (search.best) {
      proven = true;
      break;
    }
    bound = Math.max(bound, pass.leastCut);
    if (bound >= upper - EPS) {
      proven = true;
      break;
    }
  }
  ctx.simulations += search.parts.simulations;
  ctx.screened += search.parts.ruledOut;
  const budget = `exact search stopped after ${maxEvaluations} simulations: not proven optimal`;
  const best = search.best;
  if (best) return { best, feasible: true, proven, searchBound: proven ? best.costPerHour : roundCost(bound), notes: proven ? [] : [budget] };
  if (incumbent.feasible) {
    return { best: incumbent, feasible: true, proven, searchBound: proven ? incumbent.costPerHour : roundCost(bound), notes: proven ? [] : [budget] };
  }
  return {
    best: incumbent, feasible: false, proven, lowestReachableMs: search.lowestMs,
    notes: [proven ? 'no configuration within the replica limits meets the SLO' : `exact search stopped after ${maxEvaluations} simulations without a feasible configuration`],
  };
}

/** Per stage, its admissible stable choices sorted by cost, each cheap enough to leave the others their cheapest within `upper`. */
function stageChoices(ctx: PlanningContext, upper: number): Choice[][] {
  const { admissible, fewestReplicas } = ctx.boundEveryOption;
  const raw = ctx.stageOptions.map((options, s) => {
    const list: Choice[] = [];
    options.forEach((o, i) => {
      if (!admissible[s]?.[i]) return;
      const delays = [0, ...batchDelays(ctx, s, o.hardware, o.batchSize)];
      const lo = fewestReplicas[s]?.[i] as number;
      for (let r = lo; r <= o.maxReplicas && (upper < Infinity || r - lo <= OPEN_REPLICAS); r++) {
        const cost = roundCost(r * o.price);
        if (cost > upper + EPS) break;
        for (const d of delays) list.push({ config: { hardware: o.hardware, batchSize: o.batchSize, replicas: r, ...(d > 0 ? { batchDelayMs: d } : {}) }, cost, floorMs: o.floorMs });
      }
    });
    return list.sort((a, b) => a.cost - b.cost);
  });
  const least = raw.map((l) => l[0]?.cost ?? Infinity);
  const total = least.reduce((a, b) => a + b, 0);
  return raw.map((l, s) => l.filter((c) => c.cost + total - (least[s] as number) <= upper + EPS));
}

/**
 * The order stages are chosen in: topological, and among the stages ready, the one with the most
 * stages below it first (a chain's checks prune its whole subtree early), then the one fewer
 * queries visit (its checks replay more of the run), then the lower index.
 */
function searchOrder(ctx: PlanningContext, parts: PartCheck): number[] {
  const p = ctx.pipeline;
  const S = p.stageNames.length;
  const descendants = p.stageNames.map((_, s) => {
    let n = 0;
    for (let u = 0; u < S; u++) if (u !== s && (parts.closure[u] as Uint8Array)[s]) n++;
    return n;
  });
  const placed = new Uint8Array(S);
  const order: number[] = [];
  while (order.length < S) {
    let pick = -1;
    for (let s = 0; s < S; s++) {
      if (placed[s]) continue;
      const closure = parts.closure[s] as Uint8Array;
      let ready = true;
      for (let u = 0; u < S; u++) if (u !== s && closure[u] && !placed[u]) ready = false;
      if (!ready) continue;
      if (pick < 0) {
        pick = s;
        continue;
      }
      const dn = (descendants[s] as number) - (descendants[pick] as number);
      const share = (p.scaleFactor[s] as number) - (p.scaleFactor[pick] as number);
      if (dn > 0 || (dn === 0 && share < 0)) pick = s;
    }
    placed[pick] = 1;
    order.push(pick);
  }
  return order;
}

class BranchAndBound {
  readonly parts: PartCheck;
  best: Evaluation | undefined;
  /** The lowest SLO-percentile latency of a complete combination run to the end (for infeasible plans). */
  lowestMs = Infinity;
  private readonly ctx: PlanningContext;
  private readonly lists: readonly (readonly Choice[])[];
  private readonly order: readonly number[];
  /** restMin[i]: the least the stages from position i on can cost. */
  private readonly restMin: Float64Array;
  private readonly maxWork: number;
  private readonly config: Record<string, StageConfig> = {};
  private readonly mask: Uint8Array;
  private readonly floors: Float64Array;
  private readonly fastest: Float64Array;
  /** Per stage: 1 where its closure is smaller than the part chosen when it is placed. */
  private readonly partial: Uint8Array;
  /** Per position: the stages after it whose upstream is all chosen by then. */
  private readonly ready: readonly (readonly number[])[];
  /** Per stage: its cheapest choice's cost. */
  private readonly leastOf: readonly number[];
  private ceiling = Infinity;
  private leastCut = Infinity;
  private outOfBudget = false;

  constructor(ctx: PlanningContext, lists: readonly (readonly Choice[])[], maxWork: number) {
    this.ctx = ctx;
    this.lists = lists;
    // The fastest choice left to each stage (the unaffordable are gone): a stand-in need be no
    // faster, and the latency-floor screen takes it for the stages not chosen yet.
    this.fastest = Float64Array.from(lists, (l) => l.reduce((m, c) => Math.min(m, c.floorMs), Infinity));
    this.parts = new PartCheck(ctx, Array.from(this.fastest));
    this.order = searchOrder(ctx, this.parts);
    const S = lists.length;
    this.restMin = new Float64Array(S + 1);
    for (let i = S - 1; i >= 0; i--) this.restMin[i] = (this.restMin[i + 1] as number) + ((lists[this.order[i] as number] as Choice[])[0] as Choice).cost;
    this.maxWork = maxWork;
    this.mask = new Uint8Array(S);
    this.floors = Float64Array.from(this.fastest);
    this.leastOf = lists.map((l) => (l[0] as Choice).cost);
    // A stage's closure is worth its own check where it is not the whole part chosen by then; and
    // after each position, the stages not yet chosen whose upstream all is (lookAhead).
    const placed = new Uint8Array(S);
    this.partial = new Uint8Array(S);
    this.ready = this.order.map((s, i) => {
      placed[s] = 1;
      const closure = this.parts.closure[s] as Uint8Array;
      for (let u = 0; u < S; u++) if (placed[u] && !closure[u]) this.partial[s] = 1;
      return this.order.slice(i + 1).filter((u) => {
        const up = this.parts.closure[u] as Uint8Array;
        for (let w = 0; w < S; w++) if (w !== u && up[w] && !placed[w]) return false;
        return true;
      });
    });
  }

  /**
   * Visits every combination cheaper than `ceiling` (lowered to the cost of a feasible one when
   * found). `leastCut`: the least cost of a combination the pass did not visit.
   */
  pass(ceiling: number): { complete: boolean; leastCut: number } {
    this.ceiling = this.best ? Math.min(ceiling, this.best.costPerHour) : ceiling;
    this.leastCut = Infinity;
    this.visit(0, 0, undefined);
    return { complete: !this.outOfBudget, leastCut: this.leastCut };
  }

  private visit(i: number, cost: number, from: (() => PartRun | undefined) | undefined): void {
    const S = this.order.length;
    const s = this.order[i] as number;
    const name = this.ctx.stageName(s);
    for (const c of this.lists[s] as Choice[]) {
      const least = cost + c.cost + (this.restMin[i + 1] as number);
      if (least >= this.ceiling - EPS) {
        this.leastCut = Math.min(this.leastCut, least);
        break;
      }
      if (this.parts.work >= this.maxWork) {
        this.outOfBudget = true;
        return;
      }
      this.config[name] = c.config;
      this.floors[s] = c.floorMs;
      this.mask[s] = 1;
      // The latency floors alone (no run) first; then the part's run.
      if (!this.ctx.floor.fits(this.floors)) {
        this.ctx.screened++;
      } else if (this.partial[s] && !this.parts.closureAdmits(s, this.config, from)) {
        // The stage's own closure (shared by the combinations that differ only elsewhere) misses.
      } else if (i === S - 1) {
        this.complete(from);
      } else {
        const v = this.parts.check(this.mask, this.config, from);
        if (v.ok) {
          // The record the next stage's checks replay: this run's, or (a verdict remembered from
          // an earlier pass) a new run's, made only if one of them has to run.
          let made: PartRun | undefined = v.record ? { record: v.record, mask: this.mask.slice() } : undefined;
          const mask = this.mask.slice();
          const config = { ...this.config };
          const next = (): PartRun | undefined => (made ??= this.parts.rerun(mask, config, from?.()));
          const least = this.lookAhead(i, cost + c.cost, next);
          if (least >= this.ceiling - EPS) this.leastCut = Math.min(this.leastCut, least);
          else this.visit(i + 1, cost + c.cost, next);
        }
      }
      this.mask[s] = 0;
      this.floors[s] = this.fastest[s] as number;
      if (this.outOfBudget) return;
    }
  }

  /**
   * The least the whole combination can cost, the first i + 1 stages chosen at `cost`: every stage
   * not yet chosen whose upstream is all chosen costs at least its cheapest choice whose closure
   * (it and that upstream) leaves the SLO reachable (forward checking); the others their cheapest.
   * Stops once it reaches the ceiling.
   */
  private lookAhead(i: number, cost: number, from: () => PartRun | undefined): number {
    let total = cost + (this.restMin[i + 1] as number);
    for (const u of this.ready[i] as number[]) {
      const others = total - (this.leastOf[u] as number);
      total = others + this.cheapestAdmitted(u, this.ceiling - others, from);
      if (total >= this.ceiling - EPS) break;
    }
    return total;
  }

  /** Stage u's cheapest choice below `limit` whose closure leaves the SLO reachable; else the cost of the first choice it did not check (Infinity: none left). */
  private cheapestAdmitted(u: number, limit: number, from: () => PartRun | undefined): number {
    const name = this.ctx.stageName(u);
    for (const c of this.lists[u] as Choice[]) {
      if (c.cost >= limit - EPS || this.parts.work >= this.maxWork) return c.cost;
      this.config[name] = c.config;
      if (this.parts.closureAdmits(u, this.config, from)) return c.cost;
    }
    return Infinity;
  }

  /** A complete combination: its own run, then the planner's evaluation where it meets the SLO. */
  private complete(from: (() => PartRun | undefined) | undefined): void {
    if (!this.parts.meets(this.config, from)) return;
    const ev = this.ctx.evaluate({ ...this.config });
    if (ev.percentileMs < this.lowestMs) this.lowestMs = ev.percentileMs;
    if (!ev.feasible) return;
    this.best = ev;
    this.ceiling = ev.costPerHour;
  }
}
