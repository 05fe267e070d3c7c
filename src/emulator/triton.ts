// An emulated NVIDIA Triton Inference Server (HTTP/REST, KServe v2 plus Triton's extensions), on
// the paths, bodies and status codes of reference/server-apis.md §A: health, server and model
// metadata, model config, statistics, the model repository extension (index, load with a config
// override, unload), inference (JSON and the binary tensor extension), restricted API groups, and
// Prometheus metrics on a separate port. Every model of a profile set is served by one
// ModelEngine: instances are replicas, dynamic_batching is the engine's batching.
import { EngineError, ModelEngine } from './engine.js';
import { pause } from './deadline-timer.js';
import type { EngineCounters } from './engine.js';
import { reply, startHttpServers } from './http.js';
// triton-grpc.js (and @grpc/grpc-js, about 13 MB) loads only for an emulator with a gRPC port:
// the CLI's every command imports this module, the agent included.
import type { RunningGrpcServer } from './triton-grpc.js';
import type { HttpReply, HttpRequest, RunningHttpServer } from './http.js';
import { stringifyJson } from './json.js';
import { selectModels } from './profiles.js';
import type { EmulatedModel } from './profiles.js';
import {
  INPUT_NAME, OUTPUT_NAME, TENSOR_DIMS, TRITON_MODEL_VERSION, TRITON_VERSION, configJson, initialServing, instanceCount,
  parseConfigOverride, sameExceptInstances, usesGpu,
} from './triton-config.js';
import type { TritonServing } from './triton-config.js';
import { metricsText, modelStatJson, sumCounters } from './triton-report.js';
import { RandomStream } from '../core/math/random.js';
import type { ModelProfile } from '../core/model/types.js';

export type TritonModelControlMode = 'explicit' | 'none';

/** The API groups of --http-restricted-api. */
export type TritonApiGroup =
  | 'health' | 'metadata' | 'inference' | 'shared-memory' | 'model-config' | 'model-repository' | 'statistics' | 'trace' | 'logging';

/** One --http-restricted-api entry: these groups need `header: value`. */
export interface TritonRestriction {
  readonly groups: readonly TritonApiGroup[];
  readonly header: string;
  readonly value: string;
}

export interface TritonEmulatorOptions {
  /** Profiles (e.g. from readProfileFile); every model is served. */
  readonly profiles: readonly ModelProfile[];
  /** Serve each model's profile on this hardware (default: each model's first profile). */
  readonly hardware?: string;
  /** Force GPU (KIND_GPU instances, gpu_uuid labels) or CPU; default: a hardware name containing "gpu". */
  readonly gpu?: boolean;
  /** HTTP port (0: a free one). Default 0. */
  readonly port?: number;
  /** Metrics port (0: a free one). Default 0. */
  readonly metricsPort?: number;
  /** gRPC port for the model-repository load (0: a free one); none when left out. */
  readonly grpcPort?: number;
  /** 'explicit' (default here) allows load/unload; 'none' answers them 503 like the real server's default. */
  readonly modelControlMode?: TritonModelControlMode;
  /** Instances per model at start (count of the one instance group). Default 1. */
  readonly instances?: number;
  /** max_batch_size at start. Default: the profile's largest measured batch size. */
  readonly maxBatchSize?: number;
  /** dynamic_batching.max_queue_delay_microseconds at start, in ms. Default 0. */
  readonly maxQueueDelayMs?: number;
  readonly preferredBatchSizes?: readonly number[];
  readonly restrictedApis?: readonly TritonRestriction[];
  /** How long a full (background) reload or a load takes. Default 50 ms. */
  readonly reloadDelayMs?: number;
  /** How long a new instance takes to be created by an in-place update. Default 0. */
  readonly instanceStartupMs?: number;
  /** Seeds the GPU UUID. Default 1. */
  readonly seed?: number;
  /**
   * A fixed time (ms, fractional) added to every inference request outside the batching engine:
   * after its batch finishes, before the reply, as a real server's HTTP and (de)serialisation
   * work. Not counted in the server's statistics. Default 0 (docs/emulator.md has measured values).
   */
  readonly requestOverheadMs?: number;
  /** Nanosecond time source for the statistics. */
  readonly now?: () => bigint;
}

