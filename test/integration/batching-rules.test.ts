// The batching rules the emulators follow (docs/emulator.md §2), observed on the real servers and
// on the emulators in the same scenario. Delays and batch times are hundreds of milliseconds, so
// that a loaded host cannot blur the difference between the rules.
//
// Where a batch delay is measured from: the only worker/instance is busy with a full batch that
// takes C (≥ ~300 ms); 30 ms in, one more request X arrives; the delay is D < C.
//   - from the batch start (TorchServe): the worker frees at C, takes X, waits D for more, runs X;
//     X ends about D after the full batch.
//   - from the oldest request (Triton): X's delay ran out at 30 + D < C, so it runs as soon as the
//     instance is free; X ends about its own compute time after the full batch.
// Triton forms batches while its instance is busy, and a waiting batch keeps taking requests: with
// preferred_batch_size [2] and a long delay, three single requests queued behind a busy instance
// become one batch of 3 (the first two reach the preferred size and form a batch; the third joins
// it, since it is still waiting), not a batch of 2 and one of 1.
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipUnlessInstalled } from './servers/mocha.js';
import { httpRequest } from './servers/process.js';
import { startTorchServe } from './servers/torchserve.js';
import type { TorchServeHandle } from './servers/torchserve.js';
import { startTriton } from './servers/triton.js';
import type { TritonHandle } from './servers/triton.js';
import { startTorchServeEmulator, startTritonEmulator } from '../../src/emulator/index.js';
import type { ModelProfile } from '../../src/core/model/types.js';

const D = 400;

interface Timing {
  /** When the full batch's responses came back (ms from the start). */
  readonly fullDone: number;
  /** When X's came back. */
  readonly xDone: number;
}

/** Sends the full batch, then X 30 ms later; times both from the client. */
async function scenario(full: () => Promise<unknown>, x: () => Promise<unknown>): Promise<Timing> {
  const t0 = performance.now();
  const a = full().then(() => performance.now() - t0);
  await sleep(30);
  const b = x().then(() => performance.now() - t0);
  const [fullDone, xDone] = await Promise.all([a, b]);
  return { fullDone, xDone };
}

const profile = (points: [number, number][]): ModelProfile => ({
  model: 'matmul', hardware: 'cpu', points: points.map(([batchSize, latencyMs]) => ({ batchSize, latencyMs, throughputQps: (1000 * batchSize) / latencyMs })),
});

