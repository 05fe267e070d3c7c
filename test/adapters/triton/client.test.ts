// The Triton adapter against a fake Triton on 127.0.0.1: request shapes, error mapping, retries,
// timeouts. Bodies are the recorded fixtures (fixtures/README.md).
import { expect } from 'chai';
import { createTritonAdapter, sumOverGpus } from '../../../adapters/triton/index.js';
import type { TritonAdapterOptions } from '../../../adapters/triton/index.js';
import { metricsBase } from '../../../adapters/triton/client.js';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import type { Clock } from '../../../src/ports/clock.js';
import { FakeTriton } from './fake-triton.js';
import type { FakeRequest } from './fake-triton.js';
import { fixture, fixtureJson } from './fixtures.js';

/** A clock whose every reading is 7 ms after the last and whose sleeps return at once. */
function stepClock(): Clock & { slept: number[] } {
  let t = 1000;
  const slept: number[] = [];
  return { slept, nowMs: () => (t += 7), sleep: async (ms) => { slept.push(ms); } };
}

async function rejection(p: Promise<unknown>): Promise<AdapterError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AdapterError);
    return err as AdapterError;
  }
  throw new Error('expected an AdapterError');
}

const json = (req: FakeRequest | undefined): any => JSON.parse(req?.body.toString('utf8') ?? 'null'); // eslint-disable-line @typescript-eslint/no-explicit-any
const MNIST = fixture('config-mnist-cnn.json').trim();
const LOAD = 'POST /v2/repository/models/mnist_cnn/load';

