import { expect } from 'chai';
import { checkBatchSizes, nextPointStep, pointDeadlineMs, sweepBatchSizes } from '../../../src/core/profiler/index.js';
import type { PointStep, WindowSummary } from '../../../src/core/profiler/index.js';

const steady = (n: number): WindowSummary[] =>
  Array.from({ length: n }, (_, i) => ({ startMs: i * 100, endMs: (i + 1) * 100, requests: 5, latencyMs: 20, throughputQps: 50 }));
const noisy = (n: number): WindowSummary[] =>
  Array.from({ length: n }, (_, i) => ({ startMs: i * 100, endMs: (i + 1) * 100, requests: 5, latencyMs: i % 2 === 0 ? 20 : 30, throughputQps: 50 }));

describe('core/profiler/sweep', () => {
  const sizes: { given: number; want: number[] }[] = [
    { given: 1, want: [1] },
    { given: 2, want: [1, 2] },
    { given: 8, want: [1, 2, 4, 8] },
    { given: 12, want: [1, 2, 4, 8, 12] },
    { given: 32, want: [1, 2, 4, 8, 16, 32] },
  ];
  for (const c of sizes) {
    it(`sweeps max batch ${c.given} as ${c.want.join(', ')}`, () => {
      expect(sweepBatchSizes(c.given)).to.deep.equal(c.want);
    });
  }

  it('refuses a max batch below 1', () => {
    expect(() => sweepBatchSizes(0)).to.throw(RangeError);
  });

  it('sorts requested sizes, drops repeats, and warns about sizes past the max batch', () => {
    expect(checkBatchSizes([8, 1, 8, 2], 8)).to.deep.equal({ sizes: [1, 2, 8], warnings: [] });
    const { sizes: s, warnings } = checkBatchSizes([1, 16, 32], 8);
    expect(s).to.deep.equal([1, 16, 32]);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^batch 16, 32 are above the model's max batch 8/);
    expect(() => checkBatchSizes([0, 2], 8)).to.throw(RangeError, /got 0/);
  });

  it('shares what is left of the budget equally among the points left', () => {
    expect(pointDeadlineMs(0, 120_000, 6)).to.equal(20_000);
    // A quick first point leaves its time to the others.
    expect(pointDeadlineMs(5_000, 120_000, 5)).to.equal(5_000 + 23_000);
    expect(pointDeadlineMs(130_000, 120_000, 2)).to.equal(130_000);
    expect(pointDeadlineMs(10, 100, 0)).to.equal(10);
  });

  const plan = { maxWindows: 6, windowMs: 100 };
  const steps: { name: string; windows: WindowSummary[]; nowMs: number; deadlineMs: number; want: PointStep }[] = [
    { name: 'no window yet, time left', windows: [], nowMs: 0, deadlineMs: 1000, want: { kind: 'measure' } },
    { name: 'no room for even one window', windows: [], nowMs: 950, deadlineMs: 1000, want: { kind: 'done', status: 'cut' } },
    { name: 'two windows: measure a third', windows: steady(2), nowMs: 200, deadlineMs: 1000, want: { kind: 'measure' } },
    { name: 'three agreeing windows', windows: steady(3), nowMs: 300, deadlineMs: 1000, want: { kind: 'done', status: 'stable' } },
    { name: 'stable wins over the deadline', windows: steady(3), nowMs: 999, deadlineMs: 1000, want: { kind: 'done', status: 'stable' } },
    { name: 'noisy, time left', windows: noisy(4), nowMs: 400, deadlineMs: 1000, want: { kind: 'measure' } },
    { name: 'noisy at the trials cap', windows: noisy(6), nowMs: 600, deadlineMs: 1000, want: { kind: 'done', status: 'unstable' } },
    { name: 'noisy, no time for another window', windows: noisy(4), nowMs: 950, deadlineMs: 1000, want: { kind: 'done', status: 'cut' } },
  ];
  for (const c of steps) {
    it(`next step: ${c.name}`, () => {
      expect(nextPointStep(c.windows, c.nowMs, c.deadlineMs, plan)).to.deep.equal(c.want);
    });
  }
});
