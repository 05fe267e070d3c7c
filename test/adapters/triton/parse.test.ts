import { expect } from 'chai';
import { MalformedBodyError } from '../../../adapters/triton/errors.js';
import {
  inputSpecsOf, isExplicitModeRefusal, modelStatusOf, parseErrorBody, parseInferResponse, parseMetrics, parseModelConfig,
  parseModelMetadata, parseRepositoryIndex, parseServerMetadata, parseStats, sumOverGpus, withPending,
} from '../../../adapters/triton/parse.js';
import type { IndexEntry } from '../../../adapters/triton/parse.js';
import type { ModelCounters } from '../../../src/ports/server-adapter.js';
import { fixture, fixtureJson } from './fixtures.js';

function malformed(parse: () => unknown): MalformedBodyError {
  try {
    parse();
  } catch (err) {
    expect(err).to.be.instanceOf(MalformedBodyError);
    return err as MalformedBodyError;
  }
  throw new Error('expected the body to be rejected');
}

/** F1 as an object, changed by `edit`, written back as JSON. */
function f1With(edit: (stat: Record<string, any>) => void): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const body = fixtureJson('stats-f1.json') as { model_stats: Record<string, unknown>[] };
  edit(body.model_stats[0] as Record<string, unknown>);
  return JSON.stringify(body);
}

const HTML_PAGE = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';
const READY: IndexEntry[] = [{ name: 'm', version: '1', state: 'READY' }];

describe('triton parse: statistics (§A.9, F1)', () => {
  it('reads F1 into counters: requests, inferences, executions, queue and compute ns, per batch size', () => {
    const want: ModelCounters[] = [{
      model: 'peoplenet', version: '1',
      requests: 6n, failures: 0n, inferences: 6n, executions: 2n,
      queueNs: 49271380n,
      computeNs: 170634044n + 338079193n + 950544n,
      batchSizes: [
        { batchSize: 1, executions: 1n, computeNs: 15955684n + 29917093n + 152264n },
        { batchSize: 5, executions: 1n, computeNs: 30935672n + 61632420n + 159656n },
      ],
    }];
    expect(parseStats(fixture('stats-f1.json'))).to.deep.equal(want);
  });

  it('per batch size counts executions; the model-level sums weigh each execution by its batch size', () => {
    const [s] = parseStats(fixture('stats-f1.json'));
    const sizes = s?.batchSizes ?? [];
    expect(sizes.reduce((n, b) => n + b.executions, 0n)).to.equal(s?.executions);
    expect(sizes.reduce((n, b) => n + BigInt(b.batchSize) * b.executions, 0n)).to.equal(s?.inferences);
    // F1 shows it exactly: 1 × (batch-1 time) + 5 × (batch-5 time) = the model's compute ns.
    expect(sizes.reduce((n, b) => n + BigInt(b.batchSize) * b.computeNs, 0n)).to.equal(s?.computeNs);
  });

  it('keeps counters above 2^53 exact', () => {
    const body = fixture('stats-f1.json')
      .replace('"ns":49271380', '"ns":18446744073709551615')
      .replace('"ns":338079193', '"ns":9007199254740993');
    const [s] = parseStats(body);
    expect(s?.queueNs).to.equal(18446744073709551615n);
    expect(s?.computeNs).to.equal(170634044n + 9007199254740993n + 950544n);
  });

  it('reads a body without the optional fields, and without batch_stats', () => {
    const [s] = parseStats(f1With((st) => delete st['batch_stats']));
    expect(s?.batchSizes).to.equal(undefined);
    expect(s?.requests).to.equal(6n);
  });

  it('reads every model of GET /v2/models/stats', () => {
    const one = (fixtureJson('stats-f1.json') as { model_stats: unknown[] }).model_stats[0];
    const body = JSON.stringify({ model_stats: [one, { ...(one as object), name: 'other', version: '2' }] });
    expect(parseStats(body).map((s) => `${s.model}/${s.version}`)).to.deep.equal(['peoplenet/1', 'other/2']);
  });

  const bad: { name: string; given: string; want: RegExp }[] = [
    { name: 'a negative counter', given: f1With((s) => { s['inference_stats'].fail.count = -1; }), want: /model_stats\[0\]\.inference_stats\.fail\.count: a counter cannot be negative/ },
    { name: 'a negative counter beyond 2^53', given: fixture('stats-f1.json').replace('"ns":49271380', '"ns":-18446744073709551615'), want: /queue\.ns: a counter cannot be negative/ },
    { name: 'a fractional counter', given: f1With((s) => { s['execution_count'] = 2.5; }), want: /execution_count: expected an exact integer/ },
    { name: 'a counter as a string', given: f1With((s) => { s['inference_count'] = '6'; }), want: /inference_count: expected a non-negative integer, found a string/ },
    { name: 'a missing stage', given: f1With((s) => delete s['inference_stats'].queue), want: /inference_stats\.queue: missing/ },
    { name: 'a name that is not a string', given: f1With((s) => { s['name'] = 7; }), want: /model_stats\[0\]\.name: expected a string/ },
    { name: 'batch size 0', given: f1With((s) => { s['batch_stats'][0].batch_size = 0; }), want: /batch_stats\[0\]\.batch_size: expected at least 1/ },
    { name: 'a batch size beyond 2^53 (not a counter)', given: fixture('stats-f1.json').replace('"batch_size":5', '"batch_size":9007199254740993'), want: /batch_size: integer 9007199254740993 is out of range/ },
    { name: 'a batch size twice', given: f1With((s) => { s['batch_stats'][1].batch_size = 1; }), want: /batch size 1 appears twice/ },
    { name: 'model_stats not an array', given: '{"model_stats":{}}', want: /model_stats: expected an array, found an object/ },
    { name: 'truncated JSON', given: fixture('stats-f1.json').slice(0, 700), want: /not JSON: unterminated string/ },
    { name: 'JSON cut between values', given: fixture('stats-f1.json').split('"compute_output"')[0] ?? '', want: /not JSON: unexpected end of JSON/ },
    { name: 'an HTML error page', given: HTML_PAGE, want: /an HTML or XML page, not JSON/ },
    { name: 'an empty body', given: '', want: /empty body/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      expect(malformed(() => parseStats(c.given)).message).to.match(c.want);
    });
  }
});

