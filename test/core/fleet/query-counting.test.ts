// What one request of each model counts for: the pipeline's queries (root models only) and each
// stage's visits. Table of pipelines, each checked against its visits per query.
import { expect } from 'chai';
import { compilePipeline } from '../../../src/core/model/pipeline.js';
import { queryCounting } from '../../../src/core/fleet/query-counting.js';
import type { PipelineSpec } from '../../../src/core/model/types.js';

type Stage = readonly [name: string, model: string, next?: readonly (readonly [string, number])[]];

function pipeline(stages: readonly Stage[]): PipelineSpec {
  return {
    name: 'p', slo: { latencyMs: 100, percentile: 99 },
    stages: stages.map(([name, model, next]) => ({ name, model, hardware: ['cpu'], next: (next ?? []).map(([stage, fraction]) => ({ stage, fraction })) })),
  };
}

const CASES: readonly { name: string; stages: readonly Stage[]; queryWeight: Record<string, number>; stageShare: Record<string, number> }[] = [
  {
    name: 'one root: its requests are the queries',
    stages: [['a', 'A', [['b', 1]]], ['b', 'B']],
    queryWeight: { A: 1 }, stageShare: { a: 1, b: 1 },
  },
  {
    name: 'two roots: each counts for half a query',
    stages: [['a', 'A', [['c', 1]]], ['b', 'B', [['c', 1]]], ['c', 'C']],
    queryWeight: { A: 0.5, B: 0.5 }, stageShare: { a: 1, b: 1, c: 1 },
  },
  {
    name: 'one model at both roots: two visits per query',
    stages: [['l', 'A', [['c', 1]]], ['r', 'A', [['c', 1]]], ['c', 'C']],
    queryWeight: { A: 0.5 }, stageShare: { l: 0.5, r: 0.5, c: 1 },
  },
  {
    name: 'a root model again later for 40 % of the queries',
    stages: [['d', 'A', [['k', 1]]], ['k', 'B', [['d2', 0.4]]], ['d2', 'A']],
    queryWeight: { A: 1 / 1.4 }, stageShare: { d: 1 / 1.4, k: 1, d2: 0.4 / 1.4 },
  },
  {
    name: 'a model only on edges never taken: its requests split evenly',
    stages: [['a', 'A', [['x', 0], ['y', 0]]], ['x', 'X'], ['y', 'X']],
    queryWeight: { A: 1 }, stageShare: { a: 1, x: 0.5, y: 0.5 },
  },
];

describe('core/fleet/query-counting: requests per model → queries and visits', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const got = queryCounting(compilePipeline(pipeline(c.stages)));
      expect([...got.queryWeight.keys()].sort()).to.deep.equal(Object.keys(c.queryWeight).sort());
      for (const [m, w] of Object.entries(c.queryWeight)) expect(got.queryWeight.get(m), m).to.be.closeTo(w, 1e-12);
      for (const [s, w] of Object.entries(c.stageShare)) expect(got.stageShare.get(s), s).to.be.closeTo(w, 1e-12);
    });
  }
});
