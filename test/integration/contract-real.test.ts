// The adapter contract (test/adapters/contract.ts) against REAL servers, installed by
// .ci/install-servers.sh and started by ./servers: TorchServe 0.12.0 with token auth on, the model
// API on and a second archive (another --version) for the batch-size version swap; Triton 2.51.0
// (CPU, python backend) in explicit mode, where replicas change by a config-override load, with
// restricted APIs the adapter must pass; and Triton in mode none. Then what only Triton shows.
// A server that cannot be installed here is skipped with its reason PRINTED (never silently);
// INFERLINE_REQUIRE_REAL_SERVERS=1 turns such a skip into a failure.
import { expect } from 'chai';
import { skipUnlessInstalled, until } from './servers/mocha.js';
import { createTorchServeAdapter } from '../../adapters/torchserve/index.js';
import type { TorchServeAdapterOptions } from '../../adapters/torchserve/index.js';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import type { TritonAdapterOptions } from '../../adapters/triton/index.js';
import { describeAdapterContract, rejection } from '../adapters/contract.js';
import { httpRequest } from './servers/process.js';
import { startTorchServe } from './servers/torchserve.js';
import type { TorchServeHandle } from './servers/torchserve.js';
import { startTriton } from './servers/triton.js';
import type { TritonHandle } from './servers/triton.js';

const MODEL = 'matmul';
const TIMEOUT_MS = 240_000;
const HEADER = { name: 'triton-access-token', value: 's3cret' };
const RESTRICTED = `--http-restricted-api=model-repository,statistics:${HEADER.name}=${HEADER.value}`;
const RESTRICTED_GRPC = `--grpc-restricted-protocol=model-repository:${HEADER.name}=${HEADER.value}`;

