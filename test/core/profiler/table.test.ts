import { expect } from 'chai';
import { profileFileSchema } from '../../../src/config/schema.js';
import { normaliseProfiles } from '../../../src/core/model/profiles.js';
import type { ProfileOptions } from '../../../src/core/model/profiles.js';
import { activeProfile, batchingKnee, hopOverheadCurve, hopOverheadMs, mergeProfiles, passivePoints, passiveProfile, summarisePoint, tallyBatchSizes } from '../../../src/core/profiler/index.js';
import type { PointResult } from '../../../src/core/profiler/index.js';

const AT = Date.UTC(2026, 10, 30, 10, 0, 0);

const point = (batchSize: number, status: PointResult['status'], extra: Partial<PointResult> = {}): PointResult => ({
  batchSize, status, measuredAtMs: AT, windows: 3, samples: 30, clientP50Ms: 10 + batchSize, clientP99Ms: 12 + batchSize,
  throughputQps: (batchSize * 1000) / (10 + batchSize), ...extra,
});

describe('core/profiler/table: the planner\'s profile format with provenance', () => {
  it('an active sweep: compute latency where known, client median otherwise; failed and empty points left out', () => {
    const p = activeProfile('m', 'gpu-t4', [
      point(1, 'stable', { server: { computeMs: 9.123456, queueMs: 0.1, basis: 'batch-stats', count: 30 } }),
      point(2, 'unstable'),
      { batchSize: 4, status: 'failed', measuredAtMs: AT, windows: 0, samples: 0, error: 'HTTP 500' },
      { batchSize: 8, status: 'cut', measuredAtMs: AT, windows: 0, samples: 0 },
    ]);
    expect(p).to.deep.equal({
      model: 'm',
      hardware: 'gpu-t4',
      points: [
        {
          batchSize: 1, latencyMs: 9.123, throughputQps: 90.91, p99LatencyMs: 13, samples: 30, source: 'active',
          measuredAt: '2026-11-30T10:00:00.000Z', stable: true, clientLatencyMs: 11, computeLatencyMs: 9.123,
        },
        {
          batchSize: 2, latencyMs: 12, throughputQps: 166.7, p99LatencyMs: 14, samples: 30, source: 'active',
          measuredAt: '2026-11-30T10:00:00.000Z', stable: false, clientLatencyMs: 12,
        },
      ],
      // Batch 1: client median 11 − compute 9.123456 − queue 0.1.
      hopOverheadMs: 1.777,
    });
    expect(activeProfile('m', 'cpu', [{ batchSize: 1, status: 'failed', measuredAtMs: AT, windows: 0, samples: 0 }])).to.equal(undefined);
  });

  it('what it writes is a valid profile file, and normaliseProfiles carries the provenance through', () => {
    const p = activeProfile('m', 'cpu', [point(1, 'stable'), point(2, 'cut')]) as ProfileOptions;
    const parsed = profileFileSchema.safeParse({ profiles: [p] });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
    const { profiles, problems } = normaliseProfiles([p], (i) => `profiles[${i}]`);
    expect(problems).to.deep.equal([]);
    expect(profiles[0]?.points[1]).to.include({ source: 'active', stable: false, measuredAt: '2026-11-30T10:00:00.000Z', clientLatencyMs: 12 });
  });

  it('the hop overhead: the smallest batch with server timings, client median minus queue and compute, never below 0', () => {
    const timed = (b: number, client: number, compute: number, queue?: number) => point(b, 'stable', {
      clientP50Ms: client, server: { computeMs: compute, ...(queue !== undefined ? { queueMs: queue } : {}), basis: 'per-request', count: 30 },
    });
    expect(hopOverheadMs([timed(4, 30, 20, 1), timed(2, 14, 10, 0.5)])).to.equal(3.5);
    expect(hopOverheadMs([point(1, 'stable'), timed(2, 14, 10)])).to.equal(4);
    expect(hopOverheadMs([timed(1, 9, 10)])).to.equal(0);
    expect(hopOverheadMs([point(1, 'stable')])).to.equal(undefined);
    expect(activeProfile('m', 'cpu', [point(1, 'stable')])).to.not.have.property('hopOverheadMs');
  });

  it('the hop curve: the sweep\'s hop point at its concurrency and each extra point at its own, by the same rule', () => {
    const timed = (b: number, inFlight: number, client: number, compute: number, queue: number, status: PointResult['status'] = 'stable') => point(b, status, {
      inFlight, clientP50Ms: client, server: { computeMs: compute, queueMs: queue, basis: 'per-request', count: 30 },
    });
    const sweep = [timed(1, 2, 14, 10, 0.5), timed(4, 2, 30, 20, 1)];
    // 14 − 10 − 0.5 = 3.5 with 2 in flight; 40 − 12 − 22 = 6 with 8 (queue 22: six waiting).
    expect(hopOverheadCurve(sweep, [timed(1, 8, 40, 12, 22)])).to.deep.equal([{ inFlight: 2, hopOverheadMs: 3.5 }, { inFlight: 8, hopOverheadMs: 6 }]);
    expect(activeProfile('m', 'cpu', sweep, [timed(1, 8, 40, 12, 22)])?.hopOverheadCurve).to.have.length(2);
    // One concurrency only, or a failed extra point: no curve.
    expect(hopOverheadCurve(sweep, [])).to.equal(undefined);
    expect(hopOverheadCurve(sweep, [timed(1, 8, 40, 12, 22, 'failed')])).to.equal(undefined);
    expect(activeProfile('m', 'cpu', sweep)).to.not.have.property('hopOverheadCurve');
  });

  it('the hop from means: requests queueing behind a batch wait either nothing or a whole batch, and the median would take that wait for hop', () => {
    // Eight requests in flight on one replica, batches of four taking 10 ms: each request has a
    // 1 ms hop, and half of them also wait 10 ms for the batch before theirs. The client's median
    // sits in the upper mode (21 ms); the server's means are queue 5 ms, compute 10 ms.
    const latencies = [...Array.from({ length: 40 }, () => 11), ...Array.from({ length: 41 }, () => 21)];
    const windows = [0, 1, 2].map((i) => ({ startMs: i * 500, endMs: (i + 1) * 500, latenciesMs: latencies.slice(i * 27, (i + 1) * 27), items: 27 }));
    const server = { computeMs: 10, queueMs: (41 * 10) / 81, basis: 'per-request' as const, count: 81 };
    const p = summarisePoint({ batchSize: 1, status: 'stable', measuredAtMs: AT, windows, replicas: 1, inFlight: 8, server });
    expect(p.clientP50Ms).to.equal(21);
    expect(p.clientMeanMs as number).to.be.closeTo((40 * 11 + 41 * 21) / 81, 1e-9);
    expect(hopOverheadMs([p])).to.equal(1);
    // A point recorded before the mean existed: the median, as before.
    const { clientMeanMs: _mean, ...old } = p;
    expect(hopOverheadMs([old]) as number).to.be.closeTo(21 - 10 - 410 / 81, 1e-3);
  });

  it('a merge replaces the hop overhead with the new measurement and keeps it otherwise', () => {
    const old: ProfileOptions = { model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }], hopOverheadMs: 2 };
    expect(mergeProfiles([old], [{ model: 'm', hardware: 'cpu', points: [{ batchSize: 2, latencyMs: 8 }] }]).profiles[0]?.hopOverheadMs).to.equal(2);
    expect(mergeProfiles([old], [{ model: 'm', hardware: 'cpu', points: [{ batchSize: 2, latencyMs: 8 }], hopOverheadMs: 1.5 }]).profiles[0]?.hopOverheadMs).to.equal(1.5);
  });

  it('a merge replaces the hop curve with a new one, and drops it for a new single figure', () => {
    const curve = [{ inFlight: 1, hopOverheadMs: 2 }, { inFlight: 8, hopOverheadMs: 4 }];
    const old: ProfileOptions = { model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }], hopOverheadMs: 2, hopOverheadCurve: curve };
    expect(mergeProfiles([old], [{ model: 'm', hardware: 'cpu', points: [{ batchSize: 2, latencyMs: 8 }] }]).profiles[0]?.hopOverheadCurve).to.deep.equal(curve);
    const fresh = [{ inFlight: 1, hopOverheadMs: 1 }, { inFlight: 4, hopOverheadMs: 3 }];
    expect(mergeProfiles([old], [{ model: 'm', hardware: 'cpu', points: [], hopOverheadMs: 1, hopOverheadCurve: fresh }]).profiles[0]?.hopOverheadCurve).to.deep.equal(fresh);
    expect(mergeProfiles([old], [{ model: 'm', hardware: 'cpu', points: [], hopOverheadMs: 1.5 }]).profiles[0]).to.not.have.property('hopOverheadCurve');
  });

  it('the schema refuses bad provenance', () => {
    const bad = { profiles: [{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5, source: 'guess', measuredAt: 'yesterday', stable: 'yes' }] }] };
    const parsed = profileFileSchema.safeParse(bad);
    expect(parsed.success).to.equal(false);
    const paths = (parsed.error?.issues ?? []).map((i) => i.path.join('.')).sort();
    expect(paths).to.deep.equal(['profiles.0.points.0.measuredAt', 'profiles.0.points.0.source', 'profiles.0.points.0.stable']);
  });

  it('passive: intervals of executions per batch size add up to compute per executed size, with sample counts and too-few marked', () => {
    let tally = tallyBatchSizes([], [{ batchSize: 1, executions: 30, meanComputeMs: 20 }, { batchSize: 4, executions: 0, meanComputeMs: null }]);
    tally = tallyBatchSizes(tally, [{ batchSize: 3, executions: 5, meanComputeMs: 33 }, { batchSize: 1, executions: 10, meanComputeMs: 24 }]);
    expect(tally).to.deep.equal([{ batchSize: 1, executions: 40, computeMs: 840 }, { batchSize: 3, executions: 5, computeMs: 165 }]);
    const points = passivePoints(tally, 20);
    expect(points).to.deep.equal([
      { batchSize: 1, computeMs: 21, samples: 40, enough: true },
      { batchSize: 3, computeMs: 33, samples: 5, enough: false },
    ]);
    expect(passiveProfile('m', 'gpu', points, AT)?.points).to.deep.equal([
      { batchSize: 1, latencyMs: 21, throughputQps: 47.62, samples: 40, source: 'passive', measuredAt: '2026-11-30T10:00:00.000Z', stable: true, computeLatencyMs: 21 },
      { batchSize: 3, latencyMs: 33, throughputQps: 90.91, samples: 5, source: 'passive', measuredAt: '2026-11-30T10:00:00.000Z', stable: false, computeLatencyMs: 33 },
    ]);
    expect(passiveProfile('m', 'gpu', [], AT)).to.equal(undefined);
  });

  it('where batching stops paying: the next size adds less than 10 % throughput', () => {
    const t = (pairs: [number, number][]) => pairs.map(([batchSize, throughputQps]) => ({ batchSize, throughputQps }));
    expect(batchingKnee(t([[1, 100], [2, 180], [4, 300], [8, 320], [16, 330]]))).to.equal(4);
    expect(batchingKnee(t([[1, 100], [2, 180], [4, 300]]))).to.equal(undefined);
    expect(batchingKnee(t([[4, 300], [1, 100], [2, 105]]))).to.equal(1);
    expect(batchingKnee(t([[1, 100]]))).to.equal(undefined);
  });
});

