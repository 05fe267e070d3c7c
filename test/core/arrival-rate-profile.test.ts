import { expect } from 'chai';
import fc from 'fast-check';
import { compileRateProfile, integrateRate, invertIntegratedRate } from '../../src/core/arrival/rate-profile.js';
import type { RateProfile } from '../../src/core/arrival/rate-profile.js';

describe('rate profiles', () => {
  const step: RateProfile = { periodic: false, pieces: [{ lengthS: 2, fromQps: 10, toQps: 10 }, { lengthS: 3, fromQps: 40, toQps: 40 }] };
  const rampUp: RateProfile = { periodic: false, pieces: [{ lengthS: 10, fromQps: 1, toQps: 9 }] };
  const rampDown: RateProfile = { periodic: false, pieces: [{ lengthS: 10, fromQps: 9, toQps: 1 }] };
  const spikes: RateProfile = { periodic: true, pieces: [{ lengthS: 8, fromQps: 1, toQps: 1 }, { lengthS: 2, fromQps: 5, toQps: 5 }] };

  const integrals: { name: string; given: { profile: RateProfile; tS: number }; want: number }[] = [
    { name: 'before the start', given: { profile: step, tS: -1 }, want: 0 },
    { name: 'inside a flat piece', given: { profile: step, tS: 1.5 }, want: 15 },
    { name: 'at a boundary', given: { profile: step, tS: 2 }, want: 20 },
    { name: 'after a step', given: { profile: step, tS: 4 }, want: 100 },
    { name: 'past the end of a finite profile', given: { profile: step, tS: 99 }, want: 140 },
    { name: 'half a rising ramp', given: { profile: rampUp, tS: 5 }, want: 5 * (1 + 5) / 2 },
    { name: 'half a falling ramp', given: { profile: rampDown, tS: 5 }, want: 5 * (9 + 5) / 2 },
    { name: 'a periodic profile, in its third period', given: { profile: spikes, tS: 29 }, want: 2 * 18 + 8 + 5 },
  ];
  for (const { name, given, want } of integrals) {
    it(`integrates: ${name}`, () => {
      expect(integrateRate(compileRateProfile(given.profile), given.tS)).to.be.closeTo(want, 1e-12 * Math.max(1, want));
    });
  }

  it('inverts to Infinity past the end of a finite profile, and never for a periodic one', () => {
    expect(invertIntegratedRate(compileRateProfile(step), 140)).to.equal(Infinity);
    expect(invertIntegratedRate(compileRateProfile(spikes), 1e9)).to.be.closeTo(555_555_550 + 8 + 2 / 5, 1e-6);
  });

  it('inverts its integral (property, rising, falling and flat pieces, periodic or not)', () => {
    const piece = fc.record({
      lengthS: fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
      fromQps: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
      toQps: fc.double({ min: 1e-3, max: 1e4, noNaN: true }),
    });
    const flat = fc.record({ lengthS: fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fromQps: fc.double({ min: 1e-3, max: 1e4, noNaN: true }) })
      .map(({ lengthS, fromQps }) => ({ lengthS, fromQps, toQps: fromQps }));
    const profile = fc.record({ pieces: fc.array(fc.oneof(piece, flat), { minLength: 1, maxLength: 5 }), periodic: fc.boolean() });
    // Short of the very end of a finite profile, where Λ⁻¹ may round either way of the end.
    fc.assert(fc.property(profile, fc.double({ min: 0, max: 0.999, noNaN: true }), (p, where) => {
      const c = compileRateProfile(p);
      const tS = where * c.lengthS * (p.periodic ? 3 : 1);
      const tau = integrateRate(c, tS);
      // Λ⁻¹ is as well conditioned as 1/λ: compare in the τ domain, where the error is relative.
      const back = invertIntegratedRate(c, tau);
      expect(integrateRate(c, back)).to.be.closeTo(tau, 1e-9 * Math.max(1, tau));
      expect(back).to.be.closeTo(tS, 1e-6 * Math.max(1, tS));
    }));
  });

  it('is stable when a slope is almost 0', () => {
    const flat = compileRateProfile({ periodic: false, pieces: [{ lengthS: 100, fromQps: 50, toQps: 50 }] });
    const tilted = compileRateProfile({ periodic: false, pieces: [{ lengthS: 100, fromQps: 50, toQps: 50 * (1 + 1e-14) }] });
    for (const tau of [1e-9, 0.5, 17, 2500, 4999.999]) {
      expect(invertIntegratedRate(flat, tau)).to.equal(tau / 50);
      expect(invertIntegratedRate(tilted, tau)).to.be.closeTo(tau / 50, 1e-12 * Math.max(1, tau / 50));
    }
  });

  it('refuses a piece without a positive length and rates', () => {
    expect(() => compileRateProfile({ periodic: false, pieces: [] })).to.throw(RangeError);
    expect(() => compileRateProfile({ periodic: false, pieces: [{ lengthS: 1, fromQps: 0, toQps: 1 }] })).to.throw(RangeError);
    expect(() => compileRateProfile({ periodic: true, pieces: [{ lengthS: 0, fromQps: 1, toQps: 1 }] })).to.throw(RangeError);
  });
});
