// The emulators' queueing and batching engine, in real time with latencies of a few ms. Deadlines
// are never early (deadline-timer.test.ts); lower bounds still allow 2 ms because they time the
// whole call from outside, and upper bounds allow for a busy machine. The exact rules are tested
// on a fake timer in engine-rules.test.ts.
import { expect } from 'chai';
import { EngineError, ModelEngine, WORKER_SCALED_DOWN } from '../../src/emulator/engine/index.js';
import type { InferenceOutcome, ModelEngineOptions } from '../../src/emulator/engine/index.js';
import { LatencyCurve } from '../../src/core/model/profiles.js';
import { profile, sleep, timed } from './helpers.js';

/** A flat service time of `ms` at every size up to `max`. */
const flat = (ms: number, max = 8) => new LatencyCurve(profile('m', 'cpu', [[1, ms], [max, ms]]));

describe('emulator engine', function () {
  this.timeout(10_000);
  const engines: ModelEngine[] = [];
  const engine = (o: Partial<ModelEngineOptions> & { curve: LatencyCurve }): ModelEngine => {
    const e = new ModelEngine({ name: 'm', replicas: 1, maxBatch: 1, maxQueueDelayMs: 0, ...o });
    engines.push(e);
    return e;
  };
  afterEach(() => {
    for (const e of engines.splice(0)) e.stop();
  });

  it('forms batches up to the max batch size', async () => {
    const e = engine({ curve: flat(5), maxBatch: 4, maxQueueDelayMs: 20 });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => e.submit(1)));
    expect(outcomes.map((o) => o.batchSize)).to.deep.equal([4, 4, 4, 4, 4, 4, 4, 4, 2, 2]);
    const c = e.counters();
    expect(c.executionCount).to.equal(3n);
    expect(c.batchStats.map((b) => [b.batchSize, b.count])).to.deep.equal([[2, 1n], [4, 2n]]);
  });

  it('counts a request of n items as n toward the batch', async () => {
    const e = engine({ curve: flat(5), maxBatch: 8, maxQueueDelayMs: 20 });
    const outcomes = await Promise.all([e.submit(3), e.submit(3), e.submit(3)]);
    // 3 + 3 fit; the third does not, so the first batch runs at once with 6 items.
    expect(outcomes.map((o) => [o.batchSize, o.batchRequests])).to.deep.equal([[6, 2], [6, 2], [3, 1]]);
    expect(e.counters().inferenceCount).to.equal(9n);
  });

  it('waits at most the max queue delay for a batch to fill', async () => {
    const e = engine({ curve: flat(5), maxBatch: 4, maxQueueDelayMs: 40 });
    const { ms, value } = await timed(() => e.submit(1));
    expect(ms).to.be.within(38, 40 + 5 + 40);
    expect(value.queueNs >= 38_000_000n, String(value.queueNs)).to.equal(true);
    expect(value.batchSize).to.equal(1);
  });

  it('runs at once when the delay is 0, and when a preferred batch size is reached', async () => {
    const noDelay = engine({ curve: flat(5), maxBatch: 4, maxQueueDelayMs: 0 });
    expect((await timed(() => noDelay.submit(1))).ms).to.be.below(30);
    const preferred = engine({ curve: flat(5), maxBatch: 8, maxQueueDelayMs: 200, preferredBatchSizes: [2] });
    const { ms, value } = await timed(() => Promise.all([preferred.submit(1), preferred.submit(1)]));
    expect(ms).to.be.below(100);
    expect(value.map((o) => o.batchSize)).to.deep.equal([2, 2]);
  });

  it('measures the delay from the oldest request (Triton) or from the batch start (TorchServe)', async () => {
    // The one replica is busy for 50 ms with a full batch; a request queued meanwhile, delay 60 ms.
    const run = async (delayOrigin: 'oldest-request' | 'batch-start') => {
      const e = engine({ curve: flat(50), maxBatch: 4, maxQueueDelayMs: 60, delayOrigin });
      const first = e.submit(4);
      const t = await timed(() => e.submit(1));
      await first;
      return t.ms;
    };
    const triton = await run('oldest-request');
    const torchserve = await run('batch-start');
    // Triton: by the time the replica frees up (50) the request has waited 50 of its 60 ms, so it
    // waits 10 more and runs (50 + 10 + 50).
    expect(triton).to.be.within(106, 110 + 40);
    // TorchServe: the free worker waits the full delay for more jobs (50 + 60 + 50).
    expect(torchserve).to.be.within(156, 160 + 40);
  });

  it('serves with replicas concurrently', async () => {
    const one = engine({ curve: flat(40), replicas: 1 });
    const two = engine({ curve: flat(40), replicas: 2 });
    const serial = await timed(() => Promise.all([one.submit(1), one.submit(1)]));
    const parallel = await timed(() => Promise.all([two.submit(1), two.submit(1)]));
    expect(serial.ms).to.be.within(78, 80 + 60);
    expect(parallel.ms).to.be.within(38, 40 + 35);
    expect(new Set(parallel.value.map((o) => o.replicaId)).size).to.equal(2);
  });

  it('scaling down mid-batch puts the removed worker\'s batch back at the head of the queue (TorchServe 0.12): served again, none fails', async () => {
    const e = engine({ curve: flat(80), replicas: 2, scaleDown: 'requeue' });
    const order: string[] = [];
    const track = (name: string, p: Promise<{ replicaId: number }>): Promise<number> => p.then((o) => { order.push(name); return o.replicaId; });
    const all = Promise.all([track('a', e.submit(1)), track('b', e.submit(1)), track('c', e.submit(1))]);
    await sleep(20);
    await e.setReplicas(1);
    // The removed replica is gone at once and its request waits at the head of the queue, before c.
    expect([e.replicaSnapshot().length, e.pendingRequests]).to.deep.equal([1, 2]);
    const replicaIds = await all;
    expect(order).to.deep.equal(['a', 'b', 'c']);
    expect(new Set(replicaIds).size, 'all served by the replica left').to.equal(1);
    const counters = e.counters();
    expect([counters.success.count, counters.failure.count]).to.deep.equal([3n, 0n]);
  });

  it('scaling down mid-batch with fail-in-flight fails the removed worker\'s requests', async () => {
    const e = engine({ curve: flat(80), replicas: 2, scaleDown: 'fail-in-flight' });
    const a = e.submit(1);
    const b = e.submit(1);
    await sleep(20);
    await e.setReplicas(1);
    const results = await Promise.allSettled([a, b]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed).to.have.length(1);
    expect(failed[0]?.reason).to.be.instanceOf(EngineError);
    expect((failed[0]?.reason as EngineError).kind).to.equal('scaled-down');
    expect((failed[0]?.reason as Error).message).to.equal(WORKER_SCALED_DOWN);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const c = e.counters();
    expect([c.success.count, c.failure.count, c.failuresByReason.BACKEND]).to.deep.equal([1n, 1n, 1n]);
    expect(e.replicas).to.equal(1);
  });

  it('scaling down gracefully lets the batch finish (Triton), then removes the instance', async () => {
    const e = engine({ curve: flat(60), replicas: 2, scaleDown: 'graceful' });
    const both = Promise.all([e.submit(1), e.submit(1)]);
    await sleep(15);
    await e.setReplicas(1);
    expect(e.replicas).to.equal(1);
    expect(e.replicaSnapshot().filter((r) => r.state === 'retiring')).to.have.length(1);
    const outcomes = await both;
    expect(outcomes).to.have.length(2);
    expect(e.replicaSnapshot()).to.have.length(1);
  });

  it('scales up live; new replicas serve after their startup time', async () => {
    const e = engine({ curve: flat(40), replicas: 1, replicaStartupMs: 30 });
    const { ms } = await timed(() => e.setReplicas(3));
    expect(ms).to.be.within(28, 30 + 40);
    expect(e.readyReplicas).to.equal(3);
    const parallel = await timed(() => Promise.all([e.submit(1), e.submit(1), e.submit(1)]));
    expect(parallel.ms).to.be.below(40 + 30);
  });

  it('changes batching live', async () => {
    const e = engine({ curve: flat(5), maxBatch: 1, maxQueueDelayMs: 0 });
    e.setBatching({ maxBatch: 4, maxQueueDelayMs: 20 });
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => e.submit(1)));
    expect(outcomes.map((o) => o.batchSize)).to.deep.equal([4, 4, 4, 4]);
    expect(() => e.setBatching({ maxBatch: 9, maxQueueDelayMs: 0 })).to.throw(RangeError, /largest profiled batch size 8/);
  });

  it('counters add up', async () => {
    const e = engine({ curve: new LatencyCurve(profile('m', 'cpu', [[1, 3], [8, 10]])), replicas: 2, maxBatch: 8, maxQueueDelayMs: 5 });
    const sizes = [1, 2, 3, 1, 1, 4, 2, 1, 3, 1];
    const outcomes: InferenceOutcome[] = [];
    await Promise.all(sizes.map(async (n, i) => {
      await sleep(i * 2);
      outcomes.push(await e.submit(n));
    }));
    const c = e.counters();
    const sum = (xs: readonly bigint[]) => xs.reduce((a, b) => a + b, 0n);
    expect(c.success.count).to.equal(BigInt(sizes.length));
    expect(c.queue.count).to.equal(c.success.count);
    expect(c.compute.count).to.equal(c.success.count);
    expect(c.inferenceCount).to.equal(BigInt(sizes.reduce((a, b) => a + b, 0)));
    expect(sum(c.batchStats.map((b) => b.count))).to.equal(c.executionCount);
    expect(sum(c.batchStats.map((b) => b.count * BigInt(b.batchSize)))).to.equal(c.inferenceCount);
    expect(c.success.ns).to.equal(sum(outcomes.map((o) => o.totalNs)));
    expect(c.queue.ns).to.equal(sum(outcomes.map((o) => o.queueNs)));
    // compute is per request: each request adds its batch's compute time.
    expect(c.compute.ns).to.equal(sum(outcomes.map((o) => o.computeNs)));
    expect(sum(c.batchStats.map((b) => b.ns)) <= c.compute.ns).to.equal(true);
    for (const o of outcomes) expect(o.totalNs).to.equal(o.queueNs + o.computeNs);
    expect(c.lastInferenceMs).to.be.greaterThan(0);
    expect(c.failure.count).to.equal(0n);
  });

  it('uses the injected clock for measurements', async () => {
    let t = 0n;
    const e = engine({ curve: flat(5), now: () => (t += 1_000n) });
    const o = await e.submit(1);
    // enqueue, dispatch, finish: one tick apart each.
    expect([o.queueNs, o.computeNs, o.totalNs]).to.deep.equal([1_000n, 1_000n, 2_000n]);
  });

  it('rejects what does not fit: too large, queue full', async () => {
    const e = engine({ curve: flat(50), maxBatch: 2, queueCapacity: 1 });
    const err = await e.submit(3).catch((x: unknown) => x);
    expect((err as EngineError).kind).to.equal('too-large');
    const running = e.submit(1); // dispatched at once
    const queued = e.submit(1); // waits: the queue now holds 1
    const full = await e.submit(1).catch((x: unknown) => x);
    expect((full as EngineError).kind).to.equal('queue-full');
    await Promise.all([running, queued]);
    expect(e.counters().failuresByReason.REJECTED).to.equal(2n);
  });

  it('drain finishes queued and running requests; stop clears every timer', async () => {
    const e = engine({ curve: flat(20), maxBatch: 1 });
    const a = e.submit(1);
    const b = e.submit(1);
    await e.drain();
    await Promise.all([a, b]);
    expect((await e.submit(1).catch((x: unknown) => x) as EngineError).kind).to.equal('draining');

    let batches = 0;
    const s = engine({ curve: flat(30), maxBatch: 4, maxQueueDelayMs: 500, replicaStartupMs: 200, onBatch: () => { batches++; } });
    const growing = s.setReplicas(2);
    const pending = s.submit(1).catch((x: unknown) => x);
    s.stop();
    expect(((await pending) as EngineError).kind).to.equal('stopped');
    await growing;
    await sleep(60);
    expect(batches).to.equal(0);
    expect(s.isStopped).to.equal(true);
  });
});
