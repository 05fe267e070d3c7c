// What the runtime records through the Telemetry port: the tuner loop's traffic and decisions,
// and planner runs (duration, outcome, plan changes). A fake port keeps the records.
import { expect } from 'chai';
import { TunerLoop, tunerDecisionKind } from '../../src/runtime/tuner-loop.js';
import { PlannerRuns, planChanged } from '../../src/runtime/planner-runs.js';
import { createTuner } from '../../src/core/tuner/tuner.js';
import type { TunerDecision } from '../../src/core/tuner/tuner.js';
import { computeEnvelope, envelopeWindowsMs } from '../../src/core/arrival/envelope.js';
import type { Plan, PlanRequest } from '../../src/core/planner/index.js';
import type { Clock } from '../../src/ports/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeTelemetry } from '../helpers/fake-telemetry.js';
import { CPU, evenTrace, linearProfile, pipeline, profileSet, stage } from '../helpers/pipelines.js';

describe('runtime: tuner loop telemetry', () => {
  it('records the live envelope, the arrival rate and each decision by kind', async () => {
    const planned = Float64Array.from({ length: 6000 }, (_, i) => i * 0.01);
    const windows = envelopeWindowsMs(100);
    const tuner = createTuner({
      envelope: computeEnvelope(planned, windows),
      plannedRateQps: 100,
      stages: [{ name: 's', plannedReplicas: 4, minReplicas: 1, maxReplicas: 32, activationDelayMs: 0, replicaThroughputQps: 25 }],
    });
    const clock = new FakeClock(0);
    const telemetry = new FakeTelemetry();
    let replicas = 4;
    const loop = new TunerLoop({
      tuner, clock, tickMs: 250, replicas: () => ({ s: replicas }),
      act: (d) => { if (d.kind === 'scale') for (const c of d.changes) replicas = c.to; },
      telemetry: { port: telemetry, pipeline: 'images' },
    });
    loop.start();
    for (let t = 0; t < 2000; t += 10) {
      loop.observeArrival(t);
      await clock.advance(10);
    }
    for (let i = 0; i < 60; i++) loop.observeArrival(2000 + i * 0.5);
    await clock.advance(250);
    await loop.stop();

    const kinds = telemetry.tunerDecisions.map((d) => d.kind);
    expect(kinds.slice(0, -1).every((k) => k === 'hold')).to.equal(true);
    expect(kinds[kinds.length - 1]).to.equal('scale_up');
    expect(telemetry.tunerDecisions.every((d) => d.pipeline === 'images' && d.replan === false)).to.equal(true);
    expect(telemetry.traffic).to.have.length(kinds.length);
    const last = telemetry.traffic[telemetry.traffic.length - 1];
    expect(last?.envelope?.map((p) => p.windowMs)).to.deep.equal(windows);
    // The 100 ms window holds the burst; the 60 s one everything seen so far.
    expect(last?.envelope?.[0]?.maxArrivals).to.be.at.least(60);
    expect(last?.arrivalRateQps).to.be.closeTo(260 / 60, 0.5);
  });

  it('records nothing without a telemetry (the loop is unchanged)', async () => {
    const tuner = createTuner({ envelope: computeEnvelope(evenTrace(100, 0.01), [100]), plannedRateQps: 100, stages: [] });
    const loop = new TunerLoop({ tuner, clock: new FakeClock(0), tickMs: 250, replicas: () => ({}), act: () => undefined });
    expect((await loop.tick()).kind).to.equal('hold');
  });

  const kinds: { name: string; given: TunerDecision; want: string }[] = [
    { name: 'hold', given: { kind: 'hold', reason: 'within tolerance' }, want: 'hold' },
    { name: 'one stage up', given: { kind: 'scale', changes: [{ stage: 'a', from: 2, to: 5, reason: '' }] }, want: 'scale_up' },
    { name: 'one stage down', given: { kind: 'scale', changes: [{ stage: 'a', from: 5, to: 4, reason: '' }] }, want: 'scale_down' },
    { name: 'up and down: up wins (capacity was added)', given: { kind: 'scale', changes: [{ stage: 'a', from: 5, to: 4, reason: '' }, { stage: 'b', from: 1, to: 2, reason: '' }] }, want: 'scale_up' },
  ];
  for (const c of kinds) it(`decision kind: ${c.name}`, () => expect(tunerDecisionKind(c.given)).to.equal(c.want));
});

