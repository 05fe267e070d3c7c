import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import type { Clock } from '../../../src/ports/clock.js';
import { createTorchServeAdapter } from '../../../adapters/torchserve/index.js';
import type { TorchServeAdapterOptions } from '../../../adapters/torchserve/index.js';
import { FakeTorchServe } from './fake-torchserve.js';
import type { SeenRequest } from './fake-torchserve.js';

// Retries back off on the clock: this one never waits, so no test sleeps for real.
const instantClock: Clock = { nowMs: () => performance.now(), sleep: async () => undefined };

const F10 = [
  '# HELP ts_inference_requests_total Torchserve prometheus counter metric with unit: Count',
  '# TYPE ts_inference_requests_total counter',
  'ts_inference_requests_total{model_name="m",model_version="default",hostname="h",} 3.0',
  'ts_queue_latency_microseconds{model_name="m",model_version="default",hostname="h",} 365.21',
  'ts_inference_latency_microseconds{model_name="m",model_version="default",hostname="h",} 290371.129',
  '',
].join('\n');

async function expectAdapterError(p: Promise<unknown>, want: Partial<Pick<AdapterError, 'kind' | 'endpoint' | 'status'>>, match?: RegExp): Promise<AdapterError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AdapterError);
    const e = err as AdapterError;
    expect({ kind: e.kind, endpoint: e.endpoint, status: e.status }).to.include(want);
    expect(e.server).to.equal('torchserve');
    if (match) expect(e.message).to.match(match);
    return e;
  }
  throw new Error('expected an AdapterError');
}

