// Planning over several samples of the workload (core/planner/samples.ts): which sample the plan
// is made on, what the plan reports about the others, and what it does with bad input.
import { expect } from 'chai';
import { generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import { compilePipeline } from '../../src/core/model/pipeline.js';
import { plan, samplesOfSpec } from '../../src/core/planner/index.js';
import type { Plan, PlanningSamples } from '../../src/core/planner/index.js';
import type { PipelineConfig } from '../../src/core/model/types.js';
import { Estimator } from '../../src/core/sim/estimator.js';
import { CPU, evenTrace, linearProfile, pipeline, profileSet, stage } from '../helpers/pipelines.js';

// Two stages, 5 ms + 1 ms per item at batches 1–8, SLO P99 ≤ 60 ms: replicas follow the load.
const SPEC = pipeline([stage('a', { b: 1 }), stage('b')], 60);
const PROFILES = profileSet([linearProfile('a', 'cpu', 5, 1), linearProfile('b', 'cpu', 5, 1)]);
const WORKLOAD = 'gamma:rate=200,cv=3,duration=20s';
const SPEC_OF_WORKLOAD = parseArrivalSpec(WORKLOAD);

function planOn(trace: Float64Array, samples?: PlanningSamples): Plan {
  return plan({
    pipeline: SPEC, hardware: [CPU], profiles: PROFILES, trace, workload: WORKLOAD, planner: 'greedy',
    options: { seed: 1, maxReplicasPerStage: 32 }, ...(samples ? { samples } : {}),
  });
}

function meetsOn(config: PipelineConfig, trace: Float64Array): boolean {
  const e = new Estimator(compilePipeline(SPEC), PROFILES).estimate(config, trace, { seed: 1, sloMs: 60, percentile: 99 });
  return e.sloPercentileMs <= 60;
}

const replicas = (p: Plan): number => Object.values(p.stages).reduce((n, c) => n + c.replicas, 0);

describe('core/planner/samples: planning on a hard sample of the workload', function () {
  this.timeout(60_000);
  const first = generateTrace(SPEC_OF_WORKLOAD, 1);

  it('samplesOfSpec draws the other seeds of the spec; one sample is none', () => {
    expect(samplesOfSpec(SPEC_OF_WORKLOAD, 7, 1, 0.9)).to.equal(undefined);
    const s = samplesOfSpec(SPEC_OF_WORKLOAD, 7, 3, 0.9) as PlanningSamples;
    expect(s.first).to.equal(7);
    expect(s.quantile).to.equal(0.9);
    expect(s.others.map((o) => o.seed)).to.deep.equal([8, 9]);
    expect([...(s.others[1]?.trace ?? [])]).to.deep.equal([...generateTrace(SPEC_OF_WORKLOAD, 9)]);
  });

  it('without other samples, the plan is the plan on the trace alone', () => {
    const alone = planOn(first);
    expect(alone.samples).to.equal(undefined);
    expect(planOn(first, { first: 1, others: [], quantile: 0.95 })).to.deep.equal(alone);
  });

  it('at quantile 1 plans on the hardest sample: a denser one, which needs more replicas, and records it', () => {
    const dense = generateTrace(parseArrivalSpec('gamma:rate=400,cv=3,duration=20s'), 5);
    const easy = generateTrace(parseArrivalSpec('gamma:rate=50,cv=3,duration=20s'), 6);
    const alone = planOn(first);
    const p = planOn(first, { first: 1, others: [{ seed: 5, trace: dense }, { seed: 6, trace: easy }], quantile: 1 });
    expect(p.samples).to.deep.include({ count: 3, quantile: 1, seed: 5, rank: 3 });
    expect(p.stages).to.deep.equal(planOn(dense).stages);
    expect(replicas(p)).to.be.greaterThan(replicas(alone));
    expect(p.workload.queries).to.equal(dense.length);
    expect(p.notes.join('\n')).to.match(/planned on the sample of seed 5, the hardest of 3 for the plan made on seed 1; the plan meets the SLO on 3 of 3 samples/);
    // At the lowest quantile, the easiest sample: the sparse one.
    const low = planOn(first, { first: 1, others: [{ seed: 5, trace: dense }, { seed: 6, trace: easy }], quantile: 0.01 });
    expect(low.samples).to.deep.include({ seed: 6, rank: 1 });
  });

  it('reports on how many samples the plan meets the SLO, as re-simulated independently', () => {
    const samples = samplesOfSpec(SPEC_OF_WORKLOAD, 1, 12, 0.5) as PlanningSamples;
    const p = planOn(first, samples);
    const all = [first, ...samples.others.map((o) => o.trace)];
    expect(p.samples?.meets).to.equal(all.filter((t) => meetsOn(p.stages, t)).length);
    expect(p.samples?.rank).to.equal(6);
    // A higher quantile never plans on an easier sample, so never for fewer replicas here.
    const q95 = planOn(first, { ...samples, quantile: 0.95 });
    expect(q95.samples?.rank).to.equal(12);
    expect(q95.samples?.meets).to.be.at.least(p.samples?.meets ?? 0);
    expect(replicas(q95)).to.be.at.least(replicas(p));
    // Deterministic.
    expect(planOn(first, samples)).to.deep.equal(p);
  });

  it('passes over a sample no plan can serve for the next easier one', () => {
    // 8000 queries in 40 ms: 32 replicas at batch 8 (13 ms a batch) take about 400 ms to serve them.
    const flood = evenTrace(8000, 0.000005);
    const dense = generateTrace(parseArrivalSpec('gamma:rate=400,cv=3,duration=20s'), 5);
    expect(planOn(flood).feasible).to.equal(false);
    const p = planOn(first, { first: 1, others: [{ seed: 5, trace: dense }, { seed: 9, trace: flood }], quantile: 1 });
    expect(p.feasible).to.equal(true);
    expect(p.samples).to.deep.include({ seed: 5, rank: 2, meets: 2 });
  });

  it('refuses a quantile outside (0, 1] and an empty sample, naming them', () => {
    const other = { seed: 2, trace: generateTrace(SPEC_OF_WORKLOAD, 2) };
    expect(() => planOn(first, { first: 1, others: [other], quantile: 0 })).to.throw(RangeError, /sample quantile must be in \(0, 1\], got 0/);
    expect(() => planOn(first, { first: 1, others: [other], quantile: 1.5 })).to.throw(RangeError, /got 1\.5/);
    expect(() => planOn(first, { first: 1, others: [{ seed: 3, trace: new Float64Array(0) }], quantile: 0.5 })).to.throw(RangeError, /sample of seed 3 has no arrivals/);
  });
});
