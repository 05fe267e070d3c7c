import { expect } from 'chai';
import fc from 'fast-check';
import {
  MAX_EXPECTED_ARRIVALS, arrivalSpecDurationMs, expectedArrivals, formatArrivalSpec, generateTrace, parseArrivalSpec,
} from '../../src/core/arrival/spec.js';
import type { ArrivalSegment, ArrivalSpec } from '../../src/core/arrival/spec.js';
import { InvalidInputError } from '../../src/core/model/errors.js';
import { formatTrace, traceStats } from '../../src/core/arrival/trace.js';

function specError(text: string): InvalidInputError {
  try {
    parseArrivalSpec(text);
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error(`expected "${text}" to be rejected`);
}

/** The arrivals of a trace in [fromS, toS). */
function between(trace: Float64Array, fromS: number, toS: number): Float64Array {
  return trace.filter((t) => t >= fromS && t < toS);
}

describe('parseArrivalSpec', () => {
  const good: { name: string; given: string; want: ArrivalSegment[] }[] = [
    { name: 'poisson', given: 'poisson:rate=100,duration=60s', want: [{ kind: 'poisson', rateQps: 100, durationMs: 60_000 }] },
    { name: 'gamma with a seed', given: 'gamma:rate=12.5,cv=4,duration=5m,seed=7', want: [{ kind: 'gamma', rateQps: 12.5, cv: 4, durationMs: 300_000, seed: 7 }] },
    { name: 'bare number of seconds', given: 'poisson:rate=1,duration=1.5', want: [{ kind: 'poisson', rateQps: 1, durationMs: 1500 }] },
    { name: 'milliseconds', given: 'poisson:rate=1,duration=250ms', want: [{ kind: 'poisson', rateQps: 1, durationMs: 250 }] },
    { name: 'fractional seconds rounded clean', given: 'poisson:rate=1,duration=1.1s', want: [{ kind: 'poisson', rateQps: 1, durationMs: 1100 }] },
    { name: 'spaces, upper case, any key order', given: ' Gamma : Duration = 2s , CV=0.5, rate=3 ', want: [{ kind: 'gamma', rateQps: 3, cv: 0.5, durationMs: 2000 }] },
    {
      name: 'composition',
      given: 'gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s',
      want: [{ kind: 'gamma', rateQps: 100, cv: 1, durationMs: 120_000 }, { kind: 'gamma', rateQps: 400, cv: 4, durationMs: 120_000 }],
    },
    { name: 'step, cv by default 1', given: 'step:rate=100,factor=4,at=30s,duration=1m', want: [{ kind: 'step', rateQps: 100, factor: 4, atMs: 30_000, durationMs: 60_000, cv: 1 }] },
    { name: 'step down, with cv and seed', given: 'step:rate=100,factor=0.5,at=1.5,duration=2s,cv=3,seed=4', want: [{ kind: 'step', rateQps: 100, factor: 0.5, atMs: 1500, durationMs: 2000, cv: 3, seed: 4 }] },
    { name: 'ramp', given: 'ramp:from=100,to=400,duration=2m', want: [{ kind: 'ramp', fromQps: 100, toQps: 400, durationMs: 120_000, cv: 1 }] },
    { name: 'falling ramp with cv', given: 'RAMP: to=1, from=50, duration=10s, cv=0.5', want: [{ kind: 'ramp', fromQps: 50, toQps: 1, durationMs: 10_000, cv: 0.5 }] },
    {
      name: 'spikes',
      given: 'spikes:rate=50,factor=10,every=10s,width=500ms,duration=5m,seed=2',
      want: [{ kind: 'spikes', rateQps: 50, factor: 10, everyMs: 10_000, widthMs: 500, durationMs: 300_000, cv: 1, seed: 2 }],
    },
    { name: 'spikes as long as the segment', given: 'spikes:rate=1,factor=2,every=10s,width=9.999s,duration=10s', want: [{ kind: 'spikes', rateQps: 1, factor: 2, everyMs: 10_000, widthMs: 9999, durationMs: 10_000, cv: 1 }] },
    {
      name: 'composition of every kind',
      given: 'poisson:rate=10,duration=1s;step:rate=10,factor=2,at=1s,duration=2s;ramp:from=20,to=5,duration=3s;spikes:rate=5,factor=4,every=1s,width=100ms,duration=4s;gamma:rate=5,cv=2,duration=1s',
      want: [
        { kind: 'poisson', rateQps: 10, durationMs: 1000 },
        { kind: 'step', rateQps: 10, factor: 2, atMs: 1000, durationMs: 2000, cv: 1 },
        { kind: 'ramp', fromQps: 20, toQps: 5, durationMs: 3000, cv: 1 },
        { kind: 'spikes', rateQps: 5, factor: 4, everyMs: 1000, widthMs: 100, durationMs: 4000, cv: 1 },
        { kind: 'gamma', rateQps: 5, cv: 2, durationMs: 1000 },
      ],
    },
  ];
  for (const { name, given, want } of good) {
    it(`parses: ${name}`, () => {
      expect(parseArrivalSpec(given)).to.deep.equal({ segments: want });
    });
  }

  const bad: { name: string; given: string; want: { path: string; message: RegExp } }[] = [
    { name: 'empty', given: '  ', want: { path: '', message: /empty/ } },
    { name: 'unknown kind', given: 'uniform:rate=1,duration=1s', want: { path: 'segment 1', message: /unknown kind "uniform"/ } },
    { name: 'unknown key', given: 'poisson:rate=1,duration=1s,cv=2', want: { path: 'segment 1.cv', message: /unknown key "cv": poisson takes rate, duration, seed/ } },
    { name: 'missing key', given: 'gamma:rate=1,duration=1s', want: { path: 'segment 1.cv', message: /missing/ } },
    { name: 'kind without keys', given: 'poisson', want: { path: 'segment 1.rate', message: /missing/ } },
    { name: 'key without value', given: 'poisson:rate,duration=1s', want: { path: 'segment 1.rate', message: /key=value/ } },
    { name: 'key given twice', given: 'poisson:rate=1,rate=2,duration=1s', want: { path: 'segment 1.rate', message: /more than once/ } },
    { name: 'zero rate', given: 'poisson:rate=0,duration=1s', want: { path: 'segment 1.rate', message: /greater than 0/ } },
    { name: 'negative rate', given: 'poisson:rate=-5,duration=1s', want: { path: 'segment 1.rate', message: /greater than 0/ } },
    { name: 'rate not a number', given: 'poisson:rate=fast,duration=1s', want: { path: 'segment 1.rate', message: /not a finite number/ } },
    { name: 'infinite rate', given: 'poisson:rate=inf,duration=1s', want: { path: 'segment 1.rate', message: /not a finite number/ } },
    { name: 'zero cv', given: 'gamma:rate=1,cv=0,duration=1s', want: { path: 'segment 1.cv', message: /greater than 0/ } },
    { name: 'huge cv', given: 'gamma:rate=1,cv=1000,duration=1s', want: { path: 'segment 1.cv', message: /at most 100/ } },
    { name: 'bad duration', given: 'poisson:rate=1,duration=1 week', want: { path: 'segment 1.duration', message: /not a duration/ } },
    { name: 'zero duration', given: 'poisson:rate=1,duration=0s', want: { path: 'segment 1.duration', message: /longer than 0/ } },
    { name: 'fractional seed', given: 'poisson:rate=1,duration=1s,seed=1.5', want: { path: 'segment 1.seed', message: /non-negative integer/ } },
    { name: 'negative seed', given: 'poisson:rate=1,duration=1s,seed=-1', want: { path: 'segment 1.seed', message: /non-negative integer/ } },
    { name: 'empty segment', given: 'poisson:rate=1,duration=1s;', want: { path: 'segment 2', message: /empty/ } },
    { name: 'problem in the second segment', given: 'poisson:rate=1,duration=1s;gamma:rate=1,cv=x,duration=1s', want: { path: 'segment 2.cv', message: /not a finite number/ } },
    { name: 'too many arrivals', given: 'poisson:rate=1e6,duration=1h', want: { path: '', message: /would generate about/ } },
    { name: 'step without a factor', given: 'step:rate=1,at=1s,duration=2s', want: { path: 'segment 1.factor', message: /is missing: step needs rate, factor, at, duration/ } },
    { name: 'step with a key of ramp', given: 'step:from=1,rate=1,factor=2,at=1s,duration=2s', want: { path: 'segment 1.from', message: /unknown key "from": step takes rate, factor, at, duration, cv, seed/ } },
    { name: 'step at the end', given: 'step:rate=1,factor=2,at=2s,duration=2s', want: { path: 'segment 1.at', message: /2s must be before the end of the segment \(duration 2s\)/ } },
    { name: 'step past the end', given: 'step:rate=1,factor=2,at=3m,duration=2m', want: { path: 'segment 1.at', message: /before the end/ } },
    { name: 'step at 0', given: 'step:rate=1,factor=2,at=0s,duration=2s', want: { path: 'segment 1.at', message: /longer than 0/ } },
    { name: 'step at is no duration', given: 'step:rate=1,factor=2,at=soon,duration=2s', want: { path: 'segment 1.at', message: /not a duration/ } },
    { name: 'zero factor', given: 'step:rate=1,factor=0,at=1s,duration=2s', want: { path: 'segment 1.factor', message: /greater than 0/ } },
    { name: 'negative factor', given: 'spikes:rate=1,factor=-2,every=1s,width=0.5s,duration=2s', want: { path: 'segment 1.factor', message: /greater than 0/ } },
    { name: 'peak rate overflows', given: 'step:rate=1e300,factor=1e300,at=1s,duration=2s', want: { path: 'segment 1.factor', message: /rate × factor is Infinity/ } },
    { name: 'peak rate underflows', given: 'spikes:rate=1e-200,factor=1e-200,every=1s,width=0.5s,duration=2s', want: { path: 'segment 1.factor', message: /rate × factor is 0/ } },
    { name: 'cv of a step over the limit', given: 'step:rate=1,factor=2,at=1s,duration=2s,cv=101', want: { path: 'segment 1.cv', message: /at most 100/ } },
    { name: 'zero cv of a ramp', given: 'ramp:from=1,to=2,duration=2s,cv=0', want: { path: 'segment 1.cv', message: /greater than 0/ } },
    { name: 'ramp from 0', given: 'ramp:from=0,to=10,duration=2s', want: { path: 'segment 1.from', message: /greater than 0/ } },
    { name: 'ramp to a negative rate', given: 'ramp:from=10,to=-1,duration=2s', want: { path: 'segment 1.to', message: /greater than 0/ } },
    { name: 'ramp with a rate', given: 'ramp:rate=1,from=1,to=2,duration=2s', want: { path: 'segment 1.rate', message: /unknown key "rate": ramp takes from, to, duration, cv, seed/ } },
    { name: 'ramp without an end', given: 'ramp:from=1,duration=2s', want: { path: 'segment 1.to', message: /is missing: ramp needs from, to, duration/ } },
    { name: 'spikes without a width', given: 'spikes:rate=1,factor=2,every=1s,duration=2s', want: { path: 'segment 1.width', message: /is missing: spikes needs rate, factor, every, width, duration/ } },
    { name: 'spike as wide as its period', given: 'spikes:rate=1,factor=2,every=1s,width=1000ms,duration=2s', want: { path: 'segment 1.width', message: /1000ms must be shorter than every \(1s\)/ } },
    { name: 'spike period longer than the segment', given: 'spikes:rate=1,factor=2,every=3s,width=1s,duration=2s', want: { path: 'segment 1.every', message: /3s must be at most the duration \(2s\)/ } },
    { name: 'spike seed', given: 'spikes:rate=1,factor=2,every=1s,width=0.1s,duration=2s,seed=x', want: { path: 'segment 1.seed', message: /not a seed/ } },
    { name: 'problem in a later new-kind segment', given: 'poisson:rate=1,duration=1s;ramp:from=1,to=2,duration=1s;spikes:rate=1,factor=2,every=1s,width=2s,duration=10s', want: { path: 'segment 3.width', message: /shorter than every/ } },
    // The integral of the ramp, 3600 × (1 + 28000) / 2 ≈ 50.4 M, is over the limit (next case: under it).
    { name: 'too many arrivals under a ramp', given: 'ramp:from=1,to=28000,duration=1h', want: { path: '', message: /would generate about 50401800 arrivals/ } },
    { name: 'too many arrivals under spikes', given: 'spikes:rate=1000,factor=1000,every=2s,width=1s,duration=2m', want: { path: '', message: /would generate about 60060000 arrivals/ } },
  ];
  for (const { name, given, want } of bad) {
    it(`rejects: ${name}`, () => {
      const err = specError(given);
      expect(err.problems[0]?.path).to.equal(want.path);
      expect(err.problems[0]?.message).to.match(want.message);
      expect(err.message).to.contain(`"${given}"`);
    });
  }

  it('reports every problem at once', () => {
    const err = specError('poisson:rate=0,duration=x,foo=1;gamma:rate=1;nope:a=1');
    expect(err.problems.map((p) => p.path)).to.deep.equal([
      'segment 1.foo', 'segment 1.rate', 'segment 1.duration', 'segment 2.cv', 'segment 2.duration', 'segment 3',
    ]);
  });

  it('reports every problem of the new kinds at once, relations between keys included', () => {
    const err = specError('step:rate=0,factor=2,at=5s,duration=2s;spikes:rate=1,factor=2,every=20s,width=30s,duration=10s,cv=0;ramp:from=1,to=x,duration=1s,rate=3');
    expect(err.problems.map((p) => p.path)).to.deep.equal([
      'segment 1.rate', 'segment 1.at', 'segment 2.cv', 'segment 2.every', 'segment 2.width', 'segment 3.rate', 'segment 3.to',
    ]);
  });

  it('takes the integral of the rate, not its peak, for the arrival limit', () => {
    // Peak × duration is 3.6 M, over the limit; the integral is 1.8 M, under it.
    expect(expectedArrivals(parseArrivalSpec('ramp:from=1,to=1000,duration=1h'))).to.be.closeTo(3600 * 1001 / 2, 1e-6);
  });

  it('refuses a workload over the arrival limit or longer than a day', () => {
    expect(specError('poisson:rate=800000,duration=60s').problems[0]?.message).to.match(/about 48000000 arrivals; at most 2000000/);
    expect(specError('poisson:rate=0.0000001,duration=1000000h').problems[0]?.message).to.match(/lasts 1000000h in all; a workload may last at most 24h/);
    expect(specError('poisson:rate=1,duration=20h;poisson:rate=1,duration=5h').problems[0]?.message).to.match(/lasts 25h/);
  });
});

describe('formatArrivalSpec', () => {
  it('writes the canonical form', () => {
    const spec = parseArrivalSpec('gamma : cv=4, rate=100, duration=120 ; poisson:rate=0.5,duration=1500ms,seed=3');
    expect(formatArrivalSpec(spec)).to.equal('gamma:rate=100,cv=4,duration=2m;poisson:rate=0.5,duration=1500ms,seed=3');
  });

  it('round-trips any spec (property)', () => {
    const rate = fc.double({ min: 1e-3, max: 1e4, noNaN: true });
    const duration = fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 1000);
    const seed = fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined });
    const anyCv = fc.double({ min: 0.01, max: 100, noNaN: true });
    // The modulated kinds' cv is often the default, which the canonical text leaves out.
    const cvOrDefault = fc.oneof(fc.constant(1), anyCv);
    const factor = fc.double({ min: 0.01, max: 100, noNaN: true });
    const seedPart = (s: number | undefined): { seed?: number } => (s === undefined ? {} : { seed: s });
    // A duration in whole microseconds split into two ordered positive parts: `at` < duration,
    // and width < every ≤ duration.
    const split = fc.integer({ min: 2, max: 10_000_000 }).chain((whole) =>
      fc.integer({ min: 1, max: whole - 1 }).map((part) => ({ whole: whole / 1000, part: part / 1000 })));
    const spikeTimes = fc.integer({ min: 2, max: 10_000_000 }).chain((whole) =>
      fc.integer({ min: 2, max: whole }).chain((every) =>
        fc.integer({ min: 1, max: every - 1 }).map((width) => ({ duration: whole / 1000, every: every / 1000, width: width / 1000 }))));
    const segment: fc.Arbitrary<ArrivalSegment> = fc.oneof(
      fc.record({ rate, duration, seed }).map(({ rate: r, duration: d, seed: s }) =>
        ({ kind: 'poisson' as const, rateQps: r, durationMs: d, ...(s === undefined ? {} : { seed: s }) })),
      fc.record({ rate, duration, seed, cv: anyCv }).map(({ rate: r, duration: d, seed: s, cv }) =>
        ({ kind: 'gamma' as const, rateQps: r, cv, durationMs: d, ...(s === undefined ? {} : { seed: s }) })),
      fc.record({ rate, factor, times: split, cv: cvOrDefault, seed }).map(({ rate: r, factor: f, times, cv, seed: s }) =>
        ({ kind: 'step' as const, rateQps: r, factor: f, atMs: times.part, durationMs: times.whole, cv, ...seedPart(s) })),
      fc.record({ from: rate, to: rate, duration, cv: cvOrDefault, seed }).map(({ from, to, duration: d, cv, seed: s }) =>
        ({ kind: 'ramp' as const, fromQps: from, toQps: to, durationMs: d, cv, ...seedPart(s) })),
      fc.record({ rate, factor, times: spikeTimes, cv: cvOrDefault, seed }).map(({ rate: r, factor: f, times, cv, seed: s }) =>
        ({ kind: 'spikes' as const, rateQps: r, factor: f, everyMs: times.every, widthMs: times.width, durationMs: times.duration, cv, ...seedPart(s) })),
    );
    fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
      const spec: ArrivalSpec = { segments };
      fc.pre(expectedArrivals(spec) <= MAX_EXPECTED_ARRIVALS);
      expect(parseArrivalSpec(formatArrivalSpec(spec))).to.deep.equal(spec);
    }));
  });

  it('writes the canonical form of the new kinds, leaving out the default cv', () => {
    const spec = parseArrivalSpec('step:at=90,rate=100,factor=2,duration=3m,cv=1;ramp:to=5,from=1,duration=1500ms,cv=2,seed=3;spikes:width=1s,every=10s,rate=5,factor=8,duration=1h');
    expect(formatArrivalSpec(spec)).to.equal(
      'step:rate=100,factor=2,at=90s,duration=3m;ramp:from=1,to=5,duration=1500ms,cv=2,seed=3;spikes:rate=5,factor=8,every=10s,width=1s,duration=1h');
  });

  const expectations: { name: string; given: string; want: number }[] = [
    { name: 'step', given: 'step:rate=10,factor=4,at=1s,duration=3s', want: 10 + 2 * 40 },
    { name: 'ramp', given: 'ramp:from=10,to=30,duration=2s', want: 40 },
    { name: 'spikes, whole periods and a partial base', given: 'spikes:rate=10,factor=5,every=4s,width=1s,duration=9s', want: 2 * (30 + 50) + 10 },
    { name: 'spikes, ending inside a spike', given: 'spikes:rate=10,factor=5,every=4s,width=1s,duration=7.5s', want: 80 + 30 + 25 },
    { name: 'a composition', given: 'poisson:rate=10,duration=2s;ramp:from=10,to=30,duration=2s', want: 60 },
  ];
  for (const { name, given, want } of expectations) {
    it(`integrates the rate for the expected arrivals: ${name}`, () => {
      expect(expectedArrivals(parseArrivalSpec(given))).to.be.closeTo(want, 1e-9 * want);
    });
  }

  it('sums durations and expected arrivals', () => {
    const spec = parseArrivalSpec('poisson:rate=10,duration=2s;gamma:rate=100,cv=2,duration=500ms');
    expect(arrivalSpecDurationMs(spec)).to.equal(2500);
    expect(expectedArrivals(spec)).to.equal(70);
  });
});

