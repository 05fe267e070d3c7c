import { expect } from 'chai';
import fc from 'fast-check';
import { LiveEnvelope } from '../../src/core/arrival/live-envelope.js';

/** Brute force over bucket-aligned windows within the horizon, from the bucket counts. */
function reference(arrivalsMs: number[], nowMs: number, windowsMs: number[], res: number, horizonMs: number): number[] {
  const open = Math.floor(nowMs / res);
  const counts = new Map<number, number>();
  for (const t of arrivalsMs) counts.set(Math.floor(t / res), (counts.get(Math.floor(t / res)) ?? 0) + 1);
  const horizonBuckets = Math.max(Math.ceil(horizonMs / res), ...windowsMs.map((w) => Math.ceil(w / res - 1e-9)));
  return windowsMs.map((w) => {
    const span = Math.max(1, Math.ceil(w / res - 1e-9));
    let best = 0;
    // Windows ending at bucket e, e in [open − horizon + span, open].
    for (let e = open - horizonBuckets + span; e <= open; e++) {
      let s = 0;
      for (let b = e - span + 1; b <= e; b++) s += counts.get(b) ?? 0;
      best = Math.max(best, s);
    }
    return best;
  });
}

describe('core/live-envelope', () => {
  it('equals a brute-force count over bucket-aligned windows within the horizon', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 200 }),
      fc.integer({ min: 0, max: 200 }),
      (gaps, extra) => {
        const windowsMs = [20, 40, 80, 160];
        const res = 10;
        const horizonMs = 300;
        const env = new LiveEnvelope({ windowsMs, resolutionMs: res, horizonMs });
        let t = 1000;
        const arrivals: number[] = [];
        for (const g of gaps) {
          t += g / 10;
          arrivals.push(t);
          env.addArrival(t);
        }
        const now = t + extra;
        const got = env.snapshot(now).map((p) => p.maxArrivals);
        expect(got).to.deep.equal(reference(arrivals, now, windowsMs, res, horizonMs));
      }), { numRuns: 300 });
  });

  it('forgets a burst once it leaves the horizon, even across a long silence', () => {
    const env = new LiveEnvelope({ windowsMs: [100, 1000], resolutionMs: 50, horizonMs: 5000 });
    for (let i = 0; i < 50; i++) env.addArrival(10_000 + i);
    expect(env.snapshot(10_100).map((p) => p.maxArrivals)).to.deep.equal([50, 50]);
    expect(env.snapshot(14_000).map((p) => p.maxArrivals)).to.deep.equal([50, 50]);
    expect(env.snapshot(16_000).map((p) => p.maxArrivals)).to.deep.equal([0, 0]);
    expect(env.snapshot(600_000).map((p) => p.maxArrivals)).to.deep.equal([0, 0]);
    env.addArrival(600_001);
    expect(env.snapshot(600_010).map((p) => p.maxArrivals)).to.deep.equal([1, 1]);
  });

  it('takes per-interval counts, spread over the interval', () => {
    const env = new LiveEnvelope({ windowsMs: [100, 1000], resolutionMs: 100 });
    // 40 arrivals counted over one second of polling: 4 per 100 ms bucket.
    env.addCount(0, 1000, 40);
    const [short, long] = env.snapshot(1000);
    expect(short?.maxArrivals).to.be.closeTo(4, 1e-9);
    expect(long?.maxArrivals).to.be.closeTo(40, 1e-9);
    expect(long?.rateQps).to.be.closeTo(40, 1e-9);
  });

  it('reports rates per window and counts late arrivals without placing them', () => {
    const env = new LiveEnvelope({ windowsMs: [200], resolutionMs: 100 });
    env.addArrival(1000);
    env.addArrival(1050);
    env.advanceTo(1500);
    env.addArrival(1100);
    expect(env.late).to.equal(1);
    expect(env.snapshot(1500)[0]).to.deep.equal({ windowMs: 200, maxArrivals: 2, rateQps: 10 });
  });

  it('keeps up with a million arrivals at 2 per ms (its memory is fixed at construction)', () => {
    const env = new LiveEnvelope({ windowsMs: [50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000], resolutionMs: 12.5 });
    for (let i = 0; i < 1_000_000; i++) env.addArrival(i * 0.5);
    expect(env.arrivals).to.equal(1_000_000);
    const p = env.snapshot(500_000);
    expect(p[0]?.maxArrivals).to.equal(100); // 50 ms at 2 per ms
    // The one 60 s window inside a 60 s horizon ends in the open (empty) bucket: 4799 buckets of 25.
    expect(p[p.length - 1]?.maxArrivals).to.equal(119_975);
  });
});

describe('core/live-envelope: counts spread evenly within coarse buckets', () => {
  it('a window shorter than a bucket holds its share of the busiest bucket; longer ones their share of their span', () => {
    const coarse = new LiveEnvelope({ windowsMs: [10, 100, 375, 1000], resolutionMs: 250, evenWithinBucket: true, horizonMs: 10_000 });
    const fine = new LiveEnvelope({ windowsMs: [10, 100, 375, 1000], resolutionMs: 5, horizonMs: 10_000 });
    // 400 arrivals/s for 2 s, polled as counts per second.
    for (const e of [coarse, fine]) {
      e.addCount(0, 1000, 400);
      e.addCount(1000, 2000, 400);
    }
    const c = coarse.snapshot(2000);
    const f = fine.snapshot(2000);
    for (let i = 0; i < c.length; i++) expect(c[i]?.rateQps, `window ${c[i]?.windowMs}`).to.be.closeTo(f[i]?.rateQps as number, 400 * 0.02);
    // Without the option a 10 ms window over 250 ms buckets reads 25× the rate.
    const aligned = new LiveEnvelope({ windowsMs: [10, 1000], resolutionMs: 250, horizonMs: 10_000 });
    aligned.addCount(0, 1000, 400);
    expect(aligned.snapshot(1000)[0]?.rateQps).to.be.closeTo(10_000, 1);
  });
});
