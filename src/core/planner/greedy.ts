// InferLine's planner: a constrained greedy search (reference/inferline.md, "Planner").
// 1. Initialise each stage on its fastest hardware at batch 1, then add replicas to the bottleneck
//    stage until the estimator's SLO percentile on the planning trace meets the SLO.
// 2. Repeatedly apply the cost-reducing action that saves the most while still meeting the SLO:
//    raise a stage's batch size (then drop the replicas this makes unnecessary), remove a replica,
//    or move a stage to cheaper hardware (re-choosing batch size and fewest replicas).
// (ours) Raising the batch tries every larger measured size, not only the next, so a saving two
// steps away is not missed; hardware moves keep the fewest replicas that meet the SLO rather than
// only the fewest that keep the stage stable. Actions are tried in order of the most they could
// save, and the scan stops when no remaining action could beat the best found: same result, fewer
// simulations. Ties: lower SLO-percentile latency, then stage order.
// (ours) No action goes below the replicas the cost bound's floors allow (bound.ts): those
// configurations cannot meet the SLO, and the tighter floor also tightens each action's bound.
// (ours) When no action lowers the cost, the search looks one step further: the cost-neutral batch
// increase that lowers the latency most, followed by the best cost-reducing action from there. A
// bigger batch upstream often drains the queue that kept a downstream stage from shedding a
// replica, a saving no single cost-reducing step reaches. Each accepted step lowers the cost, so
// the search ends.
import type { Evaluation, PlanningContext, StageOption } from './context.js';
import { better } from './context.js';
import { roundCost } from './cost.js';
import type { SearchOutcome } from './outcome.js';
import type { PipelineConfig, StageConfig } from '../model/types.js';
import { plannedDelayMs } from '../sim/batch-delay.js';

export function greedyPlan(ctx: PlanningContext): SearchOutcome {
  const init = initialise(ctx);
  if (!init.feasible) return init;
  let current = init.best;
  for (;;) {
    // Every action changes one stage: the others replay from the current configuration's run.
    ctx.setBase(current);
    let next = bestAction(ctx, current);
    if (!next) {
      // Stuck: one cost-neutral step that lowers latency, kept only if it opens a saving.
      const neutral = bestNeutralAction(ctx, current);
      if (neutral) ctx.setBase(neutral);
      next = neutral && bestAction(ctx, neutral);
    }
    if (!next) {
      // Still stuck: a batch delay (fuller batches at the cost of a wait) that lets a stage drop replicas.
      ctx.setBase(current);
      next = bestDelayAction(ctx, current);
    }
    if (!next) break;
    current = next;
  }
  return { best: current, feasible: true, notes: init.notes };
}

/** The fastest hardware at batch 1 for each stage; replicas added to the bottleneck until feasible. */
export function initialise(ctx: PlanningContext): SearchOutcome {
  const S = ctx.pipeline.stageNames.length;
  const config: Record<string, StageConfig> = {};
  const chosen: StageOption[] = [];
  for (let s = 0; s < S; s++) {
    const opts = ctx.stageOptions[s] ?? [];
    // Options come in batch order per hardware, so the first of the fastest hardware is its
    // smallest measured batch (batch 1 wherever it was measured).
    let pick: StageOption | undefined;
    for (const o of opts) {
      const visit = o.latency1Ms + o.hopMs;
      const best = pick ? pick.latency1Ms + pick.hopMs : Infinity;
      if (!pick || visit < best || (visit === best && o.price < pick.price)) pick = o;
    }
    if (!pick) throw new Error(`stage ${ctx.stageName(s)} has no usable profile (validate first)`);
    chosen.push(pick);
    // Below the bound's floors (bound.ts) no configuration meets the SLO: start there.
    const fewest = ctx.fewestAllowed(s, pick);
    config[ctx.stageName(s)] = { hardware: pick.hardware, batchSize: pick.batchSize, replicas: fewest <= pick.maxReplicas ? fewest : pick.minReplicas };
  }

  // No plan beats one visit per stage with no queueing: batch-1 latency plus the hop overhead.
  const boundMs = slowestPathMs(ctx, chosen.map((o) => o.latency1Ms + o.hopMs));
  if (boundMs > ctx.sloMs) {
    const best = ctx.evaluate(config);
    return {
      best, feasible: false, lowestReachableMs: boundMs,
      notes: [`the SLO (${ctx.sloMs} ms) is below the batch-1 latency of the slowest path (${round(boundMs)} ms): infeasible even with no queueing`],
    };
  }

  let lowest = Infinity;
  for (;;) {
    const ev = ctx.evaluate(config);
    lowest = Math.min(lowest, ev.percentileMs);
    if (ev.feasible) return { best: ev, feasible: true, notes: [] };
    // The bottleneck: lowest replicas × throughput / scale factor, among stages that may grow.
    let bottleneck = -1;
    let lowestCapacity = Infinity;
    for (let s = 0; s < S; s++) {
      const c = config[ctx.stageName(s)] as StageConfig;
      const o = chosen[s] as StageOption;
      if (c.replicas >= o.maxReplicas) continue;
      const capacity = (c.replicas * 1000) / o.latency1Ms / Math.max(ctx.pipeline.scaleFactor[s] as number, 1e-12);
      if (capacity < lowestCapacity) {
        lowestCapacity = capacity;
        bottleneck = s;
      }
    }
    if (bottleneck < 0) {
      return {
        best: ev, feasible: false, lowestReachableMs: lowest,
        notes: ['every stage reached its replica limit before the SLO was met (raise planner.maxReplicasPerStage or the stage maxReplicas)'],
      };
    }
    const name = ctx.stageName(bottleneck);
    const c = config[name] as StageConfig;
    config[name] = { ...c, replicas: c.replicas + 1 };
  }
}

