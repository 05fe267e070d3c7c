// The active profiler's runner on a fake server and a FakeClock: closed-loop concurrency, windows,
// stability, the trials cap, the budget, failures, live traffic, device switching and restoring.
import { expect } from 'chai';
import { FakeClock } from '../../helpers/fake-clock.js';
import { runActiveProfile, LiveTrafficError } from '../../../src/runtime/profiler/index.js';
import type { ActiveProfileOptions, ActiveProfileResult, ProfileEvent } from '../../../src/runtime/profiler/index.js';
import { activeProfile } from '../../../src/core/profiler/index.js';
import { drive, FakeServer } from './fake-server.js';
import type { FakeServerOptions } from './fake-server.js';

const compute = (b: number): number => 10 + 5 * b;
const BASE: ActiveProfileOptions = {
  model: 'm', hardware: [{ name: 'gpu-t4' }], batchSizes: [1, 4, 16], windowMs: 100, minWindowRequests: 3, warmupRequests: 1, liveTrafficCheckMs: 100,
};

async function profile(server: Partial<FakeServerOptions>, options: Partial<ActiveProfileOptions> = {}, abortAtMs?: number): Promise<{ r: ActiveProfileResult; fake: FakeServer; events: ProfileEvent[] }> {
  const clock = new FakeClock(1_000_000);
  const fake = new FakeServer(clock, { computeMs: compute, ...server });
  const events: ProfileEvent[] = [];
  const controller = new AbortController();
  if (abortAtMs !== undefined) void clock.sleep(abortAtMs).then(() => controller.abort(new Error('Ctrl-C')));
  const r = await drive(clock, runActiveProfile(fake, { ...BASE, ...options }, { clock, signal: controller.signal, onEvent: (e) => events.push(e) }));
  return { r, fake, events };
}