export interface TritonEmulator {
  readonly url: string;
  readonly metricsUrl: string;
  readonly port: number;
  readonly metricsPort: number;
  /** host:port of the gRPC service, and its port, when grpcPort was given. */
  readonly grpcUrl?: string;
  readonly grpcPort?: number;
  readonly models: readonly EmulatedModel[];
  /** Models of the profiles not served (no profile on the hardware asked for). */
  readonly skipped: readonly string[];
  /** The engine serving a model now (undefined when unloaded). */
  engine(model: string): ModelEngine | undefined;
  stop(): Promise<void>;
}

type ModelState = 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE';

interface TritonModel {
  readonly model: EmulatedModel;
  serving: TritonServing;
  /** The last config override; it sticks for later loads without one. */
  override: TritonServing | undefined;
  state: ModelState;
  engine: ModelEngine | undefined;
  /** Earlier copies since the model was loaded: their counters keep the metrics going. */
  retired: ModelEngine[];
  /** Control operations on one model run one after another. */
  control: Promise<unknown>;
}

const EXTENSIONS = [
  'classification', 'sequence', 'model_repository', 'model_repository(unload_dependents)', 'schedule_policy', 'model_configuration',
  'system_shared_memory', 'cuda_shared_memory', 'binary_tensor_data', 'parameters', 'statistics', 'trace', 'logging',
];

const MODEL_RE = /^\/v2\/models\/([^/]+)(?:\/versions\/([0-9]+))?(?:\/(infer|generate|generate_stream|ready|config|stats|trace\/setting))?$/;
const CONTROL_RE = /^\/v2\/repository(?:\/([^/]+))?\/(index|models\/([^/]+)\/(load|unload))$/;
const SERVER_RE = /^\/v2(?:\/health\/(live|ready))?$/;
const METRICS_RE = /^\/metrics\/?$/;
const NOT_POLLING = 'explicit model load / unload is not allowed if polling is enabled';