interface Action {
  readonly stage: number;
  readonly option: StageOption;
  readonly lo: number;
  readonly hi: number;
  /** The most this action could save: current stage cost − its cheapest stable cost. */
  readonly bound: number;
  readonly order: number;
}

function bestAction(ctx: PlanningContext, current: Evaluation): Evaluation | undefined {
  const actions: Action[] = [];
  ctx.pipeline.stageNames.forEach((name, s) => {
    const c = current.config[name] as StageConfig;
    const price = ctx.price(c.hardware);
    const stageCost = c.replicas * price;
    for (const o of ctx.stageOptions[s] ?? []) {
      let hi: number;
      if (o.hardware === c.hardware && o.batchSize === c.batchSize) hi = c.replicas - 1; // remove a replica
      else if (o.hardware === c.hardware && o.batchSize > c.batchSize) hi = c.replicas - 1; // raise the batch
      else if (o.hardware !== c.hardware && o.price < price) hi = Math.ceil(stageCost / o.price) - 1; // cheaper hardware
      else continue;
      hi = Math.min(hi, o.maxReplicas);
      while (hi >= 1 && hi * o.price >= stageCost) hi--;
      const lo = o.hardware === c.hardware && o.batchSize === c.batchSize ? hi : ctx.fewestAllowed(s, o);
      if (hi < 1 || lo > hi || lo < ctx.fewestAllowed(s, o)) continue;
      actions.push({ stage: s, option: o, lo, hi, bound: roundCost(stageCost - lo * o.price), order: actions.length });
    }
  });
  actions.sort((a, b) => b.bound - a.bound || a.order - b.order);

  let best: Evaluation | undefined;
  let bestStage = Infinity;
  for (const a of actions) {
    const bestSaving = best ? roundCost(current.costPerHour - best.costPerHour) : 0;
    if (a.bound < bestSaving) break;
    // Replicas past those that save as much as the best so far cannot win (an equal saving can, on latency).
    const stageCost = (current.config[ctx.stageName(a.stage)] as StageConfig).replicas * ctx.price((current.config[ctx.stageName(a.stage)] as StageConfig).hardware);
    let hi = a.hi;
    while (hi >= a.lo && roundCost(stageCost - hi * a.option.price) < bestSaving) hi--;
    if (hi < a.lo) continue;
    const ev = ctx.fewestReplicas(current.config, a.stage, { hardware: a.option.hardware, batchSize: a.option.batchSize }, a.lo, hi);
    if (!ev || !ev.feasible || ev.costPerHour >= current.costPerHour) continue;
    if (!best || ev.costPerHour < best.costPerHour ||
      (ev.costPerHour === best.costPerHour && (ev.percentileMs < best.percentileMs ||
        (ev.percentileMs === best.percentileMs && a.stage < bestStage)))) {
      best = ev;
      bestStage = a.stage;
    }
  }
  return best;
}

/** The same replicas at a larger batch size on one stage, where that lowers the SLO-percentile latency most. */
function bestNeutralAction(ctx: PlanningContext, current: Evaluation): Evaluation | undefined {
  let best: Evaluation | undefined;
  ctx.pipeline.stageNames.forEach((name, s) => {
    const c = current.config[name] as StageConfig;
    for (const o of ctx.stageOptions[s] ?? []) {
      if (o.hardware !== c.hardware || o.batchSize <= c.batchSize || c.replicas < o.minReplicas) continue;
      const ev = ctx.evaluate({ ...current.config, [name]: { ...c, batchSize: o.batchSize } });
      if (ev.feasible && ev.percentileMs < current.percentileMs && (!best || ev.percentileMs < best.percentileMs)) best = ev;
    }
  });
  return best;
}

/** Batch delays the planner tries on a stage, as fractions of the service time of its max batch. */
const DELAY_FRACTIONS = [0.25, 0.5, 1] as const;

/** The batch delays (ms, > 0, as the stage's server can be given them) the planner may give a stage at (hardware, batch size); none at batch 1. */
export function batchDelays(ctx: PlanningContext, s: number, hardware: string, batchSize: number): number[] {
  if (batchSize <= 1) return [];
  const table = ctx.estimator.serviceTable(s, hardware, batchSize);
  const full = table[table.length - 1] as number;
  const out: number[] = [];
  for (const f of DELAY_FRACTIONS) {
    const delay = plannedDelayMs(ctx.pipeline.spec.stages[s]?.server, full * f);
    if (delay > 0 && !out.includes(delay)) out.push(delay);
  }
  return out;
}

