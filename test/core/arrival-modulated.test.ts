// Arrivals of the modulated kinds (step, ramp, spikes): counts per sub-interval follow the
// intended rate, the CV holds where the rate is flat, and traces are reproducible.
//
// Tolerances: a renewal process with inter-arrival CV c puts about c²·N variance on a count of
// mean N. The counts below are 2·10⁴ to 4·10⁵ at c = 1 (standard error 0.7% or less), and 10⁵ at
// c = 2 (0.6%), so 3% is many standard errors wide, yet a rate off by a piece (a step at the
// wrong time, a ramp inverted, spikes out of phase) misses by far more.
import { expect } from 'chai';
import { expectedArrivals, formatArrivalSpec, generateTrace, parseArrivalSpec } from '../../src/core/arrival/spec.js';
import { traceStats } from '../../src/core/arrival/trace.js';

function trace(spec: string, seed: number): Float64Array {
  return generateTrace(parseArrivalSpec(spec), seed);
}

/** The number of arrivals in [fromS, toS). */
function count(t: Float64Array, fromS: number, toS: number): number {
  let n = 0;
  for (const x of t) if (x >= fromS && x < toS) n++;
  return n;
}

function expectRate(t: Float64Array, fromS: number, toS: number, wantQps: number, tolerance = 0.03): void {
  const got = count(t, fromS, toS) / (toS - fromS);
  expect(got, `rate in [${fromS}, ${toS})`).to.be.closeTo(wantQps, wantQps * tolerance);
}

function expectSortedWithin(t: Float64Array, endS: number): void {
  expect(t.length).to.be.greaterThan(0);
  // One assertion, not one per arrival: chai costs microseconds a call.
  let unsorted = -1;
  for (let i = 1; i < t.length && unsorted < 0; i++) if ((t[i] as number) < (t[i - 1] as number)) unsorted = i;
  expect(unsorted, 'index of the first arrival earlier than the one before').to.equal(-1);
  expect(t[0]).to.be.at.least(0);
  expect(t[t.length - 1]).to.be.below(endS);
}

describe('generateTrace: step', () => {
  const cases: { name: string; given: { spec: string; seed: number; cv: number; atS: number; endS: number }; want: { before: number; after: number } }[] = [
    { name: '×4', given: { spec: 'step:rate=1000,factor=4,at=100s,duration=200s', seed: 21, cv: 1, atS: 100, endS: 200 }, want: { before: 1000, after: 4000 } },
    { name: '×2 with cv 2', given: { spec: 'step:rate=1000,factor=2,at=100s,duration=150s,cv=2', seed: 22, cv: 2, atS: 100, endS: 150 }, want: { before: 1000, after: 2000 } },
    { name: 'down to a quarter', given: { spec: 'step:rate=4000,factor=0.25,at=30s,duration=130s', seed: 23, cv: 1, atS: 30, endS: 130 }, want: { before: 4000, after: 1000 } },
  ];
  for (const { name, given, want } of cases) {
    it(`keeps the rate before the step and multiplies it after: ${name}`, () => {
      const t = trace(given.spec, given.seed);
      expectSortedWithin(t, given.endS);
      expectRate(t, 0, given.atS, want.before);
      expectRate(t, given.atS, given.endS, want.after);
      // The change is at `at`, not spread around it: one second either side already shows it,
      // within 5 standard errors of a count of that mean (cv·√N).
      expectRate(t, given.atS - 1, given.atS, want.before, (5 * given.cv) / Math.sqrt(want.before));
      expectRate(t, given.atS, given.atS + 1, want.after, (5 * given.cv) / Math.sqrt(want.after));
    });
  }

  const cvCases: { name: string; given: { spec: string; seed: number }; want: number }[] = [
    { name: 'cv 4', given: { spec: 'step:rate=1000,factor=4,at=500s,duration=600s,cv=4', seed: 31 }, want: 4 },
    { name: 'cv 0.5', given: { spec: 'step:rate=1000,factor=4,at=500s,duration=600s,cv=0.5', seed: 32 }, want: 0.5 },
    { name: 'cv 1 (default)', given: { spec: 'step:rate=1000,factor=4,at=500s,duration=600s', seed: 33 }, want: 1 },
  ];
  for (const { name, given, want } of cvCases) {
    // 5·10⁵ gaps before the step and 4·10⁵ after: the sample CV's standard error is under 1%
    // even at cv 4, and the CV² mistake (2 for a nominal 4) would miss by half.
    it(`has the spec's inter-arrival CV on both flat pieces: ${name}`, () => {
      const t = trace(given.spec, given.seed);
      expect(traceStats(t.filter((x) => x < 500)).interArrivalCv).to.be.closeTo(want, want * 0.04);
      expect(traceStats(t.filter((x) => x >= 500)).interArrivalCv).to.be.closeTo(want, want * 0.04);
    });
  }
});

