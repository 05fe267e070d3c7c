// The replay's router follows the estimator's routing: the same queries take the same edges, joins
// wait for every taken branch, skipped stages pass the query on, and a failure ends a query once.
import { expect } from 'chai';
import { Estimator } from '../../src/core/sim/estimator.js';
import { QueryRouter } from '../../src/core/replay/router.js';
import { latencyErrors, latencyFigures, harnessVerdict } from '../../src/core/replay/compare.js';
import type { StageSpec } from '../../src/core/model/types.js';
import { compiled, profileSet, stage } from '../helpers/pipelines.js';

/** Runs every query through the router in topological waves; returns visits per stage. */
function visitsOf(router: QueryRouter, queries: number, S: number): number[] {
  const visits = new Array<number>(S).fill(0);
  for (let q = 0; q < queries; q++) {
    let wave = [...router.start().send];
    let done = false;
    while (wave.length > 0) {
      const next: number[] = [];
      for (const s of wave) {
        visits[s] = (visits[s] as number) + 1;
        const step = router.finish(q, s);
        next.push(...step.send);
        done ||= step.done;
      }
      wave = next;
    }
    expect(done, `query ${q} done`).to.equal(true);
  }
  return visits;
}

describe('core/replay: router and comparison', () => {
  const stages: StageSpec[] = [stage('a', { b: 0.4, c: 0.7 }), stage('b', { d: 1 }), stage('c', { d: 0.5 }), stage('d')];
  const p = compiled(stages);
  const profiles = profileSet(['a', 'b', 'c', 'd'].map((m) => ({ model: m, hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 1 }] })));
  const cfg = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, { hardware: 'cpu', batchSize: 1, replicas: 50 }]));

  it('visits each stage exactly as often as the estimator does, for the same seed', () => {
    const n = 3000;
    for (const seed of [1, 2, 99]) {
      const est = new Estimator(p, profiles).estimate(cfg, Float64Array.from({ length: n }, (_, i) => i * 0.01), { seed, sloMs: 100, percentile: 99 });
      expect(visitsOf(new QueryRouter(p, seed, n), n, 4)).to.deep.equal(est.stages.map((s) => s.visits));
    }
  });

  it('a join runs once when both branches were taken, and not at all when neither was', () => {
    const join = compiled([stage('a', { b: 1, c: 1 }), stage('b', { d: 1 }), stage('c', { d: 1 }), stage('d')]);
    expect(visitsOf(new QueryRouter(join, 1, 10), 10, 4)).to.deep.equal([10, 10, 10, 10]);
    const none = compiled([stage('a', { b: 0 }), stage('b', { c: 1 }), stage('c')]);
    expect(visitsOf(new QueryRouter(none, 1, 10), 10, 3)).to.deep.equal([10, 0, 0]);
  });

  it('a failed hop ends the query once; later answers of its other branches are ignored', () => {
    const r = new QueryRouter(compiled([stage('a', { b: 1, c: 1 }), stage('b'), stage('c')]), 1, 1);
    r.start();
    expect(r.finish(0, 0).send).to.deep.equal([1, 2]);
    expect(r.fail(0)).to.deep.equal({ send: [], done: true });
    expect(r.finish(0, 2)).to.deep.equal({ send: [], done: false });
    expect(r.fail(0).done).to.equal(false);
  });

  it('figures and errors: failed queries count as misses; errors are relative, the miss rate in points', () => {
    const f = latencyFigures(Float64Array.from([10, 20, 30, 40, 200]), 100, 1);
    expect(f.missRate).to.be.closeTo(2 / 6, 1e-12);
    const e = latencyErrors({ predicted: { p50Ms: 10, p99Ms: 100, p999Ms: 200, missRate: 0.01 }, measured: { p50Ms: 11, p99Ms: 95, p999Ms: 200, missRate: 0.02 } });
    expect(e.p50).to.be.closeTo(0.1, 1e-12);
    expect(e.p99).to.be.closeTo(-0.05, 1e-12);
    expect(e.missRatePoints).to.be.closeTo(1, 1e-12);
  });

  it('the harness verdict names each reason it is not trustworthy', () => {
    const predicted = { p50Ms: 20, p99Ms: 100 };
    const ok = { sendSlipP99Ms: 4, loopDelayP99Ms: 4.5, loadAverage: 1.2, cores: 2, failed: 0 };
    expect(harnessVerdict(ok, predicted)).to.deep.equal({ trustworthy: true, reasons: [] });
    const bad = harnessVerdict({ sendSlipP99Ms: 9, loopDelayP99Ms: 25, loadAverage: 4, cores: 2, failed: 3 }, predicted);
    expect(bad.trustworthy).to.equal(false);
    expect(bad.reasons.join('\n')).to.match(/slip 9\.00 ms > 5\.00 ms/).and.match(/delay 25\.0 ms > 5\.0 ms/).and.match(/load average 4\.00 > 2 cores/).and.match(/3 queries failed/);
    // Both allowances grow with the latencies compared: 10 % of the P50 for the slip, 5 % of the P99 for the loop.
    expect(harnessVerdict({ ...ok, sendSlipP99Ms: 9, loopDelayP99Ms: 25 }, { p50Ms: 100, p99Ms: 600 }).trustworthy).to.equal(true);
    expect(harnessVerdict({ ...ok, loopDelayP99Ms: 6 }, predicted).reasons).to.have.length(1);
  });
});