export async function startTritonEmulator(options: TritonEmulatorOptions): Promise<TritonEmulator> {
  const { models: selected, skipped } = selectModels(options.profiles, options.hardware, options.gpu);
  const mode = options.modelControlMode ?? 'explicit';
  const reloadDelayMs = options.reloadDelayMs ?? 50;
  const restrictions = options.restrictedApis ?? [];
  const gpuUuid = makeGpuUuid(options.seed ?? 1);
  // Pending sleeps (reload and load delays), resolved early when the server stops.
  const sleepers = new Map<NodeJS.Timeout, () => void>();
  let stopped = false;

  const newEngine = (m: EmulatedModel, s: TritonServing): ModelEngine => new ModelEngine({
    name: m.name,
    curve: m.curve,
    replicas: instanceCount(s),
    maxBatch: Math.max(1, s.maxBatchSize),
    maxQueueDelayMs: (s.dynamicBatching?.maxQueueDelayUs ?? 0) / 1000,
    preferredBatchSizes: s.dynamicBatching?.preferredBatchSizes ?? [],
    merge: s.dynamicBatching !== undefined,
    delayOrigin: 'oldest-request',
    // The rate limiter's payload slots: batches form while instances are busy (docs/emulator.md).
    formAheadPerReplica: 2,
    scaleDown: 'graceful',
    replicaStartupMs: options.instanceStartupMs ?? 0,
    ...(options.now ? { now: options.now } : {}),
  });

  const table = new Map<string, TritonModel>();
  for (const m of selected) {
    const serving = initialServing(m, {
      instances: options.instances ?? 1,
      maxBatchSize: options.maxBatchSize ?? m.curve.maxBatch,
      maxQueueDelayMs: options.maxQueueDelayMs ?? 0,
      ...(options.preferredBatchSizes ? { preferredBatchSizes: options.preferredBatchSizes } : {}),
    });
    if (serving.maxBatchSize > m.curve.maxBatch) {
      throw new RangeError(`${m.name}: max batch size ${serving.maxBatchSize} is past the largest profiled batch size ${m.curve.maxBatch} on ${m.hardware}`);
    }
    table.set(m.name, { model: m, serving, override: undefined, state: 'READY', engine: newEngine(m, serving), retired: [], control: Promise.resolve() });
  }

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => {
      sleepers.delete(t);
      resolve();
    }, ms);
    sleepers.set(t, resolve);
  });

  const json = (status: number, body: unknown): HttpReply => reply(status, stringifyJson(body));
  const error = (status: number, message: string): HttpReply => json(status, { error: message });

  /** RETURN_AND_RESPOND_IF_RESTRICTED: 403 when a restricted group lacks its header. */
  /** The first restriction on `group` whose header the request lacks (HTTP headers, or gRPC metadata without its prefix). */
  const unmet = (headers: HttpRequest['headers'], group: TritonApiGroup): TritonRestriction | undefined =>
    restrictions.find((r) => r.groups.includes(group) && headers[r.header.toLowerCase()] !== r.value);
  const restricted = (req: HttpRequest, group: TritonApiGroup): HttpReply | undefined => {
    const r = unmet(req.headers, group);
    return r ? error(403, `This API is restricted, expecting header '${r.header}'`) : undefined;
  };

  /** The model a request names, ready; or the error Triton gives. */
  const readyModel = (name: string, version: string | undefined): TritonModel | HttpReply => {
    const t = table.get(name);
    if (!t) return error(404, `Request for unknown model: '${name}' is not found`);
    if (version !== undefined && version !== TRITON_MODEL_VERSION) return error(404, `Request for unknown model: '${name}' version ${version} is not found`);
    if (t.state !== 'READY' || !t.engine) return error(503, `Request for unknown model: '${name}' has no available versions`);
    return t;
  };

  const serverReady = (): boolean => [...table.values()].every((t) => t.state === 'READY' || t.state === 'UNAVAILABLE');

  const metadata = (t: TritonModel): Record<string, unknown> => {
    const shape = t.serving.maxBatchSize > 0 ? [-1, ...TENSOR_DIMS] : [...TENSOR_DIMS];
    return {
      name: t.model.name,
      versions: [TRITON_MODEL_VERSION],
      platform: 'python',
      inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape }],
      outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape }],
    };
  };

  const counters = (t: TritonModel): EngineCounters => t.engine?.counters() ?? sumCounters([]);

  // --- model repository extension -----------------------------------------------------------

  const index = (req: HttpRequest): HttpReply => {
    let readyOnly = false;
    if (req.body.length > 0) {
      const parsed = parseBody(req.body);
      if (!parsed.ok) return error(400, parsed.message);
      const ready = (parsed.value as Record<string, unknown> | null)?.['ready'];
      readyOnly = ready === true;
    }
    const entries = [...table.values()]
      .filter((t) => !readyOnly || t.state === 'READY')
      .map((t) => ({ name: t.model.name, version: TRITON_MODEL_VERSION, state: t.state, ...(t.state === 'UNAVAILABLE' ? { reason: 'unloaded' } : {}) }));
    return json(200, entries);
  };

  const load = async (name: string, req: HttpRequest): Promise<HttpReply> => {
    if (req.body.length === 0 || mode !== 'explicit' || !table.has(name)) return loadWith(name, undefined);
    const parsed = parseBody(req.body);
    if (!parsed.ok) return error(400, parsed.message);
    return loadWith(name, (parsed.value as { parameters?: Record<string, unknown> } | null)?.parameters ?? {});
  };

  /** A load with the request's parameters (undefined: no body), whichever protocol carried it. */
  const loadWith = async (name: string, params: Record<string, unknown> | undefined): Promise<HttpReply> => {
    if (mode !== 'explicit') return error(503, NOT_POLLING);
    const t = table.get(name);
    if (!t) return error(400, `failed to load '${name}', failed to poll from model repository`);
    let next: TritonServing | undefined;
    if (params !== undefined) {
      const fileParam = Object.keys(params).find((k) => k.startsWith('file:'));
      if (fileParam) return error(400, `failed to load '${name}': file overrides ('${fileParam}') are not emulated`);
      const config = params['config'];
      if (config !== undefined) {
        if (typeof config !== 'string') return error(400, `failed to load '${name}': the 'config' parameter must be a string holding the JSON of a ModelConfig`);
        const result = parseConfigOverride(config, t.model);
        if (!result.ok) return error(400, result.message);
        next = result.serving;
      }
    }
    const run = t.control.then(() => applyLoad(t, next));
    t.control = run.catch(() => undefined);
    await run;
    return stopped ? error(503, 'the server is shutting down') : reply(200);
  };

  const applyLoad = async (t: TritonModel, override: TritonServing | undefined): Promise<void> => {
    if (override) t.override = override;
    const next = override ?? t.override ?? t.serving;
    if (t.state === 'READY' && t.engine) {
      if (sameExceptInstances(t.serving, next)) {
        // Only instance_group changed: instances are added or retired in place; stats continue.
        t.serving = next;
        await t.engine.setReplicas(instanceCount(next));
        return;
      }
      // Anything else: a second copy loads in the background while the first one serves; then
      // they swap, the old copy finishes its requests, and the statistics start again.
      await sleep(reloadDelayMs);
      if (stopped) return;
      const old = t.engine;
      t.retired.push(old);
      t.engine = newEngine(t.model, next);
      t.serving = next;
      void old.drain().then(() => old.stop());
      return;
    }
    if (t.state === 'UNLOADING') await waitFor(() => t.state === 'UNAVAILABLE');
    t.state = 'LOADING';
    await sleep(reloadDelayMs);
    if (stopped) return;
    t.serving = next;
    t.engine = newEngine(t.model, next);
    t.retired = [];
    t.state = 'READY';
  };

  const waitFor = async (cond: () => boolean): Promise<void> => {
    while (!cond() && !stopped) await sleep(5);
  };

  const unload = (name: string): HttpReply => {
    if (mode !== 'explicit') return error(503, NOT_POLLING);
    const t = table.get(name);
    if (!t) return error(400, `failed to unload '${name}', model is not loaded`);
    t.control = t.control.then(async () => {
      const engine = t.engine;
      if (t.state !== 'READY' || !engine) return;
      // Returns at once; in-flight requests finish, then the model is gone with its series.
      t.state = 'UNLOADING';
      await engine.drain();
      engine.stop();
      for (const e of t.retired) e.stop();
      t.engine = undefined;
      t.retired = [];
      t.state = 'UNAVAILABLE';
    }).catch(() => undefined);
    return reply(200);
  };

  // --- inference -----------------------------------------------------------------------------

  const infer = async (t: TritonModel, req: HttpRequest): Promise<HttpReply> => {
    const engine = t.engine as ModelEngine;
    const name = t.model.name;
    const parsed = parseInferRequest(req, t.serving.maxBatchSize, name);
    if ('status' in parsed) {
      if (parsed.counted) engine.recordFailure('REJECTED');
      return parsed;
    }
    try {
      await engine.submit(parsed.batch);
      await pause(options.requestOverheadMs ?? 0);
    } catch (err) {
      if (err instanceof EngineError) return error(err.kind === 'too-large' ? 400 : 503, err.kind === 'too-large' ? `inference request batch-size must be <= ${t.serving.maxBatchSize} for '${name}'` : err.message);
      throw err;
    }
    const shape = t.serving.maxBatchSize > 0 ? [parsed.batch, ...TENSOR_DIMS] : [...TENSOR_DIMS];
    const wanted = parsed.outputs;
    const head: Record<string, unknown> = { model_name: name, model_version: TRITON_MODEL_VERSION, ...(parsed.id !== undefined ? { id: parsed.id } : {}) };
    if (wanted.binary) {
      const bytes = Buffer.from(parsed.values.buffer, parsed.values.byteOffset, parsed.values.byteLength);
      const text = JSON.stringify({ ...head, outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape, parameters: { binary_data_size: bytes.length } }] });
      return {
        status: 200,
        headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(Buffer.byteLength(text)) },
        body: Buffer.concat([Buffer.from(text), bytes]),
      };
    }
    return json(200, { ...head, outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape, data: Array.from(parsed.values) }] });
  };

  // --- routing ---------------------------------------------------------------------------------

  const handleApi = async (req: HttpRequest): Promise<HttpReply> => {
    const path = req.path;
    const get = req.method === 'GET';
    const post = req.method === 'POST';
    const notAllowed = error(405, 'Method Not Allowed');

    if (path === '/v2/models/stats') {
      const denied = restricted(req, 'statistics');
      if (denied) return denied;
      if (!get) return notAllowed;
      return json(200, { model_stats: [...table.values()].filter((t) => t.state === 'READY').map((t) => modelStatJson(t.model.name, counters(t))) });
    }
    const mm = MODEL_RE.exec(path);
    if (mm) {
      const [, name = '', version, action] = mm;
      switch (action) {
        case undefined: {
          const denied = restricted(req, 'metadata');
          if (denied) return denied;
          if (!get) return notAllowed;
          const t = readyModel(name, version);
          return 'status' in t ? t : json(200, metadata(t));
        }
        case 'ready': {
          const denied = restricted(req, 'health');
          if (denied) return denied;
          if (!get) return notAllowed;
          const t = table.get(name);
          if (!t) return error(400, `Request for unknown model: '${name}' is not found`);
          const ready = t.state === 'READY' && (version === undefined || version === TRITON_MODEL_VERSION);
          return ready ? reply(200) : error(400, 'Model version not ready');
        }
        case 'config': {
          const denied = restricted(req, 'model-config');
          if (denied) return denied;
          if (!get) return notAllowed;
          const t = readyModel(name, version);
          return 'status' in t ? t : json(200, configJson(t.model, t.serving));
        }
        case 'stats': {
          const denied = restricted(req, 'statistics');
          if (denied) return denied;
          if (!get) return notAllowed;
          const t = table.get(name);
          if (!t || t.state !== 'READY') return error(400, `requested model '${name}' is not available`);
          if (version !== undefined && version !== TRITON_MODEL_VERSION) return error(400, `requested model version is not available for model '${name}'`);
          return json(200, { model_stats: [modelStatJson(name, counters(t))] });
        }
        case 'infer': {
          const denied = restricted(req, 'inference');
          if (denied) return denied;
          if (!post) return notAllowed;
          const t = readyModel(name, version);
          return 'status' in t ? t : infer(t, req);
        }
        case 'trace/setting': {
          const denied = restricted(req, 'trace');
          if (denied) return denied;
          return error(400, 'the trace extension is not emulated');
        }
        default:
          return error(400, `'${action}' is not emulated`);
      }
    }
    const cm = CONTROL_RE.exec(path);
    if (cm) {
      const denied = restricted(req, 'model-repository');
      if (denied) return denied;
      if (!post) return notAllowed;
      const [, , what, name = '', op] = cm;
      if (what === 'index') return index(req);
      return op === 'load' ? load(name, req) : unload(name);
    }
    const sm = SERVER_RE.exec(path);
    if (sm) {
      const check = sm[1];
      const denied = restricted(req, check ? 'health' : 'metadata');
      if (denied) return denied;
      if (!get) return notAllowed;
      if (check === 'live') return reply(200);
      if (check === 'ready') return serverReady() ? reply(200) : reply(400);
      return json(200, { name: 'triton', version: TRITON_VERSION, extensions: EXTENSIONS });
    }
    return error(400, 'Not Found');
  };

  const handleMetrics = (req: HttpRequest): HttpReply => {
    if (req.method !== 'GET') return error(405, 'Method Not Allowed');
    if (!METRICS_RE.test(req.path)) return reply(404);
    const models = [...table.values()]
      .filter((t) => t.engine !== undefined)
      .map((t) => ({
        name: t.model.name,
        counters: sumCounters([...t.retired.map((e) => e.counters()), counters(t)]),
        pending: t.engine?.pendingRequests ?? 0,
        ...(usesGpu(t.serving) ? { gpuUuid } : {}),
      }));
    return reply(200, metricsText(models), 'text/plain; charset=utf-8');
  };

  let servers: RunningHttpServer[] = [];
  let grpcServer: RunningGrpcServer | undefined;
  try {
    servers = await startHttpServers([
      { port: options.port ?? 0, handler: handleApi },
      { port: options.metricsPort ?? 0, handler: handleMetrics },
    ]);
    if (options.grpcPort !== undefined) {
      const { startTritonGrpc } = await import('./triton-grpc.js');
      grpcServer = await startTritonGrpc(options.grpcPort, {
        missingHeader: (headers) => unmet(headers, 'model-repository')?.header.toLowerCase(),
        load: (name, params) => loadWith(name, params),
      }).catch(async (err: unknown) => {
        await Promise.all(servers.map((s) => s.close()));
        throw err;
      });
    }
  } catch (err) {
    for (const t of table.values()) t.engine?.stop();
    throw err;
  }
  const [api, metrics] = servers as [RunningHttpServer, RunningHttpServer];

  return {
    url: api.url,
    metricsUrl: `${metrics.url}/metrics`,
    port: api.port,
    metricsPort: metrics.port,
    ...(grpcServer ? { grpcUrl: grpcServer.target, grpcPort: grpcServer.port } : {}),
    models: selected,
    skipped,
    engine: (model) => table.get(model)?.engine,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const [t, wake] of sleepers) {
        clearTimeout(t);
        wake();
      }
      sleepers.clear();
      for (const t of table.values()) {
        t.engine?.stop();
        for (const e of t.retired) e.stop();
      }
      await Promise.all([api.close(), metrics.close(), grpcServer?.close()]);
    },
  };
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; message: string };