describe('contract on real servers', function () {
  this.timeout(TIMEOUT_MS);

  describe('TorchServe 0.12.0', function () {
    before(function () {
      skipUnlessInstalled(this, 'torchserve');
    });

    describeAdapterContract('real TorchServe 0.12.0 (token auth on, model API on, two archives)', async () => {
      const ts = await startTorchServe({ archives: [{ version: '1.0' }, { version: '2.0', fileName: `${MODEL}-v2.mar` }] });
      try {
        // Registered here rather than with load_models, to batch up to 4 with a short delay.
        const r = await httpRequest(
          `${ts.managementUrl}/models?url=${MODEL}.mar&batch_size=4&max_batch_delay=5&initial_workers=1&synchronous=true`,
          { method: 'POST', headers: ts.auth('management'), timeoutMs: 120_000 },
        );
        if (r.status !== 200) throw new Error(`register ${MODEL}.mar: ${r.status} ${r.text}`);
      } catch (err) {
        await ts.stop();
        throw err;
      }
      const options: TorchServeAdapterOptions = { keyFile: ts.keyFile, archives: { [MODEL]: [`${MODEL}.mar`, `${MODEL}-v2.mar`] }, timeoutMs: 30_000 };
      return {
        adapter: createTorchServeAdapter({ ...options, inferenceUrl: ts.inferenceUrl, managementUrl: ts.managementUrl, metricsUrl: ts.metricsUrl }),
        model: MODEL,
        teardown: () => ts.stop(),
        atUrl: (url) => createTorchServeAdapter({ ...options, inferenceUrl: url, managementUrl: url, metricsUrl: url }),
        inspectArgs: ['--server', 'torchserve', '--url', ts.inferenceUrl, '--management-url', ts.managementUrl, '--metrics-url', ts.metricsUrl, '--key-file', ts.keyFile],
        expects: {
          capabilities: { replicas: 'live', batching: 'reload', perBatchStats: false, profiling: true },
          batchChange: { apply: { maxBatchSize: 2, batchDelayMs: 20 } },
          // Scaling back down is a draining swap to the other archive's version.
          scaleDownSwapsVersion: true,
          inferTimeoutMs: 30_000,
          // A removed worker's process takes a moment to exit.
          observeReplicas: (n) => until(`${n} worker processes`, () => ts.workerPids().length === n),
          observeBatching: (s) => batchesAtMost(ts, s.maxBatchSize),
        },
      };
    }, { timeoutMs: TIMEOUT_MS });
  });

  describe('Triton 2.51.0', function () {
    before(function () {
      skipUnlessInstalled(this, 'triton');
    });

    describeAdapterContract('real Triton 2.51.0 (explicit mode, restricted APIs, python backend)', async () => {
      const t = await startTriton({ extraArgs: [RESTRICTED] });
      const options: Omit<TritonAdapterOptions, 'url'> = { restrictedApiHeader: HEADER, timeoutMs: 30_000 };
      return {
        adapter: createTritonAdapter({ ...options, url: t.httpUrl, metricsUrl: t.metricsUrl }),
        model: MODEL,
        teardown: () => t.stop(),
        atUrl: (url) => createTritonAdapter({ ...options, url, metricsUrl: url }),
        inspectArgs: ['--server', 'triton', '--url', t.httpUrl, '--metrics-url', t.metricsUrl, '--header', `${HEADER.name}=${HEADER.value}`],
        expects: {
          capabilities: { replicas: 'live', batching: 'reload', perBatchStats: true, profiling: true },
          // The python backend reports statistics just after it answers.
          countersSettleMs: 10_000,
          inferTimeoutMs: 30_000,
          // The config override changes instance_group[0].count: one python stub per instance.
          observeReplicas: (n) => until(`${n} stub processes of ${MODEL}`, () => t.stubs(MODEL).length === n),
          batchChange: { apply: { maxBatchSize: 4, batchDelayMs: 1 } },
          // A full reload: the new copy's stubs replace the old ones.
          observeBatching: () => until(`one stub process of ${MODEL} after the reload`, () => t.stubs(MODEL).length === 1),
        },
      };
    }, { timeoutMs: TIMEOUT_MS });

    describeAdapterContract('real Triton 2.51.0 (model control mode none)', async () => {
      const t = await startTriton({ controlMode: 'none' });
      return {
        adapter: createTritonAdapter({ url: t.httpUrl, metricsUrl: t.metricsUrl, timeoutMs: 30_000 }),
        model: MODEL,
        teardown: () => t.stop(),
        atUrl: (url) => createTritonAdapter({ url, metricsUrl: url }),
        inspectArgs: ['--server', 'triton', '--url', t.httpUrl, '--metrics-url', t.metricsUrl],
        expects: {
          capabilities: { replicas: 'restart', batching: 'restart' },
          warnings: [/^model control mode is not explicit: explicit model load \/ unload is not allowed if polling is enabled/],
          countersSettleMs: 10_000,
          inferTimeoutMs: 30_000,
        },
      };
    }, { timeoutMs: TIMEOUT_MS });

    describe('what only Triton shows (explicit mode, restricted APIs)', function () {
      let t: TritonHandle | undefined;
      const server = (): TritonHandle => {
        if (t === undefined) throw new Error('Triton not started');
        return t;
      };
      // Loads over gRPC (docs/scale-down.md), restricted there too: the header goes as metadata.
      const grpcUrl = (): string => `127.0.0.1:${server().grpcPort}`;
      const adapter = () => createTritonAdapter({ url: server().httpUrl, metricsUrl: server().metricsUrl, grpcUrl: grpcUrl(), restrictedApiHeader: HEADER, timeoutMs: 30_000 });

      before(async () => {
        t = await startTriton({ extraArgs: [RESTRICTED, RESTRICTED_GRPC] });
      });
      after(async () => {
        await t?.stop();
      });

      it('reads the model as configured (max_batch_size 8, 2 ms delay, one CPU instance), inputs without the batch dimension', async () => {
        expect(await adapter().models()).to.deep.equal([{ model: MODEL, version: '1', ready: true, replicas: 1, device: 'cpu', maxBatchSize: 8, batchDelayMs: 2 }]);
        expect(await adapter().inputs(MODEL)).to.deep.equal([{ name: 'INPUT0', datatype: 'FP32', shape: [4] }]);
        expect((await adapter().capabilities()).warnings).to.deep.equal([]);
      });

      it('an inference of a batch of 4 is counted at batch size 4 in /stats, and in the metrics', async () => {
        const result = await adapter().infer(MODEL, { batchSize: 4, data: 'random', seed: 1, timeoutMs: 30_000 });
        expect(result.batchSize).to.equal(4);
        let counters = (await adapter().counters(MODEL))[0];
        await until('the python backend to report the request', async () => {
          counters = (await adapter().counters(MODEL))[0];
          return counters?.requests === 1n;
        }, 10_000);
        expect(counters).to.include({ model: MODEL, version: '1', requests: 1n, inferences: 4n, executions: 1n });
        expect(counters?.batchSizes?.map((b) => [b.batchSize, b.executions])).to.deep.equal([[4, 1n]]);
        const success = (await adapter().metrics()).filter((s) => s.name === 'nv_inference_request_success' && s.labels['model'] === MODEL);
        expect(success.map((s) => s.value)).to.deep.equal([1]);
      });

      it('a load Triton refuses (KIND_GPU on a machine with no GPU) reports its message, and the model serves as before', async () => {
        const before = await adapter().model(MODEL);
        const err = await rejection(adapter().setReplicas(MODEL, 1, 'gpu'));
        expect(err).to.include({ kind: 'http', status: 400, endpoint: `gRPC inference.GRPCInferenceService/RepositoryModelLoad (${grpcUrl()})` });
        expect(err.message).to.match(/no GPUs are available;? \(the previous config was sent back\)$/);
        expect(await adapter().model(MODEL)).to.deep.equal(before);
        await adapter().infer(MODEL, { batchSize: 1, data: 'zero', timeoutMs: 30_000 });
      });

      it('setBatching is a full reload: the statistics start again from zero, and larger batches are refused', async () => {
        const status = await adapter().setBatching(MODEL, { maxBatchSize: 4, batchDelayMs: 1 });
        expect(status).to.include({ replicas: 1, maxBatchSize: 4, batchDelayMs: 1 });
        expect((await adapter().counters(MODEL))[0]).to.include({ requests: 0n, inferences: 0n });
        expect(await rejection(adapter().infer(MODEL, { batchSize: 5, data: 'zero', timeoutMs: 30_000 }))).to.include({ kind: 'unsupported' });
      });

      it('without the restricted-API header the server refuses: kind auth', async () => {
        const bare = createTritonAdapter({ url: server().httpUrl, metricsUrl: server().metricsUrl });
        const err = await rejection(bare.counters());
        expect(err).to.include({ kind: 'auth', status: 403, endpoint: 'GET /v2/models/stats' });
        expect(err.message).to.match(/expecting header 'triton-access-token'/);
        // A gRPC load without it is refused too, as auth, and nothing changes.
        const before = await adapter().model(MODEL);
        const noKey = createTritonAdapter({ url: server().httpUrl, metricsUrl: server().metricsUrl, grpcUrl: grpcUrl() });
        const refused = await rejection(noKey.setReplicas(MODEL, 2));
        expect(refused).to.include({ kind: 'auth', status: 403 });
        expect(refused.message).to.match(/triton-grpc-protocol-triton-access-token/);
        expect(await adapter().model(MODEL)).to.deep.equal(before);
      });

      it('a load over gRPC changes the instances in place; over HTTP (grpcUrl none) the same, with a warning that says why not', async () => {
        expect((await adapter().setReplicas(MODEL, 2)).replicas).to.equal(2);
        const http = createTritonAdapter({ url: server().httpUrl, metricsUrl: server().metricsUrl, grpcUrl: 'none', restrictedApiHeader: HEADER, timeoutMs: 30_000 });
        expect((await http.setReplicas(MODEL, 1)).replicas).to.equal(1);
        expect((await createTritonAdapter({ url: server().httpUrl, metricsUrl: server().metricsUrl, restrictedApiHeader: HEADER }).capabilities()).warnings)
          .to.have.length(1).and.satisfy((w: string[]) => /^loads go over HTTP/.test(w[0] ?? ''));
      });
    });
  });
});

/** Four concurrent predictions: none may run in a batch larger than `max` (the handler reports its batch). */
async function batchesAtMost(ts: TorchServeHandle, max: number): Promise<void> {
  const answers = await Promise.all(Array.from({ length: 4 }, () => httpRequest(`${ts.inferenceUrl}/predictions/${MODEL}`, {
    method: 'POST', headers: { ...ts.auth('inference'), 'Content-Type': 'application/json' }, body: '{"reps": 1}', timeoutMs: 60_000,
  })));
  for (const a of answers) expect(a.status, a.text).to.equal(200);
  const batches = answers.map((a) => (JSON.parse(a.text) as { batch: number }).batch);
  expect(Math.max(...batches), `batches ${batches.join(', ')}`).to.be.at.most(max);
}