describe('triton adapter over HTTP (fake server)', function () {
  let fake: FakeTriton;
  let clock: ReturnType<typeof stepClock>;
  const adapter = (extra: Partial<TritonAdapterOptions> = {}) =>
    createTritonAdapter({ url: fake.url, metricsUrl: fake.url, timeoutMs: 2000, clock, ...extra });

  /** One READY model whose config is whatever the last load posted. */
  function serveMnist(): void {
    let current = MNIST;
    fake.on('POST /v2/repository/index', { body: '[{"name":"mnist_cnn","version":"1","state":"READY"}]' });
    fake.on('GET /v2/models/mnist_cnn/config', () => ({ body: current }));
    fake.on(LOAD, (req) => {
      current = json(req).parameters.config as string;
      return { body: '' };
    });
  }

  before(async () => {
    fake = await FakeTriton.start();
  });
  after(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    fake.reset();
    clock = stepClock();
  });

  describe('reading', () => {
    it('sends the restricted-API header on every request, metrics included', async () => {
      fake.on('GET /v2/health/live', { body: '' }).on('GET /v2/health/ready', { body: '' })
        .on('POST /v2/repository/index', { body: fixture('index-ensemble.json') })
        .on('GET /v2/models/stats', { body: fixture('stats-f1.json') })
        .on('GET /metrics', { body: fixture('metrics-f2-summary.txt'), headers: { 'Content-Type': 'text/plain' } });
      for (const m of ['ensemble_python_resnet50', 'postprocessing', 'preprocessing', 'resnet50_trt']) {
        fake.on(`GET /v2/models/${m}/config`, { body: MNIST.replace('"mnist_cnn"', `"${m}"`) });
      }
      const a = adapter({ restrictedApiHeader: { name: 'triton-access-token', value: 's3cret' } });
      await a.health();
      await a.models();
      await a.counters();
      await a.metrics();
      // health 2, models 1 + 4 configs, counters /stats and /metrics (the pending requests), metrics 1.
      expect(fake.requests).to.have.length(2 + 1 + 4 + 2 + 1);
      expect(fake.requests.map((r) => r.headers['triton-access-token'])).to.deep.equal(fake.requests.map(() => 's3cret'));
    });

    it('models(): the index, then the config of each loaded model only', async () => {
      fake.on('POST /v2/repository/index', { body: '[{"name":"densenet_onnx","version":"1","state":"READY"},{"name":"never_loaded"},{"name":"mnist_cnn","version":"1","state":"UNAVAILABLE","reason":"unloaded"}]' })
        .on('GET /v2/models/densenet_onnx/config', { body: fixture('config-densenet-onnx.json') });
      expect(await adapter().models()).to.deep.equal([
        { model: 'densenet_onnx', version: '1', ready: true, replicas: 2, device: 'cpu', maxBatchSize: 1 },
        { model: 'mnist_cnn', version: '1', ready: false, replicas: 0, device: 'unknown', maxBatchSize: 1 },
        { model: 'never_loaded', ready: false, replicas: 0, device: 'unknown', maxBatchSize: 1 },
      ]);
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v2/repository/index', 'GET /v2/models/densenet_onnx/config']);
      expect(json(fake.requests[0])).to.deep.equal({});
    });

    it('model(name) of a model not in the repository is not-found', async () => {
      fake.on('POST /v2/repository/index', { body: fixture('index-ensemble.json') });
      const err = await rejection(adapter().model('nope'));
      expect(err).to.include({ kind: 'not-found', server: 'triton', endpoint: 'POST /v2/repository/index' });
    });

    it('counters(): reads /stats losslessly, for one model or all', async () => {
      const huge = fixture('stats-f1.json').replace('"ns":49271380', '"ns":18446744073709551615');
      fake.on('GET /v2/models/peoplenet/stats', { body: huge }).on('GET /v2/models/stats', { body: huge });
      const [one] = await adapter().counters('peoplenet');
      expect(one?.queueNs).to.equal(18446744073709551615n);
      expect(one?.batchSizes?.map((b) => b.batchSize)).to.deep.equal([1, 5]);
      expect(await adapter().counters()).to.deep.equal([one]);
    });

    it('counters(): with the pending requests from /metrics where it answers, without them where it does not', async () => {
      fake.on('GET /v2/models/stats', { body: fixture('stats-f1.json') });
      const [without] = await adapter().counters();
      expect(without?.pending).to.equal(undefined); // the fake serves no /metrics: 404
      fake.on('GET /metrics', {
        body: 'nv_inference_pending_request_count{model="peoplenet",version="1"} 12\n', headers: { 'Content-Type': 'text/plain' },
      });
      const [withPending] = await adapter().counters();
      expect(withPending?.pending).to.equal(12);
      expect(withPending?.requests).to.equal(without?.requests);
    });

    it('health(): live and ready from the status codes (200 yes, 400 no)', async () => {
      fake.on('GET /v2/health/live', { body: '' }).on('GET /v2/health/ready', { status: 400, body: '' });
      const h = await adapter().health();
      expect(h).to.include({ live: true, ready: false });
      expect(h.detail).to.match(/not ready/);
      fake.on('GET /v2/health/ready', { body: '' });
      expect(await adapter().health()).to.deep.equal({ live: true, ready: true });
    });

    it('metrics(): parses :8002/metrics; sumOverGpus gives model totals', async () => {
      fake.on('GET /metrics', { body: fixture('metrics-multi-gpu.txt'), headers: { 'Content-Type': 'text/plain' } });
      const samples = await adapter().metrics();
      const totals = sumOverGpus(samples, 'nv_inference_count');
      expect(totals.find((s) => s.labels['model'] === 'distilgpt2_cola')?.value).to.equal(604);
    });

    it('finds the metrics port from the API URL unless told (§A.1)', () => {
      expect(metricsBase('http://127.0.0.1:8000', undefined)).to.equal('http://127.0.0.1:8002');
      expect(metricsBase('https://triton.local/api', undefined)).to.equal('https://triton.local:8002');
      expect(metricsBase('http://x:8000', 'http://y:9000/metrics/')).to.equal('http://y:9000');
    });
  });

  describe('errors, retries and timeouts', () => {
    it('names the server, the endpoint and the status, with Triton\'s message', async () => {
      fake.on('GET /v2/models/stats', { status: 500, body: '{"error":"internal: stats unavailable"}' })
        .on('GET /v2/models/gone/config', { status: 404, body: '{"error":"Request for unknown model: \'gone\' is not found"}' });
      const err = await rejection(adapter({ retries: 0 }).counters());
      expect(err).to.include({ server: 'triton', endpoint: 'GET /v2/models/stats', status: 500, kind: 'http' });
      expect(err.message).to.equal('triton GET /v2/models/stats → 500: internal: stats unavailable');
      const gone = await rejection(adapter().setReplicas('gone', 2));
      expect(gone).to.include({ kind: 'not-found', status: 404, endpoint: 'GET /v2/models/gone/config' });
    });

    const malformedBodies: { name: string; body: string; want: RegExp }[] = [
      { name: 'a negative counter', body: fixture('stats-f1.json').replace('"count":0', '"count":-3'), want: /fail\.count: a counter cannot be negative/ },
      { name: 'an HTML error page served with 200', body: '<!DOCTYPE html><html><body>Bad gateway</body></html>', want: /HTML/ },
      { name: 'truncated JSON', body: fixture('stats-f1.json').slice(0, 300), want: /not JSON/ },
    ];
    for (const c of malformedBodies) {
      it(`rejects ${c.name} as malformed, naming where it came from`, async () => {
        fake.on('GET /v2/models/stats', { body: c.body });
        const err = await rejection(adapter().counters());
        expect(err).to.include({ kind: 'malformed', status: 200, endpoint: 'GET /v2/models/stats' });
        expect(err.message).to.match(c.want);
      });
    }

    it('retries a GET on 503 with backoff, then succeeds', async () => {
      fake.on('GET /v2/models/stats', (_req, n) => (n < 2 ? { status: 503, body: '{"error":"busy"}' } : { body: fixture('stats-f1.json') }));
      const [s] = await adapter().counters();
      expect(s?.requests).to.equal(6n);
      expect(fake.calls('GET /v2/models/stats')).to.have.length(3);
      expect(clock.slept).to.deep.equal([100, 200]);
    });

    it('never retries a POST (index, load, infer)', async () => {
      fake.on('POST /v2/repository/index', { status: 503, body: '{"error":"busy"}' });
      expect(await rejection(adapter().models())).to.include({ kind: 'http', status: 503 });
      expect(fake.calls('POST /v2/repository/index')).to.have.length(1);

      fake.on('GET /v2/models/mnist_cnn/config', { body: MNIST }).on(LOAD, { status: 503, body: '{"error":"busy"}' });
      expect(await rejection(adapter().setReplicas('mnist_cnn', 2))).to.include({ kind: 'http', status: 503 });
      expect(fake.calls(LOAD)).to.have.length(1); // a 503 never reached the repository: nothing to send back

      fake.on('GET /v2/models/mnist_cnn', { body: fixture('metadata-densenet-onnx.json') })
        .on('GET /v2/models/mnist_cnn/config', { body: fixture('config-densenet-onnx.json') })
        .on('POST /v2/models/mnist_cnn/infer', { status: 503, body: '{"error":"busy"}' });
      expect(await rejection(adapter().infer('mnist_cnn', { batchSize: 1, data: 'zero', timeoutMs: 1000 }))).to.include({ status: 503 });
      expect(fake.calls('POST /v2/models/mnist_cnn/infer')).to.have.length(1);
    });

    it('times out a request that gets no answer', async () => {
      fake.on('GET /v2/models/stats', 'hang');
      const t0 = Date.now();
      const err = await rejection(adapter({ timeoutMs: 150, retries: 1 }).counters());
      expect(err).to.include({ kind: 'timeout', endpoint: 'GET /v2/models/stats' });
      expect(fake.calls('GET /v2/models/stats')).to.have.length(2);
      expect(Date.now() - t0).to.be.below(2000);
    });
  });

  describe('changing instances and batching (§A.12)', () => {
    it('setReplicas posts the whole config back as a JSON string, only the count changed', async () => {
      serveMnist();
      const status = await adapter().setReplicas('mnist_cnn', 3);
      const [load] = fake.calls(LOAD);
      expect(load?.headers['content-type']).to.match(/application\/json/);
      const body = json(load);
      expect(Object.keys(body)).to.deep.equal(['parameters']);
      expect(Object.keys(body.parameters)).to.deep.equal(['config']);
      expect(body.parameters.config).to.be.a('string');
      // Byte for byte the config Triton served, but for the one count: key order and values kept.
      expect(body.parameters.config).to.equal(MNIST.replace('"kind":"KIND_GPU","count":1,', '"kind":"KIND_GPU","count":3,'));
      expect(status).to.deep.equal({ model: 'mnist_cnn', version: '1', ready: true, replicas: 3, device: 'gpu', maxBatchSize: 100, batchDelayMs: 0 });
    });

    it('setReplicas with a device changes the kind and drops the GPU list', async () => {
      serveMnist();
      const status = await adapter().setReplicas('mnist_cnn', 2, 'cpu');
      const posted = JSON.parse(json(fake.calls(LOAD)[0]).parameters.config as string);
      const original = fixtureJson('config-mnist-cnn.json') as { instance_group: Record<string, unknown>[] };
      expect(posted).to.deep.equal({ ...original, instance_group: [{ ...original.instance_group[0], kind: 'KIND_CPU', count: 2, gpus: [], host_policy: '' }] });
      expect(status).to.include({ replicas: 2, device: 'cpu' });
    });

    it('setBatching changes max_batch_size and the queue delay, nothing else', async () => {
      serveMnist();
      const status = await adapter().setBatching('mnist_cnn', { maxBatchSize: 16, batchDelayMs: 1.5 });
      const posted = JSON.parse(json(fake.calls(LOAD)[0]).parameters.config as string);
      const original = fixtureJson('config-mnist-cnn.json') as { dynamic_batching: Record<string, unknown> };
      expect(posted).to.deep.equal({
        ...original,
        max_batch_size: 16,
        // the preferred size 50 is above the new maximum: Triton would refuse it
        dynamic_batching: { ...original.dynamic_batching, preferred_batch_size: [], max_queue_delay_microseconds: 1500 },
      });
      expect(status).to.include({ maxBatchSize: 16, batchDelayMs: 1.5 });
    });

    it('outside explicit mode the load is refused with 503: unsupported, and nothing is re-sent', async () => {
      serveMnist();
      fake.on(LOAD, { status: 503, body: fixture('error-explicit-mode.json') });
      const err = await rejection(adapter().setReplicas('mnist_cnn', 2));
      expect(err).to.include({ kind: 'unsupported', status: 503, server: 'triton', endpoint: LOAD });
      expect(err.message).to.match(/model control mode is not explicit: explicit model load \/ unload is not allowed if polling is enabled/);
      expect(fake.calls(LOAD)).to.have.length(1);
    });

    it('a failed load reports Triton\'s message and sends the previous config back', async () => {
      serveMnist();
      fake.on(LOAD, (_req, n) => (n === 0
        ? { status: 500, body: '{"error":"failed to load \'mnist_cnn\', failed to poll from model repository"}' }
        : { body: '' }));
      const err = await rejection(adapter().setBatching('mnist_cnn', { maxBatchSize: 8, batchDelayMs: 0 }));
      expect(err).to.include({ kind: 'http', status: 500, endpoint: LOAD });
      expect(err.message).to.match(/failed to poll from model repository \(the previous config was sent back\)$/);
      const loads = fake.calls(LOAD);
      expect(loads).to.have.length(2);
      expect(json(loads[1]).parameters.config).to.equal(MNIST);
    });

    const brokenConfigs: { name: string; body: string }[] = [
      { name: 'an HTML page', body: '<html><body>oops</body></html>' },
      { name: 'truncated JSON', body: MNIST.slice(0, 500) },
      { name: 'a negative instance count', body: MNIST.replace('"count":1,', '"count":-1,') },
      { name: 'a max_batch_size beyond 2^53', body: MNIST.replace('"max_batch_size":100', '"max_batch_size":9007199254740993') },
    ];
    for (const c of brokenConfigs) {
      it(`a config with ${c.name} is malformed and nothing is loaded`, async () => {
        serveMnist();
        fake.on('GET /v2/models/mnist_cnn/config', { body: c.body });
        const err = await rejection(adapter().setReplicas('mnist_cnn', 2));
        expect(err).to.include({ kind: 'malformed', status: 200, endpoint: 'GET /v2/models/mnist_cnn/config' });
        expect(fake.calls(LOAD)).to.have.length(0);
      });
    }

    it('a change the model cannot take is refused before any load', async () => {
      fake.on('GET /v2/models/densenet_onnx/config', { body: fixture('config-densenet-onnx.json') });
      const err = await rejection(adapter().setBatching('densenet_onnx', { maxBatchSize: 8, batchDelayMs: 1 }));
      expect(err).to.include({ kind: 'unsupported', endpoint: 'POST /v2/repository/models/densenet_onnx/load' });
      expect(err.message).to.match(/max_batch_size 0/);
      expect(await rejection(adapter().setReplicas('densenet_onnx', 0))).to.include({ kind: 'unsupported' });
      expect(fake.requests.filter((r) => r.method === 'POST')).to.have.length(0);
    });
  });

  describe('capabilities()', () => {
    const PROBE = 'POST /v2/repository/models/inferline-control-mode-probe/unload';

    it('explicit mode: live instances, batching by reload; the probe avoids names in the index', async () => {
      fake.on('GET /v2', { body: fixture('server-metadata-2.23.json') })
        .on('POST /v2/repository/index', { body: '[{"name":"inferline-control-mode-probe"},{"name":"m","version":"1","state":"READY"}]' })
        .on('POST /v2/repository/models/inferline-control-mode-probe-2/unload', { body: '' });
      expect(await adapter({ grpcUrl: 'none' }).capabilities()).to.deep.equal({ replicas: 'live', batching: 'reload', perBatchStats: true, profiling: true, warnings: [] });
      expect(fake.requests.filter((r) => r.path.endsWith('/unload')).map((r) => r.path)).to.deep.equal(['/v2/repository/models/inferline-control-mode-probe-2/unload']);
    });

    it('loads over HTTP (no gRPC address, the HTTP port is not 8000) come with a warning that says why and what to set', async () => {
      fake.on('GET /v2', { body: fixture('server-metadata-2.23.json') })
        .on('POST /v2/repository/index', { body: '[]' })
        .on(PROBE, { body: '' });
      const caps = await adapter().capabilities();
      expect(caps).to.include({ replicas: 'live', batching: 'reload' });
      expect(caps.warnings).to.have.length(1);
      expect(caps.warnings[0]).to.match(/^loads go over HTTP, where each holds one of Triton's HTTP threads.*set the server's grpcUrl/);
    });

    it('not explicit: changes need a restart, with a warning', async () => {
      fake.on('GET /v2', { body: fixture('server-metadata-2.23.json') })
        .on('POST /v2/repository/index', { body: fixture('index-ensemble.json') })
        .on(PROBE, { status: 503, body: fixture('error-explicit-mode.json') });
      const caps = await adapter().capabilities();
      expect(caps).to.include({ replicas: 'restart', batching: 'restart', perBatchStats: true, profiling: true });
      expect(caps.warnings).to.have.length(1);
      expect(caps.warnings[0]).to.match(/^model control mode is not explicit: explicit model load \/ unload is not allowed if polling is enabled; .*--model-control-mode=explicit/);
    });

    it('a probe the server refuses (restricted API) leaves the mode unknown, with a warning', async () => {
      fake.on('GET /v2', { body: fixture('server-metadata-2.23.json') })
        .on('POST /v2/repository/index', { body: '[]' })
        .on(PROBE, { status: 403, body: '{"error":"This API is restricted"}' });
      const caps = await adapter().capabilities();
      expect(caps).to.include({ replicas: 'live', batching: 'reload' });
      expect(caps.warnings[0]).to.match(/model control mode unknown: .*403.*restrictedApiHeader/);
    });

    it('without the model_repository extension nothing can be changed', async () => {
      const meta = fixtureJson('server-metadata-2.23.json') as { extensions: string[] };
      fake.on('GET /v2', { body: JSON.stringify({ ...meta, extensions: meta.extensions.filter((e) => !e.startsWith('model_repository') && e !== 'statistics') }) });
      const caps = await adapter().capabilities();
      expect(caps).to.include({ replicas: 'unsupported', batching: 'unsupported', perBatchStats: false });
      expect(caps.warnings).to.have.length(2);
      expect(fake.requests.map((r) => r.path)).to.deep.equal(['/v2']);
    });
  });

  describe('profiling', () => {
    const serveQa = (maxBatchSize: number): void => {
      fake.on('GET /v2/models/question_answering', { body: fixture('metadata-question-answering.json') })
        .on('GET /v2/models/question_answering/config', { body: MNIST.replace('"max_batch_size":100', `"max_batch_size":${maxBatchSize}`) });
    };
    /** A binary-output response: JSON header, then raw bytes (some not valid UTF-8). */
    const binaryAnswer = (batch: number) => {
      const header = JSON.stringify({
        model_name: 'question_answering', model_version: '1',
        outputs: ['end_logits', 'start_logits'].map((name) => ({ name, datatype: 'FP32', shape: [batch, 1], parameters: { binary_data_size: 4 * batch } })),
      });
      const raw = Buffer.alloc(8 * batch, 0xc3);
      return { body: Buffer.concat([Buffer.from(header), raw]), headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(Buffer.byteLength(header)) } };
    };

    it('inputs(): shapes without the batch dimension', async () => {
      serveQa(8);
      expect(await adapter().inputs('question_answering')).to.deep.equal([
        { name: 'attention_mask', datatype: 'INT64', shape: [-1] },
        { name: 'input_ids', datatype: 'INT64', shape: [-1] },
      ]);
    });

    it('infer(): a [batch, ...shape] JSON request, timed with the clock, binary outputs read', async () => {
      serveQa(8);
      fake.on('POST /v2/models/question_answering/infer', binaryAnswer(4));
      const result = await adapter().infer('question_answering', { batchSize: 4, data: 'random', seed: 3, timeoutMs: 1000 });
      expect(result).to.deep.equal({ latencyMs: 7, batchSize: 4 });
      const [req] = fake.calls('POST /v2/models/question_answering/infer');
      expect(req?.headers['content-type']).to.equal('application/json');
      const body = json(req);
      expect(body.parameters).to.deep.equal({ binary_data_output: true });
      expect(body.inputs.map((i: { name: string; shape: number[]; datatype: string }) => [i.name, i.shape, i.datatype])).to.deep.equal([
        ['attention_mask', [4, 1], 'INT64'], ['input_ids', [4, 1], 'INT64'],
      ]);
      expect(body.inputs[0].data).to.have.length(4);
    });

    it('infer(): FP16 goes as binary tensor data after the JSON, bytes intact', async () => {
      fake.on('GET /v2/models/half', { body: '{"name":"half","versions":["1"],"platform":"onnxruntime_onnx","inputs":[{"name":"x","datatype":"FP16","shape":[-1,3]}],"outputs":[{"name":"y","datatype":"FP16","shape":[-1,3]}]}' })
        .on('GET /v2/models/half/config', { body: MNIST.replace('"max_batch_size":100', '"max_batch_size":4') })
        .on('POST /v2/models/half/infer', { body: '{"model_name":"half","outputs":[{"name":"y","datatype":"FP16","shape":[2,3],"data":[]}]}' });
      await adapter().infer('half', { batchSize: 2, data: 'random', seed: 1, timeoutMs: 1000 });
      const [req] = fake.calls('POST /v2/models/half/infer');
      const jsonLength = Number(req?.headers['inference-header-content-length']);
      expect(req?.headers['content-type']).to.equal('application/octet-stream');
      expect(req?.body.length).to.equal(jsonLength + 2 * 6);
      const header = JSON.parse(req?.body.subarray(0, jsonLength).toString('utf8') ?? '');
      expect(header.inputs[0]).to.deep.equal({ name: 'x', shape: [2, 3], datatype: 'FP16', parameters: { binary_data_size: 12 } });
      const tail = req?.body.subarray(jsonLength) ?? Buffer.alloc(0);
      for (let i = 0; i < tail.length; i += 2) {
        const h = tail.readUInt16LE(i);
        const value = 2 ** (((h >> 10) & 0x1f) - 15) * (1 + (h & 0x3ff) / 1024);
        expect(value).to.be.within(0.25, 1);
      }
    });

    it('infer(): a batch above max_batch_size is refused without a request', async () => {
      serveQa(8);
      const err = await rejection(adapter().infer('question_answering', { batchSize: 9, data: 'zero', timeoutMs: 1000 }));
      expect(err).to.include({ kind: 'unsupported' });
      expect(fake.calls('POST /v2/models/question_answering/infer')).to.have.length(0);
    });

    it('infer(): outputs for a different batch are malformed', async () => {
      serveQa(8);
      fake.on('POST /v2/models/question_answering/infer', binaryAnswer(2));
      const err = await rejection(adapter().infer('question_answering', { batchSize: 4, data: 'zero', timeoutMs: 1000 }));
      expect(err).to.include({ kind: 'malformed', status: 200 });
      expect(err.message).to.match(/output 'end_logits' has shape \[2, 1\] for a batch of 4/);
    });

    it('infer(): a refused request reads the inputs again next time', async () => {
      serveQa(8);
      fake.on('POST /v2/models/question_answering/infer', (_req, n) => (n === 0 ? { status: 400, body: '{"error":"unexpected shape for input \'input_ids\'"}' } : binaryAnswer(1)));
      const a = adapter();
      const err = await rejection(a.infer('question_answering', { batchSize: 1, data: 'zero', timeoutMs: 1000 }));
      expect(err).to.include({ kind: 'http', status: 400, endpoint: 'POST /v2/models/question_answering/infer' });
      expect(err.message).to.match(/unexpected shape/);
      await a.infer('question_answering', { batchSize: 1, data: 'zero', timeoutMs: 1000 });
      await a.infer('question_answering', { batchSize: 1, data: 'zero', timeoutMs: 1000 });
      expect(fake.calls('GET /v2/models/question_answering')).to.have.length(2);
    });
  });
});
