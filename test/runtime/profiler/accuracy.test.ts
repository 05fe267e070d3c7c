// What must hold: against an emulated server driven by a known profile, the measured compute
// latency is within 10 % of the true value at every batch size, and within 5 % for sizes ≥ 4.
// The emulators run batches on real timers, so the latencies are large (80–380 ms) next to timer
// slop (a millisecond, several on a loaded machine), and the windows short, to keep the test quick
// on two shared cores: Triton over its whole sweep, the other two at one size below 4 and two above.
import { expect } from 'chai';
import { createTfServingAdapter } from '../../../adapters/tfserving/index.js';
import { createTorchServeAdapter } from '../../../adapters/torchserve/index.js';
import { createTritonAdapter } from '../../../adapters/triton/index.js';
import { startTfServingEmulator, startTorchServeEmulator, startTritonEmulator } from '../../../src/emulator/index.js';
import type { ServerAdapter } from '../../../src/ports/server-adapter.js';
import { runActiveProfile } from '../../../src/runtime/profiler/index.js';
import type { ActiveProfileResult } from '../../../src/runtime/profiler/index.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { profile } from '../../emulator/helpers.js';

const TRUE_MS: readonly (readonly [number, number])[] = [[1, 80], [2, 100], [4, 140], [8, 220], [16, 380]];
const PROFILES = [profile('m', 'cpu', TRUE_MS)];
const QUICK = { model: 'm', hardware: [{ name: 'cpu' }], windowMs: 250, minWindowRequests: 2, warmupRequests: 2, liveTrafficCheckMs: 100 } as const;

function checkAccuracy(r: ActiveProfileResult, basis: 'batch-stats' | 'per-request', sizes: readonly number[]): void {
  const points = r.hardware[0]?.points ?? [];
  expect(points.map((p) => p.batchSize)).to.deep.equal(sizes);
  const rows = points.map((p) => {
    const truth = TRUE_MS.find(([b]) => b === p.batchSize)?.[1] as number;
    return { b: p.batchSize, truth, measured: p.server?.computeMs, error: p.server === undefined ? NaN : Math.abs(p.server.computeMs - truth) / truth, basis: p.server?.basis, status: p.status };
  });
  const table = rows.map((x) => `batch ${x.b}: ${x.measured?.toFixed(2)} ms vs ${x.truth} ms (${(x.error * 100).toFixed(1)} %, ${x.basis}, ${x.status})`).join('\n');
  if (process.env['INFERLINE_PRINT_ACCURACY'] === '1') console.log(table);
  for (const x of rows) {
    expect(x.basis, table).to.equal(basis);
    expect(x.error, table).to.be.at.most(x.b >= 4 ? 0.05 : 0.1);
  }
}

async function run(adapter: ServerAdapter, extra: { batchSizes?: number[] } = {}): Promise<ActiveProfileResult> {
  return runActiveProfile(adapter, { ...QUICK, ...extra }, { clock: systemClock });
}

describe('runtime/profiler accuracy against the emulators (known profile)', function () {
  this.timeout(120_000);

  it('Triton: compute from per-batch-size statistics, within 10 % (5 % from batch 4)', async () => {
    const e = await startTritonEmulator({ profiles: PROFILES });
    try {
      const r = await run(createTritonAdapter({ url: e.url }));
      checkAccuracy(r, 'batch-stats', [1, 2, 4, 8, 16]);
      // The client sees the compute time plus the HTTP round trip.
      for (const p of r.hardware[0]?.points ?? []) expect(p.clientP50Ms).to.be.at.least((p.server?.computeMs ?? 0) - 0.5);
    } finally {
      await e.stop();
    }
  });

  it('TorchServe: compute from the inference and queue counters, queueing split off', async () => {
    // The worker waits up to 20 ms to fill a batch of 16: the counters count that as queueing.
    const e = await startTorchServeEmulator({ profiles: PROFILES, tokenAuth: false, metricsMode: 'prometheus', batchSize: 16, maxBatchDelayMs: 20 });
    try {
      const r = await run(createTorchServeAdapter({ inferenceUrl: e.inferenceUrl, managementUrl: e.managementUrl, metricsUrl: e.metricsUrl }), { batchSizes: [1, 4, 16] });
      checkAccuracy(r, 'per-request', [1, 4, 16]);
      const small = r.hardware[0]?.points[0];
      expect(small?.server?.queueMs).to.be.within(15, 30);
      expect(small?.clientP50Ms).to.be.above((small?.server?.computeMs ?? 0) + 15);
    } finally {
      await e.stop();
    }
  });

  it('TF Serving: compute from runtime_latency', async () => {
    const e = await startTfServingEmulator({ profiles: PROFILES, monitoring: true });
    try {
      const r = await run(createTfServingAdapter({ url: e.url, models: ['m'] }), { batchSizes: [1, 4, 16] });
      checkAccuracy(r, 'per-request', [1, 4, 16]);
    } finally {
      await e.stop();
    }
  });
});
