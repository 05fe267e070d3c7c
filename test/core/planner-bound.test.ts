import { expect } from 'chai';
import { plan } from '../../src/core/planner/index.js';
import type { Plan, PlannerKind } from '../../src/core/planner/index.js';
import { PlanningContext } from '../../src/core/planner/context.js';
import { roundCost } from '../../src/core/planner/cost.js';
import { batchDelays } from '../../src/core/planner/greedy.js';
import { gapOf } from '../../src/core/planner/bound.js';
import { PartCheck } from '../../src/core/planner/part-check.js';
import { exactPlan } from '../../src/core/planner/exact.js';
import type { Evaluation } from '../../src/core/planner/context.js';
import { compilePipeline } from '../../src/core/model/pipeline.js';
import { Estimator } from '../../src/core/sim/estimator.js';
import { generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import { RandomStream } from '../../src/core/math/random.js';
import type { HardwareType, PipelineConfig, PipelineSpec, StageConfig, StageSpec } from '../../src/core/model/types.js';
import type { ProfileOptions } from '../../src/core/model/profiles.js';
import type { ProfileSet } from '../../src/core/model/profiles.js';
import { profileSet } from '../helpers/pipelines.js';
import { reference } from '../helpers/reference.js';

const MAX_REPLICAS = 4;

interface Case {
  readonly spec: PipelineSpec;
  readonly hardware: HardwareType[];
  readonly profiles: ProfileSet;
  readonly trace: Float64Array;
}

/**
 * A random small pipeline: 2 or 3 stages (a chain or a fan-out, edges sometimes conditional), two
 * hardware types with random prices, linear profiles at batch sizes 1, 2, 4 with a random hop
 * overhead and sometimes a measured spread, a bursty trace and an SLO between tight and loose.
 */
function randomCase(seed: number): Case {
  const rng = new RandomStream(seed, 'bound-property');
  const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
  const hardware: HardwareType[] = [{ name: 'cpu', costPerHour: Math.round(u(0.1, 0.5) * 100) / 100 }, { name: 'gpu', costPerHour: Math.round(u(0.4, 1.2) * 100) / 100 }];
  const S = rng.next() < 0.5 ? 2 : 3;
  const names = ['a', 'b', 'c'].slice(0, S);
  const fanOut = S === 3 && rng.next() < 0.5;
  const stages: StageSpec[] = names.map((name, i) => {
    const next: { stage: string; fraction: number }[] = [];
    const frac = (): number => (rng.next() < 0.5 ? 1 : Math.round(u(0.2, 0.9) * 10) / 10);
    if (fanOut && i === 0) next.push({ stage: 'b', fraction: frac() }, { stage: 'c', fraction: frac() });
    else if (!fanOut && i < S - 1) next.push({ stage: names[i + 1] as string, fraction: frac() });
    return { name, model: name, hardware: ['cpu', 'gpu'], next };
  });
  const raw: ProfileOptions[] = [];
  for (const name of names) {
    for (const hw of ['cpu', 'gpu']) {
      const base = hw === 'cpu' ? u(4, 12) : u(2, 6);
      const per = hw === 'cpu' ? u(3, 8) : u(0.5, 2);
      const spread = rng.next() < 0.5 ? u(1.1, 1.6) : undefined;
      raw.push({
        model: name, hardware: hw, hopOverheadMs: Math.round(u(0, 2) * 10) / 10,
        points: [1, 2, 4].map((b) => {
          const latencyMs = Math.round((base + per * b) * 100) / 100;
          return { batchSize: b, latencyMs, ...(spread ? { p99LatencyMs: Math.round(latencyMs * spread * 100) / 100 } : {}) };
        }),
      });
    }
  }
  const rate = Math.round(u(40, 120));
  const trace = generateTrace(parseArrivalSpec(`gamma:rate=${rate},cv=${rng.next() < 0.5 ? 1 : 3},duration=5s`), seed);
  const sloMs = Math.round(u(30, 90));
  return { spec: { name: `random-${seed}`, slo: { latencyMs: sloMs, percentile: 99 }, stages }, hardware, profiles: profileSet(raw), trace };
}

function run(c: Case, planner: PlannerKind): Plan {
  return plan({ pipeline: c.spec, hardware: c.hardware, profiles: c.profiles, trace: c.trace, workload: 'random', planner, options: { seed: 1, maxReplicasPerStage: MAX_REPLICAS, exactMaxEvaluations: 5_000 } });
}

/** Every configuration the planner could choose (batch delays included), with its cost. */
function everyConfig(c: Case): { config: PipelineConfig; cost: number }[] {
  const ctx = new PlanningContext({ pipeline: compilePipeline(c.spec), profiles: c.profiles, hardware: c.hardware, trace: c.trace, options: { seed: 1, maxReplicasPerStage: MAX_REPLICAS } });
  const perStage: StageConfig[][] = c.spec.stages.map((_, s) => {
    const out: StageConfig[] = [];
    for (const hw of ['cpu', 'gpu']) {
      for (const b of [1, 2, 4]) {
        for (const d of [0, ...batchDelays(ctx, s, hw, b)]) {
          for (let r = 1; r <= MAX_REPLICAS; r++) out.push({ hardware: hw, batchSize: b, replicas: r, ...(d > 0 ? { batchDelayMs: d } : {}) });
        }
      }
    }
    return out;
  });
  let all: Record<string, StageConfig>[] = [{}];
  c.spec.stages.forEach((st, s) => {
    all = all.flatMap((partial) => (perStage[s] as StageConfig[]).map((x) => ({ ...partial, [st.name]: x })));
  });
  const price = new Map(c.hardware.map((h) => [h.name, h.costPerHour]));
  return all.map((config) => ({ config, cost: roundCost(Object.values(config).reduce((sum, x) => sum + x.replicas * (price.get(x.hardware) as number), 0)) }));
}

describe('core/planner: the lower bound on cost', function () {
  this.timeout(300_000);

  it('on random small pipelines: the bound never exceeds the proven exact optimum, and the greedy cost never falls below it', () => {
    let feasibleCases = 0;
    let tightCases = 0;
    let greedyCases = 0;
    let provenCases = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const c = randomCase(seed);
      const greedy = run(c, 'greedy');
      const exact = run(c, 'exact');
      const bound = greedy.lowerBound.costPerHour;
      if (!exact.search.proven) {
        // Out of budget: its best is still a feasible plan, which the bound may not exceed.
        expect(exact.feasible, c.spec.name).to.equal(true);
        expect(bound as number, c.spec.name).to.be.at.most(exact.costPerHour + 1e-9);
        continue;
      }
      provenCases++;
      if (!exact.feasible) {
        expect(greedy.feasible, c.spec.name).to.equal(false);
        continue;
      }
      feasibleCases++;
      expect(bound, c.spec.name).to.be.a('number');
      expect(bound as number, c.spec.name).to.be.at.most(exact.costPerHour + 1e-9);
      // The greedy can miss a feasible plan within tight replica limits (its start is a heuristic).
      if (greedy.feasible) {
        greedyCases++;
        expect(greedy.costPerHour, c.spec.name).to.be.at.least((bound as number) - 1e-9);
        expect(greedy.costPerHour, c.spec.name).to.be.at.least(exact.costPerHour - 1e-9);
        expect(greedy.lowerBound.gap, c.spec.name).to.be.closeTo(gapOf(greedy.costPerHour, bound as number), 1e-6);
      }
      // A proven exact plan reports the optimum as its bound: gap 0.
      expect(exact.lowerBound.costPerHour, c.spec.name).to.equal(exact.costPerHour);
      expect(exact.lowerBound.gap, c.spec.name).to.equal(0);
      if ((bound as number) > 0.6 * exact.costPerHour) tightCases++;
    }
    // The property is only worth its name if it was exercised: most cases must be feasible, and
    // the bound must not be trivially low.
    expect(provenCases).to.be.at.least(18);
    expect(feasibleCases).to.be.at.least(12);
    expect(greedyCases).to.be.at.least(feasibleCases - 3);
    expect(tightCases).to.be.at.least(feasibleCases / 3);
  });

  it('screens out no configuration that the estimator says meets the SLO: floors, root stages and upstream parts in isolation (brute force, batch delays included); the exact search finds the brute-force optimum, and out of budget its bound stays below it', () => {
    for (const seed of [3, 7, 11]) {
      const c = randomCase(seed);
      const compiled = compilePipeline(c.spec);
      const ctx = new PlanningContext({ pipeline: compiled, profiles: c.profiles, hardware: c.hardware, trace: c.trace, options: { seed: 1, maxReplicasPerStage: MAX_REPLICAS } });
      const est = new Estimator(compiled, c.profiles);
      const parts = new PartCheck(ctx);
      let feasible = 0;
      let screened = 0;
      let optimum = Infinity;
      let dearest: PipelineConfig | undefined;
      let dearestCost = -Infinity;
      for (const { config, cost } of everyConfig(c)) {
        const e = est.estimate(config, c.trace, { seed: 1, sloMs: c.spec.slo.latencyMs, percentile: 99, stopWhenInfeasible: true });
        const meets = !e.stoppedEarly && e.sloPercentileMs <= c.spec.slo.latencyMs && ctx.isStable(config);
        const passes = ctx.withinFloors(config) && compiled.stageNames.every((_, s) => parts.closureAdmits(s, config));
        // A whole configuration's own check is its run.
        expect(parts.meets(config), `${c.spec.name} ${JSON.stringify(config)}`).to.equal(!e.stoppedEarly && e.sloPercentileMs <= c.spec.slo.latencyMs);
        if (!passes) screened++;
        if (!meets) continue;
        feasible++;
        optimum = Math.min(optimum, cost);
        if (cost > dearestCost) {
          dearest = config;
          dearestCost = cost;
        }
        expect(passes, `${c.spec.name} ${JSON.stringify(config)}`).to.equal(true);
        expect(cost, `${c.spec.name} ${JSON.stringify(config)}`).to.be.at.least(ctx.bound.costPerHour - 1e-9);
      }
      expect(feasible, c.spec.name).to.be.greaterThan(0);
      expect(screened, c.spec.name).to.be.greaterThan(0);
      const exact = run(c, 'exact');
      expect(exact.search.proven, c.spec.name).to.equal(true);
      expect(exact.costPerHour, c.spec.name).to.be.closeTo(optimum, 1e-9);
      // From the dearest feasible configuration, or from none, it must find the optimum itself; cut
      // short at any budget, the bound it certifies is never above the optimum.
      const fresh = (): PlanningContext => new PlanningContext({ pipeline: compiled, profiles: c.profiles, hardware: c.hardware, trace: c.trace, options: { seed: 1, maxReplicasPerStage: MAX_REPLICAS } });
      const dear = fresh().evaluate(dearest as PipelineConfig);
      expect(dear.feasible, c.spec.name).to.equal(true);
      const none: Evaluation = { config: {}, costPerHour: Infinity, feasible: false, percentileMs: Infinity };
      for (const start of [dear, none]) {
        const found = exactPlan(fresh(), start, 5_000);
        expect(found.proven, c.spec.name).to.equal(true);
        expect(found.best.costPerHour, c.spec.name).to.be.closeTo(optimum, 1e-9);
      }
      let cutShort = 0;
      for (const budget of [1, 3, 10, 30, 100, 300]) {
        const cut = exactPlan(fresh(), dear, budget);
        if (!cut.proven) cutShort++;
        expect(cut.searchBound as number, `${c.spec.name} budget ${budget}`).to.be.at.most(optimum + 1e-9);
        expect(cut.best.costPerHour, `${c.spec.name} budget ${budget}`).to.be.at.least(optimum - 1e-9);
        if (cut.proven) expect(cut.best.costPerHour, `${c.spec.name} budget ${budget}`).to.be.closeTo(optimum, 1e-9);
      }
      expect(cutShort, c.spec.name).to.be.greaterThan(0);
    }
  });

  it('the exact search: from no incumbent it reaches the optimum proven from the greedy one, and cut short at any budget its bound stays at or below it (random small pipelines)', () => {
    let compared = 0;
    let cutShort = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const c = randomCase(seed);
      const compiled = compilePipeline(c.spec);
      const fresh = (): PlanningContext => new PlanningContext({ pipeline: compiled, profiles: c.profiles, hardware: c.hardware, trace: c.trace, options: { seed: 1, maxReplicasPerStage: MAX_REPLICAS } });
      const proven = run(c, 'exact');
      if (!proven.search.proven || !proven.feasible) continue;
      const none: Evaluation = { config: {}, costPerHour: Infinity, feasible: false, percentileMs: Infinity };
      const found = exactPlan(fresh(), none, 5_000);
      expect(found.best.costPerHour, c.spec.name).to.be.closeTo(proven.costPerHour, 1e-9);
      compared++;
      const incumbent = fresh().evaluate(proven.stages);
      const dear = fresh().evaluate(Object.fromEntries(Object.entries(proven.stages).map(([k, v]) => [k, { ...v, replicas: MAX_REPLICAS }])));
      for (const start of dear.feasible ? [dear] : []) {
        for (const budget of [2, 8, 32, 128]) {
          const cut = exactPlan(fresh(), start, budget);
          if (!cut.proven) cutShort++;
          expect(cut.searchBound as number, `${c.spec.name} budget ${budget}`).to.be.at.most(incumbent.costPerHour + 1e-9);
          expect(cut.best.costPerHour, `${c.spec.name} budget ${budget}`).to.be.at.least(incumbent.costPerHour - 1e-9);
        }
      }
    }
    expect(compared).to.be.at.least(20);
    expect(cutShort).to.be.at.least(10);
  });

  it('never rules out a feasible configuration by an upstream part in isolation, on 3-stage chains and fan-outs (brute force on a grid)', () => {
    const cases: Case[] = [];
    const shapes = new Set<string>();
    for (let seed = 1; seed < 200 && cases.length < 4; seed++) {
      const c = randomCase(seed);
      if (c.spec.stages.length !== 3) continue;
      const shape = c.spec.stages[0]?.next.length === 2 ? 'fan-out' : 'chain';
      if (cases.filter((x) => (x.spec.stages[0]?.next.length === 2 ? 'fan-out' : 'chain') === shape).length >= 2) continue;
      shapes.add(shape);
      cases.push(c);
    }
    expect([...shapes].sort()).to.deep.equal(['chain', 'fan-out']);
    for (const c of cases) {
      const compiled = compilePipeline(c.spec);
      const ctx = new PlanningContext({ pipeline: compiled, profiles: c.profiles, hardware: c.hardware, trace: c.trace, options: { seed: 1, maxReplicasPerStage: MAX_REPLICAS } });
      const est = new Estimator(compiled, c.profiles);
      const parts = new PartCheck(ctx);
      const grid = (s: number): StageConfig[] => {
        const out: StageConfig[] = [];
        for (const hw of ['cpu', 'gpu']) {
          for (const b of [1, 4]) {
            for (const d of [0, ...batchDelays(ctx, s, hw, b).slice(0, 1)]) for (let r = 1; r <= 3; r++) out.push({ hardware: hw, batchSize: b, replicas: r, ...(d > 0 ? { batchDelayMs: d } : {}) });
          }
        }
        return out;
      };
      const [a, b, cc] = compiled.stageNames as [string, string, string];
      let feasible = 0;
      let ruledOut = 0;
      for (const x of grid(0)) {
        for (const y of grid(1)) {
          for (const z of grid(2)) {
            const config = { [a]: x, [b]: y, [cc]: z };
            // Every stage's own part short of the whole pipeline (the whole one is the configuration's run).
            const admitted = compiled.stageNames.every((_, s) => (parts.closure[s] as Uint8Array).every((m) => m === 1) || parts.closureAdmits(s, config));
            if (!admitted) ruledOut++;
            const e = est.estimate(config, c.trace, { seed: 1, sloMs: c.spec.slo.latencyMs, percentile: 99, stopWhenInfeasible: true });
            if (e.stoppedEarly || e.sloPercentileMs > c.spec.slo.latencyMs) continue;
            feasible++;
            expect(admitted, `${c.spec.name} ${JSON.stringify(config)}`).to.equal(true);
          }
        }
      }
      expect(feasible, c.spec.name).to.be.greaterThan(0);
      expect(ruledOut, c.spec.name).to.be.greaterThan(0);
    }
  });

  it('holds with a hop overhead and a spread that make the fastest batch faster than its median', () => {
    // One stage, batch 1 only, 10 ms median with a wide spread: the floor is below 10 ms, so an
    // SLO of 9 ms is not ruled out by the floor (the bound stays finite), while one of 1 ms is.
    const hardware: HardwareType[] = [{ name: 'cpu', costPerHour: 1 }];
    const profiles = profileSet([{ model: 'a', hardware: 'cpu', hopOverheadMs: 0.5, points: [{ batchSize: 1, latencyMs: 10, p99LatencyMs: 20 }] }]);
    const spec = (sloMs: number): PipelineSpec => ({ name: 'one', slo: { latencyMs: sloMs, percentile: 99 }, stages: [{ name: 'a', model: 'a', hardware: ['cpu'], next: [] }] });
    const t = generateTrace(parseArrivalSpec('poisson:rate=20,duration=5s'), 1);
    const c = (sloMs: number): Case => ({ spec: spec(sloMs), hardware, profiles, trace: t });
    expect(run(c(9), 'greedy').lowerBound.costPerHour).to.be.a('number');
    const none = run(c(1), 'greedy');
    expect(none.lowerBound.costPerHour).to.equal(null);
    expect(none.lowerBound.gap).to.equal(null);
    expect(none.feasible).to.equal(false);
  });

  it('takes the least hop of the hop curve as the floor\'s hop (a curve that grows with the requests in flight)', () => {
    const hardware: HardwareType[] = [{ name: 'cpu', costPerHour: 1 }];
    const profiles = profileSet([{
      model: 'a', hardware: 'cpu', hopOverheadCurve: [{ inFlight: 1, hopOverheadMs: 2 }, { inFlight: 4, hopOverheadMs: 8 }],
      points: [{ batchSize: 1, latencyMs: 10 }],
    }]);
    const spec: PipelineSpec = { name: 'one', slo: { latencyMs: 100, percentile: 99 }, stages: [{ name: 'a', model: 'a', hardware: ['cpu'], next: [] }] };
    const t = generateTrace(parseArrivalSpec('poisson:rate=20,duration=5s'), 1);
    const ctx = new PlanningContext({ pipeline: compilePipeline(spec), profiles, hardware, trace: t, options: { seed: 1, maxReplicasPerStage: 4 } });
    expect(ctx.stageOptions[0]?.[0]?.leastHopMs).to.equal(2);
    expect(ctx.stageOptions[0]?.[0]?.floorMs).to.be.closeTo(12, 1e-9);
  });

  it('reports the bound and the gap on the reference pipelines, and the bound alone proves image-processing optimal', async () => {
    const { config, profiles } = await reference();
    const t = generateTrace(parseArrivalSpec(config.planner.arrival), config.planner.seed);
    for (const spec of config.pipelines) {
      const p = plan({ pipeline: spec, hardware: config.hardware, profiles, trace: t, workload: 'w', planner: 'greedy', options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage } });
      expect(p.lowerBound.by, spec.name).to.equal('relaxation');
      expect(p.lowerBound.costPerHour as number, spec.name).to.be.greaterThan(0).and.at.most(p.costPerHour + 1e-9);
      expect(Object.keys(p.lowerBound.stages), spec.name).to.deep.equal(spec.stages.map((s) => s.name));
      if (spec.name === 'image-processing') expect(p.lowerBound.gap).to.equal(0);
    }
  });
});
