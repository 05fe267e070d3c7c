import { expect } from 'chai';
import { camelCase } from '../../src/config/env.js';
import { edited, load, problemsOf } from './fixtures.js';

const PROFILE_FILE = 'profiles:\n  - { model: tokenize, hardware: cpu, points: [{ batchSize: 1, latencyMs: 1 }] }\n';

describe('config env overrides', () => {
  const base = edited(() => undefined);

  const cases: { name: string; given: NodeJS.ProcessEnv; want: Record<string, unknown> }[] = [
    { name: 'a number', given: { INFERLINE_PLANNER__SEED: '3' }, want: { seed: 3 } },
    { name: 'SNAKE_CASE to camelCase', given: { INFERLINE_PLANNER__MAX_REPLICAS_PER_STAGE: '8' }, want: { maxReplicasPerStage: 8 } },
    { name: 'a string with YAML-ish characters', given: { INFERLINE_PLANNER__ARRIVAL: 'poisson:rate=5,duration=10s' }, want: { arrival: 'poisson:rate=5,duration=10s' } },
    { name: 'several at once', given: { INFERLINE_PLANNER__SEED: '0', INFERLINE_PLANNER__EXACT_MAX_EVALUATIONS: '100' }, want: { seed: 0, exactMaxEvaluations: 100 } },
  ];
  for (const { name, given, want } of cases) {
    it(`sets ${name}, typed as the schema wants`, () => {
      expect(load(base, {}, given).planner).to.include(want);
    });
  }

  it('overrides a value written in the file', () => {
    const text = edited((c) => { c.planner = { seed: 5 }; });
    expect(load(text, {}, { INFERLINE_PLANNER__SEED: '7' }).planner.seed).to.equal(7);
  });

  it('sets a top-level key without __ (the profile file)', () => {
    const text = edited((c) => {
      c.profiles = [];
      c.pipelines[0].stages = [{ name: 't', model: 'tokenize', hardware: ['cpu'] }];
    });
    const config = load(text, { './other.yaml': PROFILE_FILE }, { INFERLINE_PROFILES: './other.yaml' });
    expect(config.profiles.map((p) => p.model)).to.deep.equal(['tokenize']);
  });

  it('leaves other INFERLINE_ variables alone', () => {
    expect(() => load(base, {}, { INFERLINE_DEBUG: '1', INFERLINE_TOKEN: 'secret' })).to.not.throw();
  });

  it('reports a bad override together with the file\'s problems', () => {
    const text = edited((c) => { c.pipelines[0].stages[1].model = 'ghost'; });
    const problems = problemsOf(text, {}, { INFERLINE_PLANNER__SEEDS: '1' });
    expect(problems.map((p) => p.path)).to.deep.equal(['INFERLINE_PLANNER__SEEDS', 'pipelines[0].stages[1].model']);
    expect(problems[0]?.message).to.match(/^planner\.seeds — must name a config setting: planner has no key "seeds" \(it has: arrival, seed,/);
  });

  it('refuses to set a key under a value that is not an object', () => {
    const problems = problemsOf(edited((c) => { c.planner = 'fast'; }), {}, { INFERLINE_PLANNER__SEED: '2' });
    expect(problems).to.deep.include({ path: 'INFERLINE_PLANNER__SEED', message: 'cannot set planner.seed — planner must be an object in the file to take an override' });
  });

  it('does not change the process environment or need it', () => {
    expect(load(base).planner.seed).to.equal(1);
  });

  it('converts key names', () => {
    expect(['SEED', 'MAX_REPLICAS_PER_STAGE', 'P99_LATENCY_MS', 'planner'].map(camelCase))
      .to.deep.equal(['seed', 'maxReplicasPerStage', 'p99LatencyMs', 'planner']);
  });
});
