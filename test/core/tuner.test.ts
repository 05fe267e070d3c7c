import { expect } from 'chai';
import fc from 'fast-check';
import { createTuner, envelopeRatio } from '../../src/core/tuner/tuner.js';
import type { TunerPlan, TunerSnapshot, TunerState } from '../../src/core/tuner/tuner.js';
import type { EnvelopePoint } from '../../src/core/envelope.js';

const WINDOWS = [100, 1000, 10_000, 60_000];
const PLANNED = [400, 200, 120, 100]; // qps per window: bursty at short windows
const env = (rates: number[]): EnvelopePoint[] => WINDOWS.map((w, i) => ({ windowMs: w, rateQps: rates[i] as number, maxArrivals: ((rates[i] as number) * w) / 1000 }));

const plan: TunerPlan = {
  envelope: env(PLANNED),
  plannedRateQps: 100,
  stages: [
    { name: 'a', plannedReplicas: 4, minReplicas: 1, maxReplicas: 20, activationDelayMs: 2000, replicaThroughputQps: 50 },
    { name: 'b', plannedReplicas: 2, minReplicas: 2, maxReplicas: 6, activationDelayMs: 0, replicaThroughputQps: 100 },
  ],
};

function snap(nowMs: number, rates: number[], replicas: Record<string, number>, recent = rates, queued?: Record<string, number>): TunerSnapshot {
  return { nowMs, envelope: env(rates), recentEnvelope: env(recent), replicas, ...(queued ? { queued } : {}) };
}

