// The emulated TF Serving's REST API: model status, metadata (signature_def) and predict, errors
// as {"error": "..."} with the HTTP status of their TF status code, every answer counted.
import { EngineError } from '../engine/index.js';
import type { InferenceOutcome, ModelEngine } from '../engine/index.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { serveOnEngine } from '../common/serving.js';
import { columnarResponse, errorBody, parseTfJson, protoJson, rowResponse } from './json.js';
import type { TfServingMetrics } from './metrics.js';
import { TfStatus, invalid } from './status.js';
import { readTensor } from './tensor.js';
import type { TfServingEmulatorOptions } from './types.js';

const PREDICT_RE = /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const STATUS_RE = /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;
const SIGNATURE = 'serving_default';

export interface TfServingContext {
  readonly options: TfServingEmulatorOptions;
  /** The one version every model has. */
  readonly version: number;
  readonly batching: boolean;
  readonly engines: ReadonlyMap<string, ModelEngine>;
  readonly metrics: TfServingMetrics;
}

interface ModelSpec {
  readonly name: string;
  readonly version?: number;
  readonly label?: string;
}

export async function handleRest(ctx: TfServingContext, req: HttpRequest): Promise<HttpReply> {
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
    const out = post ? await predict(ctx, spec, (m[4] as string).toLowerCase(), req.body) : m[4] !== undefined ? metadata(ctx, spec) : status(ctx, spec);
    ctx.metrics.count(model, 'OK');
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: out };
  } catch (err) {
    if (!(err instanceof TfStatus)) throw err;
    ctx.metrics.count(model, err.code);
    return { status: err.http, headers: { 'Content-Type': 'application/json' }, body: errorBody(err.message) };
  }
}

/** The servable a predict or metadata request names, or TF's NOT_FOUND. */
function servable(ctx: TfServingContext, spec: ModelSpec): ModelEngine {
  if (spec.label !== undefined) throw invalid(`Unrecognized servable version label: ${spec.label}`);
  const engine = ctx.engines.get(spec.name);
  if (!engine || (spec.version !== undefined && spec.version !== ctx.version)) {
    const request = spec.version === undefined ? `Latest(${spec.name})` : `Specific(${spec.name}, ${spec.version})`;
    throw new TfStatus('NOT_FOUND', `Servable not found for request: ${request}`);
  }
  return engine;
}

function status(ctx: TfServingContext, spec: ModelSpec): string {
  const version = ctx.version;
  if (spec.name === '') throw invalid('Missing model name in request.');
  if (!ctx.engines.has(spec.name)) throw new TfStatus('NOT_FOUND', `Could not find any versions of model ${spec.name}`);
  if (spec.version !== undefined && spec.version !== version) throw new TfStatus('NOT_FOUND', `Could not find version ${spec.version} of model ${spec.name}`);
  return protoJson({ model_version_status: [{ version: String(version), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
}

function metadata(ctx: TfServingContext, spec: ModelSpec): string {
  if (spec.name === '') throw invalid('Missing model name in request.');
  servable(ctx, spec);
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
  const spec2 = { name: spec.name, signature_name: '', version: String(ctx.version) };
  // http_rest_api_util.cc ToJsonString concatenates the two protobuf printings.
  return `{\n"model_spec":${protoJson(spec2)},\n"metadata": {"signature_def": ${protoJson(signatures)}}\n}\n`;
}

async function predict(ctx: TfServingContext, spec: ModelSpec, method: string, body: Buffer): Promise<string> {
  const engine = servable(ctx, spec);
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
    throw invalid(ctx.batching
      ? `Task size ${batch} is larger than maximum input batch size ${engine.batching.maxBatch}`
      : `${spec.name}: ${batch} instances are past the largest profiled batch size ${engine.batching.maxBatch}; the emulator does not extrapolate`);
  }
  ctx.metrics.onTask(batch);
  let outcome: InferenceOutcome;
  try {
    outcome = await serveOnEngine(engine, Math.max(1, batch), ctx.options.requestOverheadMs);
  } catch (err) {
    if (err instanceof EngineError) {
      throw new TfStatus('UNAVAILABLE', err.kind === 'queue-full' ? 'The batch scheduling queue to which this task was submitted is full' : err.message);
    }
    throw err;
  }
  ctx.metrics.onServed(spec.name, method, outcome);
  // The emulated model echoes its input: y = x.
  return row ? rowResponse(values as unknown[]) : columnarResponse(values);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
