import { expect } from 'chai';
import { plan } from '../../src/core/planner/index.js';
import { configKey } from '../../src/core/planner/context.js';
import type { Plan, PlannerKind } from '../../src/core/planner/index.js';
import { compilePipeline } from '../../src/core/model/pipeline.js';
import { Estimator } from '../../src/core/sim/estimator.js';
import { generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import type { HardwareType, PipelineConfig, PipelineSpec, StageConfig } from '../../src/core/model/types.js';
import { ProfileSet } from '../../src/core/model/profiles.js';
import { linearProfile, pipeline, profileSet, stage } from '../helpers/pipelines.js';
import { reference } from '../helpers/reference.js';

const WORKLOAD = 'gamma:rate=150,cv=4,duration=30s';
const trace = generateTrace(parseArrivalSpec(WORKLOAD), 1);

function run(spec: PipelineSpec, hardware: readonly HardwareType[], profiles: ProfileSet, planner: PlannerKind, t = trace, maxReplicasPerStage = 64): Plan {
  return plan({ pipeline: spec, hardware, profiles, trace: t, workload: WORKLOAD, planner, options: { seed: 1, maxReplicasPerStage, exactMaxEvaluations: 20_000 } });
}

/** Re-simulates a plan independently of the planner: its claims must hold. */
function resimulate(spec: PipelineSpec, profiles: ProfileSet, p: Plan, t = trace) {
  return new Estimator(compilePipeline(spec), profiles).estimate(p.stages, t, { seed: 1, sloMs: spec.slo.latencyMs, percentile: spec.slo.percentile });
}

function costOf(hardware: readonly HardwareType[], stages: PipelineConfig): number {
  return Object.values(stages).reduce((c, s) => c + s.replicas * (hardware.find((h) => h.name === s.hardware)?.costPerHour ?? NaN), 0);
}

describe('core/planner', function () {
  this.timeout(120_000);

  describe('on the reference pipelines', () => {
    it('every greedy plan meets its SLO on the planning trace, as re-simulated independently', async () => {
      const { config, profiles } = await reference();
      for (const spec of config.pipelines) {
        const p = run(spec, config.hardware, profiles, 'greedy');
        expect(p.feasible, spec.name).to.equal(true);
        const r = resimulate(spec, profiles, p);
        expect(r.p99Ms, spec.name).to.be.at.most(spec.slo.latencyMs);
        expect(p.estimatedP99Ms, spec.name).to.equal(Math.round(r.p99Ms * 1000) / 1000);
        expect(p.costPerHour, spec.name).to.be.closeTo(costOf(config.hardware, p.stages), 1e-9);
        for (const [name, s] of Object.entries(p.stages)) {
          const st = spec.stages.find((x) => x.name === name);
          expect(st?.hardware, `${spec.name}.${name}`).to.include(s.hardware);
        }
      }
    });

    it('greedy is within 5 % of the proven exact optimum on the 2–3 stage pipelines', async () => {
      const { config, profiles } = await reference();
      const small = config.pipelines.filter((p) => p.stages.length <= 3);
      expect(small.length).to.be.at.least(2);
      for (const spec of small) {
        const greedy = run(spec, config.hardware, profiles, 'greedy');
        const exact = run(spec, config.hardware, profiles, 'exact');
        expect(exact.search.proven, spec.name).to.equal(true);
        expect(exact.feasible).to.equal(true);
        expect(exact.costPerHour, spec.name).to.be.at.most(greedy.costPerHour + 1e-9);
        expect(greedy.costPerHour / exact.costPerHour, spec.name).to.be.at.most(1.05);
        expect(resimulate(spec, profiles, exact).p99Ms).to.be.at.most(spec.slo.latencyMs);
      }
    });

    it('greedy is far cheaper than the coarse-grained baseline at a tight SLO', async () => {
      const { config, profiles } = await reference();
      const video = config.pipelines.find((p) => p.name === 'video-monitoring') as PipelineSpec;
      const tight = { ...video, slo: { ...video.slo, latencyMs: 240 } };
      const greedy = run(tight, config.hardware, profiles, 'greedy');
      const coarse = run(tight, config.hardware, profiles, 'coarse');
      expect(greedy.feasible && coarse.feasible).to.equal(true);
      expect(greedy.costPerHour / coarse.costPerHour).to.be.below(0.6);
    });

    it('the coarse baseline replicates the whole pipeline with one batch size and one hardware where allowed', async () => {
      const { config, profiles } = await reference();
      const social = config.pipelines.find((p) => p.name === 'social-media') as PipelineSpec;
      const p = run(social, config.hardware, profiles, 'coarse');
      const replicas = new Set(Object.values(p.stages).map((s) => s.replicas));
      expect(replicas.size).to.equal(1);
      // lang runs only on cpu; the others share one hardware type.
      const others = new Set(Object.entries(p.stages).filter(([n]) => n !== 'lang').map(([, s]) => s.hardware));
      expect(others.size).to.equal(1);
      expect(resimulate(social, profiles, p).p99Ms).to.be.at.most(social.slo.latencyMs);
    });

    it('is deterministic: the same input gives the same plan', async () => {
      const { config, profiles } = await reference();
      const spec = config.pipelines[0] as PipelineSpec;
      expect(JSON.stringify(run(spec, config.hardware, profiles, 'greedy'))).to.equal(JSON.stringify(run(spec, config.hardware, profiles, 'greedy')));
    });

    it('the lowest reachable latency counts each stage\'s hop overhead, and plans carry it into the estimate', async () => {
      const { config, profiles } = await reference();
      const spec = config.pipelines.find((p) => p.name === 'image-processing') as PipelineSpec;
      const withHops = new ProfileSet(config.profiles.map((p) => ({ ...p, hopOverheadMs: 1.5 })));
      const p = run({ ...spec, slo: { ...spec.slo, latencyMs: 10 } }, config.hardware, withHops, 'greedy');
      // 2 + 15 ms of compute and two hops of 1.5 ms.
      expect(p.search.lowestReachableMs).to.equal(20);
      const feasible = run(spec, config.hardware, withHops, 'greedy');
      const without = run(spec, config.hardware, profiles, 'greedy');
      expect(resimulate(spec, withHops, feasible).p50Ms).to.be.closeTo(resimulate(spec, profiles, feasible).p50Ms + 3, 2);
      expect(feasible.feasible && without.feasible).to.equal(true);
    });

    it('memoises a batch delay as part of the configuration', () => {
      const stages = ['a', 'b'];
      const cfg = (d?: number) => ({ a: { hardware: 'cpu', batchSize: 4, replicas: 2, ...(d !== undefined ? { batchDelayMs: d } : {}) }, b: { hardware: 'cpu', batchSize: 1, replicas: 1 } });
      expect(configKey(stages, cfg(2))).to.not.equal(configKey(stages, cfg()));
      expect(configKey(stages, cfg(0))).to.equal(configKey(stages, cfg()));
    });

    it('an unreachable SLO gives feasible: false and the lowest reachable latency', async () => {
      const { config, profiles } = await reference();
      const spec = config.pipelines.find((p) => p.name === 'image-processing') as PipelineSpec;
      const p = run({ ...spec, slo: { ...spec.slo, latencyMs: 10 } }, config.hardware, profiles, 'greedy');
      expect(p.feasible).to.equal(false);
      // preprocess L(1) = 2 ms on cpu, resnet152 L(1) = 15 ms on the fastest GPU.
      expect(p.search.lowestReachableMs).to.equal(17);
      expect(p.notes.join(' ')).to.match(/infeasible even with no queueing/);
    });

    it('records the plan\'s slack: the SLO still holds on the trace sped up by it, and not much beyond', async () => {
      const { config, profiles } = await reference();
      const spec = config.pipelines.find((p) => p.name === 'image-processing') as PipelineSpec;
      const p = run(spec, config.hardware, profiles, 'greedy');
      expect(p.slack).to.be.within(1, 4);
      const at = (k: number) => resimulate(spec, profiles, p, trace.map((t) => t / k)).p99Ms;
      expect(at(p.slack)).to.be.at.most(spec.slo.latencyMs);
      if (p.slack < 4) expect(at(p.slack * 1.05)).to.be.above(spec.slo.latencyMs);
    });

    it('records a scaling curve: each point meets the SLO on the trace sped up by its factor, and never falls', async () => {
      const { config, profiles } = await reference();
      const spec = config.pipelines.find((p) => p.name === 'video-monitoring') as PipelineSpec;
      const p = run(spec, config.hardware, profiles, 'greedy');
      expect(p.slack).to.be.below(4);
      expect(p.scaling.length).to.be.at.least(2);
      expect(p.scaling[p.scaling.length - 1]?.factor).to.equal(4);
      let prev: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(p.stages).map(([n, c]) => [n, c.replicas]));
      let prevFactor = p.slack;
      for (const pt of p.scaling) {
        expect(pt.factor).to.be.above(prevFactor);
        const stages = Object.fromEntries(Object.entries(p.stages).map(([n, c]) => [n, { ...c, replicas: pt.replicas[n] as number }]));
        for (const [n, r] of Object.entries(pt.replicas)) expect(r, `${n} at ${pt.factor}×`).to.be.at.least(prev[n] as number);
        const e = new Estimator(compilePipeline(spec), profiles).estimate(stages, trace.map((t) => t / pt.factor), { seed: 1, sloMs: spec.slo.latencyMs, percentile: spec.slo.percentile });
        expect(e.sloPercentileMs, `at ${pt.factor}×`).to.be.at.most(spec.slo.latencyMs);
        prev = pt.replicas;
        prevFactor = pt.factor;
      }
      // The point of the curve: at 4× it needs fewer replicas in all than scaling every stage by 4 / slack.
      const total = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);
      const proportional = Object.values(p.stages).reduce((a, c) => a + Math.ceil((c.replicas * 4) / p.slack), 0);
      expect(total(prev)).to.be.below(proportional);
    });

    it('an infeasible plan has no scaling curve', async () => {
      const { config, profiles } = await reference();
      const spec = { ...(config.pipelines[0] as PipelineSpec), slo: { latencyMs: 5, percentile: 99 } };
      const p = run(spec, config.hardware, profiles, 'greedy');
      expect(p.feasible).to.equal(false);
      expect(p.scaling).to.deep.equal([]);
    });

    it('the plan carries the planned envelope, from the slowest stage service time up to 60 s', async () => {
      const { config, profiles } = await reference();
      const p = run(config.pipelines[0] as PipelineSpec, config.hardware, profiles, 'greedy');
      expect(p.envelope.length).to.be.at.least(3);
      expect(p.envelope[p.envelope.length - 1]?.windowMs).to.equal(60_000);
      const rates = p.envelope.map((e) => e.rateQps);
      // Short windows see bursts: the rate over them is at least the long-run rate.
      expect(rates[0]).to.be.at.least(rates[rates.length - 1] as number);
      expect(p.envelope[p.envelope.length - 1]?.maxArrivals).to.equal(trace.length);
    });
  });

  describe('the exact search', () => {
    // Two stages, two hardware types with crossing prices, small bounds: brute force is cheap.
    const hardware: HardwareType[] = [{ name: 'cpu', costPerHour: 0.2 }, { name: 'gpu', costPerHour: 0.5 }];
    const profiles = profileSet([
      linearProfile('a', 'cpu', 8, 6, [1, 2, 4]), linearProfile('a', 'gpu', 6, 1, [1, 2, 4]),
      linearProfile('b', 'cpu', 15, 10, [1, 2, 4]), linearProfile('b', 'gpu', 8, 2, [1, 2, 4]),
    ]);
    const spec = pipeline([stage('a', { b: 0.7 }, { hardware: ['cpu', 'gpu'] }), stage('b', {}, { hardware: ['cpu', 'gpu'] })], 80);
    const small = generateTrace(parseArrivalSpec('gamma:rate=120,cv=2,duration=8s'), 3);
    const MAX = 5;

    it('finds the same optimum as brute force over every configuration', () => {
      const est = new Estimator(compilePipeline(spec), profiles);
      // Per stage, every (hardware, batch, replicas) and every batch delay the planner may set:
      // none, or ¼, ½ or all of the full batch's service time (to 0.1 ms), at batch sizes above 1.
      const choicesOf = (model: string): StageConfig[] => {
        const out: StageConfig[] = [];
        for (const hw of ['cpu', 'gpu']) {
          for (const b of [1, 2, 4]) {
            const full = profiles.get(model, hw)?.latencyMs(b) ?? NaN;
            const delays = b > 1 ? [0, ...new Set([0.25, 0.5, 1].map((f) => Math.round(full * f * 10) / 10))] : [0];
            for (let r = 1; r <= MAX; r++) for (const d of delays) out.push({ hardware: hw, batchSize: b, replicas: r, ...(d > 0 ? { batchDelayMs: d } : {}) });
          }
        }
        return out;
      };
      let best: { cost: number; p99: number } | undefined;
      for (const a of choicesOf('a')) {
        for (const b of choicesOf('b')) {
          const cost = Math.round(costOf(hardware, { a, b }) * 1e9) / 1e9;
          if (best && cost > best.cost) continue;
          const r = est.estimate({ a, b }, small, { seed: 1, sloMs: 80, percentile: 99 });
          if (r.p99Ms > 80) continue;
          if (!best || cost < best.cost || (cost === best.cost && r.p99Ms < best.p99)) best = { cost, p99: r.p99Ms };
        }
      }
      expect(best).to.not.equal(undefined);
      const exact = run(spec, hardware, profiles, 'exact', small, MAX);
      expect(exact.search.proven).to.equal(true);
      expect(exact.costPerHour).to.equal(best?.cost);
      // The search stops at the first configuration of the optimal cost (the gap is closed), not
      // at the one of lowest latency among equals: it must meet the SLO.
      expect(resimulate(spec, profiles, exact, small).p99Ms).to.be.at.most(80);
      expect(exact.lowerBound.costPerHour).to.equal(exact.costPerHour);
      const greedy = run(spec, hardware, profiles, 'greedy', small, MAX);
      expect(greedy.costPerHour).to.be.at.least(exact.costPerHour);
    });

    it('says when its budget ran out before proving optimality', async () => {
      const { config, profiles: refProfiles } = await reference();
      const video = config.pipelines.find((p) => p.name === 'video-monitoring') as PipelineSpec;
      const p = plan({ pipeline: video, hardware: config.hardware, profiles: refProfiles, trace, workload: WORKLOAD, planner: 'exact', options: { seed: 1, maxReplicasPerStage: 64, exactMaxEvaluations: 5 } });
      expect(p.search.proven).to.equal(false);
      expect(p.notes.join(' ')).to.match(/not proven optimal/);
      expect(p.feasible).to.equal(true);
    });
  });

  it('respects per-stage replica bounds and caps the batch at the largest measured size, saying so', () => {
    const hardware: HardwareType[] = [{ name: 'cpu', costPerHour: 1 }];
    const profiles = profileSet([linearProfile('a', 'cpu', 5, 2, [1, 2, 4])]);
    const spec = pipeline([stage('a', {}, { minReplicas: 3, maxReplicas: 5, maxBatch: 16 })], 200);
    const p = run(spec, hardware, profiles, 'greedy', generateTrace(parseArrivalSpec('poisson:rate=50,duration=10s'), 1));
    expect(p.stages['a']?.replicas).to.equal(3);
    expect(p.stages['a']?.batchSize).to.be.at.most(4);
    expect(p.notes.join(' ')).to.match(/maxBatch 16 capped at 4 on cpu/);
  });
});
