import { expect } from 'chai';
import { Estimator } from '../../src/core/sim/estimator.js';
import type { Estimate, EstimateOptions } from '../../src/core/sim/estimator.js';
import { compilePipeline } from '../../src/core/model/pipeline.js';
import { generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import { RandomStream } from '../../src/core/math/random.js';
import type { ProfileOptions } from '../../src/core/model/profiles.js';
import type { PipelineConfig, PipelineSpec, StageConfig, StageSpec } from '../../src/core/model/types.js';
import { plan } from '../../src/core/planner/index.js';
import { profileSet } from '../helpers/pipelines.js';
import { reference } from '../helpers/reference.js';
import { tenStagePipeline } from '../../bench/reference.js';

interface Case {
  readonly spec: PipelineSpec;
  readonly estimator: Estimator;
  readonly trace: Float64Array;
  readonly config: Record<string, StageConfig>;
  readonly rng: RandomStream;
}

/**
 * A random DAG of 3–6 stages: each stage after the first has one or two parents among the stages
 * before it (joins), edges sometimes conditional and sometimes delayed, stages on Triton's or
 * TorchServe's batch-delay rule. Half the cases use integer latencies, no spread and integer hops,
 * so that events of different stages often fall at exactly the same time; the others add spread
 * and hop curves.
 */
function randomCase(seed: number): Case {
  const rng = new RandomStream(seed, 'sim-record');
  const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
  const pick = (n: number): number => Math.floor(rng.next() * n);
  const ties = seed % 2 === 0;
  const S = 3 + pick(4);
  const names = Array.from({ length: S }, (_, i) => `s${i}`);
  const next: { stage: string; fraction: number; delayMs?: number }[][] = names.map(() => []);
  for (let i = 1; i < S; i++) {
    const parents = new Set([pick(i)]);
    if (i > 1 && rng.next() < 0.4) parents.add(pick(i));
    for (const p of parents) {
      const fraction = rng.next() < 0.6 ? 1 : Math.round(u(0.2, 0.9) * 10) / 10;
      const delayMs = rng.next() < 0.3 ? (ties ? 1 + pick(3) : u(0.5, 3)) : undefined;
      next[p]?.push({ stage: names[i] as string, fraction, ...(delayMs !== undefined ? { delayMs } : {}) });
    }
  }
  const stages: StageSpec[] = names.map((name, i) => ({
    name, model: name, hardware: ['cpu'], next: next[i] ?? [], ...(rng.next() < 0.4 ? { server: 'torchserve' as const } : {}),
  }));
  const raw: ProfileOptions[] = names.map((name) => {
    const base = ties ? 2 + pick(6) : u(2, 8);
    const per = ties ? 1 + pick(3) : u(0.5, 3);
    const spread = !ties && rng.next() < 0.6 ? u(1.1, 1.6) : undefined;
    const hop = ties ? (rng.next() < 0.5 ? 0 : pick(3)) : Math.round(u(0, 2) * 10) / 10;
    const curve = !ties && rng.next() < 0.4 ? [{ inFlight: 1, hopOverheadMs: hop }, { inFlight: 8, hopOverheadMs: hop + u(0.5, 3) }] : undefined;
    return {
      model: name, hardware: 'cpu', hopOverheadMs: hop, ...(curve ? { hopOverheadCurve: curve } : {}),
      points: [1, 2, 4, 8].map((b) => {
        const latencyMs = base + per * b;
        return { batchSize: b, latencyMs, ...(spread ? { p99LatencyMs: latencyMs * spread } : {}) };
      }),
    };
  });
  const spec: PipelineSpec = { name: `random-${seed}`, slo: { latencyMs: 100, percentile: 99 }, stages };
  const rate = ties ? 100 + pick(200) : 40 + pick(80);
  const arrivals = generateTrace(parseArrivalSpec(`gamma:rate=${rate},cv=${rng.next() < 0.5 ? 1 : 4},duration=4s`), seed);
  // Integer-millisecond arrivals in the tie cases: arrivals and events coincide too.
  const trace = ties ? arrivals.map((t) => Math.round(t * 1000) / 1000) : arrivals;
  const config: Record<string, StageConfig> = {};
  for (const name of names) config[name] = randomStage(rng);
  return { spec, estimator: new Estimator(compilePipeline(spec), profileSet(raw)), trace, config, rng };
}

function randomStage(rng: RandomStream): StageConfig {
  const batchSize = [1, 2, 4, 8][Math.floor(rng.next() * 4)] as number;
  const delay = batchSize > 1 && rng.next() < 0.4 ? [1, 2.5, 4][Math.floor(rng.next() * 3)] : undefined;
  return { hardware: 'cpu', batchSize, replicas: 1 + Math.floor(rng.next() * 4), ...(delay !== undefined ? { batchDelayMs: delay } : {}) };
}

/** Everything an estimate reports, but the work it did (stageVisits, replayedStages) and the record. */
function outcome(e: Estimate): unknown {
  const { stageVisits: _v, replayedStages: _r, record: _rec, ...rest } = e;
  return rest;
}

const OPTIONS: EstimateOptions = { seed: 3, sloMs: 60, percentile: 99 };

describe('core/sim-record: replaying unchanged stages from an earlier run', function () {
  this.timeout(120_000);

  it('gives exactly what a full run gives, on random DAGs with joins, delayed edges, batch delays, hop curves and simultaneous events', () => {
    let replays = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const c = randomCase(seed);
      const base = c.estimator.estimate(c.config, c.trace, { ...OPTIONS, record: true });
      expect(base.record, `seed ${seed}: a completed run records`).to.not.equal(undefined);
      for (let k = 0; k < 4; k++) {
        const names = c.spec.stages.map((s) => s.name);
        const changed = names[Math.floor(c.rng.next() * names.length)] as string;
        const config: PipelineConfig = { ...c.config, [changed]: randomStage(c.rng) };
        const full = c.estimator.estimate(config, c.trace, OPTIONS);
        const replayed = c.estimator.estimate(config, c.trace, { ...OPTIONS, reuse: base.record });
        expect(outcome(replayed), `seed ${seed}, ${changed} changed`).to.deep.equal(outcome(full));
        if (replayed.replayedStages !== undefined) {
          replays++;
          expect(replayed.stageVisits, `seed ${seed}: replayed stages are not simulated`).to.be.below(full.stageVisits + 1);
        }
        // A replaying run records too, and the next run can replay from that record.
        const chained = c.estimator.estimate(config, c.trace, { ...OPTIONS, reuse: base.record, record: true });
        const again: PipelineConfig = { ...config, [names[names.length - 1] as string]: randomStage(c.rng) };
        expect(outcome(c.estimator.estimate(again, c.trace, { ...OPTIONS, reuse: chained.record })), `seed ${seed}: chained`)
          .to.deep.equal(outcome(c.estimator.estimate(again, c.trace, OPTIONS)));
      }
    }
    // Most changes leave some stage upstream untouched.
    expect(replays).to.be.above(100);
  });

  it('gives exactly what a full run gives on the reference pipelines and the 10-stage one, whose deterministic profiles make many events of parallel branches simultaneous', async () => {
    const { config, profiles } = await reference();
    const trace = generateTrace(parseArrivalSpec(config.planner.arrival), 1);
    let replays = 0;
    for (const spec of [...config.pipelines, tenStagePipeline()]) {
      const p = plan({ pipeline: spec, hardware: config.hardware, profiles, trace, workload: 'test', planner: 'greedy', options: { seed: 1, maxReplicasPerStage: 16 } });
      const estimator = new Estimator(compilePipeline(spec), profiles);
      const opts = { ...OPTIONS, sloMs: spec.slo.latencyMs };
      const base = estimator.estimate(p.stages, trace, { ...opts, record: true });
      for (const stage of spec.stages) {
        for (const d of [-1, 1]) {
          const c = p.stages[stage.name] as StageConfig;
          if (c.replicas + d < 1) continue;
          const changed: PipelineConfig = { ...p.stages, [stage.name]: { ...c, replicas: c.replicas + d } };
          const replayed = estimator.estimate(changed, trace, { ...opts, reuse: base.record });
          if (replayed.replayedStages !== undefined) replays++;
          expect(outcome(replayed), `${spec.name}: ${stage.name} ${d > 0 ? '+' : ''}${d}`).to.deep.equal(outcome(estimator.estimate(changed, trace, opts)));
        }
      }
    }
    expect(replays).to.be.above(10);
  });

  it('orders a replayed finish after a simulated one of a lower-ranked stage at the same time (a join of both)', () => {
    // r → a, r → b, a → j, b → j: a (simulated) and b (replayed) finish at the same time and both
    // make queries ready at j; a full run handles a's finish first (lower topological rank).
    const stages: StageSpec[] = [
      { name: 'r', model: 'r', hardware: ['cpu'], next: [{ stage: 'a', fraction: 1 }, { stage: 'b', fraction: 1 }] },
      { name: 'a', model: 'a', hardware: ['cpu'], next: [{ stage: 'j', fraction: 1 }] },
      { name: 'b', model: 'b', hardware: ['cpu'], next: [{ stage: 'j', fraction: 1 }] },
      { name: 'j', model: 'j', hardware: ['cpu'], next: [] },
    ];
    const latencies: Record<string, [number, number]> = { r: [2, 4], a: [4, 3], b: [4, 8], j: [2, 4] };
    const raw: ProfileOptions[] = Object.entries(latencies).map(([model, [l1, l2]]) => ({
      model, hardware: 'cpu', hopOverheadMs: 0, points: [{ batchSize: 1, latencyMs: l1 }, { batchSize: 2, latencyMs: l2 }],
    }));
    const estimator = new Estimator(compilePipeline({ name: 'join', slo: { latencyMs: 100, percentile: 99 }, stages }), profileSet(raw));
    const trace = Float64Array.from([1, 2, 3, 5, 7, 7, 9, 12, 12, 12, 15], (ms) => ms / 1000);
    const two = { hardware: 'cpu', batchSize: 2, replicas: 2 };
    const base: PipelineConfig = { r: two, a: two, b: two, j: { ...two, replicas: 1 } };
    const changed: PipelineConfig = { ...base, a: { ...two, batchSize: 1 } };
    const record = estimator.estimate(base, trace, { ...OPTIONS, record: true }).record;
    const replayed = estimator.estimate(changed, trace, { ...OPTIONS, reuse: record });
    expect(replayed.replayedStages).to.equal(2);
    expect(outcome(replayed)).to.deep.equal(outcome(estimator.estimate(changed, trace, OPTIONS)));
  });

  it('stops early on the same configurations as a full run', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const c = randomCase(seed);
      const base = c.estimator.estimate(c.config, c.trace, { ...OPTIONS, record: true });
      const last = c.spec.stages[c.spec.stages.length - 1]?.name as string;
      for (const replicas of [1, 2, 3]) {
        const config = { ...c.config, [last]: { ...(c.config[last] as StageConfig), replicas } };
        const opts = { ...OPTIONS, stopWhenInfeasible: true };
        const full = c.estimator.estimate(config, c.trace, opts);
        const replayed = c.estimator.estimate(config, c.trace, { ...opts, reuse: base.record });
        expect(replayed.stoppedEarly, `seed ${seed}`).to.equal(full.stoppedEarly);
        if (!full.stoppedEarly) expect(replayed.sloPercentileMs).to.equal(full.sloPercentileMs);
      }
    }
  });

  it('replays nothing from a record of another trace, seed or estimator, or of the same configuration', () => {
    const c = randomCase(7);
    const base = c.estimator.estimate(c.config, c.trace, { ...OPTIONS, record: true });
    const last = c.spec.stages[c.spec.stages.length - 1]?.name as string;
    const config = { ...c.config, [last]: { ...(c.config[last] as StageConfig), replicas: (c.config[last] as StageConfig).replicas + 1 } };
    expect(c.estimator.estimate(config, c.trace, { ...OPTIONS, reuse: base.record }).replayedStages).to.be.above(0);
    expect(c.estimator.estimate(config, c.trace.map((t) => t * 1.01), { ...OPTIONS, reuse: base.record }).replayedStages).to.equal(undefined);
    expect(c.estimator.estimate(config, c.trace, { ...OPTIONS, seed: 4, reuse: base.record }).replayedStages).to.equal(undefined);
    const other = randomCase(7);
    expect(other.estimator.estimate(config, other.trace, { ...OPTIONS, reuse: base.record }).replayedStages).to.equal(undefined);
    expect(c.estimator.estimate(c.config, c.trace, { ...OPTIONS, reuse: base.record }).replayedStages).to.equal(undefined);
    // A run that stopped early leaves no record.
    const stopped = c.estimator.estimate(c.config, c.trace, { ...OPTIONS, sloMs: 0.001, stopWhenInfeasible: true, record: true });
    expect(stopped.stoppedEarly).to.equal(true);
    expect(stopped.record).to.equal(undefined);
  });

  it('changing a root replays nothing; changing a sink replays every other stage', () => {
    const c = randomCase(11);
    const base = c.estimator.estimate(c.config, c.trace, { ...OPTIONS, record: true });
    const names = c.spec.stages.map((s) => s.name);
    const root = names[0] as string;
    const sinks = c.spec.stages.filter((s) => s.next.length === 0).map((s) => s.name);
    const bump = (name: string): PipelineConfig => ({ ...c.config, [name]: { ...(c.config[name] as StageConfig), replicas: (c.config[name] as StageConfig).replicas + 1 } });
    expect(c.estimator.estimate(bump(root), c.trace, { ...OPTIONS, reuse: base.record }).replayedStages).to.equal(undefined);
    for (const sink of sinks) {
      expect(c.estimator.estimate(bump(sink), c.trace, { ...OPTIONS, reuse: base.record }).replayedStages, sink).to.equal(names.length - 1);
    }
  });
});
