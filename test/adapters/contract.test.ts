// The adapter contract (contract.ts) against the three emulators, each set up the way a sidecar
// can drive it: Triton in explicit mode (and in mode none, where changes need a restart),
// TorchServe with token auth on, the model API on and two archives for the version swap, and TF
// Serving with monitoring on, a batching parameters file, a restart command and a scale command.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTfServingAdapter } from '../../adapters/tfserving/index.js';
import { createTorchServeAdapter } from '../../adapters/torchserve/index.js';
import type { TorchServeAdapterOptions } from '../../adapters/torchserve/index.js';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import { startTorchServeEmulator, startTritonEmulator } from '../../src/emulator/index.js';
import type { TritonEmulator } from '../../src/emulator/index.js';
import { profile } from '../emulator/helpers.js';
import { describeAdapterContract, rejection } from './contract.js';
import { startSupervisedTfServing } from './emulated-tfserving.js';

/** Fast profiles: a few milliseconds per batch. */
const PROFILES = [profile('m', 'cpu', [[1, 2], [2, 3], [4, 4], [8, 6]]), profile('other', 'cpu', [[1, 2], [8, 5]])];
const MODEL = 'm';

describeAdapterContract('triton emulator (explicit mode)', async () => {
  const e = await startTritonEmulator({ profiles: PROFILES, modelControlMode: 'explicit', maxBatchSize: 8, maxQueueDelayMs: 1 });
  return {
    adapter: createTritonAdapter({ url: e.url, metricsUrl: e.metricsUrl }),
    model: MODEL,
    teardown: () => e.stop(),
    atUrl: (url) => createTritonAdapter({ url, metricsUrl: url }),
    inspectArgs: ['--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl],
    expects: {
      capabilities: { replicas: 'live', batching: 'reload', perBatchStats: true, profiling: true },
      batchChange: { apply: { maxBatchSize: 4, batchDelayMs: 2 } },
      observeReplicas: (n) => {
        expect(engineOf(e).replicas).to.equal(n);
      },
      observeBatching: (s) => {
        expect(engineOf(e).batching).to.include({ maxBatch: s.maxBatchSize, maxQueueDelayMs: s.batchDelayMs });
      },
    },
  };
});

describeAdapterContract('triton emulator (model control mode none)', async () => {
  const e = await startTritonEmulator({ profiles: PROFILES, modelControlMode: 'none', maxBatchSize: 8 });
  return {
    adapter: createTritonAdapter({ url: e.url, metricsUrl: e.metricsUrl }),
    model: MODEL,
    teardown: () => e.stop(),
    atUrl: (url) => createTritonAdapter({ url, metricsUrl: url }),
    inspectArgs: ['--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl],
    expects: {
      capabilities: { replicas: 'restart', batching: 'restart' },
      warnings: [/^model control mode is not explicit: .*restarted with --model-control-mode=explicit/],
      // The defaults for 'restart': both setters must refuse with 'unsupported' and change nothing.
    },
  };
});

describe('triton emulator in model control mode none: what the sidecar is told', function () {
  let e: TritonEmulator | undefined;
  before(async () => {
    e = await startTritonEmulator({ profiles: PROFILES, modelControlMode: 'none', maxBatchSize: 8 });
  });
  after(async () => {
    await e?.stop();
  });

  it("capabilities() says 'restart' with the warning, and setReplicas is refused as 'unsupported' with the reason", async () => {
    const adapter = createTritonAdapter({ url: (e as TritonEmulator).url, metricsUrl: (e as TritonEmulator).metricsUrl });
    const caps = await adapter.capabilities();
    expect(caps).to.deep.include({ replicas: 'restart', batching: 'restart', perBatchStats: true, profiling: true });
    expect(caps.warnings).to.deep.equal([
      'model control mode is not explicit: explicit model load / unload is not allowed if polling is enabled; '
      + 'changes need tritonserver restarted with --model-control-mode=explicit',
    ]);
    const err = await rejection(adapter.setReplicas(MODEL, 2));
    expect(err).to.include({ server: 'triton', kind: 'unsupported', status: 503, endpoint: `POST /v2/repository/models/${MODEL}/load` });
    expect(err.message).to.equal(
      `triton POST /v2/repository/models/${MODEL}/load → 503: model control mode is not explicit: `
      + 'explicit model load / unload is not allowed if polling is enabled (start tritonserver with --model-control-mode=explicit)',
    );
    expect((await adapter.model(MODEL)).replicas).to.equal(1);
    expect(engineOf(e as TritonEmulator).replicas).to.equal(1);
  });
});

describeAdapterContract('torchserve emulator (token auth on, model API on, two archives)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-contract-ts-'));
  const e = await startTorchServeEmulator({
    profiles: PROFILES, tokenAuth: true, keyFile: join(dir, 'key_file.json'), enableModelApi: true, metricsMode: 'prometheus',
    batchSize: 4, maxBatchDelayMs: 1,
  });
  // The emulator reads an archive's version from its name: m.mar is 1.0, m_v2.mar is 2.0.
  const options: TorchServeAdapterOptions = { keyFile: e.keyFile, archives: { [MODEL]: [`${MODEL}.mar`, `${MODEL}_v2.mar`] } };
  return {
    adapter: createTorchServeAdapter({ ...options, inferenceUrl: e.inferenceUrl, managementUrl: e.managementUrl, metricsUrl: e.metricsUrl }),
    model: MODEL,
    teardown: async () => {
      await e.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    atUrl: (url) => createTorchServeAdapter({ ...options, inferenceUrl: url, managementUrl: url, metricsUrl: url }),
    inspectArgs: [
      '--server', 'torchserve', '--url', e.inferenceUrl, '--management-url', e.managementUrl, '--metrics-url', e.metricsUrl, '--key-file', e.keyFile as string,
    ],
    expects: {
      capabilities: { replicas: 'live', batching: 'reload', perBatchStats: false, profiling: true },
      batchChange: { apply: { maxBatchSize: 2, batchDelayMs: 3 } },
      // Scaling back down is a draining swap to the other archive's version.
      scaleDownSwapsVersion: true,
      observeReplicas: (n) => {
        expect(e.engine(MODEL)?.replicas).to.equal(n);
      },
      observeBatching: (s) => {
        expect(e.engine(MODEL)?.batching).to.include({ maxBatch: s.maxBatchSize, maxQueueDelayMs: s.batchDelayMs });
      },
    },
  };
});