/**
 * The batch delay on one stage that lets it run with the fewest replicas (and the lowest cost)
 * while the SLO holds: a free replica then waits for fuller batches, so each replica serves more.
 * (ours) At its batch size or the next larger one on the same hardware: a delay pays most where the batch
 * it waits for is bigger, and neither step alone saves a replica (search-ranking at 150 ms:
 * explain from 3 replicas at batch 2 to 2 at batch 4 with a quarter-batch delay). Tried in order
 * of the most each could save, stopping when none left could beat the best found. Only stages that
 * have a replica to give up are tried.
 */
function bestDelayAction(ctx: PlanningContext, current: Evaluation): Evaluation | undefined {
  const tries: { s: number; choice: Omit<StageConfig, 'replicas'>; lo: number; hi: number; saving: number; order: number }[] = [];
  ctx.pipeline.stageNames.forEach((name, s) => {
    const c = current.config[name] as StageConfig;
    if (c.replicas <= 1) return;
    // Its batch size and the next larger one (at batch 1, which takes no delay: the two smallest above it).
    const sizes = (ctx.stageOptions[s] ?? []).filter((o) => o.hardware === c.hardware && o.batchSize >= Math.max(2, c.batchSize)).slice(0, 2);
    for (const o of sizes) {
      const lo = ctx.fewestAllowed(s, o);
      if (lo > c.replicas - 1) continue;
      for (const delay of batchDelays(ctx, s, o.hardware, o.batchSize)) {
        if (o.batchSize === c.batchSize && delay === (c.batchDelayMs ?? 0)) continue;
        tries.push({ s, choice: { hardware: o.hardware, batchSize: o.batchSize, batchDelayMs: delay }, lo, hi: c.replicas - 1, saving: roundCost((c.replicas - lo) * o.price), order: tries.length });
      }
    }
  });
  tries.sort((a, b) => b.saving - a.saving || a.order - b.order);
  let best: Evaluation | undefined;
  for (const t of tries) {
    if (best && roundCost(current.costPerHour - t.saving) > best.costPerHour) break;
    let ev = fewestSaving(ctx, current.config, t);
    if (!ev) {
      // The delayed stage hands its batches on in clumps: children that take one query at a time
      // queue them. The same try with those children batching (same hardware and replicas).
      const batched = batchingChildren(ctx, current.config, t.s);
      if (batched) ev = fewestSaving(ctx, batched, t);
    }
    if (ev && ev.costPerHour < current.costPerHour && (!best || better(ev, best))) best = ev;
  }
  return best;
}

/**
 * The fewest replicas in [lo, hi] that meet the SLO with stage s at `choice`, tried at hi first:
 * most tries fail even there, and then one simulation says so (fewestReplicas climbs from lo).
 */
function fewestSaving(ctx: PlanningContext, config: PipelineConfig, t: { s: number; choice: Omit<StageConfig, 'replicas'>; lo: number; hi: number }): Evaluation | undefined {
  const top = ctx.evaluate({ ...config, [ctx.stageName(t.s)]: { ...t.choice, replicas: t.hi } });
  if (!top.feasible) return undefined;
  return ctx.fewestReplicas(config, t.s, t.choice, t.lo, t.hi);
}

/** `config` with stage s's children that run at batch 1 moved to their next batch size (no cost change); undefined when none can. */
function batchingChildren(ctx: PlanningContext, config: PipelineConfig, s: number): PipelineConfig | undefined {
  const p = ctx.pipeline;
  let out: Record<string, StageConfig> | undefined;
  for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) {
    const child = p.edgeTo[k] as number;
    const name = ctx.stageName(child);
    const c = config[name] as StageConfig;
    if (c.batchSize !== 1) continue;
    const next = (ctx.stageOptions[child] ?? []).find((o) => o.hardware === c.hardware && o.batchSize > 1 && c.replicas >= ctx.fewestAllowed(child, o));
    if (!next) continue;
    out ??= { ...config };
    out[name] = { ...c, batchSize: next.batchSize };
  }
  return out;
}

/** The largest sum of per-stage latencies (plus edge delays) along any path from a root. */
export function slowestPathMs(ctx: PlanningContext, stageLatencyMs: readonly number[]): number {
  const p = ctx.pipeline;
  const finish = new Float64Array(p.stageNames.length);
  let worst = 0;
  for (let i = 0; i < p.order.length; i++) {
    const s = p.order[i] as number;
    const f = (finish[s] as number) + (stageLatencyMs[s] as number);
    worst = Math.max(worst, f);
    for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) {
      if ((p.edgeFraction[k] as number) <= 0) continue;
      const t = p.edgeTo[k] as number;
      finish[t] = Math.max(finish[t] as number, f + (p.edgeDelayMs[k] as number));
    }
  }
  return worst;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

