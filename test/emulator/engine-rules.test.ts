// The engine's batching rules and execution times on a fake deadline timer: exact to the
// nanosecond, nothing sleeps. Each server's rules are in docs/emulator.md.
import { expect } from 'chai';
import { ModelEngine } from '../../src/emulator/engine.js';
import type { EngineError } from '../../src/emulator/engine.js';
import type { BatchRecord, InferenceOutcome, ModelEngineOptions } from '../../src/emulator/engine.js';
import { LatencyCurve } from '../../src/core/profiles.js';
import { FakeDeadlineTimer } from './fake-deadline-timer.js';
import { profile } from './helpers.js';

/** L(1) = 0.7, L(4) = 2.3, L(8) = 8.6 ms (linear in between). */
const CURVE = new LatencyCurve(profile('m', 'cpu', [[1, 0.7], [4, 2.3], [8, 8.6]]));
const flat = (ms: number, max = 8) => new LatencyCurve(profile('m', 'cpu', [[1, ms], [max, ms]]));
const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

interface Rig {
  readonly timer: FakeDeadlineTimer;
  readonly engine: ModelEngine;
  readonly batches: BatchRecord[];
  /** Submits and records when (fake ms) the request finished. */
  submit(size?: number): Promise<InferenceOutcome & { doneAt: number }>;
}

function rig(o: Partial<ModelEngineOptions> = {}): Rig {
  const timer = new FakeDeadlineTimer();
  const batches: BatchRecord[] = [];
  const engine = new ModelEngine({ name: 'm', curve: CURVE, replicas: 1, maxBatch: 8, maxQueueDelayMs: 0, timer, onBatch: (b) => batches.push(b), ...o });
  return {
    timer,
    engine,
    batches,
    submit: (size = 1) => engine.submit(size).then((out) => ({ ...out, doneAt: timer.nowMs() })),
  };
}

