import { expect } from 'chai';
import { compilePipeline, validatePipeline } from '../../src/core/model/pipeline.js';
import type { PipelineSpec, StageSpec } from '../../src/core/model/types.js';
import { CPU, linearProfile, pipeline, profileSet, stage } from '../helpers/pipelines.js';

const profiles = profileSet(['a', 'b', 'c', 'd'].map((m) => linearProfile(m, 'cpu', 1, 1)));

describe('core/pipeline', () => {
  describe('validatePipeline', () => {
    const cases: { name: string; given: PipelineSpec; want: { path: string; match: RegExp }[] }[] = [
      { name: 'a valid chain', given: pipeline([stage('a', { b: 1 }), stage('b')]), want: [] },
      {
        name: 'a cycle, named in order',
        given: pipeline([stage('a', { b: 1 }), stage('b', { c: 1 }), stage('c', { b: 1 })]),
        want: [{ path: 'p.stages', match: /cycle: b → c → b/ }],
      },
      { name: 'a self-loop', given: pipeline([stage('a', { a: 1 })]), want: [{ path: 'p.stages[0].next[0].stage', match: /feeds itself/ }] },
      { name: 'a fraction above 1', given: pipeline([stage('a', { b: 1.5 }), stage('b')]), want: [{ path: 'p.stages[0].next[0].fraction', match: /1.5 — must be in \[0, 1\]/ }] },
      { name: 'a negative fraction', given: pipeline([stage('a', { b: -0.1 }), stage('b')]), want: [{ path: 'p.stages[0].next[0].fraction', match: /must be in \[0, 1\]/ }] },
      { name: 'an unknown next stage', given: pipeline([stage('a', { zz: 1 })]), want: [{ path: 'p.stages[0].next[0].stage', match: /unknown stage "zz"/ }] },
      { name: 'unknown hardware', given: pipeline([stage('a', {}, { hardware: ['tpu'] })]), want: [{ path: 'p.stages[0].hardware[0]', match: /unknown hardware "tpu" — must be one of: cpu/ }] },
      { name: 'no profile on any allowed hardware', given: pipeline([stage('x')]), want: [{ path: 'p.stages[0].model', match: /no profile for model "x"/ }] },
      { name: 'duplicate stage names', given: pipeline([stage('a'), stage('a')]), want: [{ path: 'p.stages[1].name', match: /duplicate stage name/ }] },
      { name: 'SLO percentile out of range', given: { ...pipeline([stage('a')]), slo: { latencyMs: 100, percentile: 100 } }, want: [{ path: 'p.slo.percentile', match: /must be in \(0, 100\)/ }] },
      { name: 'a root with incoming edges', given: { ...pipeline([stage('a', { b: 1 }), stage('b')]), roots: ['a', 'b'] }, want: [{ path: 'p.roots[1]', match: /has incoming edges/ }] },
      { name: 'a stage that would never run', given: { ...pipeline([stage('a'), stage('b')]), roots: ['a'] }, want: [{ path: 'p.roots', match: /"b" has no incoming edge but is not listed/ }] },
      {
        name: 'every problem at once',
        given: pipeline([stage('a', { b: 2, zz: 1 }), stage('b', {}, { hardware: ['tpu'] })]),
        want: [
          { path: 'p.stages[0].next[0].fraction', match: /must be in/ },
          { path: 'p.stages[0].next[1].stage', match: /unknown stage/ },
          { path: 'p.stages[1].hardware[0]', match: /unknown hardware/ },
        ],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const problems = validatePipeline(c.given, 'p', [CPU], profiles);
        expect(problems.map((p) => p.path)).to.deep.equal(c.want.map((w) => w.path));
        problems.forEach((p, i) => expect(p.message).to.match((c.want[i] as { match: RegExp }).match));
      });
    }
  });

  describe('compilePipeline', () => {
    const factors = (stages: StageSpec[]) => Array.from(compilePipeline(pipeline(stages)).scaleFactor).map((x) => Math.round(x * 1e9) / 1e9);
    const cases: { name: string; given: StageSpec[]; want: number[] }[] = [
      { name: 'a chain', given: [stage('a', { b: 1 }), stage('b', { c: 0.5 }), stage('c')], want: [1, 1, 0.5] },
      { name: 'a tree multiplies fractions along the path', given: [stage('a', { b: 0.45, c: 0.6 }), stage('b', { d: 0.5 }), stage('c'), stage('d')], want: [1, 0.45, 0.6, 0.225] },
      // A join runs once per query: visited when either branch is taken.
      { name: 'a join of two certain branches runs once', given: [stage('a', { b: 1, c: 1 }), stage('b', { d: 1 }), stage('c', { d: 1 }), stage('d')], want: [1, 1, 1, 1] },
      { name: 'a join of a conditional branch and a certain one', given: [stage('a', { b: 0.3, c: 1 }), stage('b', { c: 1 }), stage('c')], want: [1, 0.3, 1] },
      // P(d) = 1 − (1 − 0.5)(1 − 0.5) for independent branches.
      { name: 'a join of two independent conditional branches', given: [stage('a', { b: 0.5, c: 0.5 }), stage('b', { d: 1 }), stage('c', { d: 1 }), stage('d')], want: [1, 0.5, 0.5, 0.75] },
      { name: 'an edge of fraction 0 is never taken', given: [stage('a', { b: 0 }), stage('b')], want: [1, 0] },
    ];
    for (const c of cases) it(`scale factors: ${c.name}`, () => expect(factors(c.given)).to.deep.equal(c.want));

    it('orders stages topologically and finds the roots', () => {
      const p = compilePipeline(pipeline([stage('c'), stage('b', { c: 1 }), stage('a', { b: 1 })]));
      expect(Array.from(p.order)).to.deep.equal([2, 1, 0]);
      expect(Array.from(p.isRoot)).to.deep.equal([0, 0, 1]);
    });
  });
});
