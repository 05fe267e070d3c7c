import { expect } from 'chai';
import fc from 'fast-check';
import { orderFreeMean, percentileOfSorted, percentilesInPlace } from '../../src/core/math/percentiles.js';

const PS = [50, 95, 99, 99.9, 99, 100, 0.1];

describe('core/percentiles', () => {
  it('percentilesInPlace gives what percentileOfSorted gives on the sorted values, duplicates and all', () => {
    // Values from a small set (many ties), or spread; any length, any count within it.
    const values = fc.oneof(
      fc.array(fc.integer({ min: 0, max: 5 }).map((x) => x * 10), { maxLength: 400 }),
      fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { maxLength: 400 }),
    );
    fc.assert(fc.property(values, fc.nat(), (xs, cut) => {
      const count = xs.length === 0 ? 0 : cut % (xs.length + 1);
      const buf = Float64Array.from(xs);
      const sorted = Float64Array.from(xs.slice(0, count)).sort();
      const got = percentilesInPlace(buf, count, PS);
      expect(got).to.deep.equal(PS.map((p) => percentileOfSorted(sorted, p)));
      // It only reorders the first `count` values.
      expect(Float64Array.from(buf.slice(0, count)).sort()).to.deep.equal(sorted);
      expect([...buf.slice(count)]).to.deep.equal(xs.slice(count));
    }));
  });

  it('percentilesInPlace on a sorted and a reversed run of 100k (no quadratic case)', () => {
    const up = Float64Array.from({ length: 100_000 }, (_, i) => i);
    const down = up.slice().reverse();
    expect(percentilesInPlace(up, up.length, [50, 99, 100])).to.deep.equal([49_999, 98_999, 99_999]);
    expect(percentilesInPlace(down, down.length, [50, 99, 100])).to.deep.equal([49_999, 98_999, 99_999]);
  });

  it('orderFreeMean is the same in any order, and within 2^-k per value of the float mean', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.nat(), (xs, seed) => {
      const max = Math.max(...xs);
      const shuffled = xs.map((x, i) => ({ x, k: (i * 2654435761 + seed) % 1000003 })).sort((a, b) => a.k - b.k).map((e) => e.x);
      const mean = orderFreeMean(Float64Array.from(xs), xs.length, max);
      expect(orderFreeMean(Float64Array.from(shuffled), xs.length, max)).to.equal(mean);
      expect(mean).to.be.closeTo(xs.reduce((a, b) => a + b, 0) / xs.length, 1e-9 * Math.max(1, max));
    }));
    expect(orderFreeMean(Float64Array.from([0.1, 0.2, 0.3]), 3, 0.3)).to.be.closeTo(0.2, 1e-12);
    expect(Number.isNaN(orderFreeMean(new Float64Array(0), 0, 0))).to.equal(true);
  });
});