describe('emulator engine on a fake timer', () => {
  describe('execution time', () => {
    for (const [k, ms] of [[1, 0.7], [4, 2.3], [8, 8.6]] as const) {
      it(`a batch of ${k} runs exactly L(${k}) = ${ms} ms, fractional part included`, async () => {
        const r = rig({ maxBatch: k });
        const p = r.submit(k);
        await r.timer.advance(ms - 0.001);
        expect(r.engine.inFlightRequests).to.equal(1);
        await r.timer.advance(0.001);
        const out = await p;
        expect(out.computeNs).to.equal(ns(ms));
        expect(r.engine.counters().batchStats).to.deep.equal([{ batchSize: k, count: 1n, ns: ns(ms) }]);
      });
    }

    it('back-to-back batches do not accumulate slop: the nth ends at n × L', async () => {
      const r = rig({ maxBatch: 1 });
      const all = Promise.all(Array.from({ length: 10 }, () => r.submit(1)));
      await r.timer.advance(100);
      const outs = await all;
      outs.forEach((o, i) => expect(o.doneAt).to.be.closeTo((i + 1) * 0.7, 1e-9));
    });

    it('serviceMs replaces L(k) and sees each execution\'s size and sequence number', async () => {
      const calls: [number, number][] = [];
      const r = rig({ maxBatch: 4, serviceMs: (k, seq) => { calls.push([k, seq]); return 1 + seq * 0.25; } });
      const outs = Promise.all([r.submit(4), r.submit(2), r.submit(1)]);
      await r.timer.advance(50);
      const [a, b, c] = await outs;
      // 4 runs first; 2 + 1 then form the second batch (3 items) when the replica is free.
      expect(calls).to.deep.equal([[4, 0], [3, 1]]);
      expect([a?.computeNs, b?.computeNs, c?.computeNs]).to.deep.equal([ns(1), ns(1.25), ns(1.25)]);
    });
  });

  describe('batch delay', () => {
    it('a batch waits exactly the delay (a fractional one too) measured from the oldest request', async () => {
      const r = rig({ maxBatch: 4, maxQueueDelayMs: 0.25 });
      const first = r.submit(1);
      await r.timer.advance(0.1);
      const second = r.submit(1);
      await r.timer.advance(0.149);
      expect(r.engine.pendingRequests).to.equal(2);
      await r.timer.advance(0.001);
      expect(r.engine.pendingRequests).to.equal(0);
      const [a, b] = await Promise.all([first, second, r.timer.advance(10)]);
      expect([a.batchSize, b.batchSize]).to.deep.equal([2, 2]);
      expect([a.queueNs, b.queueNs]).to.deep.equal([ns(0.25), ns(0.15)]);
    });

    it('Triton, TF Serving: a request queued behind a busy replica counts its wait toward the delay', async () => {
      // The replica is busy 50 ms with a full batch; a request arrives at 0 with a 60 ms delay.
      const r = rig({ curve: flat(50), maxBatch: 4, maxQueueDelayMs: 60, delayOrigin: 'oldest-request' });
      void r.submit(4);
      const late = r.submit(1);
      await r.timer.advance(500);
      // free at 50, waits until 60, runs 50 ms.
      expect((await late).doneAt).to.equal(110);
    });

    it('TorchServe: a free worker waits the full delay after it takes its first job', async () => {
      const r = rig({ curve: flat(50), maxBatch: 4, maxQueueDelayMs: 60, delayOrigin: 'batch-start' });
      void r.submit(4);
      const late = r.submit(1);
      await r.timer.advance(500);
      // free at 50, waits until 110, runs 50 ms.
      expect((await late).doneAt).to.equal(160);
    });

    it('TorchServe: one worker forms a batch at a time; the next starts its window when the first leaves', async () => {
      const r = rig({ curve: flat(10), replicas: 2, maxBatch: 2, maxQueueDelayMs: 5, delayOrigin: 'batch-start' });
      const a = r.submit(1);
      await r.timer.advance(1);
      const b = r.submit(1); // fills worker 1's batch at 1
      const c = r.submit(1); // worker 2 starts its window at 1, runs at 6
      await r.timer.advance(100);
      expect([(await a).doneAt, (await b).doneAt, (await c).doneAt]).to.deep.equal([11, 11, 16]);
    });

    it('a full batch runs at once; the delay never holds a batch that cannot grow', async () => {
      const r = rig({ maxBatch: 4, maxQueueDelayMs: 100 });
      const outs = Promise.all([r.submit(2), r.submit(2), r.submit(3)]);
      await r.timer.advance(0);
      expect(r.engine.inFlightRequests).to.equal(2);
      await r.timer.advance(1000);
      expect((await outs).map((o) => o.batchSize)).to.deep.equal([4, 4, 3]);
    });
  });

  describe('TF Serving: max_enqueued_batches', () => {
    it('bounds the waiting requests in batches packed in arrival order; running batches do not count', async () => {
      const r = rig({ curve: flat(10), maxBatch: 4, maxQueueDelayMs: 0, queueCapacityBatches: 2 });
      const running = r.submit(4); // on the replica at once
      const waiting = [r.submit(3), r.submit(1), r.submit(2), r.submit(2)]; // [3, 1] [2, 2]
      const refused = await r.submit(1).catch((e: unknown) => e);
      expect((refused as EngineError).kind).to.equal('queue-full');
      expect(r.engine.counters().failuresByReason.REJECTED).to.equal(1n);
      await r.timer.advance(100);
      await Promise.all([running, ...waiting]);
    });
  });

  describe('Triton preferred batch sizes', () => {
    it('runs the largest preferred size that can be formed, at once, and leaves the rest queued', async () => {
      const r = rig({ curve: flat(10), maxBatch: 8, maxQueueDelayMs: 50, preferredBatchSizes: [2, 4] });
      void r.submit(8); // busy 0–10 while 5 queue up
      const outs = Array.from({ length: 5 }, () => r.submit(1));
      await r.timer.advance(10);
      expect(r.engine.inFlightRequests).to.equal(4);
      await r.timer.advance(100);
      const done = await Promise.all(outs);
      expect(done.map((o) => o.batchSize)).to.deep.equal([4, 4, 4, 4, 1]);
      // the one left over waits out its own delay (queued at 0, so until 50), then runs 10 ms.
      expect(done[4]?.doneAt).to.equal(60);
    });

    it('before the delay runs out, a batch stops short of passing the largest preferred size', async () => {
      // sizes 3 then 3: 6 would pass the largest preferred size 4, so 3 runs alone at once.
      const r = rig({ curve: flat(10), maxBatch: 8, maxQueueDelayMs: 5, preferredBatchSizes: [4] });
      const a = r.submit(3);
      const b = r.submit(3);
      await r.timer.advance(100);
      expect([(await a).batchSize, (await b).batchSize]).to.deep.equal([3, 3]);
    });

    it('once the delay has run out, the batch takes everything that fits the max batch', async () => {
      const r = rig({ curve: flat(10), maxBatch: 8, maxQueueDelayMs: 5, preferredBatchSizes: [4] });
      void r.submit(8); // busy 0–10
      const queued = Array.from({ length: 6 }, () => r.submit(1));
      await r.timer.advance(100);
      // at 10 the oldest has waited past 5 ms: all 6 run together, past the preferred 4.
      expect((await Promise.all(queued)).map((o) => o.batchSize)).to.deep.equal([6, 6, 6, 6, 6, 6]);
    });

    it('with no delay, a preferred size still caps the batch', async () => {
      const r = rig({ curve: flat(10), maxBatch: 8, maxQueueDelayMs: 0, preferredBatchSizes: [2] });
      void r.submit(8);
      const queued = Array.from({ length: 3 }, () => r.submit(1));
      await r.timer.advance(100);
      expect((await Promise.all(queued)).map((o) => o.batchSize)).to.deep.equal([2, 2, 1]);
    });
  });
});
