// requestOverheadMs: every face adds the fixed time to each inference request after its batch, and
// leaves it out of the statistics (like a real server's HTTP work, outside its scheduler).
import { expect } from 'chai';
import { startTfServingEmulator } from '../../src/emulator/tfserving/index.js';
import { startTorchServeEmulator } from '../../src/emulator/torchserve/index.js';
import { startTritonEmulator } from '../../src/emulator/triton/index.js';
import { profile, request, timed } from './helpers.js';

const P = profile('m', 'cpu', [[1, 5], [4, 8]]);
const OVERHEAD = 20;

describe('emulated per-request overhead', function () {
  this.timeout(20_000);

  it('Triton: the round trip grows by it; the statistics do not', async () => {
    const e = await startTritonEmulator({ profiles: [P], requestOverheadMs: OVERHEAD });
    try {
      const body = { inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
      const { ms, value } = await timed(() => request('POST', `${e.url}/v2/models/m/infer`, { body }));
      expect(value.status).to.equal(200);
      expect(ms).to.be.at.least(5 + OVERHEAD);
      const c = e.engine('m')?.counters();
      expect(Number(c?.success.ns) / 1e6).to.be.below(OVERHEAD);
    } finally {
      await e.stop();
    }
  });

  it('TorchServe and TF Serving: the round trip grows by it', async () => {
    const ts = await startTorchServeEmulator({ profiles: [P], tokenAuth: false, requestOverheadMs: OVERHEAD });
    const tf = await startTfServingEmulator({ profiles: [P], requestOverheadMs: OVERHEAD });
    try {
      const a = await timed(() => request('POST', `${ts.inferenceUrl}/predictions/m`, { body: '{}' }));
      const b = await timed(() => request('POST', `${tf.url}/v1/models/m:predict`, { body: { instances: [[1]] } }));
      expect([a.value.status, b.value.status]).to.deep.equal([200, 200]);
      expect(a.ms).to.be.at.least(5 + OVERHEAD);
      expect(b.ms).to.be.at.least(5 + OVERHEAD);
      expect(Number(ts.engine('m')?.counters().success.ns) / 1e6).to.be.below(OVERHEAD);
    } finally {
      await Promise.all([ts.stop(), tf.stop()]);
    }
  });
});
