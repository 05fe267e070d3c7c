// An emulated TensorFlow Serving REST API on the paths, bodies and status codes of
// reference/server-apis.md §C: model status (versions as strings, F11), metadata (signature_def),
// predict in row ("instances") and columnar ("inputs") form with rapidjson's output format, errors
// as {"error": "..."} with the HTTP status of the TF status code, and Prometheus text at
// /monitoring/prometheus/metrics only when monitoring is enabled (404 otherwise, as the real
// server without a monitoring config).
//
// Every model has one version and one ModelEngine: num_batch_threads are replicas (per model in
// the emulator; one shared pool in the real server), max_batch_size and batch_timeout_micros its
// batching. A predict request of n instances is one batching task of size n. Each emulated model
// is a `serving_default` signature with input x and output y (DT_FLOAT) that echoes its input.
import { EngineError, ModelEngine } from './engine.js';
import { pause } from './deadline-timer.js';
import { startHttpServer } from './http.js';
import type { HttpReply, HttpRequest } from './http.js';
import { TfHistogram, escapeLabel } from './prometheus.js';
import { selectModels } from './profiles.js';
import type { EmulatedModel } from './profiles.js';
import { columnarResponse, errorBody, parseTfJson, protoJson, rowResponse } from './tfserving-json.js';
import type { ModelProfile } from '../core/model/types.js';

export const TF_PROMETHEUS_PATH = '/monitoring/prometheus/metrics';

export interface TfServingEmulatorOptions {
  readonly profiles: readonly ModelProfile[];
  /** Serve each model's profile on this hardware (default: each model's first profile). */
  readonly hardware?: string;
  readonly gpu?: boolean;
  /** REST port (0: a free one). Default 0. */
  readonly port?: number;
  /** A monitoring config with prometheus_config { enable: true }. Default false: the path is 404. */
  readonly monitoring?: boolean;
  /** prometheus_config.path. Default /monitoring/prometheus/metrics. */
  readonly monitoringPath?: string;
  /** --enable_batching. Default true in the emulator (the real server's default is false). */
  readonly enableBatching?: boolean;
  /** max_batch_size. Default: the profile's largest measured batch size. */
  readonly maxBatchSize?: number;
  /** batch_timeout_micros, in ms. Default 0. */
  readonly batchTimeoutMs?: number;
  /**
   * max_enqueued_batches: batches waiting for a thread, past which a predict is refused with 503
   * UNAVAILABLE. Default: unbounded (the real scheduler's default is 10).
   */
  readonly maxEnqueuedBatches?: number;
  /** num_batch_threads: batches of one model running at once. Default 1. */
  readonly numBatchThreads?: number;
  /** The one version every model has. Default 1. */
  readonly modelVersion?: number;
  /**
   * A fixed time (ms, fractional) added to every inference request outside the batching engine:
   * after its batch finishes, before the reply, as a real server's HTTP and (de)serialisation
   * work. Not counted in the server's statistics. Default 0 (docs/emulator.md has measured values).
   */
  readonly requestOverheadMs?: number;
  readonly now?: () => bigint;
}

export interface TfServingEmulator {
  readonly url: string;
  readonly port: number;
  /** The Prometheus URL, also when monitoring is off (it then answers 404). */
  readonly metricsUrl: string;
  readonly models: readonly EmulatedModel[];
  readonly skipped: readonly string[];
  engine(model: string): ModelEngine | undefined;
  stop(): Promise<void>;
}

/** A TF status: code name and HTTP status (http_server.cc ToHTTPStatusCode). */
class TfStatus extends Error {
  constructor(readonly code: 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'UNAVAILABLE' | 'INTERNAL', message: string) {
    super(message);
  }

  get http(): number {
    return { INVALID_ARGUMENT: 400, NOT_FOUND: 404, UNAVAILABLE: 503, INTERNAL: 500 }[this.code];
  }
}

const invalid = (m: string): TfStatus => new TfStatus('INVALID_ARGUMENT', m);
const PREDICT_RE = /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const STATUS_RE = /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;
const REST_RE = /^\/v1\/.*$/i;
const SIGNATURE = 'serving_default';

interface ModelSpec {
  readonly name: string;
  readonly version?: number;
  readonly label?: string;
}