describe('core/profiler/merge', () => {
  const pt = (batchSize: number, latencyMs: number, stable?: boolean) => ({ batchSize, latencyMs, ...(stable !== undefined ? { stable } : {}) });
  const existing: ProfileOptions[] = [
    { model: 'a', hardware: 'cpu', points: [pt(1, 5), pt(2, 8)] },
    { model: 'm', hardware: 'gpu', points: [pt(1, 10, true), pt(4, 20, true), pt(8, 30, true)] },
  ];

  const cases: { name: string; measured: ProfileOptions[]; want: ProfileOptions[]; kept: number[]; written: number }[] = [
    {
      name: 'into an empty table: points sorted',
      measured: [{ model: 'm', hardware: 'gpu', points: [pt(2, 12, true), pt(1, 10, true)] }],
      want: [{ model: 'm', hardware: 'gpu', points: [pt(1, 10, true), pt(2, 12, true)] }],
      kept: [],
      written: 2,
    },
    {
      name: 'a new point replaces the old one of its size; other sizes stay',
      measured: [{ model: 'm', hardware: 'gpu', points: [pt(4, 22, true)] }],
      want: [existing[0] as ProfileOptions, { model: 'm', hardware: 'gpu', points: [pt(1, 10, true), pt(4, 22, true), pt(8, 30, true)] }],
      kept: [],
      written: 1,
    },
    {
      name: 'an unstable new point does not replace a stable one',
      measured: [{ model: 'm', hardware: 'gpu', points: [pt(4, 40, false), pt(16, 60, false)] }],
      want: [existing[0] as ProfileOptions, { model: 'm', hardware: 'gpu', points: [pt(1, 10, true), pt(4, 20, true), pt(8, 30, true), pt(16, 60, false)] }],
      kept: [4],
      written: 1,
    },
    {
      name: 'any new point replaces one of unknown stability',
      measured: [{ model: 'a', hardware: 'cpu', points: [pt(2, 9, false)] }],
      want: [{ model: 'a', hardware: 'cpu', points: [pt(1, 5), pt(2, 9, false)] }, existing[1] as ProfileOptions],
      kept: [],
      written: 1,
    },
    {
      name: 'a new (model, hardware) goes at the end',
      measured: [{ model: 'm', hardware: 'cpu', points: [pt(1, 50, true)] }],
      want: [...existing, { model: 'm', hardware: 'cpu', points: [pt(1, 50, true)] }],
      kept: [],
      written: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = mergeProfiles(c.name.startsWith('into an empty table') ? [] : existing, c.measured);
      expect(r.profiles).to.deep.equal(c.want);
      expect(r.kept.map((k) => k.batchSize)).to.deep.equal(c.kept);
      expect(r.written).to.equal(c.written);
    });
  }

  it('leaves its input alone', () => {
    const copy = JSON.parse(JSON.stringify(existing)) as ProfileOptions[];
    mergeProfiles(existing, [{ model: 'm', hardware: 'gpu', points: [pt(4, 1, true)] }]);
    expect(existing).to.deep.equal(copy);
  });
});