describe('runtime: planner runs', () => {
  const spec = pipeline([stage('a', { b: 1 }), stage('b')], 200);
  const profiles = profileSet([linearProfile('a', 'cpu', 2, 1), linearProfile('b', 'cpu', 5, 2)]);
  const request = (rateQps: number): PlanRequest => ({
    pipeline: spec, hardware: [CPU], profiles, trace: evenTrace(rateQps * 10, 1 / rateQps), workload: `even ${rateQps}`, planner: 'greedy', options: { seed: 1, maxReplicasPerStage: 16 },
  });
  /** Each planner run appears to take 40 ms. */
  function steppingClock(): Clock {
    let now = 0;
    return { nowMs: () => (now += 40), sleep: async () => undefined };
  }

  it('records each run: outcome, duration, the planned envelope, and a change only when the plan differs', () => {
    const telemetry = new FakeTelemetry();
    const runs = new PlannerRuns({ clock: steppingClock(), telemetry });
    const first = runs.run(request(50));
    runs.run(request(50));
    runs.run(request(400));
    expect(telemetry.plannerRuns.map((r) => [r.pipeline, r.planner, r.outcome, r.durationMs, r.changed])).to.deep.equal([
      ['p', 'greedy', 'feasible', 40, true],
      ['p', 'greedy', 'feasible', 40, false],
      ['p', 'greedy', 'feasible', 40, true],
    ]);
    expect(telemetry.plannerRuns[0]?.envelope).to.deep.equal(first.envelope.map((e) => ({ windowMs: e.windowMs, maxArrivals: e.maxArrivals })));
    expect(runs.lastPlan('p')?.workload.source).to.equal('even 400');
  });

  it('a run the planner throws on is recorded as an error and rethrown', () => {
    const telemetry = new FakeTelemetry();
    const runs = new PlannerRuns({ clock: steppingClock(), telemetry });
    const broken: PlanRequest = { ...request(50), pipeline: pipeline([stage('a', { ghost: 1 })]) };
    expect(() => runs.run(broken)).to.throw();
    expect(telemetry.plannerRuns).to.deep.equal([{ pipeline: 'p', planner: 'greedy', outcome: 'error', durationMs: 40, changed: false }]);
  });

  const base = { stages: { a: { hardware: 'cpu', batchSize: 4, replicas: 2 } } } as unknown as Plan;
  const changes: { name: string; given: [Plan | undefined, Plan]; want: boolean }[] = [
    { name: 'a first plan', given: [undefined, base], want: true },
    { name: 'the same stages', given: [base, { ...base, costPerHour: 9 } as Plan], want: false },
    { name: 'more replicas', given: [base, { stages: { a: { hardware: 'cpu', batchSize: 4, replicas: 3 } } } as unknown as Plan], want: true },
    { name: 'another batch size', given: [base, { stages: { a: { hardware: 'cpu', batchSize: 8, replicas: 2 } } } as unknown as Plan], want: true },
    { name: 'other hardware', given: [base, { stages: { a: { hardware: 'gpu', batchSize: 4, replicas: 2 } } } as unknown as Plan], want: true },
    { name: 'a stage more', given: [base, { stages: { ...base.stages, b: { hardware: 'cpu', batchSize: 1, replicas: 1 } } } as unknown as Plan], want: true },
  ];
  for (const c of changes) it(`plan change: ${c.name}`, () => expect(planChanged(...c.given)).to.equal(c.want));
});