describe('triton parse: model config and status (§A.6)', () => {
  it('reads the mnist_cnn config: one KIND_GPU instance, dynamic batching up to 100 with no delay', () => {
    const config = parseModelConfig(fixture('config-mnist-cnn.json'));
    expect(modelStatusOf('mnist_cnn', READY, config)).to.deep.equal({
      model: 'mnist_cnn', version: '1', ready: true, replicas: 1, device: 'gpu', maxBatchSize: 100, batchDelayMs: 0,
    });
  });

  it('reads the densenet_onnx config (Triton 24.03): two CPU instances, max_batch_size 0 reported as 1', () => {
    const config = parseModelConfig(fixture('config-densenet-onnx.json'));
    expect(config.maxBatchSize).to.equal(0);
    expect(modelStatusOf('densenet_onnx', READY, config)).to.deep.equal({
      model: 'densenet_onnx', version: '1', ready: true, replicas: 2, device: 'cpu', maxBatchSize: 1,
    });
  });

  const base = fixtureJson('config-mnist-cnn.json');
  const withGroups = (groups: unknown[], extra: Record<string, unknown> = {}): string => JSON.stringify({ ...base, instance_group: groups, ...extra });
  const statuses: { name: string; given: string; want: { replicas: number; device: string; maxBatchSize?: number; batchDelayMs?: number } }[] = [
    { name: 'KIND_CPU', given: withGroups([{ kind: 'KIND_CPU', count: 3 }]), want: { replicas: 3, device: 'cpu' } },
    { name: 'KIND_AUTO left over', given: withGroups([{ kind: 'KIND_AUTO', count: 1 }]), want: { replicas: 1, device: 'unknown' } },
    { name: 'KIND_MODEL', given: withGroups([{ kind: 'KIND_MODEL', count: 1 }]), want: { replicas: 1, device: 'unknown' } },
    { name: 'kind absent (protobuf default AUTO)', given: withGroups([{ count: 2 }]), want: { replicas: 2, device: 'unknown' } },
    { name: 'GPU and CPU groups', given: withGroups([{ kind: 'KIND_GPU', count: 2 }, { kind: 'KIND_CPU', count: 1 }]), want: { replicas: 3, device: 'unknown' } },
    { name: 'two GPU groups', given: withGroups([{ kind: 'KIND_GPU', count: 2, gpus: [0] }, { kind: 'KIND_GPU', count: 1, gpus: [1] }]), want: { replicas: 3, device: 'gpu' } },
    { name: 'count 0 runs one', given: withGroups([{ kind: 'KIND_CPU', count: 0 }]), want: { replicas: 1, device: 'cpu' } },
    { name: 'no groups (ensemble)', given: withGroups([], { platform: 'ensemble' }), want: { replicas: 0, device: 'unknown' } },
    { name: 'a 2500 µs delay', given: JSON.stringify({ ...base, dynamic_batching: { max_queue_delay_microseconds: 2500 } }), want: { replicas: 1, device: 'gpu', batchDelayMs: 2.5 } },
    { name: 'no dynamic batcher: no delay', given: JSON.stringify({ ...base, dynamic_batching: undefined, max_batch_size: 8 }), want: { replicas: 1, device: 'gpu', maxBatchSize: 8, batchDelayMs: undefined } },
  ];
  for (const c of statuses) {
    it(`status of ${c.name}`, () => {
      const s = modelStatusOf('m', READY, parseModelConfig(c.given));
      expect({ replicas: s.replicas, device: s.device }).to.deep.equal({ replicas: c.want.replicas, device: c.want.device });
      if (c.want.maxBatchSize !== undefined) expect(s.maxBatchSize).to.equal(c.want.maxBatchSize);
      if ('batchDelayMs' in c.want) expect(s.batchDelayMs).to.equal(c.want.batchDelayMs);
    });
  }

  it('a model not loaded has no instances and no config', () => {
    const entries: IndexEntry[] = [{ name: 'm', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' }];
    expect(modelStatusOf('m', entries, undefined)).to.deep.equal({ model: 'm', version: '1', ready: false, replicas: 0, device: 'unknown', maxBatchSize: 1 });
    expect(modelStatusOf('never', [{ name: 'never' }], undefined)).to.deep.equal({ model: 'never', ready: false, replicas: 0, device: 'unknown', maxBatchSize: 1 });
  });

  it('with several versions, reports the highest ready one', () => {
    const entries: IndexEntry[] = [
      { name: 'm', version: '2', state: 'READY' }, { name: 'm', version: '10', state: 'READY' }, { name: 'm', version: '11', state: 'UNAVAILABLE' },
    ];
    expect(modelStatusOf('m', entries, parseModelConfig(fixture('config-mnist-cnn.json'))).version).to.equal('10');
  });

  const bad: { name: string; given: string; want: RegExp }[] = [
    { name: 'max_batch_size as a string', given: JSON.stringify({ ...base, max_batch_size: '8' }), want: /max_batch_size: expected an integer, found a string/ },
    { name: 'max_batch_size beyond 2^53', given: fixture('config-mnist-cnn.json').replace('"max_batch_size":100', '"max_batch_size":9007199254740993'), want: /max_batch_size: integer 9007199254740993 is out of range/ },
    { name: 'a negative instance count', given: withGroups([{ kind: 'KIND_GPU', count: -1 }]), want: /instance_group\[0\]\.count: expected at least 0/ },
    { name: 'instance_group not an array', given: JSON.stringify({ ...base, instance_group: {} }), want: /instance_group: expected an array/ },
    { name: 'a delay as a string', given: JSON.stringify({ ...base, dynamic_batching: { max_queue_delay_microseconds: '100' } }), want: /dynamic_batching\.max_queue_delay_microseconds/ },
    { name: 'no name', given: JSON.stringify({ ...base, name: undefined }), want: /name: missing/ },
    { name: 'the empty config (Triton writes it as an empty string)', given: '', want: /empty body/ },
    { name: 'truncated JSON', given: fixture('config-mnist-cnn.json').slice(0, 400), want: /not JSON/ },
    { name: 'an array', given: '[]', want: /expected an object, found an array/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      expect(malformed(() => parseModelConfig(c.given)).message).to.match(c.want);
    });
  }
});

describe('triton parse: repository index (§A.8)', () => {
  it('reads a recorded index', () => {
    const entries = parseRepositoryIndex(fixture('index-ensemble.json'));
    expect(entries.map((e) => e.name)).to.deep.equal(['ensemble_python_resnet50', 'postprocessing', 'preprocessing', 'resnet50_trt']);
    expect(entries.every((e) => e.state === 'READY' && e.version === '1')).to.equal(true);
  });

  it('reads the shapes the code writes: a name only, a reason only when not empty', () => {
    const body = '[{"name":"never_loaded"},{"name":"m","version":"1","state":"UNAVAILABLE","reason":"unloaded"},{"name":"m","version":"2","state":"LOADING"}]';
    expect(parseRepositoryIndex(body)).to.deep.equal([
      { name: 'never_loaded' },
      { name: 'm', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
      { name: 'm', version: '2', state: 'LOADING' },
    ]);
  });

  const bad: { name: string; given: string; want: RegExp }[] = [
    { name: 'an object instead of an array', given: '{"models":[]}', want: /expected an array/ },
    { name: 'an entry without a name', given: '[{"version":"1","state":"READY"}]', want: /\[0\]\.name: missing/ },
    { name: 'a numeric version', given: '[{"name":"m","version":1}]', want: /\[0\]\.version: expected a string, found a number/ },
    { name: 'an HTML page', given: HTML_PAGE, want: /HTML/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      expect(malformed(() => parseRepositoryIndex(c.given)).message).to.match(c.want);
    });
  }
});

describe('triton parse: model and server metadata (§A.4, §A.5)', () => {
  it('keeps the shape of a model without a batch dimension (max_batch_size 0)', () => {
    const meta = parseModelMetadata(fixture('metadata-densenet-onnx.json'));
    expect(meta.platform).to.equal('onnxruntime_onnx');
    expect(inputSpecsOf(meta, 0)).to.deep.equal([{ name: 'data_0', datatype: 'FP32', shape: [1, 3, 224, 224] }]);
  });

  it('drops the leading -1 of a batching model, keeping variable dimensions', () => {
    const meta = parseModelMetadata(fixture('metadata-question-answering.json'));
    expect(inputSpecsOf(meta, 8)).to.deep.equal([
      { name: 'attention_mask', datatype: 'INT64', shape: [-1] },
      { name: 'input_ids', datatype: 'INT64', shape: [-1] },
    ]);
  });

  const bad: { name: string; given: () => unknown; want: RegExp }[] = [
    { name: 'a batching model whose shape has no batch dimension', given: () => inputSpecsOf(parseModelMetadata(fixture('metadata-densenet-onnx.json')), 4), want: /inputs\[0\]\.shape: a batching model's shape starts with -1/ },
    { name: 'a dimension below -1', given: () => parseModelMetadata(fixture('metadata-densenet-onnx.json').replace('[1,3,224,224]', '[1,3,-2,224]')), want: /inputs\[0\]\.shape\[2\]: expected at least -1/ },
    { name: 'a dimension beyond 2^53', given: () => parseModelMetadata(fixture('metadata-densenet-onnx.json').replace('[1,3,224,224]', '[1,3,9007199254740993,224]')), want: /out of range/ },
    { name: 'a datatype that is not a string', given: () => parseModelMetadata(fixture('metadata-densenet-onnx.json').replace('"datatype":"FP32"', '"datatype":11')), want: /inputs\[0\]\.datatype: expected a string/ },
    { name: 'no inputs', given: () => parseModelMetadata('{"name":"m","outputs":[]}'), want: /inputs: missing/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      expect(malformed(c.given).message).to.match(c.want);
    });
  }

  it('reads the server metadata of Triton 2.23 and its extensions', () => {
    const meta = parseServerMetadata(fixture('server-metadata-2.23.json'));
    expect(meta.name).to.equal('triton');
    expect(meta.version).to.equal('2.23.0');
    expect(meta.extensions).to.include.members(['model_repository', 'statistics']);
  });
});

describe('triton parse: metrics (§A.10)', () => {
  it('reads the summary example (F2)', () => {
    const samples = parseMetrics(fixture('metrics-f2-summary.txt'));
    expect(samples).to.have.length(7);
    expect(samples.find((s) => s.labels['quantile'] === '0.99')?.value).to.equal(101);
    expect(samples.find((s) => s.name === 'nv_inference_queue_summary_us_count')?.value).to.equal(161);
  });

  it('sums one model across its GPUs; a series without gpu_uuid is a model of its own or is added in', () => {
    const samples = parseMetrics(fixture('metrics-multi-gpu.txt'));
    const totals = sumOverGpus(samples, 'nv_inference_request_success');
    const byModel = Object.fromEntries(totals.map((s) => [s.labels['model'], s]));
    expect(byModel['distilgpt2_cola']).to.deep.equal({ name: 'nv_inference_request_success', labels: { model: 'distilgpt2_cola', version: '0' }, value: 604 });
    expect(byModel['gpt_neo_cola_ensemble']?.value).to.equal(1208);
    expect(totals).to.have.length(6);
    expect(sumOverGpus(samples, 'nv_inference_queue_duration_us').find((s) => s.labels['model'] === 'distilgpt2_cola')?.value).to.equal(2550 + 58356 + 2496 + 2554);
  });

  it('adds the model-level series (no gpu_uuid) to the per-GPU ones and keeps other labels apart', () => {
    const text = [
      'nv_inference_request_failure{model="m",reason="REJECTED",version="1"} 2',
      'nv_inference_request_failure{gpu_uuid="GPU-a",model="m",reason="BACKEND",version="1"} 1',
      'nv_inference_request_failure{gpu_uuid="GPU-b",model="m",reason="BACKEND",version="1"} 3',
      'nv_inference_request_failure{model="m",reason="BACKEND",version="1"} 5',
    ].join('\n');
    const totals = sumOverGpus(parseMetrics(text), 'nv_inference_request_failure');
    expect(totals).to.deep.equal([
      { name: 'nv_inference_request_failure', labels: { model: 'm', reason: 'REJECTED', version: '1' }, value: 2 },
      { name: 'nv_inference_request_failure', labels: { model: 'm', reason: 'BACKEND', version: '1' }, value: 9 },
    ]);
  });

  it('rejects an HTML page and text that is not Prometheus', () => {
    expect(malformed(() => parseMetrics(HTML_PAGE)).message).to.match(/HTML/);
    expect(malformed(() => parseMetrics('{"error":"x"}')).message).to.match(/not Prometheus text: line 1/);
    expect(malformed(() => parseMetrics('nv_gpu_utilization{gpu_uuid="GPU-a"} lots')).message).to.match(/not a number/);
  });
});

describe('triton parse: inference responses and error bodies (§A.7, §A.2)', () => {
  it('reads the JSON part of F3', () => {
    expect(parseInferResponse(fixture('infer-response-f3.json'))).to.deep.equal({ outputs: [{ name: 'output0', datatype: 'FP32', shape: [3, 2] }] });
  });

  it('reads the JSON header of a binary response, whatever the bytes after it decode to', () => {
    const json = Buffer.from(fixture('infer-response-f3.json').trim(), 'utf8');
    const raw = Buffer.from([0x00, 0x00, 0x80, 0x3f, 0xff, 0xfe, 0xc3, 0x28, 0, 0, 0, 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 0x9f, 0x92, 0x96, 0xe2]);
    const asText = Buffer.concat([json, raw]).toString('utf8'); // what an HTTP client reading text sees
    expect(parseInferResponse(asText, String(json.length)).outputs[0]?.shape).to.deep.equal([3, 2]);
  });

  it('rejects a header length beyond the body and outputs of the wrong type', () => {
    expect(malformed(() => parseInferResponse('{"outputs":[]}', '999')).message).to.match(/does not fit a 14-byte body/);
    expect(malformed(() => parseInferResponse('{"model_name":"m","outputs":{}}')).message).to.match(/outputs: expected an array/);
    expect(malformed(() => parseInferResponse('{"model_name":"m","outputs":[{"name":"o","datatype":"FP32","shape":["3"]}]}')).message).to.match(/outputs\[0\]\.shape\[0\]/);
  });

  it('reads error bodies and recognises the explicit-mode refusal only as a 503', () => {
    const refusal = parseErrorBody(fixture('error-explicit-mode.json'));
    expect(refusal).to.equal('explicit model load / unload is not allowed if polling is enabled');
    expect(isExplicitModeRefusal(503, refusal)).to.equal(true);
    expect(isExplicitModeRefusal(400, refusal)).to.equal(false);
    const notReady = parseErrorBody(fixture('error-model-not-ready.json'));
    expect(notReady).to.equal('Model version not ready');
    expect(isExplicitModeRefusal(503, notReady)).to.equal(false);
    expect(parseErrorBody(HTML_PAGE)).to.equal(undefined);
    expect(parseErrorBody('{"error":42}')).to.equal(undefined);
  });
});

describe('triton parse: pending requests from the metrics (§A.10)', () => {
  const text = [
    '# TYPE nv_inference_pending_request_count gauge',
    'nv_inference_pending_request_count{model="a",version="1",gpu_uuid="GPU-0"} 3',
    'nv_inference_pending_request_count{model="a",version="1",gpu_uuid="GPU-1"} 4',
    'nv_inference_pending_request_count{model="b",version="2"} 0',
    '',
  ].join('\n');
  const counters: ModelCounters[] = [
    { model: 'a', version: '1', requests: 10n, failures: 0n },
    { model: 'b', version: '2', requests: 1n, failures: 0n },
    { model: 'c', version: '1', requests: 0n, failures: 0n },
  ];
  it('sums a version\'s pending requests over GPUs; a model the metrics do not list gets none', () => {
    const out = withPending(counters, parseMetrics(text));
    expect(out.map((c) => [c.model, c.pending])).to.deep.equal([['a', 7], ['b', 0], ['c', undefined]]);
    expect(out[0]?.requests).to.equal(10n);
  });
  it('ignores negative or missing values', () => {
    const bad = withPending(counters, parseMetrics('nv_inference_pending_request_count{model="a",version="1"} -2\n'));
    expect(bad[0]?.pending).to.equal(undefined);
  });
});