export async function startTfServingEmulator(options: TfServingEmulatorOptions): Promise<TfServingEmulator> {
  const { models: selected, skipped } = selectModels(options.profiles, options.hardware, options.gpu);
  const version = options.modelVersion ?? 1;
  const batching = options.enableBatching ?? true;
  const threadPool = 'model_server_batch_threads';

  const requestCount = new Map<string, number>();
  const requestLatency = new TfHistogram(10, 1.8, 33);
  const runtimeLatency = new TfHistogram(10, 1.8, 33);
  const queuingLatency = new TfHistogram(100, 1.2, 52);
  const inputBatchSize = new TfHistogram(1, 2, 14);
  const processedBatchSize = new TfHistogram(1, 2, 14);
  let wrappedRuns = 0;

  const engines = new Map<string, ModelEngine>();
  for (const m of selected) {
    const maxBatch = batching ? (options.maxBatchSize ?? m.curve.maxBatch) : m.curve.maxBatch;
    engines.set(m.name, new ModelEngine({
      name: m.name,
      curve: m.curve,
      replicas: options.numBatchThreads ?? 1,
      maxBatch,
      maxQueueDelayMs: batching ? (options.batchTimeoutMs ?? 0) : 0,
      merge: batching,
      ...(batching && options.maxEnqueuedBatches !== undefined ? { queueCapacityBatches: options.maxEnqueuedBatches } : {}),
      delayOrigin: 'oldest-request',
      scaleDown: 'graceful',
      ...(options.now ? { now: options.now } : {}),
      onBatch: (b) => {
        if (!batching) return;
        wrappedRuns++;
        processedBatchSize.observe([], b.size);
        for (const q of b.queueNs) queuingLatency.observe([['thread_pool_name', threadPool]], Number(q) / 1000);
      },
    }));
  }

  /** The servable a predict or metadata request names, or TF's NOT_FOUND. */
  const servable = (spec: ModelSpec): ModelEngine => {
    if (spec.label !== undefined) throw invalid(`Unrecognized servable version label: ${spec.label}`);
    const engine = engines.get(spec.name);
    if (!engine || (spec.version !== undefined && spec.version !== version)) {
      const request = spec.version === undefined ? `Latest(${spec.name})` : `Specific(${spec.name}, ${spec.version})`;
      throw new TfStatus('NOT_FOUND', `Servable not found for request: ${request}`);
    }
    return engine;
  };

  const status = (spec: ModelSpec): string => {
    if (spec.name === '') throw invalid('Missing model name in request.');
    if (!engines.has(spec.name)) throw new TfStatus('NOT_FOUND', `Could not find any versions of model ${spec.name}`);
    if (spec.version !== undefined && spec.version !== version) throw new TfStatus('NOT_FOUND', `Could not find version ${spec.version} of model ${spec.name}`);
    return protoJson({ model_version_status: [{ version: String(version), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
  };

  const metadata = (spec: ModelSpec): string => {
    if (spec.name === '') throw invalid('Missing model name in request.');
    servable(spec);
    const tensor = (name: string) => ({
      dtype: 'DT_FLOAT',
      tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '1', name: '' }], unknown_rank: false },
      name,
    });
    const signatures = {
      signature_def: {
        [SIGNATURE]: { inputs: { x: tensor('x:0') }, outputs: { y: tensor('y:0') }, method_name: 'tensorflow/serving/predict', defaults: {} },
      },
    };
    const spec2 = { name: spec.name, signature_name: '', version: String(version) };
    // http_rest_api_util.cc ToJsonString concatenates the two protobuf printings.
    return `{\n"model_spec":${protoJson(spec2)},\n"metadata": {"signature_def": ${protoJson(signatures)}}\n}\n`;
  };

  const predict = async (spec: ModelSpec, method: string, body: Buffer): Promise<string> => {
    const engine = servable(spec);
    const parsed = parseTfJson(body.toString('utf8'));
    if (!parsed.ok) throw invalid(parsed.message);
    const doc = parsed.value;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(`JSON Value: ${JSON.stringify(doc)} Is not object`);
    const req = doc as Record<string, unknown>;
    const sig = req['signature_name'];
    if (sig !== undefined && typeof sig !== 'string') throw invalid(`JSON Value: ${JSON.stringify(req)} not formatted correctly. 'signature_name' key must be a string value.`);
    if (sig !== undefined && sig !== '' && sig !== SIGNATURE) throw invalid(`Serving signature name: "${sig}" not found in signature def`);
    if (method !== 'predict') {
      const want = method === 'classify' ? 'classification' : 'regression';
      throw invalid(`Expected ${want} signature method_name to be tensorflow/serving/${method}. Was: tensorflow/serving/predict`);
    }
    const { batch, row, values } = readTensor(req);
    if (batch > engine.batching.maxBatch) {
      throw invalid(batching
        ? `Task size ${batch} is larger than maximum input batch size ${engine.batching.maxBatch}`
        : `${spec.name}: ${batch} instances are past the largest profiled batch size ${engine.batching.maxBatch}; the emulator does not extrapolate`);
    }
    if (batching) inputBatchSize.observe([], batch);
    let outcome;
    try {
      outcome = await engine.submit(Math.max(1, batch));
      await pause(options.requestOverheadMs ?? 0);
    } catch (err) {
      if (err instanceof EngineError) {
        throw new TfStatus('UNAVAILABLE', err.kind === 'queue-full' ? 'The batch scheduling queue to which this task was submitted is full' : err.message);
      }
      throw err;
    }
    requestLatency.observe([['model_name', spec.name], ['API', method], ['entrypoint', 'REST']], Number(outcome.totalNs) / 1000);
    runtimeLatency.observe([['model_name', spec.name], ['API', 'Predict'], ['runtime', 'TF1']], Number(outcome.computeNs) / 1000);
    // The emulated model echoes its input: y = x.
    return row ? rowResponse(values as unknown[]) : columnarResponse(values);
  };

  const handleRest = async (req: HttpRequest): Promise<HttpReply> => {
    let model = '';
    try {
      const post = req.method === 'POST' ? PREDICT_RE.exec(req.path) : null;
      const get = req.method === 'GET' ? STATUS_RE.exec(req.path) : null;
      const m = post ?? get;
      if (!m) throw invalid(`Malformed request: ${req.method} ${req.path}`);
      model = decode(m[1] ?? '');
      const spec: ModelSpec = {
        name: model,
        ...(m[2] !== undefined ? { version: Number(m[2]) } : {}),
        ...(m[3] !== undefined ? { label: decode(m[3]) } : {}),
      };
      const out = post ? await predict(spec, (m[4] as string).toLowerCase(), req.body) : m[4] !== undefined ? metadata(spec) : status(spec);
      count(model, 'OK');
      return { status: 200, headers: { 'Content-Type': 'application/json' }, body: out };
    } catch (err) {
      if (!(err instanceof TfStatus)) throw err;
      count(model, err.code);
      return { status: err.http, headers: { 'Content-Type': 'application/json' }, body: errorBody(err.message) };
    }
  };

  const count = (model: string, code: string): void => {
    if (model === '') return;
    const key = `${model}\u0000${code}`;
    requestCount.set(key, (requestCount.get(key) ?? 0) + 1);
  };

  const prometheusText = (): string => {
    const lines = ['# TYPE :tensorflow:serving:request_count counter'];
    for (const [key, n] of requestCount) {
      const [model = '', code = ''] = key.split('\u0000');
      lines.push(`:tensorflow:serving:request_count{model_name="${escapeLabel(model)}",status="${code}"} ${n}`);
    }
    lines.push(...requestLatency.lines(':tensorflow:serving:request_latency'));
    lines.push(...runtimeLatency.lines(':tensorflow:serving:runtime_latency'));
    if (batching) {
      lines.push(...queuingLatency.lines(':tensorflow:serving:batching_session:queuing_latency'));
      lines.push(...inputBatchSize.lines(':tensorflow:serving:batching_session:input_batch_size'));
      lines.push(...processedBatchSize.lines(':tensorflow:serving:batching_session:processed_batch_size'));
      lines.push('# TYPE :tensorflow:serving:batching_session:wrapped_run_count counter');
      lines.push(`:tensorflow:serving:batching_session:wrapped_run_count{} ${wrappedRuns}`);
    }
    return `${lines.join('\n')}\n`;
  };

  const metricsPath = options.monitoringPath || TF_PROMETHEUS_PATH;
  const handle = (req: HttpRequest): HttpReply | Promise<HttpReply> => {
    if (options.monitoring && req.path === metricsPath) {
      return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: prometheusText() };
    }
    if (REST_RE.test(req.path)) return handleRest(req);
    // net_http answers paths no handler claims with a bare 404.
    return { status: 404 };
  };

  let server;
  try {
    server = await startHttpServer(options.port ?? 0, handle);
  } catch (err) {
    for (const e of engines.values()) e.stop();
    throw err;
  }
  const running = server;
  return {
    url: running.url,
    port: running.port,
    metricsUrl: `${running.url}${metricsPath}`,
    models: selected,
    skipped,
    engine: (model) => engines.get(model),
    stop: async () => {
      for (const e of engines.values()) e.stop();
      await running.close();
    },
  };
}