describeAdapterContract('tfserving emulator (monitoring on, batching file + restart command, scale command)', async () => {
  const tfs = await startSupervisedTfServing(PROFILES, { maxBatchSize: 8, batchTimeoutMicros: 1000 });
  const options = {
    models: [MODEL, 'other'], batchingParametersFile: tfs.batchingFile, restartCommand: tfs.restartCommand, scaleCommand: tfs.scaleCommand,
    commandTimeoutMs: 10_000, readyTimeoutMs: 10_000,
  };
  return {
    adapter: createTfServingAdapter({ url: tfs.url, ...options }),
    model: MODEL,
    teardown: () => tfs.stop(),
    atUrl: (url) => createTfServingAdapter({ url, ...options }),
    inspectArgs: { skip: "inspect has no flags for TF Serving's batching file and commands, so it sees other batching and capabilities" },
    expects: {
      capabilities: { replicas: 'orchestrator', batching: 'restart', perBatchStats: false, profiling: true },
      // TF Serving's batching is server-wide and changes by restart; the setup can do that.
      batchChange: { apply: { maxBatchSize: 4, batchDelayMs: 2 } },
      observeReplicas: (n) => {
        expect(tfs.current().engine(MODEL)?.replicas).to.equal(n);
        expect(tfs.commands.at(-1)).to.equal(`scale ${MODEL} ${n}`);
      },
      observeBatching: (s) => {
        expect(tfs.current().engine(MODEL)?.batching).to.include({ maxBatch: s.maxBatchSize, maxQueueDelayMs: s.batchDelayMs });
        expect(tfs.commands.at(-1)).to.equal('restart');
      },
    },
  };
});

function engineOf(e: TritonEmulator): NonNullable<ReturnType<TritonEmulator['engine']>> {
  const engine = e.engine(MODEL);
  if (!engine) throw new Error(`no engine serves ${MODEL}`);
  return engine;
}