describe('core/tuner', () => {
  it('compares live and planned envelopes window by window', () => {
    expect(envelopeRatio(env([400, 200, 240, 100]), env(PLANNED))).to.deep.equal({ ratio: 2, windowMs: 10_000 });
    expect(() => envelopeRatio([{ windowMs: 5, rateQps: 1, maxArrivals: 1 }], env(PLANNED))).to.throw(/windows differ/);
  });

  describe('decide', () => {
    const tuner = createTuner(plan);
    const cases: { name: string; given: TunerSnapshot; want: string | Record<string, number> }[] = [
      { name: 'holds within the planned envelope', given: snap(1000, PLANNED, { a: 4, b: 2 }), want: 'hold' },
      { name: 'a sustained doubling doubles every stage at once', given: snap(1000, [400, 200, 240, 200], { a: 4, b: 2 }), want: { a: 8, b: 4 } },
      { name: 'a short burst above the planned one scales up too', given: snap(1000, [1000, 200, 120, 100], { a: 4, b: 2 }), want: { a: 10, b: 5 } },
      { name: 'never above maxReplicas', given: snap(1000, [400, 200, 120, 500], { a: 4, b: 2 }), want: { a: 20, b: 6 } },
      { name: 'a backlog of whole replica-drain-times adds replicas', given: snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 100, b: 10 }), want: { a: 8 } },
      { name: 'a short queue adds nothing', given: snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 20, b: 40 }), want: 'hold' },
      { name: 'below minReplicas is raised', given: snap(1000, PLANNED, { a: 4, b: 1 }), want: { b: 2 } },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { decision } = tuner.decide(c.given, tuner.initialState(0));
        if (c.want === 'hold') {
          expect(decision.kind, JSON.stringify(decision)).to.equal('hold');
        } else {
          expect(decision.kind).to.equal('scale');
          if (decision.kind === 'scale') expect(Object.fromEntries(decision.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal(c.want);
        }
      });
    }

    it('scales by live traffic relative to the plan\'s slack', () => {
      const t = createTuner({ ...plan, slack: 2 });
      const s0 = t.initialState(0);
      expect(t.decide(snap(1000, [400, 200, 120, 150], { a: 4, b: 2 }), s0).decision.kind).to.equal('hold');
      const { decision } = t.decide(snap(1000, [400, 200, 120, 300], { a: 4, b: 2 }), s0);
      expect(decision.kind === 'scale' && Object.fromEntries(decision.changes.map((c) => [c.stage, c.to]))).to.deep.equal({ a: 6, b: 3 });
    });

    it('limits a scale-up to maxStepUp per tick', () => {
      const t = createTuner(plan, { maxStepUp: 3 });
      const { decision } = t.decide(snap(1000, [400, 200, 120, 500], { a: 4, b: 2 }), t.initialState(0));
      expect(decision.kind === 'scale' && decision.changes.map((c) => c.to)).to.deep.equal([7, 5]);
    });

    it('scales down only after the need stayed lower for the delay, then one step per interval', () => {
      const t = createTuner(plan, { scaleDownDelayMs: 30_000, scaleDownIntervalMs: 5_000 });
      let state: TunerState = t.initialState(0);
      const low = [200, 100, 60, 50]; // half the planned envelope: need a=2, b=2 (min)
      const seen: { t: number; a: number }[] = [];
      let a = 4;
      for (let now = 0; now <= 60_000; now += 250) {
        const out = t.decide(snap(now, low, { a, b: 2 }), state);
        state = out.state;
        if (out.decision.kind === 'scale') {
          for (const c of out.decision.changes) if (c.stage === 'a') { a = c.to; seen.push({ t: now, a }); }
        }
      }
      expect(seen).to.deep.equal([{ t: 30_000, a: 3 }, { t: 35_000, a: 2 }]);
    });

    it('does not scale down within the delay after a scale-up has become active', () => {
      const t = createTuner(plan, { scaleDownDelayMs: 10_000 });
      let state = t.initialState(0);
      let out = t.decide(snap(1000, [400, 200, 120, 200], { a: 4, b: 2 }), state);
      expect(out.decision.kind).to.equal('scale');
      state = out.state;
      // Traffic falls right away; stage a's new replicas become active at 3000 ms (2 s delay).
      const downAt: number[] = [];
      for (let now = 1250; now <= 20_000; now += 250) {
        out = t.decide(snap(now, PLANNED, { a: 8, b: 4 }, [200, 100, 60, 50]), state);
        state = out.state;
        if (out.decision.kind === 'scale') for (const c of out.decision.changes) if (c.stage === 'a') downAt.push(now);
      }
      expect(downAt[0]).to.equal(13_000);
    });

    it('signals a replan when the sustained rate stays out of band for replanAfter, and again after as long', () => {
      const t = createTuner(plan, { replanAfterMs: 60_000 });
      let state = t.initialState(0);
      const replans: number[] = [];
      for (let now = 0; now <= 150_000; now += 1000) {
        const out = t.decide(snap(now, [400, 200, 120, 30], { a: 4, b: 2 }), state);
        state = out.state;
        if (out.decision.replan) replans.push(now);
      }
      expect(replans).to.deep.equal([60_000, 120_000]);
      const back = t.decide(snap(151_000, PLANNED, { a: 4, b: 2 }), state);
      expect(back.state.driftSinceMs).to.equal(null);
    });
  });

  describe('properties', () => {
    const step = fc.record({
      dt: fc.integer({ min: 1, max: 4000 }),
      rates: fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 4, maxLength: 4 }),
      recent: fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 4, maxLength: 4 }),
      queued: fc.integer({ min: 0, max: 500 }),
    });

    it('keeps replicas within [min, max], and never scales down within the delay after a scale-up is active', () => {
      fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
        const delay = 10_000;
        const t = createTuner(plan, { scaleDownDelayMs: delay, scaleDownIntervalMs: 1000 });
        let state = t.initialState(0);
        const replicas: Record<string, number> = { a: 4, b: 2 };
        const activeAfter: Record<string, number> = { a: 0, b: 0 };
        let now = 0;
        for (const s of steps) {
          now += s.dt;
          const out = t.decide(snap(now, s.rates, replicas, s.recent, { a: s.queued, b: s.queued }), state);
          state = out.state;
          if (out.decision.kind !== 'scale') continue;
          for (const c of out.decision.changes) {
            const st = plan.stages.find((x) => x.name === c.stage);
            expect(c.to).to.be.within(st?.minReplicas ?? 0, st?.maxReplicas ?? 0);
            expect(c.from).to.equal(replicas[c.stage]);
            if (c.to < c.from) expect(now - (activeAfter[c.stage] as number)).to.be.at.least(delay);
            else activeAfter[c.stage] = now + (st?.activationDelayMs ?? 0);
            replicas[c.stage] = c.to;
          }
        }
      }), { numRuns: 300 });
    });
  });
});
