// Each server kind's batch-delay rule: where it counts from, and the delays it can be given.
import { expect } from 'chai';
import { applicableDelayMs, delayOriginOf, isApplicableDelay, plannedDelayMs } from '../../src/core/sim/batch-delay.js';
import type { StageServerKind } from '../../src/core/model/types.js';
import { Estimator } from '../../src/core/sim/estimator.js';
import { parsePlan } from '../../src/config/plan-file.js';
import type { InvalidInputError } from '../../src/core/model/errors.js';
import { compiled, profileSet, stage } from '../helpers/pipelines.js';
import { edited, load } from '../config/fixtures.js';

describe('core/batch-delay: each server\'s delay rule', () => {
  const cases: { server: StageServerKind | undefined; origin: string; wanted: number; applied: number; planned: number }[] = [
    { server: undefined, origin: 'oldest-request', wanted: 2.34567, applied: 2.346, planned: 2.3 },
    { server: 'triton', origin: 'payload', wanted: 2.34567, applied: 2.346, planned: 2.3 },
    { server: 'tfserving', origin: 'oldest-request', wanted: 0.0004, applied: 0, planned: 0 },
    { server: 'torchserve', origin: 'batch-start', wanted: 2.34567, applied: 2, planned: 2 },
    { server: 'torchserve', origin: 'batch-start', wanted: 2.56, applied: 3, planned: 3 },
    { server: 'torchserve', origin: 'batch-start', wanted: 0.4, applied: 0, planned: 0 },
  ];
  for (const c of cases) {
    it(`${c.server ?? 'no server named'}: ${c.wanted} ms is given as ${c.applied} ms, planned as ${c.planned} ms; counted from ${c.origin}`, () => {
      expect(delayOriginOf(c.server)).to.equal(c.origin);
      expect(applicableDelayMs(c.server, c.wanted)).to.equal(c.applied);
      expect(plannedDelayMs(c.server, c.wanted)).to.equal(c.planned);
      expect(isApplicableDelay(c.server, c.applied)).to.equal(true);
      expect(isApplicableDelay(c.server, c.planned)).to.equal(true);
    });
  }

  it('whole milliseconds only on TorchServe', () => {
    expect(isApplicableDelay('torchserve', 2.5)).to.equal(false);
    expect(isApplicableDelay('triton', 2.5)).to.equal(true);
    expect(isApplicableDelay('triton', 2.0005)).to.equal(false);
    expect(isApplicableDelay(undefined, -1)).to.equal(false);
  });

  it('the estimator simulates a stage that names TorchServe by TorchServe\'s rule, unless told otherwise', () => {
    const points = [{ batchSize: 1, latencyMs: 10 }, { batchSize: 2, latencyMs: 14 }, { batchSize: 4, latencyMs: 22 }];
    const profiles = profileSet([{ model: 'a', hardware: 'cpu', points }]);
    const cfg = { a: { hardware: 'cpu', batchSize: 4, replicas: 1, batchDelayMs: 5 } };
    const trace = Float64Array.from([0, 0.008]);
    const base = { seed: 1, sloMs: 1000, percentile: 99 };
    const named = new Estimator(compiled([{ ...stage('a'), server: 'torchserve' }]), profiles).estimate(cfg, trace, base);
    const plain = new Estimator(compiled([stage('a')]), profiles).estimate(cfg, trace, base);
    const told = new Estimator(compiled([{ ...stage('a'), server: 'torchserve' }]), profiles).estimate(cfg, trace, { ...base, delayOrigin: { a: 'oldest-request' } });
    // Under either rule q0 waits its 5 ms alone and runs 5→15. q1 (at 8) finds the replica busy
    // until 15. Oldest-request: its delay ended at 13, so it runs at once, 15→25 (latency 17).
    // Batch-start: the free replica begins forming at 15 and waits until 20, 20→30 (latency 22).
    expect(plain.maxMs).to.be.closeTo(17, 1e-9);
    expect(named.maxMs).to.be.closeTo(22, 1e-9);
    expect(told.maxMs).to.be.closeTo(17, 1e-9);
  });

  it('a stage that names Triton: a batch fixed while the replica is busy keeps what it had (the payload rule)', () => {
    const points = [{ batchSize: 1, latencyMs: 10 }, { batchSize: 8, latencyMs: 10 }];
    const profiles = profileSet([{ model: 'a', hardware: 'cpu', points }]);
    const cfg = { a: { hardware: 'cpu', batchSize: 8, replicas: 1, batchDelayMs: 2 } };
    const base = { seed: 1, sloMs: 1000, percentile: 99 };
    const triton = new Estimator(compiled([{ ...stage('a'), server: 'triton' }]), profiles);
    const trace = Float64Array.from([0, 0.003, 0.006]);
    // q0 runs 2→12. q1 (at 3) is fixed in a batch when its delay ends (5) and waits; q2 (at 6)
    // finds the batcher asleep (1 queued < 8), so it waits for the next batch, begun when q1's
    // starts (12): 12→22, then 22→32. The oldest-request rule takes q1 and q2 together at 12.
    const payload = triton.estimate(cfg, trace, base);
    expect(payload.maxMs).to.be.closeTo(26, 1e-9);
    expect(payload.stages[0]?.batches).to.equal(3);
    const greedy = triton.estimate(cfg, trace, { ...base, delayOrigin: { a: 'oldest-request' } });
    expect(greedy.maxMs).to.be.closeTo(19, 1e-9);
    expect(greedy.stages[0]?.batches).to.equal(2);
    // Eight queued wake it: a full batch is taken at once. Without a delay, the rules agree.
    const burst = Float64Array.from([0, 0.003, ...Array.from({ length: 8 }, (_, i) => 0.004 + i * 0.0001)]);
    expect(triton.estimate(cfg, burst, base).stages[0]?.batches).to.equal(3);
    const noDelay = { a: { ...cfg.a, batchDelayMs: 0 } };
    const lat = (o: { delayOrigin?: Record<string, 'oldest-request'> }): number[] => [...(triton.estimate(noDelay, burst, { ...base, ...o, recordVisits: true }).latencyMs ?? [])];
    expect(lat({})).to.deep.equal(lat({ delayOrigin: { a: 'oldest-request' } }));
  });

  it('a plan file with a delay the stage\'s server cannot be given is refused, with the reason', () => {
    const config = load(edited((c) => { c.pipelines[0].stages[1].server = 'torchserve'; }));
    const plan = (delay: number): string => JSON.stringify({
      pipeline: 'images', envelope: [{ windowMs: 1000, maxArrivals: 10, rateQps: 10 }], stages: {
        resize: { hardware: 'cpu', batchSize: 1, replicas: 1 },
        classify: { hardware: 'gpu', batchSize: 4, replicas: 1, batchDelayMs: delay },
      },
    });
    let problems: readonly { path: string; message: string }[] = [];
    try {
      parsePlan(plan(2.5), 'p.json', config);
    } catch (err) {
      problems = (err as InvalidInputError).problems;
    }
    expect(problems.map((p) => p.path)).to.deep.equal(['stages.classify.batchDelayMs']);
    expect(problems[0]?.message).to.match(/^2\.5 — must be whole milliseconds: the stage is served by torchserve/);
    expect(parsePlan(plan(3), 'p.json', config).stages['classify']?.batchDelayMs).to.equal(3);
  });
});
