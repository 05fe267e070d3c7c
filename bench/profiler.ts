// Profiling wall time per model: `inferline profile`'s runner with its default settings (1 s
// windows, three within 10 %, 2-minute budget) sweeping batch 1–32 against the emulated Triton,
// driven by the example profiles, and how far the measured compute time is from the true one.
import { fileURLToPath } from 'node:url';
import { createTritonAdapter } from '../adapters/triton/index.js';
import { LatencyCurve } from '../src/core/model/profiles.js';
import { readProfileFile, startTritonEmulator } from '../src/emulator/index.js';
import { ACTIVE_DEFAULTS, runActiveProfile } from '../src/runtime/profiler/index.js';
import { systemClock } from '../src/platform/system-clock.js';

const PROFILES = fileURLToPath(new URL('../config/examples/profiles.yaml', import.meta.url));
const MODELS: readonly { model: string; hardware: string }[] = [{ model: 'preprocess', hardware: 'cpu' }, { model: 'resnet50', hardware: 'gpu-t4' }];
const SIZES = [1, 2, 4, 8, 16, 32];

export async function benchProfiler(): Promise<void> {
  const all = readProfileFile(PROFILES);
  console.log(`profiler wall time per model (active sweep of batch ${SIZES.join(', ')} against the emulated Triton; default settings: `
    + `${ACTIVE_DEFAULTS.windowMs / 1000} s windows of ≥ ${ACTIVE_DEFAULTS.minWindowRequests} batches, 3 within 10 %, ≤ ${ACTIVE_DEFAULTS.maxWindows} windows, `
    + `${ACTIVE_DEFAULTS.budgetMs / 60_000}-minute budget)`);
  for (const { model, hardware } of MODELS) {
    const profile = all.find((p) => p.model === model && p.hardware === hardware);
    if (profile === undefined) throw new Error(`${PROFILES}: no ${model} on ${hardware}`);
    const curve = new LatencyCurve(profile);
    const e = await startTritonEmulator({ profiles: [profile] });
    try {
      const t0 = performance.now();
      const r = await runActiveProfile(createTritonAdapter({ url: e.url }), { model, hardware: [{ name: hardware }], batchSizes: SIZES }, { clock: systemClock });
      const wallS = (performance.now() - t0) / 1000;
      const points = r.hardware[0]?.points ?? [];
      const stable = points.filter((p) => p.status === 'stable').length;
      const errors = points.map((p) => ({ batch: p.batchSize, error: Math.abs((p.server?.computeMs ?? Number.NaN) - curve.latencyMs(p.batchSize)) / curve.latencyMs(p.batchSize) }));
      const worst = errors.reduce((a, b) => (b.error > a.error || Number.isNaN(b.error) ? b : a));
      const fromFour = Math.max(...errors.filter((e) => e.batch >= 4).map((e) => e.error));
      console.log(`  ${`${model} on ${hardware}`.padEnd(22)} ${curve.latencyMs(1)}–${curve.latencyMs(32)} ms per batch   ${wallS.toFixed(1).padStart(5)} s   `
        + `${stable}/${points.length} stable, ${points.reduce((n, p) => n + p.windows, 0)} windows   compute error: worst ${(worst.error * 100).toFixed(1)} % `
        + `(batch ${worst.batch}), ≤ ${(fromFour * 100).toFixed(1)} % from batch 4`);
    } finally {
      await e.stop();
    }
  }
  console.log('  target: a full sweep of 1–32 within the default 2-minute budget');
  console.log('');
}