describe('adapters/torchserve against a fake server', () => {
  let ts: FakeTorchServe;
  let dir: string;

  beforeEach(async () => {
    ts = new FakeTorchServe();
    await ts.start();
    dir = await mkdtemp(join(tmpdir(), 'inferline-ts-'));
    ts.keyFile = join(dir, 'key_file.json');
    await ts.writeKeyFile();
    ts.addModel('m', '1.0', { url: 'm-a.mar', batchSize: 1, maxBatchDelay: 100, workers: 2 });
    ts.archives.set('m-b.mar', '2.0');
    ts.metricsText = F10;
  });

  afterEach(async () => {
    await ts.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const adapter = (over: Partial<TorchServeAdapterOptions> = {}): ReturnType<typeof createTorchServeAdapter> => createTorchServeAdapter({
    inferenceUrl: ts.urls.inference, managementUrl: ts.urls.management, metricsUrl: ts.urls.metrics,
    timeoutMs: 2000, retries: 2, clock: instantClock, keyFile: ts.keyFile, archives: { m: ['m-a.mar', 'm-b.mar'] }, ...over,
  });

  describe('token auth (B.2)', () => {
    it('sends each API its own bearer key, and none to the metrics API', async () => {
      const a = adapter();
      expect(await a.health()).to.deep.equal({ live: true, ready: true });
      await a.models();
      await a.counters();
      const auth = (api: SeenRequest['api']): (string | undefined)[] => [...new Set(ts.seen.filter((r) => r.api === api).map((r) => r.auth))];
      expect(auth('inference')).to.deep.equal(['Bearer inf-1']);
      expect(auth('management')).to.deep.equal(['Bearer mgmt-1']);
      expect(auth('metrics')).to.deep.equal([undefined]);
    });

    it('uses keys given as options before the key file', async () => {
      ts.keys = { management: 'direct-m', inference: 'direct-i', api: 'api-1' };
      await adapter({ keyFile: undefined, managementKey: 'direct-m', inferenceKey: 'direct-i' }).model('m');
      expect(ts.seen.map((r) => r.auth)).to.deep.equal(['Bearer direct-m']);
    });

    it('on a 400 InvalidKeyException re-reads the key file once and retries once', async () => {
      const a = adapter();
      await a.model('m');
      ts.keys = { ...ts.keys, management: 'mgmt-2' }; // rotated: the server and the file agree on a new key
      await ts.writeKeyFile();
      expect((await a.model('m')).replicas).to.equal(2);
      expect(ts.seen.slice(1).map((r) => r.auth)).to.deep.equal(['Bearer mgmt-1', 'Bearer mgmt-2']);
    });

    it('when the file still holds the refused (expired) key, renews it with the API key (GET /token) and retries', async () => {
      const a = adapter();
      await a.health();
      ts.keys = { ...ts.keys, inference: 'inf-expired-on-server' }; // the file still says inf-1
      expect((await a.health()).ready).to.equal(true);
      expect(ts.calls().slice(1)).to.deep.equal(['GET /ping', 'GET /token?type=inference', 'GET /ping']);
      expect(ts.seen.find((r) => r.path === '/token')?.auth).to.equal('Bearer api-1');
      expect(JSON.parse(await readFile(ts.keyFile as string, 'utf8')).inference.key).to.equal('inf-renewed');
    });

    it('a refused key with nothing better to try is an auth error saying where keys come from', async () => {
      const e = await expectAdapterError(
        adapter({ keyFile: undefined, managementKey: 'wrong' }).model('m'),
        { kind: 'auth', status: 400, endpoint: 'GET /models/m' },
        /refused the management key.*key_file\.json.*disable_token_authorization=true/,
      );
      expect(e.message).to.match(/no key file is configured/);
      expect(ts.seen).to.have.length(1); // no blind retry with the same key
    });

    it('a missing key file is not fatal (token auth may be off), and is named when a key is refused', async () => {
      ts.tokenAuth = false;
      await rm(ts.keyFile as string);
      expect((await adapter().model('m')).model).to.equal('m');
      expect(ts.seen[0]?.auth).to.equal(undefined);
      ts.tokenAuth = true;
      await expectAdapterError(adapter().model('m'), { kind: 'auth' }, /cannot read .*key_file\.json \(ENOENT\)/);
    });

    it('a 400 that is not about the key stays an http error', async () => {
      ts.inject = (r) => (r.method === 'PUT' ? { status: 400, body: '{"code": 400, "type": "BadRequestException", "message": "max_worker cannot be less than min_worker."}' } : undefined);
      await expectAdapterError(adapter({ scaleDown: 'interrupt' }).setReplicas('m', 3), { kind: 'http', status: 400, endpoint: 'PUT /models/m' }, /max_worker cannot be less than min_worker/);
      // Only the describe that tells a scale-up from a scale-down.
      expect(ts.calls({ method: 'GET' })).to.deep.equal(['GET /models/m']);
    });
  });

  describe('replicas (B.4)', () => {
    it('grows with min_worker = max_worker = N without waiting for the workers to load (synchronous=false), then returns the re-described status', async () => {
      const status = await adapter({ scaleDown: 'interrupt' }).setReplicas('m', 3);
      expect(ts.calls()).to.deep.equal(['GET /models/m', 'PUT /models/m?min_worker=3&max_worker=3&synchronous=false', 'GET /models/m']);
      expect(status).to.deep.equal({ model: 'm', version: '1.0', ready: true, replicas: 3, device: 'cpu', maxBatchSize: 1, batchDelayMs: 100 });
    });

    it('waits for the new workers with waitForWorkers (synchronous=true)', async () => {
      await adapter({ waitForWorkers: true }).setReplicas('m', 3);
      expect(ts.calls({ method: 'PUT' })).to.deep.equal(['PUT /models/m?min_worker=3&max_worker=3&synchronous=true']);
    });

    it('shrinks with the scale API (interrupt) waiting for the change, and asks nothing to change for the same count', async () => {
      await adapter({ scaleDown: 'interrupt' }).setReplicas('m', 1);
      await adapter({ scaleDown: 'interrupt' }).setReplicas('m', 1);
      expect(ts.calls({ method: 'PUT' })).to.deep.equal(['PUT /models/m?min_worker=1&max_worker=1&synchronous=true', 'PUT /models/m?min_worker=1&max_worker=1&synchronous=true']);
    });

    it('draining (the default), grows with the scale API: no swap', async () => {
      const status = await adapter().setReplicas('m', 3);
      expect(ts.calls({ api: 'management' }).filter((c) => !c.startsWith('GET'))).to.deep.equal(['PUT /models/m?min_worker=3&max_worker=3&synchronous=false']);
      expect(status).to.include({ version: '1.0', replicas: 3 });
    });

    it('draining, shrinks by a swap: a version with fewer workers becomes the default; the old one goes once its queue is empty and its last batches had their time', async () => {
      // The old version's queue, as successive describes of it read it.
      const pending = [3, 1, 0];
      ts.inject = (r) => {
        if (r.method !== 'GET' || r.path !== '/models/m/1.0' || pending.length === 0) return undefined;
        const p = pending.shift() as number;
        return { status: 200, body: JSON.stringify([{
          modelName: 'm', modelVersion: '1.0', modelUrl: 'm-a.mar', runtime: 'python', minWorkers: 2, maxWorkers: 2, batchSize: 1, maxBatchDelay: 100,
          responseTimeout: 120, startupTimeout: 120, deviceType: 'cpu', workers: [], jobQueueStatus: { remainingCapacity: 100 - p, pendingRequests: p },
        }]) };
      };
      const events: string[] = [];
      const clock: Clock = {
        nowMs: () => 0,
        sleep: async (ms) => { events.push(`sleep ${ms}`); },
      };
      const status = await adapter({ clock, drainGraceMs: 700 }).setReplicas('m', 1);
      const changes = ts.calls({ api: 'management' }).filter((c) => !c.startsWith('GET /models/m?') && c !== 'GET /models/m' && c !== 'GET /models/m/all');
      expect(changes).to.deep.equal([
        'POST /models?url=m-b.mar&model_name=m&batch_size=1&max_batch_delay=100&initial_workers=1&synchronous=true&response_timeout=120&startup_timeout=120',
        'PUT /models/m/2.0/set-default',
        'GET /models/m/1.0', 'GET /models/m/1.0', 'GET /models/m/1.0',
        'DELETE /models/m/1.0',
      ]);
      // Polled while requests were queued, then max_batch_delay (100) + the grace (700) before the unregister.
      expect(events.filter((e) => e !== 'sleep 0')).to.deep.equal(['sleep 50', 'sleep 50', 'sleep 800']);
      expect(status).to.include({ version: '2.0', replicas: 1 });
    });

    it('draining, a model with no alternate archive shrinks with the scale API', async () => {
      await adapter({ archives: {} }).setReplicas('m', 1);
      expect(ts.calls({ method: 'POST' })).to.deep.equal([]);
      expect(ts.calls({ method: 'PUT' })).to.deep.equal(['PUT /models/m?min_worker=1&max_worker=1&synchronous=true']);
    });

    it('refuses a device it cannot choose, before changing anything', async () => {
      await expectAdapterError(adapter().setReplicas('m', 3, 'gpu'), { kind: 'unsupported' }, /cannot choose the device/);
      expect(ts.calls({ method: 'PUT' })).to.deep.equal([]);
    });

    it('rejects a negative count without a request', async () => {
      let thrown: unknown;
      await adapter().setReplicas('m', -1).catch((e: unknown) => { thrown = e; });
      expect(thrown).to.be.instanceOf(RangeError);
      expect(ts.seen).to.have.length(0);
    });
  });

  describe('batching by version swap (B.6)', () => {
    it('registers the other archive with the new settings and current workers, makes it default, removes the old', async () => {
      const status = await adapter().setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 });
      expect(ts.calls({ api: 'management' }).filter((c) => !c.startsWith('GET'))).to.deep.equal([
        'POST /models?url=m-b.mar&model_name=m&batch_size=8&max_batch_delay=5&initial_workers=2&synchronous=true&response_timeout=120&startup_timeout=120',
        'PUT /models/m/2.0/set-default',
        'DELETE /models/m/1.0',
      ]);
      expect(status).to.include({ version: '2.0', maxBatchSize: 8, batchDelayMs: 5, replicas: 2 });
      expect([...(ts.models.get('m')?.versions.keys() ?? [])]).to.deep.equal(['2.0']);
    });

    it('swaps back to the first archive next time (blue/green)', async () => {
      const a = adapter();
      await a.setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 });
      expect(await a.setBatching('m', { maxBatchSize: 4, batchDelayMs: 10 })).to.include({ version: '1.0', maxBatchSize: 4 });
    });

    it('does nothing when the settings already hold', async () => {
      await adapter().setBatching('m', { maxBatchSize: 1, batchDelayMs: 100 });
      expect(ts.calls()).to.deep.equal(['GET /models/m', 'GET /models/m']);
    });

    it('rolls back when set-default fails: the new version is unregistered, the old default kept', async () => {
      ts.inject = (r) => (r.path.endsWith('/2.0/set-default') ? { status: 500, body: '{"code": 500, "type": "InternalServerException", "message": "boom"}' } : undefined);
      await expectAdapterError(adapter().setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 }), { kind: 'http', status: 500, endpoint: 'PUT /models/m/2.0/set-default' }, /boom; rolled back: version 2\.0 unregistered/);
      expect(ts.calls({ method: 'DELETE' })).to.deep.equal(['DELETE /models/m/2.0']);
      expect(ts.calls({ method: 'PUT' })).to.deep.equal(['PUT /models/m/2.0/set-default', 'PUT /models/m/1.0/set-default']);
      const m = ts.models.get('m');
      expect(m?.defaultVersion).to.equal('1.0');
      expect([...(m?.versions.keys() ?? [])]).to.deep.equal(['1.0']);
    });

    it('rolls back when removing the old version fails: default restored first, then the new one removed', async () => {
      ts.inject = (r) => (r.method === 'DELETE' && r.path === '/models/m/1.0' ? { status: 500, body: '{"code": 500, "type": "InternalServerException", "message": "timed out"}' } : undefined);
      await expectAdapterError(adapter().setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 }), { kind: 'http', status: 500 }, /rolled back/);
      expect(ts.calls().filter((c) => !c.startsWith('GET')).slice(-2)).to.deep.equal(['PUT /models/m/1.0/set-default', 'DELETE /models/m/2.0']);
      expect(ts.models.get('m')?.defaultVersion).to.equal('1.0');
      expect([...(ts.models.get('m')?.versions.keys() ?? [])]).to.deep.equal(['1.0']);
    });

    it('without enable_model_api: 405 becomes unsupported, nothing is changed', async () => {
      ts.modelApi = false;
      await expectAdapterError(adapter().setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 }), { kind: 'unsupported', status: 405, endpoint: 'POST /models' }, /enable_model_api=true/);
      expect(ts.models.get('m')?.versions.get('1.0')).to.include({ batchSize: 1, maxBatchDelay: 100 });
    });

    it('re-registering the archive already served (no archives listed) is a 409: unsupported, saying to build a new --version', async () => {
      await expectAdapterError(adapter({ archives: {} }).setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 }), { kind: 'unsupported', status: 409 }, /already registered.*--version/);
      expect(ts.calls({ method: 'DELETE' })).to.deep.equal([]);
    });

    it('a malformed describe stops the swap before anything is registered', async () => {
      ts.inject = (r) => (r.method === 'GET' && r.path === '/models/m' ? { status: 200, body: '[{"modelName": "m", "batchSize": "eight"' } : undefined);
      await expectAdapterError(adapter().setBatching('m', { maxBatchSize: 8, batchDelayMs: 5 }), { kind: 'malformed', endpoint: 'GET /models/m', status: 200 });
      expect(ts.calls({ method: 'POST' })).to.deep.equal([]);
    });
  });

  describe('capabilities and metrics', () => {
    it('model API on and Prometheus metrics: replicas live, batching by reload, no warnings', async () => {
      expect(await adapter().capabilities()).to.deep.equal({ replicas: 'live', batching: 'reload', perBatchStats: false, profiling: true, warnings: [] });
      expect(ts.models.get('m')?.versions.size).to.equal(1); // the probe registered nothing
    });

    it('model API off and metrics_mode=log (an empty /metrics): batching unsupported, both said', async () => {
      ts.modelApi = false;
      ts.metricsText = '';
      const caps = await adapter().capabilities();
      expect(caps.batching).to.equal('unsupported');
      expect(caps.warnings).to.have.length(2);
      expect(caps.warnings[0]).to.match(/enable_model_api is false/);
      expect(caps.warnings[1]).to.match(/empty body: TorchServe runs with metrics_mode=log/);
    });

    it('with an empty /metrics, metrics() is empty and counters() says metrics_mode=log', async () => {
      ts.metricsText = '';
      const a = adapter();
      expect(await a.metrics()).to.deep.equal([]);
      await expectAdapterError(a.counters(), { kind: 'unsupported', endpoint: 'GET /metrics', status: 200 }, /metrics_mode=log/);
    });

    it('counters from the Prometheus text, in nanoseconds, with the queue from describe', async () => {
      // The fake's describe reports jobQueueStatus.pendingRequests 0.
      expect(await adapter().counters('m')).to.deep.equal([{ model: 'm', requests: 3n, failures: 0n, queueNs: 365_210n, computeNs: 290_005_919n, queued: 0 }]);
    });

    it('a negative counter is malformed', async () => {
      ts.metricsText = 'ts_inference_requests_total{model_name="m",model_version="default",hostname="h",} -3.0\n';
      await expectAdapterError(adapter().counters(), { kind: 'malformed', endpoint: 'GET /metrics' }, /not a counter value/);
    });
  });

  describe('transport', () => {
    it('retries a GET on 503 but never a PUT', async () => {
      let failures = 1;
      ts.inject = () => (failures-- > 0 ? { status: 503, body: '{"code": 503, "type": "ServiceUnavailableException", "message": "busy"}' } : undefined);
      expect((await adapter().model('m')).replicas).to.equal(2);
      expect(ts.calls()).to.deep.equal(['GET /models/m', 'GET /models/m']);

      ts.seen.length = 0;
      ts.inject = (r) => (r.method === 'PUT' ? { status: 503, body: '{"code": 503, "type": "ServiceUnavailableException", "message": "busy"}' } : undefined);
      await expectAdapterError(adapter({ scaleDown: 'interrupt' }).setReplicas('m', 3), { kind: 'http', status: 503, endpoint: 'PUT /models/m' }, /busy/);
      expect(ts.calls()).to.deep.equal(['GET /models/m', 'PUT /models/m?min_worker=3&max_worker=3&synchronous=false']);
    });

    it('an unknown model is not-found', async () => {
      await expectAdapterError(adapter().model('nope'), { kind: 'not-found', status: 404, endpoint: 'GET /models/nope' }, /Model not found: nope/);
    });

    it('lists every page, describing each model', async () => {
      for (let i = 0; i < 101; i++) ts.addModel(`x${String(i).padStart(3, '0')}`, '1', { url: `x${i}.mar`, batchSize: 2, maxBatchDelay: 1, workers: 1 });
      const models = await adapter().models();
      expect(models).to.have.length(102);
      expect(ts.calls().filter((c) => c.startsWith('GET /models?'))).to.deep.equal(['GET /models?limit=100', 'GET /models?limit=100&next_page_token=100']);
    });

    it('health: 500 Unhealthy is live but not ready', async () => {
      ts.inject = (r) => (r.path === '/ping' ? { status: 500, body: '{"status": "Unhealthy"}' } : undefined);
      expect(await adapter().health()).to.include({ live: true, ready: false });
    });
  });

  describe('profiling', () => {
    it('one input "data" of BYTES, for a model that exists', async () => {
      expect(await adapter().inputs('m')).to.deep.equal([{ name: 'data', datatype: 'BYTES', shape: [1] }]);
      await expectAdapterError(adapter().inputs('nope'), { kind: 'not-found' });
    });

    it('a batch of n is n concurrent predictions with the inference key; seeded bodies repeat', async () => {
      const a = adapter();
      expect(await a.infer('m', { batchSize: 4, data: 'random', seed: 7, timeoutMs: 2000 })).to.include({ batchSize: 4 });
      const first = ts.seen.filter((r) => r.path === '/predictions/m');
      expect(first.map((r) => r.auth)).to.deep.equal(Array(4).fill('Bearer inf-1'));
      expect(new Set(first.map((r) => r.body)).size).to.equal(4);
      ts.seen.length = 0;
      await a.infer('m', { batchSize: 4, data: 'random', seed: 7, timeoutMs: 2000 });
      expect(ts.seen.map((r) => r.body).sort()).to.deep.equal(first.map((r) => r.body).sort());
      ts.seen.length = 0;
      await a.infer('m', { batchSize: 2, data: 'zero', timeoutMs: 2000 });
      expect(ts.seen.map((r) => JSON.parse(r.body))).to.deep.equal([{ data: [0, 0, 0, 0, 0, 0, 0, 0] }, { data: [0, 0, 0, 0, 0, 0, 0, 0] }]);
    });

    it('waits for every request, then reports the first failure', async () => {
      let n = 0;
      ts.inject = (r) => (r.path.startsWith('/predictions') && n++ === 1 ? { status: 503, body: '{"code": 503, "type": "ServiceUnavailableException", "message": "Model \\"m\\" has no worker to serve inference request."}' } : undefined);
      await expectAdapterError(adapter().infer('m', { batchSize: 3, data: 'zero', timeoutMs: 2000 }), { kind: 'http', status: 503, endpoint: 'POST /predictions/m' }, /no worker/);
      expect(ts.seen.filter((r) => r.path === '/predictions/m')).to.have.length(3);
    });
  });
});
