// Through each face, a batch of size k takes the profile's L(k), within timer slop (~15 %).
// Timers can only fire late, and a loaded machine makes them later, so each size is timed five
// times after a warm-up and the fastest run is compared with the profile; on a busy machine a
// test may be retried.
import { expect } from 'chai';
import { LatencyCurve } from '../../src/core/model/profiles.js';
import { startTfServingEmulator } from '../../src/emulator/tfserving/index.js';
import { startTorchServeEmulator } from '../../src/emulator/torchserve/index.js';
import { startTritonEmulator } from '../../src/emulator/triton/index.js';
import { profile, request, timed } from './helpers.js';

const P = profile('m', 'gpu-t4', [[1, 40], [4, 60], [8, 80]]);
const L = new LatencyCurve(P);
const SIZES = [1, 2, 4, 8];

/** The fastest of five timed runs, after two warm-up runs. */
async function fastest(run: () => Promise<unknown>): Promise<number> {
  await run();
  await run();
  let best = Infinity;
  for (let i = 0; i < 5; i++) best = Math.min(best, (await timed(run)).ms);
  return best;
}

function expectNear(measured: number, k: number): void {
  const want = L.latencyMs(k);
  expect(measured, `batch ${k}: ${measured.toFixed(1)} ms, profile ${want} ms`).to.be.within(want * 0.95, want * 1.15);
}

describe('emulated latency follows the profile', function () {
  this.timeout(30_000);
  this.retries(2);

  it('Triton: an infer request of shape [k, 4]', async () => {
    const triton = await startTritonEmulator({ profiles: [P], maxQueueDelayMs: 0 });
    try {
      for (const k of SIZES) {
        const body = { inputs: [{ name: 'INPUT0', shape: [k, 4], datatype: 'FP32', data: new Array(k * 4).fill(0) }] };
        expectNear(await fastest(async () => {
          const r = await request('POST', `${triton.url}/v2/models/m/infer`, { body });
          expect(r.status).to.equal(200);
        }), k);
      }
    } finally {
      await triton.stop();
    }
  });

  it('TF Serving: a predict request of k instances', async () => {
    const tf = await startTfServingEmulator({ profiles: [P], batchTimeoutMs: 0 });
    try {
      for (const k of SIZES) {
        const body = { instances: new Array(k).fill([1, 2]) };
        expectNear(await fastest(async () => {
          const r = await request('POST', `${tf.url}/v1/models/m:predict`, { body });
          expect(r.status).to.equal(200);
        }), k);
      }
    } finally {
      await tf.stop();
    }
  });

  it('TorchServe: k concurrent predictions batched by a worker with batch_size k', async () => {
    for (const k of [1, 4, 8]) {
      const ts = await startTorchServeEmulator({ profiles: [P], tokenAuth: false, batchSize: k, maxBatchDelayMs: 5_000 });
      try {
        expectNear(await fastest(async () => {
          const rs = await Promise.all(Array.from({ length: k }, () => request('POST', `${ts.inferenceUrl}/predictions/m`)));
          expect(rs.map((r) => r.json<{ batchSize: number }>().batchSize)).to.deep.equal(new Array(k).fill(k));
        }), k);
      } finally {
        await ts.stop();
      }
    }
  });
});
