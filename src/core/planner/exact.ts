// The exact search, to certify the greedy planner: best-first by cost over every combination of
// per-stage (hardware, batch size, replicas, batch delay), where a stage's choices are only those
// admissible under the latency floor with at least the replicas its stability and burst floors
// need (bound.ts), and the batch
// delays are those the greedy planner may set (none, or ¼, ½ or all of the full batch's service
// time). Combinations come out of a heap in non-decreasing cost, and one whose latency floors rule
// the SLO out is rejected without simulation. The search stops as soon as the gap is closed: at the
// first combination that meets the SLO (its cost is optimal), when the next combination costs as
// much as the greedy incumbent (the incumbent is optimal), or at once when the incumbent costs no
// more than the relaxation's bound. Out of budget, the cost of the cheapest combination not yet
// checked is still a lower bound (every cheaper one was checked and missed): `searchBound`.
// Optimal under the same estimator and trace, unless the budget runs out first (`proven: false`).
import type { Evaluation, PlanningContext } from './context.js';
import { roundCost } from './cost.js';
import { RootStageCheck } from './root-check.js';
import { batchDelays } from './greedy.js';
import type { SearchOutcome } from './outcome.js';
import type { StageConfig } from '../model/types.js';

interface Choice {
  readonly config: StageConfig;
  readonly cost: number;
}

interface Node {
  readonly idx: Int32Array;
  readonly cost: number;
  /** The last position incremented: children only increment positions ≥ this, so each tuple is generated once. */
  readonly last: number;
  readonly seq: number;
}

/** How many combinations screened without a simulation count as one simulation of the budget. */
const SCREENED_PER_SIMULATION = 1000;

/** Costs within this of each other are equal (prices are summed in different orders). */
const EPS = 1e-9;

