import { expect } from 'chai';
import { DEFAULT_STABILITY, isStable, relativeSpread, windowSpread } from '../../../src/core/profiler/index.js';
import type { WindowSummary } from '../../../src/core/profiler/index.js';

/** Windows of [median latency ms, throughput items/s], 10 requests each. */
function windows(...pairs: (readonly [number, number])[]): WindowSummary[] {
  return pairs.map(([latencyMs, throughputQps], i) => ({ startMs: i * 1000, endMs: (i + 1) * 1000, requests: 10, latencyMs, throughputQps }));
}

describe('core/profiler/stability: perf_analyzer\'s criterion', () => {
  it('is three windows within 10 % by default', () => {
    expect(DEFAULT_STABILITY).to.deep.equal({ windows: 3, tolerance: 0.1 });
  });

  const cases: { name: string; given: WindowSummary[]; want: boolean }[] = [
    { name: 'no window', given: [], want: false },
    { name: 'two equal windows are too few', given: windows([10, 100], [10, 100]), want: false },
    { name: 'three equal windows', given: windows([10, 100], [10, 100], [10, 100]), want: true },
    { name: 'latency max/min exactly 1.10', given: windows([10, 100], [11, 100], [10.5, 100]), want: true },
    { name: 'latency max/min 1.11', given: windows([10, 100], [11.1, 100], [10.5, 100]), want: false },
    { name: 'throughput max/min exactly 1.10', given: windows([10, 100], [10, 110], [10, 105]), want: true },
    { name: 'throughput max/min 1.11', given: windows([10, 100], [10, 111], [10, 105]), want: false },
    { name: 'only the last three count', given: windows([50, 10], [10, 100], [10, 101], [10, 102]), want: true },
    { name: 'a noisy last window breaks it', given: windows([10, 100], [10, 100], [10, 100], [20, 100]), want: false },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want ? 'stable' : 'not stable'}`, () => {
      expect(isStable(c.given)).to.equal(c.want);
    });
  }

  it('an empty window is never stable (perf_analyzer: zero throughput)', () => {
    const w = windows([10, 100], [10, 100], [10, 100]);
    w[1] = { ...(w[1] as WindowSummary), requests: 0, latencyMs: Number.NaN, throughputQps: 0 };
    expect(isStable(w)).to.equal(false);
    expect(windowSpread(w).throughput).to.equal(Number.POSITIVE_INFINITY);
  });

  it('where the server reports compute times, they must agree within 10 % too', () => {
    const withCompute = (...c: number[]): WindowSummary[] => windows([10, 100], [10, 100], [10, 100]).map((w, i) => ({ ...w, computeMs: c[i] as number }));
    expect(isStable(withCompute(8, 8.5, 8.8))).to.equal(true);
    // One stalled batch moves a window's mean compute time, not its median client latency.
    expect(isStable(withCompute(8, 11, 8))).to.equal(false);
    expect(windowSpread(withCompute(8, 11, 8)).compute).to.be.closeTo(11 / 8 - 1, 1e-12);
    // A window without it (the counters went away): the other two measures decide.
    const partial = withCompute(8, 11, 8);
    partial[1] = { ...(partial[1] as WindowSummary), computeMs: undefined };
    expect(windowSpread(partial).compute).to.equal(undefined);
    expect(isStable(partial)).to.equal(true);
  });

  it('takes another criterion', () => {
    const w = windows([10, 100], [10.4, 100]);
    expect(isStable(w, { windows: 2, tolerance: 0.05 })).to.equal(true);
    expect(isStable(w, { windows: 2, tolerance: 0.03 })).to.equal(false);
  });

  it('relativeSpread is max/min − 1', () => {
    expect(relativeSpread([])).to.equal(0);
    expect(relativeSpread([5])).to.equal(0);
    expect(relativeSpread([4, 5, 4.5])).to.be.closeTo(0.25, 1e-12);
    expect(relativeSpread([0, 5])).to.equal(Number.POSITIVE_INFINITY);
  });
});
