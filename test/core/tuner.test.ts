import { expect } from 'chai';
import fc from 'fast-check';
import { createTuner, DEFAULT_TUNER_OPTIONS, envelopeRatio, recentEnvelopeOptions } from '../../src/core/tuner/tuner.js';
import type { TunerPlan, TunerSnapshot, TunerState } from '../../src/core/tuner/tuner.js';
import type { EnvelopePoint } from '../../src/core/arrival/envelope.js';
import { downstreamVisits } from '../../src/core/tuner/tuner-plan.js';
import { compiled, stage } from '../helpers/pipelines.js';

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

/** Two ticks 250 ms apart on the same snapshot: a queue counts once it was there at the last tick too. */
function twice(tuner: ReturnType<typeof createTuner>, given: TunerSnapshot): ReturnType<ReturnType<typeof createTuner>['decide']> {
  const first = tuner.decide(given, tuner.initialState(0));
  return tuner.decide({ ...given, nowMs: given.nowMs + 250 }, first.state);
}

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
        const { decision } = twice(tuner, c.given);
        if (c.want === 'hold') {
          expect(decision.kind, JSON.stringify(decision)).to.equal('hold');
        } else {
          expect(decision.kind).to.equal('scale');
          if (decision.kind === 'scale') expect(Object.fromEntries(decision.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal(c.want);
        }
      });
    }

    it('a queue counts only once it persisted from the last tick: a burst the replicas clear within a tick adds nothing', () => {
      const given = snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 100, b: 0 });
      const first = tuner.decide(given, tuner.initialState(0));
      expect(first.decision.kind, JSON.stringify(first.decision)).to.equal('hold');
      // Cleared by the next tick: still nothing.
      const cleared = tuner.decide(snap(1250, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 0, b: 0 }), first.state);
      expect(cleared.decision.kind).to.equal('hold');
      // Still there (grown): the smaller of the two, 100, drains with 4 more.
      const stayed = tuner.decide(snap(1250, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 300, b: 0 }), first.state);
      expect(stayed.decision.kind === 'scale' && stayed.decision.changes.map((c) => [c.stage, c.to])).to.deep.equal([['a', 8]]);
    });

    it('a queue upstream counts for the stages downstream of it, so they grow in the same tick', () => {
      // a feeds b with every query (b visited once per a visit): 200 queued at a are 200 headed for b.
      const chained = createTuner({ ...plan, stages: plan.stages.map((st) => (st.name === 'a' ? { ...st, downstream: { b: 1 } } : st)) });
      const { decision } = twice(chained, snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 200, b: 0 }));
      // a: 200 / (50 qps × 0.5 s) = 8 more; b: 200 / (100 × 0.5) = 4 more.
      expect(decision.kind === 'scale' && Object.fromEntries(decision.changes.map((c) => [c.stage, c.to]))).to.deep.equal({ a: 12, b: 6 });
      const alone = twice(tuner, snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 200, b: 0 })).decision;
      expect(alone.kind === 'scale' && alone.changes.map((c) => c.stage)).to.deep.equal(['a']);
    });

    it('gives the replicas its rule holds for a whole envelope (what the static baselines provision)', () => {
      expect(tuner.replicasFor(env(PLANNED))).to.deep.equal({ a: 4, b: 2 });
      expect(tuner.replicasFor(env([400, 200, 240, 200]))).to.deep.equal({ a: 8, b: 4 });
      expect(tuner.replicasFor(env([0, 0, 0, 0]))).to.deep.equal({ a: 1, b: 2 });
      expect(tuner.replicasFor(env([400, 200, 120, 5000]))).to.deep.equal({ a: 20, b: 6 });
    });

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

  describe('along the plan\'s scaling curve', () => {
    // Stage a's replicas are set by the tail: it needs 5 at 1.5×, 6 at 2×; stage b runs a spare
    // replica and needs none more until 2×. Slack 1.2.
    const curved: TunerPlan = {
      ...plan,
      slack: 1.2,
      scaling: [{ factor: 1.5, replicas: { a: 5, b: 2 } }, { factor: 2, replicas: { a: 6, b: 3 } }],
    };
    const t = createTuner(curved, { tolerance: 0.1 });
    const at = (k: number) => [400, 200, 120, 100 * k];
    const cases: { name: string; k: number; want: string | Record<string, number> }[] = [
      { name: 'holds up to the slack and within the tolerance above it', k: 1.3, want: 'hold' },
      { name: 'just past the tolerance, the first point', k: 1.2 * 1.1 + 0.01, want: { a: 5 } },
      { name: 'at a curve point, the replicas of that point (b stays at 2, proportional would give 3)', k: 1.5, want: { a: 5 } },
      { name: 'between points, the next point up: 1.8× needs what 2× does', k: 1.8, want: { a: 6, b: 3 } },
      { name: 'in proportion beyond the last point: 3× is 6 × 3/2 = 9 and 3 × 3/2 → 5', k: 3, want: { a: 9, b: 5 } },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { decision } = t.decide(snap(1000, at(c.k), { a: 4, b: 2 }), t.initialState(0));
        if (c.want === 'hold') expect(decision.kind, JSON.stringify(decision)).to.equal('hold');
        else expect(decision.kind === 'scale' && Object.fromEntries(decision.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal(c.want);
      });
    }

    it('with the default tolerance (0), just past the slack is the first point', () => {
      const t0 = createTuner(curved);
      const { decision } = t0.decide(snap(1000, at(1.21), { a: 4, b: 2 }), t0.initialState(0));
      expect(decision.kind === 'scale' && Object.fromEntries(decision.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal({ a: 5 });
      expect(t0.decide(snap(1000, at(1.2), { a: 4, b: 2 }), t0.initialState(0)).decision.kind).to.equal('hold');
    });

    it('scales down along the same curve: at 1.5× recent traffic, 1 + tolerance below, b drops first', () => {
      const tt = createTuner(curved, { scaleDownDelayMs: 0, scaleDownIntervalMs: 0, tolerance: 0.1 });
      // Recent traffic at 1.5 × 1.1: need a = 5, b = 2, from a = 6, b = 3.
      const { decision } = tt.decide(snap(1000, at(1.65), { a: 6, b: 3 }, at(1.65)), tt.initialState(0));
      expect(decision.kind === 'scale' && Object.fromEntries(decision.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal({ a: 5, b: 2 });
    });

    it('without a curve, every stage scales in proportion (the same rise as above)', () => {
      const flat = createTuner({ ...curved, scaling: [] });
      const { decision } = flat.decide(snap(1000, at(1.8), { a: 4, b: 2 }), flat.initialState(0));
      expect(decision.kind === 'scale' && Object.fromEntries(decision.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal({ a: 6, b: 3 });
      const { decision: d2 } = flat.decide(snap(1000, at(1.5), { a: 4, b: 2 }), flat.initialState(0));
      expect(d2.kind === 'scale' && Object.fromEntries(d2.changes.map((ch) => [ch.stage, ch.to]))).to.deep.equal({ a: 5, b: 3 });
    });
  });

  describe('backlog drained from spare capacity first', () => {
    // Stage a: 4 planned replicas of 50 qps each (200 qps) for a pipeline at 100 qps: 100 qps spare.
    const withFactors: TunerPlan = { ...plan, stages: plan.stages.map((s) => ({ ...s, scaleFactor: 1 })) };
    const t = createTuner(withFactors, { drainTimeMs: 500 });
    const decide = (queued: number, rate: number) => twice(t, { ...snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: queued, b: 0 }), arrivalRateQps: rate }).decision;
    const cases: { name: string; queued: number; rate: number; want: string | number }[] = [
      // 100 queued need 200 qps for 0.5 s; the 100 qps spare covers half: 2 replicas short.
      { name: 'a queue beyond what the spare drains adds the shortfall', queued: 100, rate: 100, want: 6 },
      // 40 queued need 80 qps; 100 qps spare drains them (the fully-loaded rule would add 1).
      { name: 'a queue the spare capacity drains adds nothing', queued: 40, rate: 100, want: 'hold' },
      // At 200 qps the replicas are fully loaded: the same as the rule without the rate, 4 more.
      { name: 'with no spare capacity, one replica per replica-drain-time', queued: 100, rate: 200, want: 8 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const d = decide(c.queued, c.rate);
        if (c.want === 'hold') expect(d.kind, JSON.stringify(d)).to.equal('hold');
        else expect(d.kind === 'scale' && d.changes.find((ch) => ch.stage === 'a')?.to).to.equal(c.want);
      });
    }

    it('without the live rate the replicas count as fully loaded', () => {
      const { decision } = twice(t, snap(1000, PLANNED, { a: 4, b: 2 }, PLANNED, { a: 40, b: 0 }));
      expect(decision.kind === 'scale' && decision.changes.find((ch) => ch.stage === 'a')?.to).to.equal(5);
    });
  });

  it('a recent envelope without the long windows takes them from the live one: no scale-down the scale-up line would undo', () => {
    const t = createTuner(plan, { scaleDownDelayMs: 0, scaleDownIntervalMs: 0 });
    const shortOnly = (rates: number[]) => env(rates).slice(0, 3);
    // Recent short windows at half the plan, but the 60 s window at the planned rate: a stays at 4.
    const held = t.decide({ nowMs: 1000, envelope: env(PLANNED), recentEnvelope: shortOnly([200, 100, 60]), replicas: { a: 4, b: 2 } }, t.initialState(0));
    expect(held.decision.kind, JSON.stringify(held.decision)).to.equal('hold');
    // With the 60 s window at half too, a goes down.
    const low = [200, 100, 60, 50];
    const down = t.decide({ nowMs: 1000, envelope: env(low), recentEnvelope: shortOnly(low), replicas: { a: 4, b: 2 } }, t.initialState(0));
    expect(down.decision.kind === 'scale' && down.decision.changes.find((c) => c.stage === 'a')?.to).to.equal(3);
  });

  it('reads the recent envelope over scaleDownWindow only: the windows that fit, on that horizon', () => {
    expect(recentEnvelopeOptions(plan, { ...DEFAULT_TUNER_OPTIONS, scaleDownWindowMs: 30_000 })).to.deep.equal({ windowsMs: [100, 1000, 10_000], horizonMs: 30_000 });
    expect(recentEnvelopeOptions(plan, { ...DEFAULT_TUNER_OPTIONS, scaleDownWindowMs: 50 })).to.deep.equal({ windowsMs: [100], horizonMs: 100 });
  });

  it('counts the visits downstream of a stage per visit of it, along every path', () => {
    // a → b (0.5) → d; a → c (1) → d (0.2): per a, b 0.5, c 1, d 0.5 + 0.2.
    const p = compiled([stage('a', { b: 0.5, c: 1 }), stage('b', { d: 1 }), stage('c', { d: 0.2 }), stage('d')]);
    const a = downstreamVisits(p, 0);
    expect(Object.keys(a)).to.deep.equal(['b', 'c', 'd']);
    expect(a['b']).to.equal(0.5);
    expect(a['d']).to.be.closeTo(0.7, 1e-12);
    expect(downstreamVisits(p, 2)).to.deep.equal({ d: 0.2 });
    expect(downstreamVisits(p, 3)).to.deep.equal({});
  });

  describe('properties', () => {
    const step = fc.record({
      dt: fc.integer({ min: 1, max: 4000 }),
      rates: fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 4, maxLength: 4 }),
      recent: fc.array(fc.double({ min: 0, max: 2000, noNaN: true }), { minLength: 4, maxLength: 4 }),
      queued: fc.integer({ min: 0, max: 500 }),
    });

    const holdsBounds = (p: TunerPlan, withRate: boolean) => {
      fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
        const delay = 10_000;
        const t = createTuner(p, { scaleDownDelayMs: delay, scaleDownIntervalMs: 1000 });
        let state = t.initialState(0);
        const replicas: Record<string, number> = { a: 4, b: 2 };
        const activeAfter: Record<string, number> = { a: 0, b: 0 };
        let now = 0;
        for (const s of steps) {
          now += s.dt;
          const given = snap(now, s.rates, replicas, s.recent, { a: s.queued, b: s.queued });
          const out = t.decide(withRate ? { ...given, arrivalRateQps: s.rates[1] as number } : given, state);
          state = out.state;
          if (out.decision.kind !== 'scale') continue;
          for (const c of out.decision.changes) {
            const st = p.stages.find((x) => x.name === c.stage);
            expect(c.to).to.be.within(st?.minReplicas ?? 0, st?.maxReplicas ?? 0);
            expect(c.from).to.equal(replicas[c.stage]);
            if (c.to < c.from) expect(now - (activeAfter[c.stage] as number)).to.be.at.least(delay);
            else activeAfter[c.stage] = now + (st?.activationDelayMs ?? 0);
            replicas[c.stage] = c.to;
          }
        }
      }), { numRuns: 300 });
    };

    it('keeps replicas within [min, max], and never scales down within the delay after a scale-up is active', () => {
      holdsBounds(plan, false);
    });

    it('the same along a scaling curve, with the backlog drained from spare capacity', () => {
      holdsBounds({
        ...plan,
        slack: 1.2,
        stages: plan.stages.map((s) => ({ ...s, scaleFactor: 1 })),
        scaling: [{ factor: 1.5, replicas: { a: 5, b: 2 } }, { factor: 2, replicas: { a: 6, b: 3 } }, { factor: 4, replicas: { a: 9, b: 5 } }],
      }, true);
    });
  });
});
