import { expect } from 'chai';
import { TunerLoop } from '../../src/runtime/tuner-loop.js';
import { PeriodicTask } from '../../src/platform/periodic.js';
import { createTuner } from '../../src/core/tuner/tuner.js';
import type { Tuner, TunerDecision } from '../../src/core/tuner/tuner.js';
import { computeEnvelope, envelopeWindowsMs } from '../../src/core/arrival/envelope.js';
import { FakeClock } from '../helpers/fake-clock.js';

/** A tuner planned on a steady 100 qps (one arrival every 10 ms) for one stage `s`. */
function steadyTuner(windowMs: number, stage: { plannedReplicas: number; minReplicas: number; replicaThroughputQps: number }): Tuner {
  const planned = Float64Array.from({ length: 6000 }, (_, i) => i * 0.01);
  return createTuner({
    envelope: computeEnvelope(planned, envelopeWindowsMs(windowMs)),
    plannedRateQps: 100,
    stages: [{ name: 's', maxReplicas: 32, activationDelayMs: 0, ...stage }],
  });
}

describe('runtime/tuner-loop', () => {
  it('scales up in the first tick after the live envelope exceeds the planned one', async () => {
    // Planned: a steady 100 qps served by 4 replicas.
    const tuner = steadyTuner(100, { plannedReplicas: 4, minReplicas: 1, replicaThroughputQps: 25 });
    const clock = new FakeClock(0);
    let replicas = 4;
    const acted: { t: number; d: TunerDecision }[] = [];
    const loop = new TunerLoop({
      tuner, clock, tickMs: 250,
      replicas: () => ({ s: replicas }),
      act: (d, t) => {
        acted.push({ t, d });
        if (d.kind === 'scale') for (const c of d.changes) replicas = c.to;
      },
    });
    loop.start();
    // Ten seconds at the planned rate: nothing to do.
    for (let t = 0; t < 10_000; t += 10) {
      loop.observeArrival(t);
      await clock.advance(10);
    }
    expect(acted).to.deep.equal([]);
    // A burst: 60 arrivals within 30 ms, just after the tick at 10 000 ms.
    for (let i = 0; i < 60; i++) loop.observeArrival(10_000 + i * 0.5);
    await clock.advance(250);
    expect(acted).to.have.length(1);
    expect(acted[0]?.t).to.equal(10_250);
    expect(acted[0]?.d.kind).to.equal('scale');
    expect(replicas).to.be.above(4);
    await loop.stop();
    expect(loop.stats.failures).to.equal(0);
  });

  it('ticks every idleTickMs while the pipeline has no traffic, and at tickMs again once it has some', async () => {
    const tuner = steadyTuner(100, { plannedReplicas: 4, minReplicas: 4, replicaThroughputQps: 25 });
    const clock = new FakeClock(0);
    let rate: number | undefined = 0;
    let queued = 0;
    const ticks: number[] = [];
    const loop = new TunerLoop({
      tuner, clock, tickMs: 250, idleTickMs: 1000,
      replicas: () => ({ s: 4 }),
      queued: () => ({ s: queued }),
      arrivalRateQps: () => {
        ticks.push(clock.nowMs());
        return rate;
      },
      act: () => undefined,
    });
    loop.start();
    await clock.advance(3000);
    // The first tick finds no traffic: every second from then on.
    expect(ticks).to.deep.equal([250, 1250, 2250]);
    rate = 40; // traffic: the next tick sees it, and the ones after it are at the fast rate
    await clock.advance(1500);
    expect(ticks.slice(3)).to.deep.equal([3250, 3500, 3750, 4000, 4250, 4500]);
    rate = 0;
    queued = 3; // a queue is not idle either
    await clock.advance(500);
    expect(ticks.slice(9)).to.deep.equal([4750, 5000]);
    rate = undefined; // an unknown rate is not idle
    queued = 0;
    await clock.advance(500);
    expect(ticks.slice(11)).to.deep.equal([5250, 5500]);
    rate = 0; // idle again
    await clock.advance(2000);
    expect(ticks.slice(13)).to.deep.equal([5750, 6750]);
    await loop.stop();
  });

  it('takes per-interval counts from polling, too', async () => {
    const tuner = steadyTuner(1000, { plannedReplicas: 2, minReplicas: 1, replicaThroughputQps: 50 });
    const clock = new FakeClock(0);
    const loop = new TunerLoop({ tuner, clock, tickMs: 1000, replicas: () => ({ s: 2 }), act: () => undefined });
    // A scrape every second saw 300 requests: three times the planned rate.
    for (let t = 0; t < 5000; t += 1000) loop.observeCount(t, t + 1000, 300);
    await clock.advance(5000);
    const d = await loop.tick();
    expect(d.kind === 'scale' && d.changes[0]?.to).to.equal(6);
  });
});

describe('runtime/periodic', () => {
  it('never overlaps runs, skips ticks a slow run overlapped, and counts failures and timeouts', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    let running = 0;
    let maxRunning = 0;
    let n = 0;
    const errors: unknown[] = [];
    const task = new PeriodicTask({ name: 'job', intervalMs: 100, timeoutMs: 250, clock, onError: (e) => errors.push(e) }, async (signal) => {
      n++;
      starts.push(clock.nowMs());
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        if (n === 2) await clock.sleep(150); // slow: overlaps the tick at 300
        if (n === 3) throw new Error('boom');
        if (n === 4) await clock.sleep(1000, signal).catch(() => undefined); // past the timeout: aborted
      } finally {
        running--;
      }
    });
    task.start();
    task.start(); // idempotent
    await clock.advance(1000);
    await task.stop();
    await task.stop();
    expect(maxRunning).to.equal(1);
    expect(starts.slice(0, 4)).to.deep.equal([100, 200, 400, 500]);
    expect(task.counters.failures).to.equal(2);
    expect(task.counters.timeouts).to.equal(1);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['boom', 'job timed out after 250 ms']);
  });

  it('nextIntervalMs: the interval to the next run is asked after each run', async () => {
    const clock = new FakeClock(0);
    const starts: number[] = [];
    let interval = 100;
    const task = new PeriodicTask({ name: 'job', intervalMs: 100, clock, nextIntervalMs: () => interval }, () => {
      starts.push(clock.nowMs());
      if (starts.length === 3) interval = 500; // from the third run on, slower
      if (starts.length === 5) interval = 100; // and back
    });
    task.start();
    await clock.advance(2000);
    await task.stop();
    expect(starts.slice(0, 8)).to.deep.equal([100, 200, 300, 800, 1300, 1400, 1500, 1600]);
  });
});
