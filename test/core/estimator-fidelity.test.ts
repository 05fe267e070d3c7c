// The estimator's fidelity terms (issue #13): per-hop overhead, batch delay by each server's rule,
// and seeded service-time spread. Hand-computed tables; same seed, same result.
import { expect } from 'chai';
import { Estimator } from '../../src/core/sim/estimator.js';
import type { DelayOrigin, EstimateOptions } from '../../src/core/sim/estimator.js';
import { LatencyCurve, serviceFactor } from '../../src/core/model/profiles.js';
import type { ProfilePoint, StageSpec } from '../../src/core/model/types.js';
import { compiled, profileSet, stage } from '../helpers/pipelines.js';

const base = { seed: 1, sloMs: 1000, percentile: 99 };

interface Single {
  readonly points: readonly { batchSize: number; latencyMs: number; p99LatencyMs?: number }[];
  readonly batchSize: number;
  readonly replicas: number;
  readonly delayMs?: number;
  readonly hopMs?: number;
  readonly origin?: DelayOrigin;
}

function runSingle(c: Single, traceS: readonly number[], options: Partial<EstimateOptions> = {}) {
  const p = compiled([stage('a')]);
  const profiles = profileSet([{ model: 'a', hardware: 'cpu', points: c.points, ...(c.hopMs !== undefined ? { hopOverheadMs: c.hopMs } : {}) }]);
  const est = new Estimator(p, profiles);
  return est.estimate(
    { a: { hardware: 'cpu', batchSize: c.batchSize, replicas: c.replicas, ...(c.delayMs !== undefined ? { batchDelayMs: c.delayMs } : {}) } },
    Float64Array.from(traceS),
    { ...base, ...(c.origin ? { delayOrigin: { a: c.origin } } : {}), ...options },
  );
}

/** Latencies in arrival order are not reported; compare as sorted multisets through max, mean and P50. */
function expectLatencies(r: ReturnType<typeof runSingle>, want: number[]): void {
  const sorted = [...want].sort((a, b) => a - b);
  expect(r.maxMs).to.be.closeTo(sorted[sorted.length - 1] as number, 1e-9);
  expect(r.meanMs).to.be.closeTo(sorted.reduce((a, b) => a + b, 0) / sorted.length, 1e-9);
  expect(r.p50Ms).to.be.closeTo(sorted[Math.ceil(sorted.length / 2) - 1] as number, 1e-9);
}