describe('generateTrace: ramp', () => {
  const cases: { name: string; given: { spec: string; seed: number }; want: number[] }[] = [
    // Quarters of 100 s; the mean rate of a quarter is the rate at its middle.
    { name: 'rising', given: { spec: 'ramp:from=100,to=900,duration=400s', seed: 41 }, want: [200, 400, 600, 800] },
    { name: 'falling', given: { spec: 'ramp:from=900,to=100,duration=400s', seed: 42 }, want: [800, 600, 400, 200] },
    { name: 'flat', given: { spec: 'ramp:from=500,to=500,duration=400s', seed: 43 }, want: [500, 500, 500, 500] },
    { name: 'rising with cv 2', given: { spec: 'ramp:from=1000,to=3000,duration=400s,cv=2', seed: 44 }, want: [1250, 1750, 2250, 2750] },
  ];
  for (const { name, given, want } of cases) {
    it(`changes the rate linearly: ${name}`, () => {
      const t = trace(given.spec, given.seed);
      expectSortedWithin(t, 400);
      want.forEach((rate, q) => expectRate(t, q * 100, (q + 1) * 100, rate));
    });
  }

  it('has the rate of its line at a given point (short windows, many seeds)', () => {
    // 1 s windows around t = 5 s (200 qps) and t = 35 s (800 qps).
    const spec = parseArrivalSpec('ramp:from=100,to=900,duration=40s');
    let early = 0;
    let late = 0;
    for (let seed = 0; seed < 40; seed++) {
      const t = generateTrace(spec, seed);
      early += count(t, 4.5, 5.5);
      late += count(t, 34.5, 35.5);
    }
    expect(early / 40).to.be.closeTo(200, 200 * 0.05);
    expect(late / 40).to.be.closeTo(800, 800 * 0.05);
  });
});

describe('generateTrace: spikes', () => {
  it('runs at the base rate outside spikes and at rate × factor inside, spikes ending at each multiple of every', () => {
    const t = trace('spikes:rate=200,factor=5,every=10s,width=2s,duration=500s', 51);
    expectSortedWithin(t, 500);
    let inside = 0;
    for (const x of t) if (x % 10 >= 8) inside++;
    // 50 spikes of 2 s at 1000 qps; 50 × 8 s at 200 qps.
    expect(inside / 100).to.be.closeTo(1000, 1000 * 0.03);
    expect((t.length - inside) / 400).to.be.closeTo(200, 200 * 0.03);
    // Phase: the segment opens at the base rate and the first spike is [8 s, 10 s).
    expectRate(t, 0, 8, 200, 0.15);
    expectRate(t, 8, 10, 1000, 0.1);
  });

  it('keeps the part of a spike that a short last period holds', () => {
    const spec = 'spikes:rate=100,factor=10,every=10s,width=4s,duration=1008s';
    const t = trace(spec, 52);
    // The last period is [1000, 1008): base until 1006, then 2 s of its spike.
    expectRate(t, 1000, 1006, 100, 0.2);
    expectRate(t, 1006, 1008, 1000, 0.1);
    expect(t.length).to.be.closeTo(expectedArrivals(parseArrivalSpec(spec)), expectedArrivals(parseArrivalSpec(spec)) * 0.02);
  });

  it('dips as well as spikes (factor < 1)', () => {
    const t = trace('spikes:rate=2000,factor=0.1,every=1s,width=0.5s,duration=200s', 53);
    let inside = 0;
    for (const x of t) if (x % 1 >= 0.5) inside++;
    expect(inside / 100).to.be.closeTo(200, 200 * 0.05);
    expect((t.length - inside) / 100).to.be.closeTo(2000, 2000 * 0.03);
  });
});

describe('generateTrace: modulated kinds in compositions', () => {
  const composed = 'poisson:rate=100,duration=20s;step:rate=100,factor=4,at=10s,duration=20s;ramp:from=400,to=100,duration=30s;spikes:rate=100,factor=10,every=5s,width=1s,duration=20s';

  it('is byte-identical for the same spec and seed, and for its canonical text', () => {
    const spec = parseArrivalSpec(composed);
    const a = generateTrace(spec, 7);
    const b = generateTrace(parseArrivalSpec(formatArrivalSpec(spec)), 7);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).to.equal(true);
    expect(Buffer.from(generateTrace(spec, 8).buffer).equals(Buffer.from(a.buffer))).to.equal(false);
  });

  it("uses a modulated segment's own seed over the default", () => {
    const seeded = 'ramp:from=10,to=100,duration=20s,seed=9';
    expect(Array.from(trace(seeded, 1))).to.deep.equal(Array.from(trace(seeded, 2)));
    expect(Array.from(trace(seeded, 1))).to.deep.equal(Array.from(trace('ramp:from=10,to=100,duration=20s', 9)));
  });

  it('plays each segment in its own span, at its own rates', () => {
    const t = trace(composed, 3);
    expectSortedWithin(t, 90);
    expect(count(t, 0, 90)).to.equal(t.length);
    const per = [count(t, 0, 20), count(t, 20, 40), count(t, 40, 70), count(t, 70, 90)];
    const want = [2000, 1000 + 4000, 30 * 250, 16 * 100 + 4 * 1000];
    per.forEach((n, i) => expect(n, `segment ${i + 1}`).to.be.closeTo(want[i] as number, 6 * Math.sqrt(want[i] as number)));
    expect(expectedArrivals(parseArrivalSpec(composed))).to.be.closeTo(want.reduce((x, y) => x + y), 1e-6);
  });

  it('leaves other segments unchanged when a modulated segment is edited', () => {
    const before = trace(composed, 4);
    const after = trace(composed.replace('ramp:from=400,to=100', 'ramp:from=50,to=900'), 4);
    const same = (t: Float64Array, from: number, to: number): number[] => Array.from(t.filter((x) => x >= from && x < to));
    expect(same(after, 0, 40)).to.deep.equal(same(before, 0, 40));
    expect(same(after, 70, 90)).to.deep.equal(same(before, 70, 90));
    expect(same(after, 40, 70)).to.not.deep.equal(same(before, 40, 70));
  });

  it('stays sorted and inside its segment at the largest cv', () => {
    const t = trace('step:rate=1000,factor=3,at=2s,duration=5s,cv=100;spikes:rate=100,factor=50,every=1s,width=0.1s,duration=5s,cv=100', 5);
    expectSortedWithin(t, 10);
  });
});
