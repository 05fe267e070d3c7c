// The emulated TorchServe answers the reference's paths, bodies and status codes (server-apis.md §B).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePrometheusText } from '../../adapters/common/prometheus.js';
import { parseArchiveName, startTorchServeEmulator } from '../../src/emulator/torchserve/index.js';
import type { TorchServeEmulator, TorchServeEmulatorOptions } from '../../src/emulator/torchserve/index.js';
import { F5, F7_ASYNC, F9, INVALID_KEY, METHOD_NOT_ALLOWED } from './fixtures.js';
import { missingShape, profile, request, sleep } from './helpers.js';

const PROFILES = [
  profile('noop', 'cpu', [[1, 5], [8, 12]]),
  profile('slow', 'cpu', [[1, 80], [4, 100]]),
];
const dir = mkdtempSync(path.join(tmpdir(), 'inferline-ts-'));

describe('emulated TorchServe', function () {
  this.timeout(20_000);
  const started: TorchServeEmulator[] = [];
  const start = async (o: Partial<TorchServeEmulatorOptions> = {}): Promise<TorchServeEmulator> => {
    const e = await startTorchServeEmulator({ profiles: PROFILES, hostname: 'emu-host', keyFile: path.join(dir, `key_file_${started.length}.json`), seed: 7, ...o });
    started.push(e);
    return e;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });
  /** A server with token auth off, for the tests about something else. */
  const open = (o: Partial<TorchServeEmulatorOptions> = {}) => start({ tokenAuth: false, ...o });

  describe('token authorization (on by default)', () => {
    it('writes key_file.json in the shape of F9, mode 0600, and deletes it on stop', async () => {
      const ts = await start();
      const file = ts.keyFile as string;
      const text = readFileSync(file, 'utf8');
      const keys = JSON.parse(text) as typeof F9;
      expect(Object.keys(keys)).to.deep.equal(Object.keys(F9));
      expect(missingShape(keys, F9)).to.deep.equal([]);
      expect(Object.keys(keys.API)).to.deep.equal(['key']);
      for (const k of [keys.management.key, keys.inference.key, keys.API.key]) expect(k).to.match(/^[A-Za-z0-9_-]{8}$/);
      expect(Date.parse(keys.management['expiration time']) - Date.now()).to.be.within(59 * 60_000, 60 * 60_000 + 1000);
      expect(text).to.match(/^\{\n {2}"management": \{\n {4}"key": /);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      await ts.stop();
      expect(existsSync(file)).to.equal(false);
    });

    it('every inference request needs the inference key, /ping included: 400 InvalidKeyException', async () => {
      const ts = await start();
      const keys = ts.keys();
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${keys?.management}`, keys?.inference]) {
        const r = await request('GET', `${ts.inferenceUrl}/ping`, { headers: auth ? { Authorization: auth } : {} });
        expect([r.status, r.json()]).to.deep.equal([400, INVALID_KEY]);
      }
      const ok = await request('GET', `${ts.inferenceUrl}/ping`, { headers: { Authorization: `Bearer ${keys?.inference}` } });
      expect([ok.status, ok.json()]).to.deep.equal([200, { status: 'Healthy' }]);
    });

    it('the management API needs the management key; the metrics port needs none', async () => {
      const ts = await start({ metricsMode: 'prometheus' });
      const keys = ts.keys();
      const denied = await request('GET', `${ts.managementUrl}/models`, { headers: { Authorization: `Bearer ${keys?.inference}` } });
      expect([denied.status, denied.json()]).to.deep.equal([400, INVALID_KEY]);
      expect((await request('GET', `${ts.managementUrl}/models`, { headers: { Authorization: `Bearer ${keys?.management}` } })).status).to.equal(200);
      expect((await request('GET', ts.metricsUrl)).status).to.equal(200);
    });

    it('GET /token with the API key writes new keys and answers an empty body', async () => {
      const ts = await start();
      const before = ts.keys();
      const r = await request('GET', `${ts.managementUrl}/token?type=management`, { headers: { Authorization: `Bearer ${before?.api}` } });
      expect([r.status, r.text]).to.deep.equal([200, '']);
      const after = JSON.parse(readFileSync(ts.keyFile as string, 'utf8')) as typeof F9;
      expect(after.management.key).to.not.equal(before?.management);
      expect(after.inference.key).to.equal(before?.inference);
      const old = await request('GET', `${ts.managementUrl}/models`, { headers: { Authorization: `Bearer ${before?.management}` } });
      expect(old.status).to.equal(400);
      const bad = await request('GET', `${ts.managementUrl}/token?type=management`, { headers: { Authorization: `Bearer ${before?.management}` } });
      expect(bad.json<{ message: string }>().message).to.equal('Token Authentication failed. Token either incorrect, expired, or not provided correctly');
    });

    it('expired keys are refused', async () => {
      const ts = await start({ tokenExpirationMin: 0.0005 });
      await sleep(60);
      const r = await request('GET', `${ts.inferenceUrl}/ping`, { headers: { Authorization: `Bearer ${ts.keys()?.inference}` } });
      expect(r.status).to.equal(400);
    });
  });

  it('without enable_model_api, register and unregister answer 405; scale and set-default work', async () => {
    const ts = await open();
    for (const [method, p] of [['POST', '/models?url=noop_v2.mar'], ['DELETE', '/models/noop'], ['DELETE', '/models/noop/1.0']] as const) {
      const r = await request(method, ts.managementUrl + p);
      expect([method, p, r.status, r.json()]).to.deep.equal([method, p, 405, METHOD_NOT_ALLOWED]);
    }
    expect((await request('PUT', `${ts.managementUrl}/models/noop?min_worker=2&synchronous=true`)).status).to.equal(200);
    const d = await request('PUT', `${ts.managementUrl}/models/noop/1.0/set-default`);
    expect([d.status, d.json()]).to.deep.equal([200, { status: 'Default version successfully updated for model "noop" to "1.0"' }]);
    expect(ts.keyFile).to.equal(undefined);
  });

  it('describe returns an array in the shape of F5; list models pages', async () => {
    const ts = await open();
    const r = await request('GET', `${ts.managementUrl}/models/noop`);
    expect(r.status).to.equal(200);
    expect(r.text.endsWith('}\n]\n')).to.equal(true);
    const body = r.json<Record<string, unknown>[]>();
    expect(body).to.be.an('array').with.length(1);
    const { engine: _engine, ...fixture } = F5[0] as Record<string, unknown>;
    expect(missingShape(body, [fixture])).to.deep.equal([]);
    expect(body[0]).to.not.have.property('engine');
    expect(body[0]).to.include({ modelName: 'noop', modelVersion: '1.0', modelUrl: 'noop.mar', minWorkers: 1, maxWorkers: 1, batchSize: 1, maxBatchDelay: 100, deviceType: 'cpu' });
    const worker = (body[0]?.['workers'] as Record<string, unknown>[])[0];
    expect(worker).to.include({ status: 'READY', gpu: false, gpuUsage: 'N/A' });
    expect(worker?.['id']).to.match(/^9\d{3}$/);
    expect(worker?.['startTime']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body[0]?.['jobQueueStatus']).to.deep.equal({ remainingCapacity: 100, pendingRequests: 0 });
    const nope = await request('GET', `${ts.managementUrl}/models/nope`);
    expect([nope.status, nope.json()]).to.deep.equal([404, { code: 404, type: 'ModelNotFoundException', message: 'Model not found: nope' }]);
    const badVersion = await request('GET', `${ts.managementUrl}/models/noop/3.0`);
    expect([badVersion.status, badVersion.json<{ type: string }>().type]).to.deep.equal([404, 'ModelVersionNotFoundException']);

    const list = await request('GET', `${ts.managementUrl}/models`);
    expect(list.json()).to.deep.equal({ models: [{ modelName: 'noop', modelUrl: 'noop.mar' }, { modelName: 'slow', modelUrl: 'slow.mar' }] });
    expect((await request('GET', `${ts.managementUrl}/models?limit=1`)).json()).to.deep.equal({ nextPageToken: '1', models: [{ modelName: 'noop', modelUrl: 'noop.mar' }] });
    expect((await request('GET', `${ts.managementUrl}/nothing`)).json()).to.deep.equal({
      code: 404, type: 'ResourceNotFoundException', message: 'Requested resource is not found, please refer to API document.',
    });
  });

  it('scale workers: synchronous 200, asynchronous 202, max below min 400', async () => {
    const ts = await open({ workerStartupMs: 30 });
    const sync = await request('PUT', `${ts.managementUrl}/models/noop?min_worker=3&synchronous=true`);
    expect([sync.status, sync.json()]).to.deep.equal([200, { status: 'Workers scaled to 3 for model: noop' }]);
    expect(ts.engine('noop')?.readyReplicas).to.equal(3);
    const version = await request('PUT', `${ts.managementUrl}/models/noop/1.0?min_worker=1&max_worker=1&synchronous=true`);
    expect(version.json()).to.deep.equal({ status: 'Workers scaled to 1 for model: noop, version: 1.0' });
    const async = await request('PUT', `${ts.managementUrl}/models/noop?min_worker=2`);
    expect([async.status, async.json()]).to.deep.equal([202, F7_ASYNC]);
    const starting = (await request('GET', `${ts.managementUrl}/models/noop`)).json<{ workers: { status: string }[] }[]>();
    expect(starting[0]?.workers.map((w) => w.status)).to.deep.equal(['READY', 'UNLOADING']);
    const bad = await request('PUT', `${ts.managementUrl}/models/noop?min_worker=3&max_worker=2`);
    expect([bad.status, bad.json()]).to.deep.equal([400, { code: 400, type: 'BadRequestException', message: 'max_worker cannot be less than min_worker.' }]);
  });

  it('predictions are single queries; concurrent ones are batched up to batch_size', async () => {
    const ts = await open({ batchSize: 4, maxBatchDelayMs: 200 });
    const results = await Promise.all(Array.from({ length: 4 }, () => request('POST', `${ts.inferenceUrl}/predictions/noop`, { body: { x: 1 } })));
    expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200]);
    expect(results.map((r) => r.json<{ batchSize: number }>().batchSize)).to.deep.equal([4, 4, 4, 4]);
    expect((await request('POST', `${ts.inferenceUrl}/predictions/noop/1.0`)).status).to.equal(200);
    const nope = await request('POST', `${ts.inferenceUrl}/predictions/nope`);
    expect([nope.status, nope.json()]).to.deep.equal([404, { code: 404, type: 'ModelNotFoundException', message: 'Model not found: nope' }]);
    const version = await request('POST', `${ts.inferenceUrl}/predictions/noop/2.0`);
    expect([version.status, version.json()]).to.deep.equal([404, { code: 404, type: 'ModelVersionNotFoundException', message: 'Model version: 2.0 does not exist for model: noop' }]);
  });

  it('scaling down while a batch runs puts it back at the head of the queue (0.12\'s BatchAggregator): both answered', async () => {
    const ts = await open({ workers: 2 });
    const a = request('POST', `${ts.inferenceUrl}/predictions/slow`);
    const b = request('POST', `${ts.inferenceUrl}/predictions/slow`);
    await sleep(25);
    const scale = await request('PUT', `${ts.managementUrl}/models/slow?min_worker=1&max_worker=1&synchronous=true`);
    expect(scale.status).to.equal(200);
    // The removed worker is gone at once, its request back in the queue for the worker left.
    const engine = ts.engine('slow');
    expect([engine?.replicaSnapshot().length, engine?.pendingRequests]).to.deep.equal([1, 1]);
    expect((await Promise.all([a, b])).map((r) => r.status)).to.deep.equal([200, 200]);
  });

  it('with workerRemoval fail-in-flight (a removal that does not drain), the batch fails with 500 "Worker scaled down."', async () => {
    const ts = await open({ workers: 2, workerRemoval: 'fail-in-flight' });
    const a = request('POST', `${ts.inferenceUrl}/predictions/slow`);
    const b = request('POST', `${ts.inferenceUrl}/predictions/slow`);
    await sleep(25);
    const scale = await request('PUT', `${ts.managementUrl}/models/slow?min_worker=1&max_worker=1&synchronous=true`);
    expect(scale.status).to.equal(200);
    const statuses = (await Promise.all([a, b])).map((r) => [r.status, r.json()]);
    expect(statuses).to.deep.include([500, { code: 500, type: 'InternalServerException', message: 'Worker scaled down.' }]);
    expect(statuses.filter(([s]) => s === 200)).to.have.length(1);
  });

  it('with no worker, predictions answer 503', async () => {
    const ts = await open();
    await request('PUT', `${ts.managementUrl}/models/noop?min_worker=0&synchronous=true`);
    const r = await request('POST', `${ts.inferenceUrl}/predictions/noop`);
    expect([r.status, r.json()]).to.deep.equal([503, {
      code: 503, type: 'ServiceUnavailableException',
      message: 'Model "noop" has no worker to serve inference request. Please use scale workers API to add workers. If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize',
    }]);
  });

  it('with enable_model_api: register a version with new batching, set it default, unregister the old one', async () => {
    const ts = await open({ enableModelApi: true });
    const reg = await request('POST', `${ts.managementUrl}/models?url=noop_v2.mar&batch_size=4&max_batch_delay=5&initial_workers=2&synchronous=true`);
    expect([reg.status, reg.json()]).to.deep.equal([200, { status: 'Model "noop" Version: 2.0 registered with 2 initial workers' }]);
    const again = await request('POST', `${ts.managementUrl}/models?url=noop_v2.mar`);
    expect([again.status, again.json()]).to.deep.equal([409, { code: 409, type: 'ConflictStatusException', message: 'Model version 2.0 is already registered for model noop' }]);
    const all = (await request('GET', `${ts.managementUrl}/models/noop/all`)).json<{ modelVersion: string; batchSize: number; maxBatchDelay: number }[]>();
    expect(all.map((v) => [v.modelVersion, v.batchSize, v.maxBatchDelay])).to.deep.equal([['1.0', 1, 100], ['2.0', 4, 5]]);
    // A new version is not the default until set-default.
    expect((await request('GET', `${ts.managementUrl}/models/noop`)).json<{ modelVersion: string }[]>()[0]?.modelVersion).to.equal('1.0');
    const removeDefault = await request('DELETE', `${ts.managementUrl}/models/noop/1.0`);
    expect([removeDefault.status, removeDefault.json()]).to.deep.equal([403, { code: 403, type: 'InvalidModelVersionException', message: 'Cannot remove default version for model noop' }]);
    expect((await request('PUT', `${ts.managementUrl}/models/noop/2.0/set-default`)).status).to.equal(200);
    const un = await request('DELETE', `${ts.managementUrl}/models/noop/1.0`);
    expect([un.status, un.json()]).to.deep.equal([200, { status: 'Model "noop" unregistered' }]);
    expect(ts.engine('noop')?.batching).to.include({ maxBatch: 4, maxQueueDelayMs: 5 });
    const noWorkers = await request('POST', `${ts.managementUrl}/models?url=slow_v3.mar`);
    expect(noWorkers.json()).to.deep.equal({ status: 'Model "slow" Version: 3.0 registered with 0 initial workers. Use scale workers API to add workers for the model.' });
    const missing = await request('POST', `${ts.managementUrl}/models`);
    expect(missing.json()).to.deep.equal({ code: 400, type: 'BadRequestException', message: 'Parameter url is required.' });
    const json = await request('POST', `${ts.managementUrl}/models`, {
      headers: { 'Content-Type': 'application/json' }, body: { url: 'noop_v4.mar', batch_size: 2, initial_workers: 1, synchronous: false },
    });
    expect([json.status, json.json()]).to.deep.equal([202, F7_ASYNC]);
    expect(ts.engine('noop', '4.0')?.batching.maxBatch).to.equal(2);
    const badDefault = await request('PUT', `${ts.managementUrl}/models/noop/7.0/set-default`);
    expect([badDefault.status, badDefault.json()]).to.deep.equal([403, { code: 403, type: 'InvalidModelVersionException', message: "Can't set default to: 7.0" }]);
  });

  it('metrics: empty in log mode; Prometheus text like F10 in prometheus mode', async () => {
    const log = await open();
    await request('POST', `${log.inferenceUrl}/predictions/noop`);
    const empty = await request('GET', log.metricsUrl);
    expect([empty.status, empty.text]).to.deep.equal([200, '']);

    const prom = await open({ metricsMode: 'prometheus' });
    await request('POST', `${prom.inferenceUrl}/predictions/noop`);
    await request('POST', `${prom.inferenceUrl}/predictions/noop/1.0`);
    const r = await request('GET', prom.metricsUrl);
    expect(r.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const lines = r.text.split('\n');
    expect(lines).to.include('# HELP ts_inference_requests_total Torchserve prometheus counter metric with unit: Count');
    expect(lines).to.include('# TYPE ts_queue_latency_microseconds counter');
    expect(lines).to.include('ts_inference_requests_total{model_name="noop",model_version="default",hostname="emu-host",} 1.0');
    expect(lines).to.include('ts_inference_requests_total{model_name="noop",model_version="1.0",hostname="emu-host",} 1.0');
    expect(lines.find((l) => l.startsWith('ts_inference_latency_microseconds{model_name="noop",model_version="default",hostname="emu-host",} '))).to.match(/ \d+\.\d+(E\d+)?$/);
    expect(parsePrometheusText(r.text).find((s) => s.name === 'Requests2XX')?.value).to.be.greaterThanOrEqual(2);
    const filtered = await request('GET', `${prom.metricsUrl}?name[]=ts_queue_latency_microseconds`);
    expect(new Set(parsePrometheusText(filtered.text).map((s) => s.name))).to.deep.equal(new Set(['ts_queue_latency_microseconds']));
  });

  it('reads the version of an archive from its name', () => {
    expect(parseArchiveName('noop.mar')).to.deep.equal({ model: 'noop', version: '1.0' });
    expect(parseArchiveName('https://store/x/noop_v2.mar')).to.deep.equal({ model: 'noop', version: '2.0' });
    expect(parseArchiveName('noop-v1.5.mar')).to.deep.equal({ model: 'noop', version: '1.5' });
    expect(parseArchiveName('noop.tar.gz')).to.equal(undefined);
  });
});
