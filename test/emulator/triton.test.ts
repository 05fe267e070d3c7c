// The emulated Triton answers the reference's paths, bodies and status codes (server-apis.md §A).
import { expect } from 'chai';
import { parsePrometheusText, sumBy } from '../../adapters/common/prometheus.js';
import { startTritonEmulator } from '../../src/emulator/triton/index.js';
import type { TritonEmulator, TritonEmulatorOptions } from '../../src/emulator/triton/index.js';
import { F1 } from './fixtures.js';
import { missingShape, profile, request, sleep } from './helpers.js';

const PROFILES = [
  profile('resnet', 'gpu-t4', [[1, 4], [4, 6], [8, 10]]),
  profile('resnet', 'cpu', [[1, 8], [4, 20]]),
  profile('tokenize', 'cpu', [[1, 2], [16, 6]]),
];

interface Stats {
  model_stats: { name: string; inference_count: number; execution_count: number; inference_stats: { success: { count: number } }; batch_stats: { batch_size: number }[] }[];
}

function inferBody(batch: number, extra: Record<string, unknown> = {}) {
  return {
    id: '42',
    inputs: [{ name: 'INPUT0', shape: [batch, 4], datatype: 'FP32', data: Array.from({ length: batch * 4 }, (_, i) => i) }],
    ...extra,
  };
}