async function ok(p: Promise<{ status: number; text: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  return r.text;
}

describe('batching rules: real servers and emulators alike', function () {
  this.timeout(240_000);

  describe('TorchServe 0.12: max_batch_delay counts from when a free worker takes its first job', function () {
    let ts: TorchServeHandle | undefined;
    before(async function () {
      skipUnlessInstalled(this, 'torchserve');
      ts = await startTorchServe({ tokenAuth: false });
      await ok(httpRequest(`${ts.managementUrl}/models?url=matmul.mar&batch_size=4&max_batch_delay=${D}&initial_workers=1&synchronous=true`, { method: 'POST' }));
    });
    after(async () => { await ts?.stop(); });

    const predict = (url: string, reps: number) => ok(httpRequest(`${url}/predictions/matmul`, { method: 'POST', body: JSON.stringify({ reps }), headers: { 'Content-Type': 'application/json' } }));

    it('real: X ends about the delay after the full batch', async function () {
      const url = (ts as TorchServeHandle).inferenceUrl;
      await predict(url, 0); // warm (runs alone after the delay)
      // Size the full batch to take ≥ 1.5 × D: time full batches (they run at once), growing the
      // work until one lasts long enough; the handler's speed varies with the host's load.
      const probe = JSON.parse(await predict(url, 20)) as { computeMs: number };
      let reps = Math.max(20, Math.ceil((20 * 1.5 * D) / Math.max(1, 4 * probe.computeMs)));
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        await Promise.all([1, 2, 3, 4].map(() => predict(url, reps)));
        const took = performance.now() - t0;
        if (took >= 1.5 * D) break;
        reps = Math.ceil(reps * Math.min(8, (1.8 * D) / Math.max(1, took)));
      }
      const t = await scenario(() => Promise.all([1, 2, 3, 4].map(() => predict(url, reps))), () => predict(url, 0));
      expect(t.fullDone, 'the full batch must outlast the delay').to.be.above(30 + D);
      expect(t.xDone - t.fullDone, JSON.stringify(t)).to.be.within(0.8 * D, 1.8 * D);
    });

    it('emulated: the same', async () => {
      const e = await startTorchServeEmulator({ profiles: [profile([[1, 20], [4, 1.5 * D]])], tokenAuth: false, batchSize: 4, maxBatchDelayMs: D });
      try {
        const post = () => ok(httpRequest(`${e.inferenceUrl}/predictions/matmul`, { method: 'POST', body: '{}' }));
        const t = await scenario(() => Promise.all([1, 2, 3, 4].map(post)), post);
        expect(t.xDone - t.fullDone, JSON.stringify(t)).to.be.within(0.8 * D, 1.8 * D);
      } finally {
        await e.stop();
      }
    });
  });

  describe('Triton 2.51: max_queue_delay counts from the oldest request; preferred sizes', function () {
    let triton: TritonHandle | undefined;
    let base: Record<string, unknown> = {};
    before(async function () {
      skipUnlessInstalled(this, 'triton');
      triton = await startTriton();
      base = JSON.parse(await ok(httpRequest(`${triton.httpUrl}/v2/models/matmul/config`))) as Record<string, unknown>;
    });
    after(async () => { await triton?.stop(); });

    const url = (): string => (triton as TritonHandle).httpUrl;
    const load = (reps: number, delayUs: number, preferred?: number[]) => ok(httpRequest(`${url()}/v2/repository/models/matmul/load`, {
      method: 'POST',
      body: JSON.stringify({ parameters: { config: JSON.stringify({
        ...base,
        parameters: { reps: { string_value: String(reps) } },
        dynamic_batching: { ...(base['dynamic_batching'] as object), max_queue_delay_microseconds: delayUs, ...(preferred ? { preferred_batch_size: preferred } : {}) },
      }) } }),
    }));
    const infer = (rows: number) => ok(httpRequest(`${url()}/v2/models/matmul/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(1) }] }),
    }));
    /** Times one full batch of 8. */
    const timeFull = async (): Promise<number> => {
      const t0 = performance.now();
      await infer(8);
      return performance.now() - t0;
    };
    /**
     * Reps per item such that 8 items take about 2.5 × D: the fastest of three timed probes at
     * reps 8 (a probe slowed by a busy host would size the batch too small).
     */
    const sizeReps = async (): Promise<number> => {
      await load(8, 0);
      await infer(1);
      const ms = Math.min(await timeFull(), await timeFull(), await timeFull());
      return Math.max(8, Math.ceil((8 * 2.5 * D) / Math.max(1, ms)));
    };

    it('real: X runs as soon as the instance is free, its delay having run out while it waited', async () => {
      let reps = await sizeReps();
      await load(reps, D * 1000);
      // The batch as loaded: where it still came out short of 2 × D, scale the reps once more.
      const full = await timeFull();
      if (full < 2 * D) {
        reps = Math.ceil((reps * 2.5 * D) / Math.max(1, full));
        await load(reps, D * 1000);
        await infer(8);
      }
      const t = await scenario(() => infer(8), () => infer(1));
      expect(t.fullDone, 'the full batch must outlast the delay').to.be.above(30 + D);
      // X's own compute is 1/8 of the full batch's.
      expect(t.xDone - t.fullDone, JSON.stringify(t)).to.be.below(0.6 * D);
    });

    it('emulated: the same', async () => {
      const e = await startTritonEmulator({ profiles: [profile([[1, 20], [8, 1.5 * D]])], maxQueueDelayMs: D });
      try {
        const inferE = (rows: number) => ok(httpRequest(`${e.url}/v2/models/matmul/infer`, {
          method: 'POST',
          body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(1) }] }),
        }));
        const t = await scenario(() => inferE(8), () => inferE(1));
        expect(t.xDone - t.fullDone, JSON.stringify(t)).to.be.below(0.6 * D);
      } finally {
        await e.stop();
      }
    });

    /** Batch sizes executed since the last load, from /stats. */
    const executed = async (statsUrl: string): Promise<Record<string, number>> => {
      const s = JSON.parse(await ok(httpRequest(statsUrl))) as { model_stats: { batch_stats: { batch_size: number; compute_infer: { count: number } }[] }[] };
      return Object.fromEntries((s.model_stats[0]?.batch_stats ?? []).map((b) => [String(b.batch_size), b.compute_infer.count]));
    };

    it('real and emulated: behind a busy instance, preferred_batch_size [2] and 3 single requests make one batch of 3', async () => {
      const delay = 5 * D;
      const reps = await sizeReps();
      await load(reps, delay * 1000, [2]);
      const before = await executed(`${url()}/v2/models/matmul/stats`);
      const full = infer(8);
      await sleep(30);
      await Promise.all([full, infer(1), infer(1), infer(1)]);
      const after = await executed(`${url()}/v2/models/matmul/stats`);
      const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
      expect(delta).to.deep.equal({ 3: 1, 8: 1 });

      const e = await startTritonEmulator({ profiles: [profile([[1, 20], [8, 1.5 * D]])], maxQueueDelayMs: delay, preferredBatchSizes: [2] });
      try {
        const inferE = (rows: number) => ok(httpRequest(`${e.url}/v2/models/matmul/infer`, {
          method: 'POST',
          body: JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(1) }] }),
        }));
        const fullE = inferE(8);
        await sleep(30);
        await Promise.all([fullE, inferE(1), inferE(1), inferE(1)]);
        expect(await executed(`${e.url}/v2/models/matmul/stats`)).to.deep.equal({ 3: 1, 8: 1 });
      } finally {
        await e.stop();
      }
    });
  });
});
