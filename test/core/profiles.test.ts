import { expect } from 'chai';
import { LatencyCurve, normaliseProfiles } from '../../src/core/model/profiles.js';
import type { ProfileOptions } from '../../src/core/model/profiles.js';

describe('core/profiles', () => {
  const curve = new LatencyCurve({
    model: 'm', hardware: 'gpu',
    points: [2, 4, 16].map((b, i) => ({ batchSize: b, latencyMs: [10, 14, 38][i] as number, throughputQps: 0 })),
  });

  const cases: { name: string; k: number; want: number }[] = [
    { name: 'a measured size', k: 4, want: 14 },
    { name: 'halfway between 4 and 16', k: 10, want: 26 },
    { name: 'between 2 and 4', k: 3, want: 12 },
    { name: 'below the smallest measured size: the smallest point (conservative)', k: 1, want: 10 },
    { name: 'the largest measured size', k: 16, want: 38 },
  ];
  for (const c of cases) it(`interpolates latency: ${c.name}`, () => expect(curve.latencyMs(c.k)).to.equal(c.want));

  it('never extrapolates past the largest measured size, and says so', () => {
    expect(curve.maxBatch).to.equal(16);
    expect(() => curve.latencyMs(17)).to.throw(RangeError, /past the largest measured size 16; not extrapolated/);
  });

  it('derives throughput as batch / latency when not measured, and keeps a measured one', () => {
    const { profiles } = normaliseProfiles([
      { model: 'm', hardware: 'h', points: [{ batchSize: 4, latencyMs: 20 }, { batchSize: 1, latencyMs: 10, throughputQps: 90 }] },
    ], (i) => `profiles[${i}]`);
    expect(profiles[0]?.points.map((p) => [p.batchSize, p.throughputQps])).to.deep.equal([[1, 90], [4, 200]]);
  });

  describe('rejects unusable profiles with the reason', () => {
    const cases: { name: string; given: ProfileOptions[]; want: { path: string; match: RegExp }[] }[] = [
      { name: 'latency 0', given: [{ model: 'm', hardware: 'h', points: [{ batchSize: 1, latencyMs: 0 }] }], want: [{ path: 'profiles[0].points[0].latencyMs', match: /must be a latency > 0/ }] },
      { name: 'negative latency', given: [{ model: 'm', hardware: 'h', points: [{ batchSize: 1, latencyMs: -3 }] }], want: [{ path: 'profiles[0].points[0].latencyMs', match: /-3/ }] },
      {
        name: 'duplicate batch sizes',
        given: [{ model: 'm', hardware: 'h', points: [{ batchSize: 2, latencyMs: 1 }, { batchSize: 2, latencyMs: 2 }] }],
        want: [{ path: 'profiles[0].points[1].batchSize', match: /duplicate batch size 2 \(also at points\[0\]\)/ }],
      },
      { name: 'batch size 0', given: [{ model: 'm', hardware: 'h', points: [{ batchSize: 0, latencyMs: 1 }] }], want: [{ path: 'profiles[0].points[0].batchSize', match: /integer ≥ 1/ }] },
      { name: 'no points', given: [{ model: 'm', hardware: 'h', points: [] }], want: [{ path: 'profiles[0].points', match: /at least one point/ }] },
      {
        name: 'a hop curve out of order, at 0 in flight, or negative',
        given: [{
          model: 'm', hardware: 'h', points: [{ batchSize: 1, latencyMs: 1 }],
          hopOverheadCurve: [{ inFlight: 0, hopOverheadMs: 1 }, { inFlight: 4, hopOverheadMs: 2 }, { inFlight: 4, hopOverheadMs: 3 }, { inFlight: 8, hopOverheadMs: -1 }],
        }],
        want: [
          { path: 'profiles[0].hopOverheadCurve[0].inFlight', match: /integer ≥ 1/ },
          { path: 'profiles[0].hopOverheadCurve[2].inFlight', match: /ascending/ },
          { path: 'profiles[0].hopOverheadCurve[3].hopOverheadMs', match: /≥ 0 ms/ },
        ],
      },
      {
        name: 'the same (model, hardware) twice',
        given: [{ model: 'm', hardware: 'h', points: [{ batchSize: 1, latencyMs: 1 }] }, { model: 'm', hardware: 'h', points: [{ batchSize: 1, latencyMs: 1 }] }],
        want: [{ path: 'profiles[1]', match: /duplicate profile.*also at profiles\[0\]/ }],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { problems } = normaliseProfiles(c.given, (i) => `profiles[${i}]`);
        expect(problems.map((p) => p.path)).to.deep.equal(c.want.map((w) => w.path));
        problems.forEach((p, i) => expect(p.message).to.match((c.want[i] as { match: RegExp }).match));
      });
    }
  });
});
