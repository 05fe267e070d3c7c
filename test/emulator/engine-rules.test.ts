// The engine's batching rules and execution times on a fake deadline timer: exact to the
// nanosecond, nothing sleeps. Each server's rules are in docs/emulator.md.
import { expect } from 'chai';
import { ModelEngine } from '../../src/emulator/engine/index.js';
import type { EngineError } from '../../src/emulator/engine/index.js';
import type { BatchRecord, InferenceOutcome, ModelEngineOptions } from '../../src/emulator/engine/index.js';
import { LatencyCurve } from '../../src/core/model/profiles.js';
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

  describe('Triton: batches formed ahead while instances are busy, and preferred sizes', () => {
    const triton = (o: Partial<ModelEngineOptions>) => rig({ curve: flat(10), maxBatch: 8, formAheadPerReplica: 2, ...o });

    it('with an idle instance, a batch that reaches a preferred size runs at once', async () => {
      const r = triton({ maxQueueDelayMs: 50, preferredBatchSizes: [2, 4] });
      const outs = Array.from({ length: 4 }, () => r.submit(1));
      await r.timer.advance(0);
      expect(r.engine.inFlightRequests).to.equal(2);
      await r.timer.advance(100);
      // the second pair reaches 2 while the instance is busy; it waits, formed, and runs at 10.
      expect((await Promise.all(outs)).map((o) => [o.batchSize, o.doneAt])).to.deep.equal([[2, 10], [2, 10], [2, 20], [2, 20]]);
    });

    it('a batch waiting for a busy instance grows past a preferred size (as the real 2.51 does)', async () => {
      // The scenario of test/integration/batching-rules.test.ts: 8 running, then 3 singles, preferred [2].
      const r = triton({ maxQueueDelayMs: 2000, preferredBatchSizes: [2] });
      void r.submit(8);
      const queued = Array.from({ length: 3 }, () => r.submit(1));
      await r.timer.advance(100);
      expect((await Promise.all(queued)).map((o) => [o.batchSize, o.doneAt])).to.deep.equal([[3, 20], [3, 20], [3, 20]]);
      expect(r.batches.map((b) => b.size)).to.deep.equal([8, 3]);
    });

    it('with the default preferred size (the max batch) a batch formed while busy holds all that came, up to the max', async () => {
      const r = triton({ maxQueueDelayMs: 5 });
      void r.submit(8);
      const queued = Array.from({ length: 10 }, () => r.submit(1));
      await r.timer.advance(0);
      expect(r.engine.pendingRequests).to.equal(10);
      await r.timer.advance(100);
      // 8 fill a batch at once; the other 2 form one when the delay runs out (5), and wait for 10.
      expect((await Promise.all(queued)).map((o) => o.batchSize)).to.deep.equal([8, 8, 8, 8, 8, 8, 8, 8, 2, 2]);
      expect(r.batches.map((b) => b.size)).to.deep.equal([8, 8, 2]);
    });

    it('a batch formed while the instance is busy keeps what it had: a later arrival does not wake the batcher (real 2.51, traced)', async () => {
      // L = 10 ms, delay 2 ms. A at 0 runs 2–12; B at 3 forms its batch at 5 (busy) and waits; C at
      // 6 finds the batcher asleep (1 queued < next_preferred 8), so it waits for the next batch,
      // which begins when B's starts (12: C has waited the delay out) and runs at 22. (The batcher
      // looks 0.15 ms after an arrival wakes it; these batches start on the delay's timer.)
      const run = async (wakeOnPreferred: boolean): Promise<number[][]> => {
        const r = triton({ maxQueueDelayMs: 2, wakeOnPreferred });
        const outs = [r.submit(1)];
        await r.timer.advance(3);
        outs.push(r.submit(1));
        await r.timer.advance(3);
        outs.push(r.submit(1));
        await r.timer.advance(100);
        return (await Promise.all(outs)).map((o) => [o.batchSize, o.doneAt]);
      };
      expect(await run(true)).to.deep.equal([[1, 12], [1, 22], [1, 32]]);
      // Every arrival looked at (the emulator before): C joins B's waiting batch.
      expect(await run(false)).to.deep.equal([[1, 12], [2, 22], [2, 22]]);
    });

    it('requests that arrive together wake the batcher together: three singles behind a full batch run as one (as real 2.51 does)', async () => {
      const r = triton({ maxQueueDelayMs: 2, wakeOnPreferred: true });
      void r.submit(8);
      await r.timer.advance(1);
      // Within the batcher's hand-off of each other: it sees them together.
      const queued = [r.submit(1)];
      await r.timer.advance(0.1);
      queued.push(r.submit(1), r.submit(1));
      await r.timer.advance(100);
      expect((await Promise.all(queued)).map((o) => o.batchSize)).to.deep.equal([3, 3, 3]);
      expect(r.batches.map((b) => b.size)).to.deep.equal([8, 3]);
    });

    it('at most two batches per instance wait; the rest stay queued until one starts', async () => {
      const r = triton({ maxBatch: 1, maxQueueDelayMs: 0 });
      const outs = Array.from({ length: 5 }, () => r.submit(1));
      await r.timer.advance(0);
      expect(r.engine.inFlightRequests).to.equal(1);
      expect(r.engine.pendingRequests).to.equal(4);
      await r.timer.advance(100);
      expect((await Promise.all(outs)).map((o) => o.doneAt)).to.deep.equal([10, 20, 30, 40, 50]);
    });

    it('before the delay runs out, a batch stops short of passing the largest preferred size', async () => {
      // sizes 3 then 3: 6 would pass the largest preferred size 4, so 3 runs alone at once.
      const r = triton({ maxQueueDelayMs: 5, preferredBatchSizes: [4] });
      const a = r.submit(3);
      const b = r.submit(3);
      await r.timer.advance(100);
      expect([(await a).batchSize, (await b).batchSize]).to.deep.equal([3, 3]);
    });

    it('with no delay, a preferred size still caps the batch', async () => {
      const r = triton({ maxQueueDelayMs: 0, preferredBatchSizes: [2] });
      void r.submit(8);
      const queued = Array.from({ length: 3 }, () => r.submit(1));
      await r.timer.advance(100);
      expect((await Promise.all(queued)).map((o) => o.batchSize)).to.deep.equal([2, 2, 1]);
    });

    it('stop fails the requests of formed batches too', async () => {
      const r = triton({ maxQueueDelayMs: 0 });
      void r.submit(8).catch(() => undefined);
      const waiting = r.submit(1).catch((e: unknown) => e);
      await r.timer.advance(0);
      r.engine.stop();
      expect(((await waiting) as EngineError).kind).to.equal('stopped');
    });
  });
});