export function exactPlan(ctx: PlanningContext, incumbent: Evaluation, maxEvaluations: number): SearchOutcome {
  const S = ctx.pipeline.stageNames.length;
  const upper = incumbent.feasible ? incumbent.costPerHour : Infinity;
  const bound = ctx.bound;
  if (incumbent.feasible && incumbent.costPerHour <= bound.costPerHour + EPS) {
    return { best: incumbent, feasible: true, proven: true, searchBound: incumbent.costPerHour, notes: [] };
  }
  // Per stage, admissible stable choices sorted by cost; bounded by what the incumbent leaves for this stage.
  const perStageMin: number[] = [];
  const raw: Choice[][] = [];
  const roots = new RootStageCheck(ctx);
  for (let s = 0; s < S; s++) {
    const list: Choice[] = [];
    const admissible = bound.admissible[s] ?? [];
    const fewest = bound.fewestReplicas[s] ?? [];
    (ctx.stageOptions[s] ?? []).forEach((o, i) => {
      if (!admissible[i]) return;
      const delays = [0, ...batchDelays(ctx, s, o.hardware, o.batchSize)];
      const lo = fewest[i] as number;
      for (let r = lo; r <= o.maxReplicas; r++) {
        const cost = roundCost(r * o.price);
        for (const d of delays) {
          list.push({ config: { hardware: o.hardware, batchSize: o.batchSize, replicas: r, ...(d > 0 ? { batchDelayMs: d } : {}) }, cost });
        }
        if (upper === Infinity && r - lo >= 64) break;
      }
    });
    list.sort((a, b) => a.cost - b.cost);
    raw.push(list);
  }
  // A root stage's queue sees the same arrivals whatever the other stages do: its choices that
  // alone lose more queries than the SLO allows go, checked by simulation within what the greedy
  // cost leaves them (bound.ts, root-check.ts).
  let screenedRoots = 0;
  const cheapest = raw.map((list) => list[0]?.cost ?? Infinity);
  for (let s = 0; s < S; s++) {
    if (!ctx.pipeline.isRoot[s]) continue;
    const othersMin = cheapest.reduce((a, b, i) => (i === s ? a : a + b), 0);
    const kept = (raw[s] as Choice[]).filter((c) => {
      if (upper === Infinity || c.cost + othersMin > upper + EPS) return true; // filtered below anyway
      const ok = roots.admits(s, c.config);
      if (!ok) screenedRoots++;
      return ok;
    });
    raw[s] = kept;
  }
  ctx.screened += screenedRoots;
  const rootSims = roots.simulations;
  ctx.simulations += rootSims;
  for (let s = 0; s < S; s++) {
    const list = raw[s] as Choice[];
    perStageMin.push(list[0]?.cost ?? Infinity);
  }
  const minTotal = perStageMin.reduce((a, b) => a + b, 0);
  const lists = raw.map((list, s) => list.filter((c) => c.cost + minTotal - (perStageMin[s] as number) <= upper + EPS));
  if (lists.some((l) => l.length === 0)) {
    if (incumbent.feasible) return { best: incumbent, feasible: true, proven: true, searchBound: incumbent.costPerHour, notes: [] };
    return { best: incumbent, feasible: false, proven: true, notes: ['no stable configuration whose latency floors fit the SLO exists within the replica limits'] };
  }

  const heap = new NodeHeap();
  let seq = 0;
  const costOf = (idx: Int32Array): number => {
    let c = 0;
    for (let s = 0; s < S; s++) c += ((lists[s] as Choice[])[idx[s] as number] as Choice).cost;
    return roundCost(c);
  };
  const root = new Int32Array(S);
  heap.push({ idx: root, cost: costOf(root), last: 0, seq: seq++ });

  const startSims = ctx.simulations;
  let best: Evaluation | undefined;
  let lowest: Evaluation | undefined;
  let proven = true;
  let frontier = Infinity;
  // Screened combinations cost no simulation but still time and heap: they count too, at a rate
  // of SCREENED_PER_SIMULATION to one, so a search that screens for ever still stops.
  let screenedHere = 0;
  while (heap.size > 0) {
    const node = heap.pop() as Node;
    // Nothing cheaper is left: the incumbent's cost, or the first feasible one's, is optimal.
    if (node.cost >= upper - EPS) break;
    if (best) break;
    if (ctx.simulations - startSims + roots.simulations - rootSims + screenedHere / SCREENED_PER_SIMULATION >= maxEvaluations) {
      proven = false;
      frontier = node.cost;
      break;
    }
    const config: Record<string, StageConfig> = {};
    for (let s = 0; s < S; s++) config[ctx.stageName(s)] = ((lists[s] as Choice[])[node.idx[s] as number] as Choice).config;
    // Upstream parts first: one that already loses the SLO rules out every combination sharing it.
    const ev = roots.prefixAdmits(config) ? ctx.evaluate(config) : undefined;
    if (!ev) {
      ctx.screened++;
      screenedHere++;
    }
    if (ev?.feasible) best = ev;
    if (ev && (!lowest || ev.percentileMs < lowest.percentileMs)) lowest = ev;
    for (let s = node.last; s < S; s++) {
      if ((node.idx[s] as number) + 1 >= (lists[s] as Choice[]).length) continue;
      const idx = node.idx.slice();
      idx[s] = (idx[s] as number) + 1;
      heap.push({ idx, cost: costOf(idx), last: s, seq: seq++ });
    }
  }
  ctx.simulations += roots.simulations - rootSims;
  const unproven = `exact search stopped after ${maxEvaluations} simulations: not proven optimal`;
  if (best) return { best, feasible: true, proven, searchBound: best.costPerHour, notes: [] };
  // Nothing cheaper than a feasible incumbent was found: it is the answer (optimal when proven).
  if (incumbent.feasible) {
    return { best: incumbent, feasible: true, proven, searchBound: proven ? incumbent.costPerHour : frontier, notes: proven ? [] : [unproven] };
  }
  return {
    best: incumbent, feasible: false, proven, lowestReachableMs: lowest?.percentileMs ?? Infinity,
    notes: [proven ? 'no configuration within the replica limits meets the SLO' : `exact search stopped after ${maxEvaluations} simulations without a feasible configuration`],
  };
}

/** A small binary heap of search nodes by (cost, seq). Not a hot path. */
class NodeHeap {
  private readonly items: Node[] = [];

  get size(): number {
    return this.items.length;
  }

  push(node: Node): void {
    const a = this.items;
    a.push(node);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i] as Node, a[p] as Node)) break;
      [a[i], a[p]] = [a[p] as Node, a[i] as Node];
      i = p;
    }
  }

  pop(): Node | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l] as Node, a[m] as Node)) m = l;
        if (r < a.length && less(a[r] as Node, a[m] as Node)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Node, a[i] as Node];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Node, b: Node): boolean {
  return a.cost < b.cost || (a.cost === b.cost && a.seq < b.seq);
}