describe('generateTrace', () => {
  it('is byte-identical for the same spec and seed', () => {
    const spec = parseArrivalSpec('gamma:rate=200,cv=4,duration=30s;poisson:rate=50,duration=10s');
    expect(formatTrace(generateTrace(spec, 42))).to.equal(formatTrace(generateTrace(parseArrivalSpec(formatArrivalSpec(spec)), 42)));
  });

  it('differs for a different seed', () => {
    const spec = parseArrivalSpec('poisson:rate=100,duration=10s');
    expect(formatTrace(generateTrace(spec, 1))).to.not.equal(formatTrace(generateTrace(spec, 2)));
  });

  it("uses a segment's own seed over the default", () => {
    const seeded = parseArrivalSpec('poisson:rate=100,duration=10s,seed=9');
    expect(formatTrace(generateTrace(seeded, 1))).to.equal(formatTrace(generateTrace(seeded, 2)));
    expect(formatTrace(generateTrace(seeded, 1))).to.equal(formatTrace(generateTrace(parseArrivalSpec('poisson:rate=100,duration=10s'), 9)));
  });

  it('is sorted and inside [0, total duration)', () => {
    const trace = generateTrace(parseArrivalSpec('gamma:rate=500,cv=8,duration=5s;poisson:rate=1000,duration=2s;gamma:rate=50,cv=0.5,duration=3s'), 3);
    expect(trace.length).to.be.greaterThan(0);
    for (let i = 1; i < trace.length; i++) expect(trace[i]).to.be.at.least(trace[i - 1] as number);
    expect(trace[0]).to.be.at.least(0);
    expect(trace[trace.length - 1]).to.be.below(10);
  });

  it('rejects a bad default seed', () => {
    const spec = parseArrivalSpec('poisson:rate=1,duration=1s');
    expect(() => generateTrace(spec, -1)).to.throw(RangeError);
    expect(() => generateTrace(spec, 0.5)).to.throw(RangeError);
  });

  // 1e6 inter-arrival gaps per case. For gamma with cv = 4 (shape 1/16) the sample CV has a
  // relative standard error of about 0.5%, so 4% is many standard errors wide, yet the CV²
  // mistake (true CV 2 for a nominal 4) would miss by 50%.
  const statCases: { name: string; given: { spec: string; seed: number }; want: { rate: number; cv: number } }[] = [
    { name: 'poisson', given: { spec: 'poisson:rate=1000,duration=1000s', seed: 11 }, want: { rate: 1000, cv: 1 } },
    { name: 'gamma cv=1', given: { spec: 'gamma:rate=1000,cv=1,duration=1000s', seed: 12 }, want: { rate: 1000, cv: 1 } },
    { name: 'gamma cv=4', given: { spec: 'gamma:rate=1000,cv=4,duration=1000s', seed: 13 }, want: { rate: 1000, cv: 4 } },
    { name: 'gamma cv=4, another seed', given: { spec: 'gamma:rate=1000,cv=4,duration=1000s', seed: 14 }, want: { rate: 1000, cv: 4 } },
    { name: 'gamma cv=0.5', given: { spec: 'gamma:rate=1000,cv=0.5,duration=1000s', seed: 15 }, want: { rate: 1000, cv: 0.5 } },
  ];
  for (const { name, given, want } of statCases) {
    it(`matches the rate and CV of the spec: ${name}`, () => {
      const stats = traceStats(generateTrace(parseArrivalSpec(given.spec), given.seed));
      expect(stats.meanRateQps).to.be.closeTo(want.rate, want.rate * 0.03);
      expect(stats.interArrivalCv).to.be.closeTo(want.cv, want.cv * 0.04);
    });
  }

  it('plays segments one after another, each at its own rate', () => {
    const trace = generateTrace(parseArrivalSpec('gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s'), 5);
    const first = between(trace, 0, 120);
    const second = between(trace, 120, 240);
    expect(first.length + second.length).to.equal(trace.length);
    expect(first.length / 120).to.be.closeTo(100, 5);
    expect(second.length / 120).to.be.closeTo(400, 40);
  });

  it('leaves segment 1 unchanged when segment 2 is edited', () => {
    const before = generateTrace(parseArrivalSpec('poisson:rate=50,duration=20s;gamma:rate=100,cv=2,duration=20s'), 8);
    const after = generateTrace(parseArrivalSpec('poisson:rate=50,duration=20s;gamma:rate=300,cv=1,duration=40s'), 8);
    const a = between(before, 0, 20);
    const b = between(after, 0, 20);
    expect(a.length).to.be.greaterThan(0);
    expect(formatTrace(b)).to.equal(formatTrace(a));
    expect(formatTrace(between(after, 20, 60))).to.not.equal(formatTrace(between(before, 20, 40)));
  });

  it('leaves segment 2 unchanged (shifted) when segment 1 changes rate but not duration', () => {
    const before = generateTrace(parseArrivalSpec('poisson:rate=50,duration=20s;poisson:rate=100,duration=20s'), 8);
    const after = generateTrace(parseArrivalSpec('poisson:rate=10,duration=20s;poisson:rate=100,duration=20s'), 8);
    expect(formatTrace(between(after, 20, 40))).to.equal(formatTrace(between(before, 20, 40)));
  });
});
