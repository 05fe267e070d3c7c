// Passive profiling against the emulated Triton: live traffic of several batch sizes runs beside
// it; the profiler sends nothing and derives compute latency per executed batch size from the
// batch_stats increments, with sample counts, marking the sizes seen too rarely.
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTorchServeAdapter } from '../../../adapters/torchserve/index.js';
import { createTritonAdapter } from '../../../adapters/triton/index.js';
import { startTorchServeEmulator, startTritonEmulator } from '../../../src/emulator/index.js';
import type { Profilable } from '../../../src/ports/server-adapter.js';
import { ProfilerError, runPassiveProfile } from '../../../src/runtime/profiler/index.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { profile } from '../../emulator/helpers.js';

const PROFILES = [profile('m', 'gpu', [[1, 20], [2, 26], [4, 40], [8, 60]])];

/** Live traffic: batches of `sizes` in turn, one at a time, until stopped; returns how many it sent of each. */
function traffic(adapter: Profilable, sizes: readonly number[]): { stop: () => Promise<Map<number, number>> } {
  let running = true;
  const sent = new Map<number, number>();
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const b = sizes[i % sizes.length] as number;
      await adapter.infer('m', { batchSize: b, data: 'zero', timeoutMs: 5000 });
      sent.set(b, (sent.get(b) ?? 0) + 1);
    }
  })();
  return { stop: async () => { running = false; await loop; return sent; } };
}

describe('runtime/profiler/passive', function () {
  this.timeout(60_000);

  it('Triton: compute per executed batch size from the live traffic, samples counted, rare sizes marked', async () => {
    const e = await startTritonEmulator({ profiles: PROFILES, gpu: true });
    const adapter = createTritonAdapter({ url: e.url });
    // Mostly batches of 1 and 4; a batch of 8 only once in a while.
    const live = traffic(adapter, [1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 8]);
    try {
      const sentBefore = e.engine('m')?.counters().executionCount ?? 0n;
      const r = await runPassiveProfile(adapter, { model: 'm', hardware: 'gpu-t4', durationMs: 2000, intervalMs: 500, minSamples: 10 }, { clock: systemClock });
      expect(r.mode).to.equal('passive');
      expect(r.hardware).to.equal('gpu-t4');
      expect(r.observedMs).to.be.within(1900, 4000);
      const byBatch = new Map(r.points.map((p) => [p.batchSize, p]));
      expect([...byBatch.keys()]).to.deep.equal([1, 4, 8]);
      // Within a fifth: the emulator's timers run late on a loaded machine (accuracy.test.ts holds the bounds).
      expect(byBatch.get(1)?.computeMs).to.be.within(20 * 0.95, 20 * 1.2);
      expect(byBatch.get(4)?.computeMs).to.be.within(40 * 0.95, 40 * 1.2);
      expect(byBatch.get(1)?.enough).to.equal(true);
      // About 25 batches each of 1 and 4 in 2 s, and only a few of 8.
      expect(byBatch.get(1)?.samples).to.be.at.least(10);
      expect(byBatch.get(8)?.samples).to.be.within(1, 9);
      expect(byBatch.get(8)?.enough).to.equal(false);
      expect(r.warnings).to.include('batch size 8: fewer than 10 executions, marked stable: false');
      // It sent nothing itself: every execution is the traffic's.
      const sent = await live.stop();
      const executed = (e.engine('m')?.counters().executionCount ?? 0n) - sentBefore;
      expect(Number(executed)).to.be.at.most([...sent.values()].reduce((a, b) => a + b, 0));
    } finally {
      await live.stop();
      await e.stop();
    }
  });

  it('refuses a server without per-batch-size statistics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferline-passive-'));
    const e = await startTorchServeEmulator({ profiles: PROFILES, keyFile: join(dir, 'key_file.json'), metricsMode: 'prometheus' });
    try {
      const adapter = createTorchServeAdapter({ inferenceUrl: e.inferenceUrl, managementUrl: e.managementUrl, metricsUrl: e.metricsUrl, keyFile: join(dir, 'key_file.json') });
      const err = await runPassiveProfile(adapter, { model: 'm', hardware: 'cpu', durationMs: 100 }, { clock: systemClock }).then(() => undefined, (x: unknown) => x);
      expect(err).to.be.instanceOf(ProfilerError);
      expect((err as Error).message).to.match(/^passive profiling needs per-batch-size execution statistics, which this torchserve server does not report/);
    } finally {
      await e.stop();
    }
  });

  it('an abort ends the watch early with what it saw', async () => {
    const e = await startTritonEmulator({ profiles: PROFILES, gpu: true });
    const adapter = createTritonAdapter({ url: e.url });
    const live = traffic(adapter, [2]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('SIGINT')), 700);
    try {
      const r = await runPassiveProfile(adapter, { model: 'm', hardware: 'gpu', durationMs: 30_000, intervalMs: 5000 }, { clock: systemClock, signal: controller.signal });
      expect(r.interrupted).to.equal(true);
      expect(r.observedMs).to.be.below(5000);
      expect(r.points.map((p) => p.batchSize)).to.deep.equal([2]);
      expect(r.points[0]?.computeMs).to.be.within(26 * 0.95, 26 * 1.2);
    } finally {
      await live.stop();
      await e.stop();
    }
  });
});