describe('emulated Triton', function () {
  this.timeout(20_000);
  let triton: TritonEmulator;
  const started: TritonEmulator[] = [];
  const start = async (o: Partial<TritonEmulatorOptions> = {}): Promise<TritonEmulator> => {
    const e = await startTritonEmulator({ profiles: PROFILES, reloadDelayMs: 20, ...o });
    started.push(e);
    return e;
  };
  beforeEach(async () => {
    triton = await start({ hardware: 'gpu-t4', maxQueueDelayMs: 2, preferredBatchSizes: [4] });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });

  it('serves the models that have a profile on the hardware, reporting the others', () => {
    expect(triton.models.map((m) => m.name)).to.deep.equal(['resnet']);
    expect(triton.skipped).to.deep.equal(['tokenize']);
    expect(triton.port).to.be.greaterThan(0);
    expect(triton.metricsPort).to.be.greaterThan(0).and.not.equal(triton.port);
  });

  it('health and server metadata', async () => {
    for (const p of ['/v2/health/live', '/v2/health/ready', '/v2/models/resnet/ready']) {
      const r = await request('GET', triton.url + p);
      expect([p, r.status, r.text]).to.deep.equal([p, 200, '']);
    }
    const meta = await request('GET', `${triton.url}/v2`);
    expect(meta.status).to.equal(200);
    const body = meta.json<{ name: string; version: string; extensions: string[] }>();
    expect(body.name).to.equal('triton');
    expect(body.extensions).to.include.members(['model_repository', 'statistics', 'model_configuration', 'binary_tensor_data']);
    expect((await request('POST', `${triton.url}/v2/health/live`)).json()).to.deep.equal({ error: 'Method Not Allowed' });
    expect((await request('GET', `${triton.url}/v2/nothing`)).status).to.equal(400);
  });

  it('model metadata, and unknown models', async () => {
    const r = await request('GET', `${triton.url}/v2/models/resnet`);
    expect(r.json()).to.deep.equal({
      name: 'resnet', versions: ['1'], platform: 'python',
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect((await request('GET', `${triton.url}/v2/models/resnet/versions/1`)).status).to.equal(200);
    const unknown = await request('GET', `${triton.url}/v2/models/nope`);
    expect([unknown.status, unknown.json()]).to.deep.equal([404, { error: "Request for unknown model: 'nope' is not found" }]);
    const badVersion = await request('GET', `${triton.url}/v2/models/resnet/versions/3`);
    expect([badVersion.status, badVersion.json()]).to.deep.equal([404, { error: "Request for unknown model: 'resnet' version 3 is not found" }]);
  });

  it('config: the JSON ModelConfig, every field present, 64-bit fields as numbers', async () => {
    const r = await request('GET', `${triton.url}/v2/models/resnet/config`);
    expect(r.status).to.equal(200);
    expect(r.text).to.not.match(/\s"/); // one line, no spaces, like Triton
    const c = r.json<Record<string, unknown>>();
    expect(c).to.include({ name: 'resnet', max_batch_size: 8, backend: 'python' });
    expect(c['dynamic_batching']).to.deep.include({ preferred_batch_size: [4], max_queue_delay_microseconds: 2000, preserve_ordering: false });
    expect(c['instance_group']).to.deep.equal([{ name: 'resnet_0', kind: 'KIND_GPU', count: 1, gpus: [0], secondary_devices: [], profile: [], passive: false, host_policy: '' }]);
    expect(c).to.include.keys('input', 'output', 'batch_input', 'batch_output', 'optimization', 'version_policy', 'model_warmup', 'parameters');
    const cpu = await start({ hardware: 'cpu', instances: 2 });
    const cc = (await request('GET', `${cpu.url}/v2/models/tokenize/config`)).json<{ instance_group: { kind: string; count: number; gpus: number[] }[] }>();
    expect(cc.instance_group[0]).to.include({ kind: 'KIND_CPU', count: 2 });
    expect(cc.instance_group[0]?.gpus).to.deep.equal([]);
  });

  it('infer: a batched input of shape [n, 4] is n inferences in one request', async () => {
    const r = await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(3) });
    expect(r.status).to.equal(200);
    const body = r.json<{ model_name: string; model_version: string; id: string; outputs: { name: string; shape: number[]; datatype: string; data: number[] }[] }>();
    expect(body).to.include({ model_name: 'resnet', model_version: '1', id: '42' });
    expect(body.outputs[0]).to.deep.include({ name: 'OUTPUT0', datatype: 'FP32', shape: [3, 4] });
    expect(body.outputs[0]?.data).to.deep.equal(Array.from({ length: 12 }, (_, i) => i));
    const stats = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<Stats>();
    const s = stats.model_stats[0];
    expect([s?.inference_count, s?.execution_count, s?.inference_stats.success.count]).to.deep.equal([3, 1, 1]);
    expect(s?.batch_stats.map((b) => b.batch_size)).to.deep.equal([3]);
  });

  it('infer errors: bad JSON, wrong method, too large a batch, wrong shape', async () => {
    const bad = await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: '{nope' });
    expect(bad.status).to.equal(400);
    expect(bad.json<{ error: string }>().error).to.match(/^failed to parse the request JSON buffer: /);
    const get = await request('GET', `${triton.url}/v2/models/resnet/infer`);
    expect([get.status, get.json()]).to.deep.equal([405, { error: 'Method Not Allowed' }]);
    const big = await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(9) });
    expect([big.status, big.json()]).to.deep.equal([400, { error: "inference request batch-size must be <= 8 for 'resnet'" }]);
    const shape = await request('POST', `${triton.url}/v2/models/resnet/infer`, {
      body: { inputs: [{ name: 'INPUT0', shape: [2, 5], datatype: 'FP32', data: new Array(10).fill(0) }] },
    });
    expect([shape.status, shape.json()]).to.deep.equal([400, { error: "unexpected shape for input 'INPUT0' for model 'resnet'. Expected [-1,4], got [2,5]" }]);
    const stats = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<{ model_stats: { inference_stats: { fail: { count: number } } }[] }>();
    expect(stats.model_stats[0]?.inference_stats.fail.count).to.equal(2);
  });

  it('infer with the binary tensor extension', async () => {
    const values = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const header = JSON.stringify({
      inputs: [{ name: 'INPUT0', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }],
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
    });
    const body = Buffer.concat([Buffer.from(header), Buffer.from(values.buffer)]);
    const r = await request('POST', `${triton.url}/v2/models/resnet/infer`, {
      body, headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    });
    expect(r.status).to.equal(200);
    const n = Number(r.headers.get('inference-header-content-length'));
    const json = JSON.parse(r.body.subarray(0, n).toString()) as { outputs: { shape: number[]; parameters: { binary_data_size: number } }[] };
    expect(json.outputs[0]).to.deep.include({ shape: [2, 4], parameters: { binary_data_size: 32 } });
    const out = r.body.subarray(n);
    expect(Array.from({ length: 8 }, (_, i) => out.readFloatLE(i * 4))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('stats: the shape of A.9 / fixture F1, including batch_stats', async () => {
    await Promise.all([1, 1, 4].map((n) => request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(n) })));
    for (const p of ['/v2/models/stats', '/v2/models/resnet/stats', '/v2/models/resnet/versions/1/stats']) {
      const body = (await request('GET', triton.url + p)).json();
      expect(missingShape(body, F1), p).to.deep.equal([]);
    }
    const full = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<{ model_stats: Record<string, unknown>[] }>();
    expect(full.model_stats[0]).to.include.keys('response_stats', 'memory_usage');
    expect(full.model_stats[0]?.['inference_stats']).to.include.keys('cache_hit', 'cache_miss');
    const none = await request('GET', `${triton.url}/v2/models/nope/stats`);
    expect([none.status, none.json()]).to.deep.equal([400, { error: "requested model 'nope' is not available" }]);
  });

  it('repository index lists the models and their state', async () => {
    const r = await request('POST', `${triton.url}/v2/repository/index`);
    expect([r.status, r.json()]).to.deep.equal([200, [{ name: 'resnet', version: '1', state: 'READY' }]]);
    expect((await request('GET', `${triton.url}/v2/repository/index`)).status).to.equal(405);
  });

  it('load with an instance_group override: applied in place, statistics continue', async () => {
    await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(2) });
    const config = (await request('GET', `${triton.url}/v2/models/resnet/config`)).json<{ instance_group: { count: number }[] }>();
    (config.instance_group[0] as { count: number }).count = 3;
    const r = await request('POST', `${triton.url}/v2/repository/models/resnet/load`, { body: { parameters: { config: JSON.stringify(config) } } });
    expect([r.status, r.text]).to.deep.equal([200, '']);
    expect(triton.engine('resnet')?.replicas).to.equal(3);
    const after = (await request('GET', `${triton.url}/v2/models/resnet/config`)).json<{ instance_group: { count: number }[] }>();
    expect(after.instance_group[0]?.count).to.equal(3);
    const stats = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<Stats>();
    expect(stats.model_stats[0]?.inference_count).to.equal(2);
  });

  it('load changing max_batch_size or dynamic_batching: a background reload that resets the statistics', async () => {
    await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(2) });
    const before = triton.engine('resnet');
    const config = (await request('GET', `${triton.url}/v2/models/resnet/config`)).json<Record<string, unknown>>();
    const load = request('POST', `${triton.url}/v2/repository/models/resnet/load`, {
      body: { parameters: { config: JSON.stringify({ ...config, max_batch_size: 4, dynamic_batching: { max_queue_delay_microseconds: 5000 } }) } },
    });
    // The old copy serves while the new one loads.
    const during = await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(8) });
    expect(during.status).to.equal(200);
    expect((await load).status).to.equal(200);
    expect(triton.engine('resnet')).to.not.equal(before);
    expect(triton.engine('resnet')?.batching).to.include({ maxBatch: 4, maxQueueDelayMs: 5 });
    const stats = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<Stats>();
    expect(stats.model_stats[0]?.inference_count).to.equal(0);
    // The metrics series go on through a background reload.
    const samples = parsePrometheusText((await request('GET', triton.metricsUrl)).text);
    expect(sumBy(samples, 'nv_inference_count', ['model'])[0]?.value).to.equal(10);
    const c = (await request('GET', `${triton.url}/v2/models/resnet/config`)).json<{ max_batch_size: number; dynamic_batching: { max_queue_delay_microseconds: number } }>();
    expect([c.max_batch_size, c.dynamic_batching.max_queue_delay_microseconds]).to.deep.equal([4, 5000]);
    expect((await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(8) })).status).to.equal(400);
  });

  it('a partial override replaces the config; auto-complete fills the rest; the override sticks', async () => {
    const r = await request('POST', `${triton.url}/v2/repository/models/resnet/load`, {
      body: { parameters: { config: JSON.stringify({ name: 'resnet', backend: 'python', instance_group: [{ count: 2, kind: 'KIND_GPU' }] }) } },
    });
    expect(r.status).to.equal(200);
    const c = (await request('GET', `${triton.url}/v2/models/resnet/config`)).json<{ max_batch_size: number; instance_group: { count: number }[]; dynamic_batching: object }>();
    expect(c.max_batch_size).to.equal(4);
    expect(c.dynamic_batching).to.deep.include({ max_queue_delay_microseconds: 0 });
    expect(c.instance_group[0]?.count).to.equal(2);
    expect((await request('POST', `${triton.url}/v2/repository/models/resnet/load`)).status).to.equal(200);
    expect(triton.engine('resnet')?.replicas).to.equal(2);
  });

  it('a bad override is an error and the model keeps serving', async () => {
    for (const config of ['{"max_batch_size": 4, "inputs": []}', '{"max_batch_size": 64}', 'not json', '{"instance_group": [{"kind": "KIND_GPU", "gpus": [3]}]}']) {
      const r = await request('POST', `${triton.url}/v2/repository/models/resnet/load`, { body: { parameters: { config } } });
      expect(r.status, config).to.equal(400);
      expect(r.json<{ error: string }>().error).to.match(/^failed to load 'resnet'/);
    }
    expect((await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(1) })).status).to.equal(200);
    const missing = await request('POST', `${triton.url}/v2/repository/models/nope/load`);
    expect([missing.status, missing.json()]).to.deep.equal([400, { error: "failed to load 'nope', failed to poll from model repository" }]);
  });

  it('unload, then load again', async () => {
    await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(1) });
    const r = await request('POST', `${triton.url}/v2/repository/models/resnet/unload`);
    expect([r.status, r.text]).to.deep.equal([200, '']);
    await sleep(20);
    expect((await request('POST', `${triton.url}/v2/repository/index`)).json()).to.deep.equal([{ name: 'resnet', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    expect((await request('POST', `${triton.url}/v2/repository/index`, { body: { ready: true } })).json()).to.deep.equal([]);
    const ready = await request('GET', `${triton.url}/v2/models/resnet/ready`);
    expect([ready.status, ready.json()]).to.deep.equal([400, { error: 'Model version not ready' }]);
    expect((await request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(1) })).status).to.equal(503);
    expect(parsePrometheusText((await request('GET', triton.metricsUrl)).text).filter((s) => s.labels['model'] === 'resnet')).to.deep.equal([]);
    expect((await request('POST', `${triton.url}/v2/repository/models/resnet/load`)).status).to.equal(200);
    expect((await request('GET', `${triton.url}/v2/models/resnet/ready`)).status).to.equal(200);
    const stats = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<Stats>();
    expect(stats.model_stats[0]?.inference_count).to.equal(0);
  });

  it("model control mode 'none' answers load and unload 503, like the real default", async () => {
    const none = await start({ modelControlMode: 'none' });
    const body = { error: 'explicit model load / unload is not allowed if polling is enabled' };
    for (const op of ['load', 'unload']) {
      const r = await request('POST', `${none.url}/v2/repository/models/resnet/${op}`);
      expect([op, r.status, r.json()]).to.deep.equal([op, 503, body]);
    }
    expect((await request('POST', `${none.url}/v2/repository/index`)).status).to.equal(200);
  });

  it('restricted API groups need their header', async () => {
    const locked = await start({ restrictedApis: [{ groups: ['model-repository', 'statistics'], header: 'triton-access-token', value: 's3cret' }] });
    const denied = await request('POST', `${locked.url}/v2/repository/index`);
    expect([denied.status, denied.json()]).to.deep.equal([403, { error: "This API is restricted, expecting header 'triton-access-token'" }]);
    expect((await request('GET', `${locked.url}/v2/models/stats`)).status).to.equal(403);
    expect((await request('POST', `${locked.url}/v2/repository/index`, { headers: { 'triton-access-token': 's3cret' } })).status).to.equal(200);
    expect((await request('GET', `${locked.url}/v2/health/ready`)).status).to.equal(200);
  });

  it('metrics: A.10 names with model, version and gpu_uuid labels, agreeing with the statistics', async () => {
    await Promise.all([2, 3].map((n) => request('POST', `${triton.url}/v2/models/resnet/infer`, { body: inferBody(n) })));
    const r = await request('GET', triton.metricsUrl);
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^text\/plain/);
    expect(r.text).to.include('# TYPE nv_inference_request_success counter');
    const samples = parsePrometheusText(r.text);
    const one = (name: string) => samples.filter((s) => s.name === name && s.labels['model'] === 'resnet');
    const success = one('nv_inference_request_success');
    expect(success).to.have.length(1);
    expect(success[0]?.labels).to.include({ model: 'resnet', version: '1' });
    expect(success[0]?.labels['gpu_uuid']).to.match(/^GPU-[0-9a-f]{8}-/);
    expect(success[0]?.value).to.equal(2);
    expect(one('nv_inference_count')[0]?.value).to.equal(5);
    expect(one('nv_inference_request_failure').map((s) => s.labels['reason']).sort()).to.deep.equal(['BACKEND', 'CANCELED', 'OTHER', 'REJECTED']);
    for (const name of ['nv_inference_exec_count', 'nv_inference_pending_request_count', 'nv_inference_request_duration_us', 'nv_inference_queue_duration_us',
      'nv_inference_compute_input_duration_us', 'nv_inference_compute_infer_duration_us', 'nv_inference_compute_output_duration_us']) {
      expect(one(name), name).to.have.length(1);
    }
    const stats = (await request('GET', `${triton.url}/v2/models/resnet/stats`)).json<{ model_stats: { inference_stats: { queue: { ns: number }; compute_infer: { ns: number } } }[] }>();
    const s = stats.model_stats[0]?.inference_stats;
    expect(one('nv_inference_compute_infer_duration_us')[0]?.value).to.equal(Math.floor((s?.compute_infer.ns ?? 0) / 1000));
    expect((await request('GET', `${triton.metricsUrl.replace('/metrics', '/other')}`)).status).to.equal(404);
    const cpu = await start({ hardware: 'cpu' });
    const cpuSamples = parsePrometheusText((await request('GET', cpu.metricsUrl)).text).filter((x) => x.name === 'nv_inference_count');
    expect(cpuSamples.map((x) => x.labels)).to.deep.equal([{ model: 'resnet', version: '1' }, { model: 'tokenize', version: '1' }]);
  });
});