describe('core/estimator: fidelity terms', () => {
  describe('batch delay (hand-computed)', () => {
    // L(1) = 10, L(2) = 14, L(4) = 22 (L(3) = 18).
    const points = [{ batchSize: 1, latencyMs: 10 }, { batchSize: 2, latencyMs: 14 }, { batchSize: 4, latencyMs: 22 }];
    const cases: { name: string; c: Single; trace: number[]; want: number[] }[] = [
      {
        name: 'delay 0 keeps today\'s rule: a free replica runs what is queued',
        c: { points, batchSize: 4, replicas: 1, delayMs: 0 },
        trace: [0, 0.003],
        // q0 alone 0→10; q1 waits 7 ms, runs 10→20.
        want: [10, 17],
      },
      {
        name: 'oldest-request: a lone query waits the whole delay, then runs alone',
        c: { points, batchSize: 4, replicas: 1, delayMs: 5 },
        trace: [0],
        want: [5 + 10],
      },
      {
        name: 'oldest-request: a second query joins within the delay; the batch runs at the delay\'s end',
        c: { points, batchSize: 4, replicas: 1, delayMs: 5 },
        trace: [0, 0.002],
        // Batch of 2 at t=5 for 14 → 19: latencies 19 and 17.
        want: [19, 17],
      },
      {
        name: 'a full batch runs at once, without waiting for the delay',
        c: { points, batchSize: 2, replicas: 1, delayMs: 5 },
        trace: [0, 0.001],
        // Full at t=1: runs 1→15. Latencies 15 and 14.
        want: [15, 14],
      },
      {
        name: 'oldest-request: a query that already waited past the delay runs as soon as a replica frees',
        c: { points, batchSize: 4, replicas: 1, delayMs: 5 },
        trace: [0, 0.002, 0.012],
        // Batch {q0, q1} 5→19. q2 (ready at 12) has waited 7 ≥ 5 at 19: runs alone 19→29 (latency 17).
        want: [19, 17, 17],
      },
      {
        name: 'batch-start (TorchServe): the delay counts from when the free replica took the first query',
        c: { points, batchSize: 4, replicas: 1, delayMs: 5, origin: 'batch-start' },
        trace: [0, 0.002, 0.012],
        // Batch {q0, q1} 5→19. At 19 the worker takes q2 and waits until 24: runs 24→34 (latency 22).
        want: [19, 17, 22],
      },
    ];
    for (const c of cases) {
      it(c.name, () => expectLatencies(runSingle(c.c, c.trace), c.want));
    }

    it('counts the delay as queue delay', () => {
      const r = runSingle({ points, batchSize: 4, replicas: 1, delayMs: 5 }, [0, 0.002]);
      // Waits: q0 5 ms, q1 3 ms.
      expect(r.stages[0]?.meanQueueDelayMs).to.be.closeTo(4, 1e-9);
      expect(r.stages[0]?.meanBatchSize).to.equal(2);
    });
  });

  describe('hop overhead (hand-computed)', () => {
    it('every visit pays the stage\'s overhead before it queues, entry included', () => {
      const r = runSingle({ points: [{ batchSize: 1, latencyMs: 10 }], batchSize: 1, replicas: 1, hopMs: 2.5 }, [0, 0]);
      // Both ready at 2.5; q0 2.5→12.5, q1 12.5→22.5.
      expectLatencies(r, [12.5, 22.5]);
      expect(r.stages[0]?.meanQueueDelayMs).to.be.closeTo(5, 1e-9);
    });

    it('a two-stage chain pays each stage\'s own overhead, and a join pays it once', () => {
      const stages: StageSpec[] = [stage('a', { b: 1, c: 1 }), stage('b', { d: 1 }), stage('c', { d: 1 }), stage('d')];
      const p = compiled(stages);
      const profiles = profileSet([
        { model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }], hopOverheadMs: 1 },
        { model: 'b', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10 }], hopOverheadMs: 2 },
        { model: 'c', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 30 }], hopOverheadMs: 3 },
        { model: 'd', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }], hopOverheadMs: 4 },
      ]);
      const cfg = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, { hardware: 'cpu', batchSize: 1, replicas: 1 }]));
      const r = new Estimator(p, profiles).estimate(cfg, Float64Array.from([0]), base);
      // a: 1 + 5; c (slower branch): 3 + 30; d: 4 + 5.
      expect(r.maxMs).to.be.closeTo(1 + 5 + 3 + 30 + 4 + 5, 1e-9);
    });
  });

  describe('hop overhead by requests in flight (hand-computed)', () => {
    const at = (curve: { inFlight: number; hopOverheadMs: number }[], hopOverheadMs?: number) => new LatencyCurve({
      model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10, throughputQps: 100 }], hopOverheadCurve: curve,
      ...(hopOverheadMs !== undefined ? { hopOverheadMs } : {}),
    });
    const cases: { name: string; curve: { inFlight: number; hopOverheadMs: number }[]; want: [number, number][] }[] = [
      { name: 'linear between measured concurrencies, flat past the last', curve: [{ inFlight: 1, hopOverheadMs: 2 }, { inFlight: 5, hopOverheadMs: 6 }], want: [[1, 2], [3, 4], [5, 6], [9, 6]] },
      { name: 'flat below the first measured concurrency', curve: [{ inFlight: 2, hopOverheadMs: 3 }, { inFlight: 8, hopOverheadMs: 6 }], want: [[1, 3], [2, 3], [4, 4], [8, 6], [20, 6]] },
      { name: 'a running maximum: a lower reading at a higher concurrency counts as the one before', curve: [{ inFlight: 1, hopOverheadMs: 3 }, { inFlight: 4, hopOverheadMs: 2 }, { inFlight: 8, hopOverheadMs: 5 }], want: [[4, 3], [6, 4], [8, 5]] },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const curve = at(c.curve);
        for (const [inFlight, ms] of c.want) expect(curve.hopOverheadAt(inFlight), `${inFlight} in flight`).to.be.closeTo(ms, 1e-12);
        expect(curve.hopOverheadMs).to.equal(c.curve[0]?.hopOverheadMs);
      });
    }

    it('a flat or absent curve gives no table: the constant hop', () => {
      expect(at([{ inFlight: 1, hopOverheadMs: 2 }, { inFlight: 4, hopOverheadMs: 2 }]).hopTable()).to.equal(undefined);
      const plain = new LatencyCurve({ model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10, throughputQps: 100 }], hopOverheadMs: 1.5 });
      expect(plain.hopTable()).to.equal(undefined);
      expect(plain.hopOverheadAt(7)).to.equal(1.5);
      expect(Array.from(at([{ inFlight: 1, hopOverheadMs: 1 }, { inFlight: 3, hopOverheadMs: 3 }]).hopTable() ?? [])).to.deep.equal([0, 1, 2, 3]);
    });

    it('each query pays the hop for the requests in flight at the stage when it is sent, itself included', () => {
      const p = compiled([stage('a')]);
      const profiles = profileSet([{ model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10 }], hopOverheadMs: 1, hopOverheadCurve: [{ inFlight: 1, hopOverheadMs: 1 }, { inFlight: 3, hopOverheadMs: 3 }] }]);
      const r = new Estimator(p, profiles).estimate({ a: { hardware: 'cpu', batchSize: 1, replicas: 1 } }, Float64Array.from([0, 0, 0, 0, 0.1]), { ...base, recordVisits: true });
      // Sent at 0 with 1, 2, 3, 4 (≥ 3) in flight: hops 1, 2, 3, 3: ready at 1, 2, 3, 3; served
      // 1→11, 11→21, 21→31, 31→41. At 100 ms nothing is in flight: hop 1, 101→111.
      expectLatencies(r, [11, 21, 31, 41, 11]);
      expect(Array.from(r.visitLatencyMs?.[0] ?? [])).to.deep.equal([11, 11, 21, 31, 41]);
      // Queue waits: 0, 9, 18, 28, 0.
      expect(r.stages[0]?.meanQueueDelayMs).to.be.closeTo((9 + 18 + 28) / 5, 1e-9);
    });

    it('in flight counts per stage: a query finishing stage a leaves a\'s count and enters b\'s', () => {
      const p = compiled([stage('a', { b: 1 }), stage('b')]);
      const curve = [{ inFlight: 1, hopOverheadMs: 1 }, { inFlight: 2, hopOverheadMs: 5 }];
      const profiles = profileSet([
        { model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10 }], hopOverheadMs: 1, hopOverheadCurve: curve },
        { model: 'b', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10 }], hopOverheadMs: 1, hopOverheadCurve: curve },
      ]);
      const cfg = { a: { hardware: 'cpu', batchSize: 1, replicas: 2 }, b: { hardware: 'cpu', batchSize: 1, replicas: 2 } };
      const r = new Estimator(p, profiles).estimate(cfg, Float64Array.from([0, 0.0005]), { ...base, recordVisits: true });
      // q0: a hop 1 (1 in flight), 1→11; b hop 1 (alone at b), 12→22. q1 at 0.5: a hop 5 (2 in
      // flight), 5.5→15.5; b at 15.5 with q0 still there: hop 5, 20.5→30.5: latency 30.
      expectLatencies(r, [22, 30]);
      expect(Array.from(r.visitLatencyMs?.[1] ?? [])).to.deep.equal([11, 15]);
    });
  });

  describe('service-time spread', () => {
    it('serviceFactor is 1 without spread and has mean 1 and the profile\'s P99/P50 with it', () => {
      expect(serviceFactor(0, 0.999)).to.equal(1);
      const sigma = Math.log(1.5) / 2.3263478740408408;
      const n = 1024;
      const draws = Array.from({ length: n }, (_, i) => serviceFactor(sigma, (i + 0.5) / n)).sort((a, b) => a - b);
      const mean = draws.reduce((a, b) => a + b, 0) / n;
      expect(mean).to.be.closeTo(1, 0.002);
      const p50 = draws[n / 2] as number;
      const p99 = draws[Math.floor(0.99 * n)] as number;
      expect(p99 / p50).to.be.closeTo(1.5, 0.03);
    });

    it('a point\'s σ comes from its P99 over its client median, interpolated between sizes', () => {
      const points: ProfilePoint[] = [
        { batchSize: 1, latencyMs: 10, throughputQps: 100, p99LatencyMs: 15, clientLatencyMs: 12 },
        { batchSize: 4, latencyMs: 20, throughputQps: 200 },
      ];
      const curve = new LatencyCurve({ model: 'a', hardware: 'cpu', points });
      const s1 = Math.log(15 / 12) / 2.3263478740408408;
      expect(curve.sigmaAt(1)).to.be.closeTo(s1, 1e-12);
      expect(curve.sigmaAt(4)).to.equal(0);
      expect(curve.sigmaAt(2)).to.be.closeTo((s1 * 2) / 3, 1e-12);
      expect(new LatencyCurve({ model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 10, throughputQps: 100 }] }).sigmaTable(1)).to.equal(undefined);
    });

    it('draws per batch: a spread profile gives a spread of latencies around L, and the same seed the same result', () => {
      const c: Single = { points: [{ batchSize: 1, latencyMs: 10, p99LatencyMs: 20 }], batchSize: 1, replicas: 50 };
      const trace = Array.from({ length: 2000 }, (_, i) => i * 0.01);
      const a = runSingle(c, trace, { seed: 7 });
      const b = runSingle(c, trace, { seed: 7 });
      const other = runSingle(c, trace, { seed: 8 });
      expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
      expect(JSON.stringify(a)).to.not.equal(JSON.stringify(other));
      // No queueing (50 replicas): latency = service time, mean ≈ 10, P99/P50 ≈ 2.
      expect(a.meanMs).to.be.closeTo(10, 0.4);
      expect(a.p99Ms / a.p50Ms).to.be.within(1.75, 2.3);
      // Without the P99 the service time is exactly L.
      const flat = runSingle({ ...c, points: [{ batchSize: 1, latencyMs: 10 }] }, trace);
      expect(flat.maxMs).to.be.closeTo(10, 1e-9);
      expect(flat.p50Ms).to.be.closeTo(10, 1e-9);
    });
  });

  it('same seed and terms, same result byte for byte (a 2-stage pipeline with every term)', () => {
    const p = compiled([stage('a', { b: 0.7 }), stage('b')]);
    const profiles = profileSet([
      { model: 'a', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 4, p99LatencyMs: 6 }, { batchSize: 8, latencyMs: 12, p99LatencyMs: 15 }], hopOverheadMs: 1.7 },
      { model: 'b', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 6 }, { batchSize: 4, latencyMs: 11 }], hopOverheadMs: 2.1, hopOverheadCurve: [{ inFlight: 1, hopOverheadMs: 2.1 }, { inFlight: 6, hopOverheadMs: 3.4 }] },
    ]);
    const est = new Estimator(p, profiles);
    const trace = Float64Array.from({ length: 3000 }, (_, i) => i / 250);
    const cfg = { a: { hardware: 'cpu', batchSize: 8, replicas: 1, batchDelayMs: 3 }, b: { hardware: 'cpu', batchSize: 4, replicas: 2, batchDelayMs: 1.5 } };
    const run = () => JSON.stringify(est.estimate(cfg, trace, { ...base, delayOrigin: { b: 'batch-start' } }));
    const first = run();
    expect(run()).to.equal(first);
    expect(JSON.stringify(new Estimator(p, profiles).estimate(cfg, trace, { ...base, delayOrigin: { b: 'batch-start' } }))).to.equal(first);
  });
});
