import { expect } from 'chai';
import fc from 'fast-check';
import { Estimator } from '../../src/core/sim/estimator.js';
import { hashUnit, streamKey } from '../../src/core/math/random.js';
import type { PipelineConfig, StageSpec } from '../../src/core/model/types.js';
import { compiled, evenTrace, linearProfile, profileSet, stage } from '../helpers/pipelines.js';

const opts = { seed: 1, sloMs: 100, percentile: 99 };

function single(L: number[], sizes: number[], replicas: number, batchSize: number) {
  const p = compiled([stage('a')]);
  const profiles = profileSet([{ model: 'a', hardware: 'cpu', points: sizes.map((b, i) => ({ batchSize: b, latencyMs: L[i] as number })) }]);
  const est = new Estimator(p, profiles);
  return (trace: number[]) => est.estimate({ a: { hardware: 'cpu', batchSize, replicas } }, Float64Array.from(trace), opts);
}

describe('core/estimator', () => {
  describe('hand-computed single-stage cases', () => {
    const cases: { name: string; run: () => ReturnType<ReturnType<typeof single>>; wantLatencies: number[] }[] = [
      {
        name: 'batch 1, one replica: queries queue FIFO',
        run: () => single([10], [1], 1, 1)([0, 0, 0]),
        wantLatencies: [10, 20, 30],
      },
      {
        name: 'max batch 4: three queued queries go in one batch of 3, interpolated between 2 and 4',
        // L(1)=10, L(2)=14, L(4)=22 → L(3)=18. The first query is taken alone at t=0 (no waiting).
        run: () => single([10, 14, 22], [1, 2, 4], 1, 4)([0, 0.001, 0.002, 0.003]),
        // q0: 0→10. q1..q3 queued; at 10 a batch of 3 runs for 18 → done at 28.
        wantLatencies: [10, 27, 26, 25],
      },
      {
        name: 'two replicas serve in parallel',
        run: () => single([10], [1], 2, 1)([0, 0, 0, 0]),
        wantLatencies: [10, 10, 20, 20],
      },
      {
        name: 'a free replica does not wait for a fuller batch',
        run: () => single([10, 15], [1, 2], 1, 2)([0, 0.001]),
        wantLatencies: [10, 19],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = c.run();
        const sorted = [...c.wantLatencies].sort((a, b) => a - b);
        expect(r.maxMs).to.be.closeTo(sorted[sorted.length - 1] as number, 1e-9);
        expect(r.p50Ms).to.be.closeTo(sorted[Math.ceil(sorted.length / 2) - 1] as number, 1e-9);
        expect(r.meanMs).to.be.closeTo(sorted.reduce((a, b) => a + b, 0) / sorted.length, 1e-9);
      });
    }

    it('reports batch sizes, queue delay and utilisation', () => {
      const r = single([10, 14, 22], [1, 2, 4], 1, 4)([0, 0.001, 0.002, 0.003]);
      const s = r.stages[0];
      expect(s?.batches).to.equal(2);
      expect(s?.meanBatchSize).to.equal(2);
      // Waits: q1 9 ms, q2 8 ms, q3 7 ms over 4 visits.
      expect(s?.meanQueueDelayMs).to.be.closeTo(24 / 4, 1e-9);
      // Busy 10 + 18 = 28 ms over a span of 28 ms.
      expect(s?.utilisation).to.be.closeTo(1, 1e-9);
    });
  });

  it('a join waits for every taken branch, and the query ends with its last stage', () => {
    // a → b (L 10), a → c (L 30), b → d, c → d. a and d take 5 ms.
    const stages: StageSpec[] = [stage('a', { b: 1, c: 1 }), stage('b', { d: 1 }), stage('c', { d: 1 }), stage('d')];
    const p = compiled(stages);
    const profiles = profileSet([
      { model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }] },
      { model: 'b', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10 }] },
      { model: 'c', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 30 }] },
      { model: 'd', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }] },
    ]);
    const cfg: PipelineConfig = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, { hardware: 'cpu', batchSize: 1, replicas: 1 }]));
    const r = new Estimator(p, profiles).estimate(cfg, Float64Array.from([0]), opts);
    expect(r.maxMs).to.equal(5 + 30 + 5);
    expect(r.stages.map((s) => s.visits)).to.deep.equal([1, 1, 1, 1]);
  });

  it('an edge delay is added between stages', () => {
    const stages: StageSpec[] = [{ ...stage('a'), next: [{ stage: 'b', fraction: 1, delayMs: 7 }] }, stage('b')];
    const profiles = profileSet([linearProfile('a', 'cpu', 0, 10, [1]), linearProfile('b', 'cpu', 0, 10, [1])]);
    const cfg: PipelineConfig = { a: { hardware: 'cpu', batchSize: 1, replicas: 1 }, b: { hardware: 'cpu', batchSize: 1, replicas: 1 } };
    const r = new Estimator(compiled(stages), profiles).estimate(cfg, Float64Array.from([0]), opts);
    expect(r.maxMs).to.equal(27);
  });

  it('conditional edges take their fraction of queries, independent of replica counts', () => {
    const stages = [stage('a', { b: 0.3, c: 0 }), stage('b'), stage('c')];
    const profiles = profileSet(['a', 'b', 'c'].map((m) => linearProfile(m, 'cpu', 1, 1)));
    const est = new Estimator(compiled(stages), profiles);
    const trace = evenTrace(20000, 0.001);
    const at = (replicas: number) => est.estimate(
      Object.fromEntries(['a', 'b', 'c'].map((n) => [n, { hardware: 'cpu', batchSize: 8, replicas }])), trace, opts);
    const r1 = at(1);
    const r4 = at(4);
    expect(r1.stages[1]?.visits).to.be.within(0.29 * 20000, 0.31 * 20000);
    expect(r1.stages[2]?.visits).to.equal(0);
    expect(r4.stages[1]?.visits).to.equal(r1.stages[1]?.visits);
  });

  it('the same input and seed give a byte-identical result; another seed routes differently', () => {
    const stages = [stage('a', { b: 0.5 }), stage('b')];
    const profiles = profileSet([linearProfile('a', 'cpu', 2, 1), linearProfile('b', 'cpu', 5, 2)]);
    const cfg: PipelineConfig = { a: { hardware: 'cpu', batchSize: 4, replicas: 1 }, b: { hardware: 'cpu', batchSize: 4, replicas: 1 } };
    const trace = evenTrace(5000, 0.004);
    const a = JSON.stringify(new Estimator(compiled(stages), profiles).estimate(cfg, trace, opts));
    const b = JSON.stringify(new Estimator(compiled(stages), profiles).estimate(cfg, trace, opts));
    const c = JSON.stringify(new Estimator(compiled(stages), profiles).estimate(cfg, trace, { ...opts, seed: 2 }));
    expect(a).to.equal(b);
    expect(c).to.not.equal(a);
  });

  it('stops early once the SLO percentile is certain to be missed, when asked', () => {
    const run = single([10], [1], 1, 1);
    const trace = Array.from({ length: 1000 }, () => 0);
    const full = run(trace);
    expect(full.stoppedEarly).to.equal(false);
    const p = compiled([stage('a')]);
    const est = new Estimator(p, profileSet([linearProfile('a', 'cpu', 10, 0, [1])]));
    const early = est.estimate({ a: { hardware: 'cpu', batchSize: 1, replicas: 1 } }, Float64Array.from(trace), { ...opts, stopWhenInfeasible: true });
    expect(early.stoppedEarly).to.equal(true);
    expect(early.sloMissRate).to.be.above(0.01);
    expect(full.sloMissRate).to.be.above(0.8);
  });

  describe('properties', () => {
    // Random DAGs: edges only from lower to higher index, random fractions, replicas and batches.
    const dag = fc.integer({ min: 1, max: 5 }).chain((n) => fc.record({
      n: fc.constant(n),
      edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.constantFrom(0, 0.25, 0.5, 1)), { maxLength: 8 }),
      replicas: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
      batch: fc.array(fc.constantFrom(1, 2, 3, 4, 8), { minLength: n, maxLength: n }),
      gaps: fc.array(fc.double({ min: 0, max: 0.02, noNaN: true }), { minLength: 1, maxLength: 300 }),
      seed: fc.nat(),
    }));

    it('conserves queries: every arrival completes once, and each stage serves exactly the queries routed to it', () => {
      fc.assert(fc.property(dag, ({ n, edges, replicas, batch, gaps, seed }) => {
        const names = Array.from({ length: n }, (_, i) => `s${i}`);
        const next: Record<string, number>[] = names.map(() => ({}));
        for (const [x, y, f] of edges) {
          const a = Math.min(x, y);
          const b = Math.max(x, y);
          if (a !== b) (next[a] as Record<string, number>)[`s${b}`] = f;
        }
        const stages = names.map((name, i) => stage(name, next[i]));
        const profiles = profileSet(names.map((m, i) => linearProfile(m, 'cpu', 1 + i, 0.5)));
        const cfg: PipelineConfig = Object.fromEntries(names.map((m, i) => [m, { hardware: 'cpu', batchSize: batch[i] as number, replicas: replicas[i] as number }]));
        let t = 0;
        const trace = Float64Array.from(gaps, (g) => (t += g));
        const r = new Estimator(compiled(stages), profiles).estimate(cfg, trace, { seed, sloMs: 50, percentile: 99 });
        expect(r.queries).to.equal(trace.length);
        expect(r.stoppedEarly).to.equal(false);
        // An independent replay of the routing, in topological order with no timing at all.
        const p = compiled(stages);
        const key = streamKey(seed, 'routing');
        const want = new Array<number>(n).fill(0);
        for (let q = 0; q < trace.length; q++) {
          const visited = new Array<boolean>(n).fill(false);
          for (const s of p.order) {
            if (p.isRoot[s]) visited[s] = true;
            if (!visited[s]) continue;
            want[s] = (want[s] as number) + 1;
            for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) {
              const f = p.edgeFraction[k] as number;
              if (f >= 1 || (f > 0 && hashUnit(key, q, k) < f)) visited[p.edgeTo[k] as number] = true;
            }
          }
        }
        expect(r.stages.map((s) => s.visits)).to.deep.equal(want);
        expect(r.stageVisits).to.equal(want.reduce((a, b) => a + b, 0));
        expect(r.p50Ms).to.be.at.least(Math.min(...names.map((_, i) => (p.isRoot[i] ? 1 + i + 0.5 : Infinity))) - 1e-9);
        for (const s of r.stages) {
          expect(s.visits).to.be.at.most(trace.length);
          if (s.batches > 0) expect(s.meanBatchSize).to.be.within(1, 8);
          expect(s.utilisation).to.be.within(0, 1 + 1e-9);
        }
        expect(r.p50Ms).to.be.at.most(r.p99Ms);
        expect(r.p99Ms).to.be.at.most(r.maxMs);
      }), { numRuns: 150 });
    });
  });
});