/** The tensor of a predict request: its batch size, row or columnar form, and its values. */
function readTensor(req: Record<string, unknown>): { batch: number; row: boolean; values: unknown } {
  const instances = req['instances'];
  const inputs = req['inputs'];
  const doc = JSON.stringify(req);
  if (instances !== undefined) {
    if (inputs !== undefined) throw invalid(`JSON Value: ${doc} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `);
    if (!Array.isArray(instances)) throw invalid(`JSON Value: ${doc} Excepting 'instances' to be an list/array`);
    if (instances.length === 0) throw invalid(`JSON Value: ${doc} No values in 'instances' array`);
    const objects = isObject(instances[0]);
    let first: { size: number; shape: number[] } | undefined;
    const values = instances.map((item, i) => {
      let value = item;
      if (objects) {
        if (!isObject(item)) throw invalid(`Expecting object but got list at item ${i} of input list`);
        const keys = Object.keys(item);
        if (keys.length !== 1 || keys[0] !== 'x') {
          throw invalid(`Failed to process element: ${i} of 'instances' list. JSON object: ${JSON.stringify(item)} keys must be equal to: x`);
        }
        value = item['x'];
      } else if (isObject(item)) {
        throw invalid(`Expecting value/list but got object at item ${i} of input list`);
      }
      const t = denseTensor(value, i);
      if (!first) first = t;
      else if (first.size !== t.size) {
        throw invalid(`Failed to process element: ${i} of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: ${first.size} but got: ${t.size}`);
      } else if (first.shape.join(',') !== t.shape.join(',')) {
        throw invalid(`Failed to process element: ${i} of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [${first.shape.join(',')}] but got: [${t.shape.join(',')}]`);
      }
      return value;
    });
    return { batch: instances.length, row: true, values };
  }
  if (inputs !== undefined) {
    let value: unknown = inputs;
    if (isObject(inputs)) {
      if (!('x' in inputs)) throw invalid("Missing named input: x in 'inputs' object.");
      value = inputs['x'];
    }
    const t = denseTensor(value, 0, false);
    return { batch: t.shape[0] ?? 1, row: false, values: value };
  }
  throw invalid("Missing 'inputs' or 'instances' key");
}

/** GetDenseTensorShape + FillTensorProto for a DT_FLOAT tensor, with TF's messages. */
function denseTensor(value: unknown, item: number, inInstances = true): { size: number; shape: number[] } {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  let size = 0;
  const wrap = (m: string): TfStatus => invalid(inInstances ? `Failed to process element: ${item} of 'instances' list. Error: INVALID_ARGUMENT: ${m}` : m);
  const fill = (v: unknown, level: number): void => {
    if (!Array.isArray(v)) {
      if (level !== shape.length) throw wrap(`JSON Value: ${JSON.stringify(v)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${shape.length}`);
      if (typeof v !== 'number') throw wrap(`JSON Value: ${JSON.stringify(v)} Type: ${jsonType(v)} is not of expected type: float`);
      size++;
      return;
    }
    if (level >= shape.length) throw wrap(`Encountered list at unexpected level: ${level} expected < ${shape.length}`);
    if (v.length !== shape[level]) throw wrap(`Encountered list at unexpected size: ${v.length} at level: ${level} expected size: ${shape[level]}`);
    for (const x of v) fill(x, level + 1);
  };
  fill(value, 0);
  return { size, shape };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'Null';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') return 'Number';
  return Array.isArray(v) ? 'Array' : 'Object';
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
