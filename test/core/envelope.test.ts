import { expect } from 'chai';
import fc from 'fast-check';
import { computeEnvelope, envelopePeakRateQps, envelopeWindowsMs, maxArrivalsInWindow } from '../../src/core/arrival/envelope.js';

/** The definition, literally: the most arrivals in [t, t + Δ) over every start t at an arrival. */
function bruteForce(trace: Float64Array, windowMs: number): number {
  const windowS = windowMs / 1000;
  let best = 0;
  for (const start of trace) {
    let count = 0;
    for (const t of trace) if (t >= start && t - start < windowS) count++;
    best = Math.max(best, count);
  }
  return best;
}

describe('envelopeWindowsMs', () => {
  const cases: { name: string; given: [number, number?]; want: number[] }[] = [
    { name: 'doubling lands on the max', given: [125, 1000], want: [125, 250, 500, 1000] },
    { name: 'max appended when doubling misses it', given: [100, 1000], want: [100, 200, 400, 800, 1000] },
    { name: 'default max is 60 s', given: [7500], want: [7500, 15000, 30000, 60000] },
    { name: 'min equal to max', given: [1000, 1000], want: [1000] },
    { name: 'min above max clamps to max', given: [5000, 1000], want: [1000] },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      expect(envelopeWindowsMs(...given)).to.deep.equal(want);
    });
  }

  it('rejects non-positive windows', () => {
    expect(() => envelopeWindowsMs(0)).to.throw(RangeError);
    expect(() => envelopeWindowsMs(NaN)).to.throw(RangeError);
    expect(() => envelopeWindowsMs(10, -1)).to.throw(RangeError);
  });
});

describe('computeEnvelope', () => {
  const cases: { name: string; given: { trace: number[]; windowMs: number }; want: number }[] = [
    { name: 'empty trace', given: { trace: [], windowMs: 1000 }, want: 0 },
    { name: 'one arrival', given: { trace: [5], windowMs: 1 }, want: 1 },
    // [0, 1) holds 0 and 0.5; 1 is excluded: the interval is half-open.
    { name: 'half-open at exactly Δ', given: { trace: [0, 0.5, 1, 1.5, 2], windowMs: 1000 }, want: 2 },
    { name: 'just past Δ', given: { trace: [0, 0.5, 1, 1.5, 2], windowMs: 1001 }, want: 3 },
    { name: 'narrow window', given: { trace: [0, 0.5, 1, 1.5, 2], windowMs: 500 }, want: 1 },
    { name: 'window covering all but the last', given: { trace: [0, 0.5, 1, 1.5, 2], windowMs: 2000 }, want: 4 },
    { name: 'window covering all', given: { trace: [0, 0.5, 1, 1.5, 2], windowMs: 2500 }, want: 5 },
    { name: 'simultaneous arrivals', given: { trace: [1, 1, 1, 2], windowMs: 1 }, want: 3 },
    { name: 'burst in the middle', given: { trace: [0, 10, 10.25, 10.5, 10.75, 20], windowMs: 1000 }, want: 4 },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const [point] = computeEnvelope(Float64Array.from(given.trace), [given.windowMs]);
      expect(point?.maxArrivals).to.equal(want);
      expect(point?.rateQps).to.equal(want / (given.windowMs / 1000));
      expect(point?.windowMs).to.equal(given.windowMs);
    });
  }

  const traces = fc.array(
    fc.oneof(
      fc.integer({ min: 0, max: 40 }).map((n) => n / 8), // binary-exact: ties and boundaries
      fc.double({ min: 0, max: 5, noNaN: true }),
    ),
    { maxLength: 40 },
  ).map((xs) => Float64Array.from(xs.sort((a, b) => a - b)));
  const windows = fc.oneof(fc.integer({ min: 1, max: 8 }).map((n) => n * 125), fc.double({ min: 0.001, max: 6000, noNaN: true }));

  it('equals the brute-force definition (property)', () => {
    fc.assert(fc.property(traces, windows, (trace, windowMs) => {
      expect(maxArrivalsInWindow(trace, windowMs)).to.equal(bruteForce(trace, windowMs));
    }), { numRuns: 500 });
  });

  it('is non-decreasing in Δ (property)', () => {
    fc.assert(fc.property(traces, fc.double({ min: 1, max: 100, noNaN: true }), (trace, minMs) => {
      const env = computeEnvelope(trace, envelopeWindowsMs(minMs, 6000));
      for (let i = 1; i < env.length; i++) {
        expect((env[i] as { maxArrivals: number }).maxArrivals).to.be.at.least((env[i - 1] as { maxArrivals: number }).maxArrivals);
      }
    }));
  });

  it('keeps the window order and reports the peak rate', () => {
    const env = computeEnvelope(Float64Array.from([0, 0.5, 1, 1.5, 2]), [2500, 500, 1001]);
    expect(env.map((p) => p.windowMs)).to.deep.equal([2500, 500, 1001]);
    expect(envelopePeakRateQps(env)).to.equal(3 / 1.001);
    expect(envelopePeakRateQps([])).to.equal(0);
  });
});
