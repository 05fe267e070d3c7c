// Part of the adapter contract: a body that breaks the wire contract (truncated JSON, an HTML page
// where JSON or Prometheus text should be, a negative counter, an integer past 2^53 where a number
// is expected) is rejected with an AdapterError of kind 'malformed', and the adapter changes
// nothing because of it: a change that starts by reading what it cannot parse sends no mutating
// request. Each adapter talks to its emulator through a proxy that corrupts chosen answers and
// records every request (corrupting-proxy.ts).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTfServingAdapter } from '../../adapters/tfserving/index.js';
import { createTorchServeAdapter } from '../../adapters/torchserve/index.js';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import type { ModelStatus, ServerAdapter } from '../../src/ports/server-adapter.js';
import { startTorchServeEmulator, startTritonEmulator } from '../../src/emulator/index.js';
import type { TorchServeEmulator, TritonEmulator } from '../../src/emulator/index.js';
import { profile } from '../emulator/helpers.js';
import { rejection } from './contract.js';
import { ABOVE_2_53, CorruptingProxy, htmlPage, replacing, truncated } from './corrupting-proxy.js';
import type { ProxiedAnswer, ProxiedRequest } from './corrupting-proxy.js';
import { startSupervisedTfServing } from './emulated-tfserving.js';
import type { SupervisedTfServing } from './emulated-tfserving.js';

const PROFILES = [profile('m', 'cpu', [[1, 2], [2, 3], [4, 4], [8, 6]])];
const MODEL = 'm';

interface MalformedCase<A> {
  readonly name: string;
  /** Which request gets the corrupted answer. */
  readonly route: (r: ProxiedRequest) => boolean;
  readonly rewrite: (a: ProxiedAnswer) => ProxiedAnswer;
  /** A read that must fail with 'malformed'. */
  readonly read: (a: A) => Promise<unknown>;
  /** Calls that would change the server if they got past the read: each must fail with 'malformed' too. */
  readonly changes?: readonly ((a: A) => Promise<unknown>)[];
}

const route = (method: string, path: string | RegExp) => (r: ProxiedRequest): boolean =>
  r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path));

/** Runs the cases against one adapter behind proxies; `mutating` tells a request that changes the server. */
function describeMalformed<A extends ServerAdapter>(
  name: string,
  cases: readonly MalformedCase<A>[],
  harness: () => { adapter: A; proxies: readonly CorruptingProxy[]; mutating: (r: ProxiedRequest) => boolean; state: () => unknown },
): void {
  describe(`malformed bodies: ${name}`, function () {
    let initial: { status: ModelStatus; state: unknown } | undefined;

    before(async () => {
      const { adapter, state } = harness();
      initial = { status: await adapter.model(MODEL), state: state() };
    });

    for (const c of cases) {
      it(`${c.name}: kind 'malformed', and no mutating request afterwards`, async () => {
        const { adapter, proxies, mutating } = harness();
        for (const p of proxies) p.reset();
        for (const p of proxies) p.corrupt(c.route, c.rewrite);
        const err = await rejection(c.read(adapter));
        expect(err, err.message).to.include({ server: adapter.kind, kind: 'malformed' });
        expect(err.message).to.match(new RegExp(`^${adapter.kind} `));
        for (const change of c.changes ?? []) {
          const e = await rejection(change(adapter));
          expect(e, e.message).to.include({ server: adapter.kind, kind: 'malformed' });
        }
        const seen = proxies.flatMap((p) => p.requests);
        expect(seen.some(c.route), 'the corrupted request was made').to.equal(true);
        expect(seen.filter(mutating).map((r) => `${r.method} ${r.path}`), 'mutating requests').to.deep.equal([]);
        for (const p of proxies) p.reset();
      });
    }

    after('nothing changed on the server', async () => {
      const { adapter, state } = harness();
      expect(await adapter.model(MODEL)).to.deep.equal(initial?.status);
      expect(state()).to.deep.equal(initial?.state);
    });
  });
}

// ---- Triton ------------------------------------------------------------------------------------

