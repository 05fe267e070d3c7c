// Every adapter records its HTTP exchanges through the Telemetry port it is given: one record per
// exchange with the server kind, the endpoint template (no model names in the label) and the status.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdapter } from '../../adapters/registry.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { startTfServingEmulator, startTorchServeEmulator, startTritonEmulator } from '../../src/emulator/index.js';
import { FakeTelemetry } from '../helpers/fake-telemetry.js';

const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 4, latencyMs: 4 }] }], () => 'p');

describe('adapters: telemetry of their HTTP exchanges', function () {
  this.timeout(20_000);

  it('triton, torchserve and tfserving each record requests with endpoint templates; an unreachable server is an error record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferline-adapter-telemetry-'));
    const triton = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    const torchserve = await startTorchServeEmulator({ profiles, tokenAuth: true, keyFile: join(dir, 'key_file.json'), metricsMode: 'prometheus' });
    const tfserving = await startTfServingEmulator({ profiles, port: 0, monitoring: true });
    try {
      const cases = [
        { kind: 'triton' as const, options: { kind: 'triton' as const, url: triton.url, metricsUrl: triton.metricsUrl }, endpoint: 'GET /v2/models/{model}/config' },
        {
          kind: 'torchserve' as const,
          options: { kind: 'torchserve' as const, inferenceUrl: torchserve.inferenceUrl, managementUrl: torchserve.managementUrl, metricsUrl: torchserve.metricsUrl, keyFile: torchserve.keyFile as string },
          endpoint: 'GET /metrics',
        },
        { kind: 'tfserving' as const, options: { kind: 'tfserving' as const, url: tfserving.url, models: ['m'] }, endpoint: undefined },
      ];
      for (const c of cases) {
        const telemetry = new FakeTelemetry();
        const adapter = createAdapter({ ...c.options, telemetry });
        await adapter.models();
        await adapter.counters();
        const mine = telemetry.adapterRequests.filter((r) => r.server === c.kind);
        expect(mine.length, c.kind).to.be.above(1);
        expect(mine.every((r) => r.status !== undefined && r.status < 500 && r.durationMs >= 0), c.kind).to.equal(true);
        expect(mine.some((r) => r.endpoint.includes('/m/') || r.endpoint.endsWith('/m')), `${c.kind}: a model name in ${mine.map((r) => r.endpoint).join(', ')}`).to.equal(false);
        if (c.endpoint) expect(mine.map((r) => r.endpoint), c.kind).to.include(c.endpoint);
      }
      const telemetry = new FakeTelemetry();
      const down = createAdapter({ kind: 'triton', url: 'http://127.0.0.1:1', retries: 0, telemetry });
      await down.health().catch(() => undefined);
      expect(telemetry.adapterErrors.map((e) => [e.server, e.errorType])).to.deep.include(['triton', 'unreachable']);
    } finally {
      await triton.stop();
      await torchserve.stop();
      await tfserving.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
