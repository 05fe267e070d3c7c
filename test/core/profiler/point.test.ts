import { expect } from 'chai';
import { counterDelta } from '../../../src/core/observe/counters.js';
import { nsToMs, pointLatencyMs, serverTiming, summarisePoint, summariseWindow } from '../../../src/core/profiler/index.js';
import type { WindowRecord } from '../../../src/core/profiler/index.js';
import type { ModelCounters } from '../../../src/ports/server-adapter.js';

const window = (startMs: number, endMs: number, latenciesMs: number[], batch: number): WindowRecord =>
  ({ startMs, endMs, latenciesMs, items: latenciesMs.length * batch });

describe('core/profiler/point', () => {
  it('a window: median latency, and items per second over its span', () => {
    const s = summariseWindow(window(1000, 1500, [20, 22, 21, 50, 20], 4));
    expect(s).to.deep.equal({ startMs: 1000, endMs: 1500, requests: 5, latencyMs: 21, throughputQps: 40 });
    expect(Number.isNaN(summariseWindow(window(0, 100, [], 4)).latencyMs)).to.equal(true);
  });

  it('a point: figures from the last three windows only, throughput per replica', () => {
    const windows = [
      window(0, 100, [90, 90], 2), // a slow first window: not among the last three
      window(100, 200, [10, 10, 11, 10], 2),
      window(200, 300, [10, 12, 10, 10], 2),
      window(300, 400, [10, 10, 10, 30], 2),
    ];
    const p = summarisePoint({ batchSize: 2, status: 'stable', measuredAtMs: 400, windows, replicas: 2 });
    expect(p.windows).to.equal(4);
    expect(p.samples).to.equal(12);
    expect(p.clientP50Ms).to.equal(10);
    // The P99: the median of the windows' own P99s (11, 12, 30): the one stalled batch (30) is
    // one window's tail, not the point's.
    expect(p.clientP99Ms).to.equal(12);
    // 12 batches of 2 in 300 ms on 2 replicas: 40 items/s per replica.
    expect(p.throughputQps).to.be.closeTo(40, 1e-9);
    expect(p.spread?.throughput).to.equal(0);
    expect(pointLatencyMs(p)).to.equal(10);
  });

  it('a point without windows has no figures', () => {
    const p = summarisePoint({ batchSize: 4, status: 'cut', measuredAtMs: 5, windows: [], replicas: 1 });
    expect(p).to.deep.equal({ batchSize: 4, status: 'cut', measuredAtMs: 5, windows: 0, samples: 0, inFlight: 1 });
    expect(pointLatencyMs(p)).to.equal(undefined);
    const failed = summarisePoint({ batchSize: 4, status: 'failed', measuredAtMs: 5, windows: [], replicas: 1, error: 'boom' });
    expect(failed.error).to.equal('boom');
  });

  it('the server\'s compute time replaces the client median as the point\'s latency', () => {
    const p = summarisePoint({
      batchSize: 1, status: 'stable', measuredAtMs: 0, windows: [window(0, 100, [12, 12], 1)], replicas: 1,
      server: { computeMs: 10.5, queueMs: 0.5, basis: 'batch-stats', count: 2 },
    });
    expect(pointLatencyMs(p)).to.equal(10.5);
    expect(p.clientP50Ms).to.equal(12);
  });
});

describe('core/profiler/server-timing', () => {
  const before: ModelCounters = {
    model: 'm', requests: 100n, failures: 0n, queueNs: 1_000_000n, computeNs: 50_000_000n,
    batchSizes: [{ batchSize: 1, executions: 10n, computeNs: 100_000_000n }, { batchSize: 8, executions: 5n, computeNs: 400_000_000n }],
  };

  it('Triton: compute per execution of exactly this batch size, queue per request', () => {
    const after: ModelCounters = {
      ...before, requests: 104n, queueNs: 1_000_000n + 4n * 250_000n, computeNs: 50_000_000n + 4n * 81_000_000n,
      batchSizes: [{ batchSize: 1, executions: 10n, computeNs: 100_000_000n }, { batchSize: 8, executions: 9n, computeNs: 400_000_000n + 4n * 80_000_000n }],
    };
    const t = serverTiming(counterDelta(before, after).delta, 8);
    expect(t).to.deep.equal({ computeMs: 80, queueMs: 0.25, basis: 'batch-stats', count: 4 });
  });

  it('without executions of this size: compute per request (each request of a batch carries the batch\'s time)', () => {
    const delta: ModelCounters = { model: 'm', requests: 8n, failures: 0n, queueNs: 8n * 3_000_000n, computeNs: 8n * 40_000_000n };
    expect(serverTiming(delta, 8)).to.deep.equal({ computeMs: 40, queueMs: 3, basis: 'per-request', count: 8 });
  });

  it('nothing when the server counts no compute time, or nothing was answered', () => {
    expect(serverTiming({ model: 'm', requests: 5n, failures: 0n }, 1)).to.equal(undefined);
    expect(serverTiming({ model: 'm', requests: 0n, failures: 0n, computeNs: 0n }, 1)).to.equal(undefined);
  });

  it('nanoseconds to milliseconds exactly past 2^53', () => {
    expect(nsToMs(1_500_000n)).to.equal(1.5);
    expect(nsToMs(2n ** 60n)).to.be.closeTo(Number(2n ** 60n) / 1e6, 1);
    expect(nsToMs(1n)).to.equal(0.000001);
  });
});