describe('runtime/profiler/active (fake server, fake clock)', function () {
  this.timeout(60_000);

  it('measures each batch size until three windows agree; the compute time comes from the server\'s per-batch-size counters', async () => {
    const { r, fake } = await profile({});
    expect(r.interrupted).to.equal(false);
    expect(r.restore).to.deep.equal({ needed: false, ok: true });
    const [hw] = r.hardware;
    expect(hw?.hardware).to.equal('gpu-t4');
    expect(hw?.batchSizes).to.deep.equal([1, 4, 16]);
    for (const p of hw?.points ?? []) {
      expect(p.status, `batch ${p.batchSize}`).to.equal('stable');
      expect(p.windows).to.equal(3);
      expect(p.server?.basis).to.equal('batch-stats');
      expect(p.server?.computeMs).to.be.closeTo(compute(p.batchSize), 1e-6);
      expect(p.clientP50Ms).to.be.closeTo(compute(p.batchSize) + 1, 1e-6);
      // One batch in flight on one replica: b / (compute + overhead) per second.
      expect(p.throughputQps).to.be.closeTo((p.batchSize * 1000) / (compute(p.batchSize) + 1), 1e-6);
    }
    expect(fake.maxInFlight).to.equal(1);
    expect(fake.changes).to.deep.equal([]);
  });

  it('keeps one batch in flight per replica', async () => {
    const { r, fake } = await profile({ replicas: 3 }, { batchSizes: [2] });
    expect(fake.maxInFlight).to.equal(3);
    const p = r.hardware[0]?.points[0];
    expect(r.hardware[0]?.replicas).to.equal(3);
    // Throughput is per replica.
    expect(p?.throughputQps).to.be.closeTo((2 * 1000) / (compute(2) + 1), 0.5);
  });

  it('measures the hop again at batch 1 with more requests in flight per replica, and the profile gets the curve', async () => {
    const { r, fake } = await profile({ replicas: 2, overheadPerInFlightMs: 0.5 }, { batchSizes: [1, 4], hopInFlightPerReplica: [4] });
    const [hw] = r.hardware;
    expect(hw?.points.map((p) => [p.batchSize, p.inFlight])).to.deep.equal([[1, 2], [4, 2]]);
    expect(hw?.hopPoints.map((p) => [p.batchSize, p.inFlight, p.status])).to.deep.equal([[1, 8, 'stable']]);
    expect(fake.maxInFlight).to.equal(8);
    const curve = activeProfile('m', 'gpu-t4', hw?.points ?? [], hw?.hopPoints ?? [])?.hopOverheadCurve;
    // The fake adds 1 ms + 0.5 ms per other request in flight: with 2 in flight 1.5 ms at most,
    // with 8 up to 4.5 ms (closed-loop workers resend as answers come, so a few find fewer).
    expect(curve?.map((c) => c.inFlight)).to.deep.equal([2, 8]);
    expect(curve?.[0]?.hopOverheadMs).to.be.within(1, 1.5);
    expect(curve?.[1]?.hopOverheadMs).to.be.within(3, 4.5);
    // Without the option nothing more is sent.
    const plain = await profile({ replicas: 2 }, { batchSizes: [1] });
    expect(plain.r.hardware[0]?.hopPoints).to.deep.equal([]);
    expect(plain.fake.maxInFlight).to.equal(2);
  });

  it('sweeps powers of two up to the model\'s max batch by default', async () => {
    const { r } = await profile({ maxBatchSize: 6 }, { batchSizes: undefined });
    expect(r.hardware[0]?.batchSizes).to.deep.equal([1, 2, 4, 6]);
  });

  it('marks a point that never settles unstable at the trials cap, and goes on', async () => {
    // Batch 4 alternates 30 ms and 45 ms: its windows never agree within 10 %.
    const { r } = await profile({ computeMs: (b, call) => (b === 4 ? (Math.floor(call / 4) % 2 === 0 ? 30 : 45) : compute(b)) }, { maxWindows: 5 });
    const byBatch = new Map(r.hardware[0]?.points.map((p) => [p.batchSize, p]));
    expect(byBatch.get(4)?.status).to.equal('unstable');
    expect(byBatch.get(4)?.windows).to.equal(5);
    expect(byBatch.get(4)?.spread?.latency).to.be.above(0.1);
    expect(byBatch.get(16)?.status).to.equal('stable');
  });

  it('records a failing point as failed, with the error, and goes on', async () => {
    const { r } = await profile({ failAt: [4] });
    const points = r.hardware[0]?.points ?? [];
    expect(points.map((p) => p.status)).to.deep.equal(['stable', 'failed', 'stable']);
    expect(points[1]?.error).to.match(/batch 4 failed/);
  });

  it('cuts the points the time budget does not reach, sharing it fairly', async () => {
    // 1.2 s for 3 points: 400 ms for batch 1, enough for its warm-up and three 100 ms windows; what it
    // leaves is shared by the slow ones, whose 200 ms batches fit one window each, not three.
    const { r } = await profile({ computeMs: (b) => (b === 1 ? 15 : 200) }, { budgetMs: 1200, minWindowRequests: 1 });
    const points = r.hardware[0]?.points ?? [];
    expect(points[0]?.status).to.equal('stable');
    expect(points.slice(1).map((p) => p.status)).to.deep.equal(['cut', 'cut']);
    for (const p of points.slice(1)) expect(p.windows).to.be.below(3);
    expect(r.hardware[0]?.wallMs).to.be.at.most(1200 + 201);
  });

  it('without server counters: a warning, and the client median is the latency', async () => {
    const { r } = await profile({ counters: false }, { allowLiveTraffic: true, batchSizes: [2] });
    const p = r.hardware[0]?.points[0];
    expect(p?.server).to.equal(undefined);
    expect(p?.clientP50Ms).to.be.closeTo(compute(2) + 1, 1e-6);
    expect(r.warnings.join('\n')).to.match(/no server-side timings: reading the counters failed/);
  });

  it('refuses a server with live traffic, before sending or changing anything', async () => {
    const clock = new FakeClock(0);
    const fake = new FakeServer(clock, { computeMs: compute, device: 'cpu' });
    let stop = false;
    void (async () => {
      while (!stop) {
        await clock.sleep(10);
        fake.otherTraffic(1);
      }
    })();
    try {
      const run = runActiveProfile(fake, { ...BASE, hardware: [{ name: 'gpu', device: 'gpu' }] }, { clock });
      const err = await drive(clock, run).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(LiveTrafficError);
      expect((err as Error).message).to.match(/serving live traffic: \d+ requests? in 0\.1 s \(m\)/);
    } finally {
      stop = true;
    }
    expect(fake.sent).to.equal(0);
    expect(fake.changes).to.deep.equal([]);
  });

  it('with allowLiveTraffic it profiles anyway', async () => {
    const clock = new FakeClock(0);
    const fake = new FakeServer(clock, { computeMs: compute });
    fake.otherTraffic(5);
    const r = await drive(clock, runActiveProfile(fake, { ...BASE, batchSizes: [1], allowLiveTraffic: true }, { clock }));
    expect(r.hardware[0]?.points[0]?.status).to.equal('stable');
  });

  it('switches the device per hardware and puts the original back at the end', async () => {
    const { r, fake } = await profile({ device: 'gpu', replicas: 2 }, { hardware: [{ name: 'cpu', device: 'cpu' }, { name: 'gpu-t4', device: 'gpu' }], batchSizes: [1] });
    expect(r.hardware.map((h) => [h.hardware, h.device, h.switched])).to.deep.equal([['cpu', 'cpu', true], ['gpu-t4', 'gpu', true]]);
    expect(fake.changes).to.deep.equal(['m: 2 cpu', 'm: 2 gpu', 'm: 2 gpu']);
    expect(r.restore).to.deep.equal({ needed: true, ok: true, method: 'replicas' });
    expect(fake.device).to.equal('gpu');
  });

  it('a hardware whose switch fails is recorded with the error; the others are profiled; the original is restored', async () => {
    const { r, fake, events } = await profile({ device: 'cpu', refuseDevices: ['gpu'] }, {
      hardware: [{ name: 'gpu-t4', device: 'gpu' }, { name: 'cpu', device: 'cpu' }], batchSizes: [1],
    });
    expect(r.hardware[0]?.error).to.match(/switching m to GPU instances failed: .*no gpu here/);
    expect(r.hardware[0]?.points).to.deep.equal([]);
    expect(r.hardware[1]?.points[0]?.status).to.equal('stable');
    expect(r.restore.ok).to.equal(true);
    expect(fake.device).to.equal('cpu');
    expect(events.some((e) => e.kind === 'hardware-failed')).to.equal(true);
  });

  it('an abort mid-sweep stops at once, keeps what was measured, and restores the original device', async () => {
    const { r, fake } = await profile({ device: 'gpu' }, { hardware: [{ name: 'cpu', device: 'cpu' }, { name: 'gpu', device: 'gpu' }], batchSizes: [1, 4, 16] }, 700);
    expect(r.interrupted).to.equal(true);
    expect(r.hardware).to.have.length(1);
    const statuses = r.hardware[0]?.points.map((p) => p.status);
    expect(statuses?.[0]).to.equal('stable');
    expect(statuses?.at(-1)).to.equal('cut');
    expect(r.restore).to.deep.equal({ needed: true, ok: true, method: 'replicas' });
    expect(fake.device).to.equal('gpu');
    expect(fake.inFlight).to.equal(0);
  });

  it('refuses settings that cannot work', async () => {
    const clock = new FakeClock(0);
    const fake = new FakeServer(clock, { computeMs: compute });
    for (const bad of [{ windowMs: 0 }, { maxWindows: 2 }, { budgetMs: -1 }] as const) {
      const err = await runActiveProfile(fake, { ...BASE, ...bad }, { clock }).then(() => undefined, (e: unknown) => e);
      expect(err, JSON.stringify(bad)).to.be.instanceOf(RangeError);
    }
  });
});