function parseBody(body: Buffer, length = body.length): ParsedBody {
  const text = body.subarray(0, length).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1] ?? '0';
    return { ok: false, message: `failed to parse the request JSON buffer: ${text.trim() === '' ? 'The document is empty.' : 'Invalid value.'} at ${text.trim() === '' ? '0' : at}` };
  }
}

interface ParsedInfer {
  readonly batch: number;
  readonly values: Float32Array;
  readonly id?: string;
  readonly outputs: { readonly binary: boolean };
}

type InferError = HttpReply & { readonly counted: boolean };

/** Reads a KServe v2 inference request (JSON, or JSON header plus binary tensors). */
function parseInferRequest(req: HttpRequest, maxBatchSize: number, model: string): ParsedInfer | InferError {
  const fail = (message: string, counted = true): InferError => ({ ...reply(400, JSON.stringify({ error: message })), counted });
  const headerLength = req.headers['inference-header-content-length'];
  let jsonLength = req.body.length;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > req.body.length) return fail('Inference-Header-Content-Length is not a valid length', false);
    if (n === 0) return fail('raw binary requests (Inference-Header-Content-Length: 0) are not emulated', false);
    jsonLength = n;
  }
  const parsed = parseBody(req.body, jsonLength);
  if (!parsed.ok) return fail(parsed.message, false);
  const body = parsed.value as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('failed to parse the request JSON buffer: the request must be a JSON object', false);
  const inputs = body['inputs'];
  if (!Array.isArray(inputs)) return fail("Unable to find 'inputs' in JSON request", false);
  if (inputs.length !== 1) return fail(`expected 1 inputs but got ${inputs.length} inputs for model '${model}'`);
  const input = inputs[0] as Record<string, unknown>;
  if (input['name'] !== INPUT_NAME) return fail(`unexpected inference input '${String(input['name'])}' for model '${model}'`);
  if (input['datatype'] !== 'FP32') return fail(`inference input '${INPUT_NAME}' data-type is '${String(input['datatype'])}', but model '${model}' expects 'FP32'`);
  const shape = input['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) return fail(`unable to parse 'shape' for input '${INPUT_NAME}'`);
  const dims = shape as number[];
  const expected = maxBatchSize > 0 ? [-1, ...TENSOR_DIMS] : [...TENSOR_DIMS];
  const tail = maxBatchSize > 0 ? dims.slice(1) : dims;
  if (dims.length !== expected.length || tail.some((d, i) => d !== TENSOR_DIMS[i])) {
    return fail(`unexpected shape for input '${INPUT_NAME}' for model '${model}'. Expected [${expected.join(',')}], got [${dims.join(',')}]`);
  }
  const batch = maxBatchSize > 0 ? (dims[0] as number) : 1;
  if (maxBatchSize > 0 && (batch < 1 || batch > maxBatchSize)) return fail(`inference request batch-size must be <= ${maxBatchSize} for '${model}'`);
  const elements = dims.reduce((a, b) => a * b, 1);

  let values: Float32Array;
  const params = (input['parameters'] ?? {}) as Record<string, unknown>;
  const binarySize = params['binary_data_size'];
  if (binarySize !== undefined) {
    const size = Number(binarySize);
    const available = req.body.length - jsonLength;
    if (!Number.isInteger(size) || size !== elements * 4 || size > available) {
      return fail(`unexpected number of bytes for input '${INPUT_NAME}', expecting ${elements * 4} bytes`);
    }
    values = new Float32Array(elements);
    for (let i = 0; i < elements; i++) values[i] = req.body.readFloatLE(jsonLength + i * 4);
  } else {
    const flat: unknown[] = [];
    flattenInto(input['data'], flat);
    if (flat.length !== elements || !flat.every((v) => typeof v === 'number')) {
      return fail(`unable to parse 'data': Shape does not match true shape of 'data' field`);
    }
    values = Float32Array.from(flat as number[]);
  }

  const requested = body['outputs'];
  const all = (body['parameters'] as Record<string, unknown> | undefined)?.['binary_data_output'] === true;
  let binary = all;
  if (Array.isArray(requested)) {
    for (const o of requested as Record<string, unknown>[]) {
      if (o['name'] !== OUTPUT_NAME) return fail(`unexpected inference output '${String(o['name'])}' for model '${model}'`);
      const p = o['parameters'] as Record<string, unknown> | undefined;
      if (p?.['binary_data'] === true) binary = true;
      if (p?.['binary_data'] === false) binary = false;
    }
  }
  const id = body['id'];
  return { batch, values, ...(typeof id === 'string' ? { id } : {}), outputs: { binary } };
}

function flattenInto(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) flattenInto(x, out);
  else out.push(v);
}

/** A GPU UUID in nvidia-smi's form, from the seed. */
function makeGpuUuid(seed: number): string {
  const r = new RandomStream(seed, 'triton-gpu-uuid');
  const hex = Array.from({ length: 4 }, () => r.nextUint32().toString(16).padStart(8, '0')).join('');
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