describe('adapter contract: malformed bodies', function () {
  this.timeout(30_000);

  describe('triton', function () {
    let e: TritonEmulator | undefined;
    let api: CorruptingProxy | undefined;
    let metrics: CorruptingProxy | undefined;
    const harness = () => ({
      adapter: createTritonAdapter({ url: (api as CorruptingProxy).url, metricsUrl: (metrics as CorruptingProxy).url, retries: 0 }),
      proxies: [api as CorruptingProxy, metrics as CorruptingProxy],
      mutating: (r: ProxiedRequest) => r.method === 'POST' && /^\/v2\/repository\/models\/[^/]+\/(load|unload)$/.test(r.path),
      state: () => {
        const engine = (e as TritonEmulator).engine(MODEL);
        return { replicas: engine?.replicas, batching: engine?.batching };
      },
    });

    before(async () => {
      e = await startTritonEmulator({ profiles: PROFILES, modelControlMode: 'explicit', maxBatchSize: 8, maxQueueDelayMs: 1 });
      api = await CorruptingProxy.start(e.url);
      metrics = await CorruptingProxy.start(e.metricsUrl.replace(/\/metrics$/, ''));
      await harness().adapter.infer(MODEL, { batchSize: 2, data: 'zero', timeoutMs: 5000 });
    });
    after(async () => {
      await api?.stop();
      await metrics?.stop();
      await e?.stop();
    });

    describeMalformed('triton emulator', [
      {
        name: 'truncated JSON (the model config): setReplicas does not load a config it could not read',
        route: route('GET', `/v2/models/${MODEL}/config`), rewrite: truncated,
        read: (a) => a.model(MODEL),
        changes: [(a) => a.setReplicas(MODEL, 2), (a) => a.setBatching(MODEL, { maxBatchSize: 4, batchDelayMs: 1 })],
      },
      {
        name: 'an HTML page (the repository index): capabilities() sends no probe',
        route: route('POST', '/v2/repository/index'), rewrite: htmlPage,
        read: (a) => a.models(),
        changes: [(a) => a.capabilities()],
      },
      {
        name: 'a negative counter (statistics)',
        route: route('GET', `/v2/models/${MODEL}/stats`), rewrite: replacing(/"inference_count":\s*\d+/, '"inference_count":-3'),
        read: (a) => a.counters(MODEL),
      },
      {
        name: 'an integer above 2^53 (max_batch_size): setBatching does not load a config it could not read',
        route: route('GET', `/v2/models/${MODEL}/config`), rewrite: replacing(/"max_batch_size":\s*\d+/, `"max_batch_size":${ABOVE_2_53}`),
        read: (a) => a.model(MODEL),
        changes: [(a) => a.setBatching(MODEL, { maxBatchSize: 4, batchDelayMs: 1 }), (a) => a.setReplicas(MODEL, 2)],
      },
      {
        name: 'an HTML page (the metrics port)',
        route: route('GET', '/metrics'), rewrite: htmlPage,
        read: (a) => a.metrics(),
      },
    ], harness);

    it('counters past 2^53 are not malformed: Triton sums nanoseconds in uint64, read exactly as bigint', async () => {
      const { adapter, proxies } = harness();
      proxies[0]?.corrupt(route('GET', `/v2/models/${MODEL}/stats`), replacing(/"queue":\s*\{\s*"count":\s*(\d+),\s*"ns":\s*\d+/, `"queue":{"count":$1,"ns":${ABOVE_2_53}`));
      try {
        const [c] = await adapter.counters(MODEL);
        expect(c?.queueNs).to.equal(BigInt(ABOVE_2_53));
      } finally {
        for (const p of proxies) p.reset();
      }
    });
  });

  // ---- TorchServe --------------------------------------------------------------------------------

  describe('torchserve', function () {
    let dir = '';
    let e: TorchServeEmulator | undefined;
    let management: CorruptingProxy | undefined;
    let metrics: CorruptingProxy | undefined;
    const harness = () => ({
      adapter: createTorchServeAdapter({
        inferenceUrl: (e as TorchServeEmulator).inferenceUrl, managementUrl: (management as CorruptingProxy).url,
        metricsUrl: (metrics as CorruptingProxy).url, keyFile: (e as TorchServeEmulator).keyFile, retries: 0,
        archives: { [MODEL]: [`${MODEL}.mar`, `${MODEL}_v2.mar`] },
      }),
      proxies: [management as CorruptingProxy, metrics as CorruptingProxy],
      mutating: (r: ProxiedRequest) => ['POST', 'PUT', 'DELETE'].includes(r.method),
      state: () => {
        const engine = (e as TorchServeEmulator).engine(MODEL);
        return { replicas: engine?.replicas, batching: engine?.batching };
      },
    });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'inferline-malformed-ts-'));
      e = await startTorchServeEmulator({
        profiles: PROFILES, tokenAuth: true, keyFile: join(dir, 'key_file.json'), enableModelApi: true, metricsMode: 'prometheus', batchSize: 4, maxBatchDelayMs: 1,
      });
      management = await CorruptingProxy.start(e.managementUrl);
      metrics = await CorruptingProxy.start(e.metricsUrl.replace(/\/metrics$/, ''));
      await harness().adapter.infer(MODEL, { batchSize: 2, data: 'zero', timeoutMs: 5000 });
    });
    after(async () => {
      await management?.stop();
      await metrics?.stop();
      await e?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    describeMalformed('torchserve emulator', [
      {
        name: 'truncated JSON (describe): neither the version swap nor a device-checked scale goes ahead',
        route: route('GET', `/models/${MODEL}`), rewrite: truncated,
        read: (a) => a.model(MODEL),
        changes: [(a) => a.setBatching(MODEL, { maxBatchSize: 2, batchDelayMs: 3 }), (a) => a.setReplicas(MODEL, 2, 'cpu')],
      },
      {
        name: 'an HTML page (the model list)',
        route: route('GET', /^\/models\?/), rewrite: htmlPage,
        read: (a) => a.models(),
      },
      {
        name: 'a negative counter (ts_inference_requests_total)',
        route: route('GET', '/metrics'), rewrite: replacing(/^(ts_inference_requests_total\{[^\n]*\}) [\d.]+$/m, '$1 -3.0'),
        read: (a) => a.counters(MODEL),
      },
      {
        name: 'an integer above 2^53 (describe batchSize): the version swap does not start',
        route: route('GET', `/models/${MODEL}`), rewrite: replacing(/"batchSize":\s*\d+/, `"batchSize": ${ABOVE_2_53}`),
        read: (a) => a.model(MODEL),
        changes: [(a) => a.setBatching(MODEL, { maxBatchSize: 2, batchDelayMs: 3 })],
      },
      {
        name: 'an HTML page (the metrics port)',
        route: route('GET', '/metrics'), rewrite: htmlPage,
        read: (a) => a.metrics(),
      },
    ], harness);
  });

  // ---- TF Serving --------------------------------------------------------------------------------

  describe('tfserving', function () {
    let tfs: SupervisedTfServing | undefined;
    let rest: CorruptingProxy | undefined;
    const harness = () => ({
      adapter: createTfServingAdapter({
        url: (rest as CorruptingProxy).url, models: [MODEL], retries: 0, batchingParametersFile: (tfs as SupervisedTfServing).batchingFile,
        restartCommand: (tfs as SupervisedTfServing).restartCommand, scaleCommand: (tfs as SupervisedTfServing).scaleCommand,
        commandTimeoutMs: 10_000, readyTimeoutMs: 10_000,
      }),
      proxies: [rest as CorruptingProxy],
      // A predict is sent only after the signature was read; the restart and scale commands are counted by the harness.
      mutating: (r: ProxiedRequest) => r.method === 'POST',
      state: () => ({ commands: [...(tfs as SupervisedTfServing).commands], batching: (tfs as SupervisedTfServing).current().engine(MODEL)?.batching }),
    });

    before(async () => {
      tfs = await startSupervisedTfServing(PROFILES, { maxBatchSize: 8, batchTimeoutMicros: 1000 });
      rest = await CorruptingProxy.start(tfs.url);
      await harness().adapter.infer(MODEL, { batchSize: 2, data: 'zero', timeoutMs: 5000 });
    });
    after(async () => {
      await rest?.stop();
      await tfs?.stop();
    });

    describeMalformed('tfserving emulator', [
      {
        name: 'truncated JSON (model status)',
        route: route('GET', `/v1/models/${MODEL}`), rewrite: truncated,
        read: (a) => a.model(MODEL),
      },
      {
        name: 'an HTML page (metadata): infer() sends no prediction',
        route: route('GET', `/v1/models/${MODEL}/metadata`), rewrite: htmlPage,
        read: (a) => a.inputs(MODEL),
        changes: [(a) => a.infer(MODEL, { batchSize: 1, data: 'zero', timeoutMs: 5000 })],
      },
      {
        name: 'a negative counter (request_count)',
        route: route('GET', '/monitoring/prometheus/metrics'), rewrite: replacing(/^(:tensorflow:serving:request_count\{[^\n]*\}) \d+$/m, '$1 -1'),
        read: (a) => a.counters(MODEL),
      },
      {
        name: 'an integer above 2^53 (request_latency_count)',
        route: route('GET', '/monitoring/prometheus/metrics'), rewrite: replacing(/^(:tensorflow:serving:request_latency_count\{[^\n]*\}) \d+$/m, `$1 ${ABOVE_2_53}`),
        read: (a) => a.counters(MODEL),
      },
    ], harness);

    it('a batching parameters file it cannot parse: setBatching neither rewrites it nor runs the restart command', async () => {
      const file = (tfs as SupervisedTfServing).batchingFile;
      const good = readFileSync(file, 'utf8');
      const broken = good.slice(0, good.indexOf('{') + 3); // cut inside the first message
      writeFileSync(file, broken);
      try {
        const before = [...(tfs as SupervisedTfServing).commands];
        const err = await rejection(harness().adapter.setBatching(MODEL, { maxBatchSize: 4, batchDelayMs: 2 }));
        expect(err).to.include({ server: 'tfserving', kind: 'malformed', endpoint: `file ${file}` });
        expect(readFileSync(file, 'utf8')).to.equal(broken);
        expect((tfs as SupervisedTfServing).commands).to.deep.equal(before);
      } finally {
        writeFileSync(file, good);
      }
    });
  });
});
