// The emulated TF Serving answers the reference's paths, bodies and status codes (server-apis.md §C).
import { expect } from 'chai';
import { parsePrometheusText } from '../../adapters/common/prometheus.js';
import { startTfServingEmulator } from '../../src/emulator/tfserving/index.js';
import type { TfServingEmulator, TfServingEmulatorOptions } from '../../src/emulator/tfserving/index.js';
import { F11_ERROR, F11_STATUS } from './fixtures.js';
import { missingShape, profile, request, sleep } from './helpers.js';

const PROFILES = [profile('half', 'cpu', [[1, 3], [8, 6]]), profile('other', 'gpu-v100', [[1, 2], [4, 3]])];

describe('emulated TF Serving', function () {
  this.timeout(20_000);
  const started: TfServingEmulator[] = [];
  const start = async (o: Partial<TfServingEmulatorOptions> = {}): Promise<TfServingEmulator> => {
    const e = await startTfServingEmulator({ profiles: PROFILES, ...o });
    started.push(e);
    return e;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((e) => e.stop()));
  });

  it('model status in the shape of F11, versions as strings', async () => {
    const tf = await start();
    const r = await request('GET', `${tf.url}/v1/models/half`);
    expect(r.status).to.equal(200);
    expect(r.json()).to.deep.equal({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    expect(missingShape(r.json(), F11_STATUS)).to.deep.equal([]);
    expect(r.text).to.match(/^\{\n "model_version_status": \[\n {2}\{\n {3}"version": "1"/);
    expect((await request('GET', `${tf.url}/v1/models/half/versions/1`)).status).to.equal(200);
    const v = await request('GET', `${tf.url}/v1/models/half/versions/7`);
    expect([v.status, v.json()]).to.deep.equal([404, { error: 'Could not find version 7 of model half' }]);
    const nope = await request('GET', `${tf.url}/v1/models/nope`);
    expect([nope.status, nope.json()]).to.deep.equal([404, { error: 'Could not find any versions of model nope' }]);
    const all = await request('GET', `${tf.url}/v1/models`);
    expect([all.status, all.json()]).to.deep.equal([400, { error: 'Missing model name in request.' }]);
  });

  it('metadata: the signature_def shape', async () => {
    const tf = await start();
    const r = await request('GET', `${tf.url}/v1/models/half/metadata`);
    expect(r.status).to.equal(200);
    const m = r.json<{ model_spec: object; metadata: { signature_def: { signature_def: Record<string, { inputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[] } }>; method_name: string }> } } }>();
    expect(m.model_spec).to.deep.equal({ name: 'half', signature_name: '', version: '1' });
    const sig = m.metadata.signature_def.signature_def['serving_default'];
    expect(sig?.method_name).to.equal('tensorflow/serving/predict');
    expect(sig?.inputs['x']?.dtype).to.equal('DT_FLOAT');
    expect(sig?.inputs['x']?.tensor_shape.dim.map((d) => d.size)).to.deep.equal(['-1', '1']);
  });

  it('predict: row format in, {"predictions": [...]} out, written like rapidjson', async () => {
    const tf = await start();
    const r = await request('POST', `${tf.url}/v1/models/half:predict`, { body: '{"instances": [1.0, 2, 5.5, NaN]}' });
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('{\n    "predictions": [1.0, 2.0, 5.5, NaN\n    ]\n}');
    const nested = await request('POST', `${tf.url}/v1/models/half/versions/1:predict`, { body: { instances: [[1, 2], [3, 4]] } });
    expect(nested.json()).to.deep.equal({ predictions: [[1, 2], [3, 4]] });
    const named = await request('POST', `${tf.url}/v1/models/half:predict`, { body: { instances: [{ x: [1] }, { x: [2] }] } });
    expect(named.json()).to.deep.equal({ predictions: [[1], [2]] });
    const columnar = await request('POST', `${tf.url}/v1/models/half:predict`, { body: { inputs: { x: [[1.5], [2.5]] } } });
    expect(columnar.json()).to.deep.equal({ outputs: [[1.5], [2.5]] });
  });

  it('errors are {"error": "..."} with the status of the TF code', async () => {
    const tf = await start();
    const cases: [string, string, unknown, number, string | RegExp][] = [
      ['POST', '/v1/models/nope:predict', { instances: [1] }, 404, 'Servable not found for request: Latest(nope)'],
      ['POST', '/v1/models/half/versions/3:predict', { instances: [1] }, 404, 'Servable not found for request: Specific(half, 3)'],
      ['POST', '/v1/models/half:predict', '{"instances": [1,', 400, /^JSON Parse error: Invalid value\. at offset: \d+$/],
      ['POST', '/v1/models/half:predict', '', 400, 'JSON Parse error: The document is empty'],
      ['POST', '/v1/models/half:predict', { nothing: 1 }, 400, "Missing 'inputs' or 'instances' key"],
      ['POST', '/v1/models/half:predict', { instances: [[1], [1, 2]] }, 400, /^Failed to process element: 1 of 'instances' list\. Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2$/],
      ['POST', '/v1/models/half:predict', { instances: ['a'] }, 400, /is not of expected type: float$/],
      ['POST', '/v1/models/half:predict', { instances: new Array(9).fill(1) }, 400, 'Task size 9 is larger than maximum input batch size 8'],
      ['GET', '/v1/models/half:predict', undefined, 400, 'Malformed request: GET /v1/models/half:predict'],
      ['POST', '/v1/models/half', { instances: [1] }, 400, 'Malformed request: POST /v1/models/half'],
      ['POST', '/v1/models/half:classify', { examples: [{}] }, 400, /^Expected classification signature method_name/],
    ];
    for (const [method, p, body, status, message] of cases) {
      const r = await request(method, tf.url + p, body === undefined ? {} : { body });
      expect([p, r.status], JSON.stringify(body)).to.deep.equal([p, status]);
      const error = r.json<{ error: string }>().error;
      if (typeof message === 'string') expect(error).to.equal(message);
      else expect(error).to.match(message);
      expect(r.text).to.match(/^\{\n {4}"error": /);
    }
    expect(Object.keys(F11_ERROR)).to.deep.equal(['error']);
    const outside = await request('GET', `${tf.url}/healthz`);
    expect([outside.status, outside.text]).to.deep.equal([404, '']);
  });

  it('Prometheus metrics: 404 unless monitoring is on; then names starting with ":", no HELP', async () => {
    const off = await start();
    expect((await request('GET', off.metricsUrl)).status).to.equal(404);

    const tf = await start({ monitoring: true, hardware: 'cpu', maxBatchSize: 8, batchTimeoutMs: 1 });
    await request('POST', `${tf.url}/v1/models/half:predict`, { body: { instances: [1, 2, 3] } });
    await request('GET', `${tf.url}/v1/models/half`);
    await request('GET', `${tf.url}/v1/models/nope`);
    const r = await request('GET', tf.metricsUrl);
    expect(r.status).to.equal(200);
    expect(r.text).to.not.include('# HELP');
    const samples = parsePrometheusText(r.text);
    const count = (status: string) => samples.find((s) => s.name === ':tensorflow:serving:request_count' && s.labels['model_name'] === 'half' && s.labels['status'] === status)?.value;
    expect(count('OK')).to.equal(2);
    expect(samples.find((s) => s.labels['model_name'] === 'nope')?.labels['status']).to.equal('NOT_FOUND');
    const latency = samples.filter((s) => s.name === ':tensorflow:serving:request_latency_count');
    expect(latency.map((s) => s.labels)).to.deep.equal([{ model_name: 'half', API: 'predict', entrypoint: 'REST' }]);
    expect(latency[0]?.value).to.equal(1);
    expect(r.text).to.include(':tensorflow:serving:request_latency_bucket{model_name="half",API="predict",entrypoint="REST",le="10"} ');
    expect(r.text).to.include('le="+Inf"}');
    // The batching metrics have no model label.
    const processed = samples.filter((s) => s.name.startsWith(':tensorflow:serving:batching_session:processed_batch_size'));
    expect(processed.every((s) => s.labels['model_name'] === undefined)).to.equal(true);
    expect(samples.find((s) => s.name === ':tensorflow:serving:batching_session:processed_batch_size_sum')?.value).to.equal(3);
    expect(r.text).to.match(/^:tensorflow:serving:batching_session:wrapped_run_count\{\} 1$/m);
    expect(samples.find((s) => s.name === ':tensorflow:serving:batching_session:queuing_latency_count')?.labels).to.deep.equal({ thread_pool_name: 'model_server_batch_threads' });
  });

  it('max_enqueued_batches: a predict past the bound is 503 UNAVAILABLE, the rest are served', async () => {
    // One batch of 8 runs (200 ms), one waits; the next request would need a second waiting batch.
    const tf = await start({ profiles: [profile('slow', 'cpu', [[1, 100], [8, 200]])], maxBatchSize: 8, maxEnqueuedBatches: 1 });
    const predict = (n: number) => request('POST', `${tf.url}/v1/models/slow:predict`, { body: { instances: new Array(n).fill([1]) } });
    const running = predict(8);
    await sleep(20);
    const queued = predict(8);
    await sleep(20);
    const refused = await predict(1);
    expect(refused.status).to.equal(503);
    expect(refused.json()).to.deep.equal({ error: 'The batch scheduling queue to which this task was submitted is full' });
    expect([(await running).status, (await queued).status]).to.deep.equal([200, 200]);
  });

  it('without batching, requests run alone and there are no batching metrics', async () => {
    const tf = await start({ monitoring: true, enableBatching: false, numBatchThreads: 2 });
    const rs = await Promise.all([1, 2].map((n) => request('POST', `${tf.url}/v1/models/half:predict`, { body: { instances: new Array(n).fill(1) } })));
    expect(rs.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(tf.engine('half')?.counters().batchStats.map((b) => b.batchSize)).to.deep.equal([1, 2]);
    expect((await request('GET', tf.metricsUrl)).text).to.not.include('batching_session');
  });
});
