import { expect } from 'chai';
import { Estimator } from '../../src/core/sim/estimator.js';
import type { ClosedLoopEstimate } from '../../src/core/sim/estimator.js';
import { compilePipeline } from '../../src/core/model/pipeline.js';
import { createTuner } from '../../src/core/tuner/tuner.js';
import type { TunerPlan } from '../../src/core/tuner/tuner.js';
import { tunerController } from '../../src/core/controllers/tuner-controller.js';
import type { TunerController } from '../../src/core/controllers/tuner-controller.js';
import type { LiveLoopModel } from '../../src/core/controllers/live-loop.js';
import { lastSecondRate } from '../../src/core/controllers/live-loop.js';
import { pipeline, profileSet, stage } from '../helpers/pipelines.js';

// One stage, one replica serves 50 q/s (20 ms a query, batch 1); three replicas are planned for a
// steady 100 q/s. Arrivals: every 10 ms for the first second, then every 2.5 ms (400 q/s, a ×4
// burst beginning at 1000 ms) for two seconds. The tuner scales up as soon as it sees the burst.
const spec = pipeline([stage('a')], 1000);
const profiles = profileSet([{ model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 20 }] }]);
const WINDOWS = [100, 1000, 10_000, 60_000];
const plan: TunerPlan = {
  envelope: WINDOWS.map((windowMs) => ({ windowMs, rateQps: 100, maxArrivals: (100 * windowMs) / 1000 })),
  plannedRateQps: 100,
  stages: [{ name: 'a', plannedReplicas: 3, minReplicas: 1, maxReplicas: 20, activationDelayMs: 0, replicaThroughputQps: 50 }],
};
const trace = Float64Array.from([
  ...Array.from({ length: 100 }, (_, i) => (i * 10) / 1000),
  ...Array.from({ length: 800 }, (_, i) => (1000 + i * 2.5) / 1000),
]);

function run(liveLoop: LiveLoopModel | undefined, activationDelayMs: number): { c: TunerController; r: ClosedLoopEstimate } {
  const c = tunerController({ name: 'inferline', tuner: createTuner(plan), tickMs: 250, ...(liveLoop ? { liveLoop } : {}) });
  const r = new Estimator(compilePipeline(spec), profiles).estimateClosedLoop({ a: { hardware: 'cpu', batchSize: 1, replicas: 3 } }, trace, {
    seed: 1, sloMs: 1000, percentile: 99, controller: c, maxReplicas: { a: 20 }, activationDelayMs: { a: activationDelayMs }, timelineIntervalMs: 10,
  });
  return { c, r };
}

describe('core: the live loop in the closed-loop harness', () => {
  const loop = (scrapeIntervalMs: number, actuationDelayMs: number, scrapePhase = 0): LiveLoopModel => ({ scrapeIntervalMs, pushIntervalMs: 1000, actuationDelayMs, scrapePhase });
  // Hand-computed: when the burst is first pushed, decided on, applied on the server, and when
  // the extra capacity serves (the first 10 ms timeline point with more than 3 × 50 q/s).
  const cases: { name: string; loop: LiveLoopModel | undefined; activationMs: number; want: { push?: number; decided: number; applied?: number; serving: number } }[] = [
    // Ideal: every arrival seen at once; the tuner ticks every 250 ms from the first arrival, and
    // the tick at 1000 ms comes before the arrival at 1000 ms.
    { name: 'ideal loop: the first tick after the burst shows', loop: undefined, activationMs: 0, want: { decided: 1250, serving: 1250 } },
    // Scrapes at 100, 200, …: the one at 1100 counts 40 in [1000, 1100) against 10 expected: pushed.
    { name: '100 ms scrape: pushed and decided at the scrape after the burst', loop: loop(100, 0), activationMs: 0, want: { push: 1100, decided: 1100, applied: 1100, serving: 1100 } },
    { name: '+ 30 ms from decision to server', loop: loop(100, 30), activationMs: 0, want: { push: 1100, decided: 1100, applied: 1130, serving: 1130 } },
    { name: '+ 500 ms activation of a new replica', loop: loop(100, 30), activationMs: 500, want: { push: 1100, decided: 1100, applied: 1130, serving: 1630 } },
    // Scrapes at 250, 500, …: [1000, 1250) holds 100 against 25 expected.
    { name: '250 ms scrape', loop: loop(250, 30), activationMs: 0, want: { push: 1250, decided: 1250, applied: 1280, serving: 1280 } },
    // Scrapes at 50, 150, …: [950, 1050) holds 5 + 20 = 25 against 10 expected.
    { name: '100 ms scrape, half an interval later', loop: loop(100, 30, 0.5), activationMs: 0, want: { push: 1050, decided: 1050, applied: 1080, serving: 1080 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { c: ctl, r } = run(c.loop, c.activationMs);
      const firstUp = ctl.decisions.find((d) => d.decision.kind === 'scale');
      expect(firstUp?.tMs, 'decided').to.equal(c.want.decided);
      if (c.want.push !== undefined) {
        // The first push, then none until the burst: steady traffic is held (the heartbeat would be at 1100 too).
        expect(ctl.pushes.find((p) => p.tMs > (c.loop?.scrapeIntervalMs ?? 0) * (c.loop?.scrapePhase || 1))?.tMs, 'pushed').to.equal(c.want.push);
        expect(ctl.applied[0]?.tMs, 'applied').to.equal(c.want.applied);
      }
      const serving = r.timeline.find((p) => p.capacityQps > 150 + 1e-9);
      expect(serving?.tMs, 'serving').to.equal(c.want.serving);
      expect(r.queries).to.equal(trace.length);
    });
  }

  it('holds steady traffic between heartbeats: one push a second before the burst', () => {
    const { c } = run(loop(100, 30), 0);
    expect(c.pushes.filter((p) => p.tMs < 1000).map((p) => [p.tMs, p.reason])).to.deep.equal([[100, 'first']]);
  });

  it('same input, same seed: the same result', () => {
    const a = run(loop(100, 30, 0.3), 200);
    const b = run(loop(100, 30, 0.3), 200);
    expect(a.r).to.deep.equal(b.r);
    expect(a.c.pushes).to.deep.equal(b.c.pushes);
    expect(a.c.applied).to.deep.equal(b.c.applied);
  });

  it('lastSecondRate: the pushed counts of the last second, each spread over its span', () => {
    const ivs = [{ fromMs: 0, toMs: 900, count: 90 }, { fromMs: 900, toMs: 1000, count: 10 }, { fromMs: 1000, toMs: 1100, count: 40 }];
    expect(lastSecondRate(ivs, 1100)).to.be.closeTo(80 + 10 + 40, 1e-9); // 800 ms of the first (80), all of the others
    expect(lastSecondRate([], 1100)).to.equal(undefined);
  });
});
