// An emulated TorchServe 0.12 on the paths, bodies and status codes of
// reference/server-apis.md §B: the inference API (/ping, /predictions/{m}[/{v}]), the management
// API (list, describe as an array, scale workers, register a version, set-default, unregister)
// and the metrics API, each on its own port, with the defaults that block a sidecar: token
// authorization on (400 InvalidKeyException), enable_model_api off (405 on register and
// unregister) and metrics_mode=log (an empty /metrics).
//
// Every model version is served by its own ModelEngine: workers are replicas, batch_size and
// max_batch_delay are its batching (the delay counted from when a worker took its first job),
// job_queue_size bounds its queue, and removing a busy worker puts its batch back at the head of
// the queue, as 0.12 does (WorkerThread.shutdown → BatchAggregator.sendError(null) →
// Model.addFirst; the real server sometimes loses a race to the worker's own cleanup and fails
// the batch with 500 "Worker died.", which is not emulated). /predictions requests are single
// queries; the engine batches them.
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { EngineError, ModelEngine } from './engine.js';
import type { ScaleDownPolicy } from './engine.js';
import { pause } from './deadline-timer.js';
import { startHttpServers } from './http.js';
import type { HttpReply, HttpRequest } from './http.js';
import { selectModels } from './profiles.js';
import type { EmulatedModel } from './profiles.js';
import { TokenStore } from './torchserve-auth.js';
import type { TorchServeKeys } from './torchserve-auth.js';
import { TorchServeMetrics } from './torchserve-metrics.js';
import type { TorchServeMetricsMode } from './torchserve-metrics.js';
import type { ModelProfile } from '../core/model/types.js';

export type { TorchServeMetricsMode } from './torchserve-metrics.js';
export type { TorchServeKeys } from './torchserve-auth.js';

export interface TorchServeEmulatorOptions {
  readonly profiles: readonly ModelProfile[];
  /** Serve each model's profile on this hardware (default: each model's first profile). */
  readonly hardware?: string;
  /** Force GPU workers (gpu: true in describe) or CPU; default: a hardware name containing "gpu". */
  readonly gpu?: boolean;
  /** Inference, management and metrics ports (0: a free one). Default 0. */
  readonly inferencePort?: number;
  readonly managementPort?: number;
  readonly metricsPort?: number;
  /** Workers per model at start (minWorkers = maxWorkers). Default 1. */
  readonly workers?: number;
  /** batch_size of the models registered at start. Default 1 (TorchServe's default). */
  readonly batchSize?: number;
  /** max_batch_delay (ms) of the models registered at start. Default 100. */
  readonly maxBatchDelayMs?: number;
  /** Token authorization; default true (TorchServe ≥ 0.11.1). */
  readonly tokenAuth?: boolean;
  /** Where key_file.json is written when token auth is on. Default: ./key_file.json, like TorchServe. */
  readonly keyFile?: string;
  /** Minutes the management and inference keys stay valid. Default 60. */
  readonly tokenExpirationMin?: number;
  /** enable_model_api; default false: register and unregister answer 405. */
  readonly enableModelApi?: boolean;
  /** metrics_mode; default 'log' (an empty /metrics body). */
  readonly metricsMode?: TorchServeMetricsMode;
  /** job_queue_size per model version. Default 100. */
  readonly jobQueueSize?: number;
  /** Time a new worker takes to load its model. Default 0. */
  readonly workerStartupMs?: number;
  /**
   * What a removed busy worker does with its batch: 'requeue' (default, TorchServe 0.12) or
   * 'fail-in-flight' (500 "Worker scaled down.": a removal that does not drain, for tests).
   */
  readonly workerRemoval?: Exclude<ScaleDownPolicy, 'graceful'>;
  /** The hostname label. Default os.hostname(). */
  readonly hostname?: string;
  /** Seeds the keys (random when absent). */
  readonly seed?: number;
  /**
   * A fixed time (ms, fractional) added to every inference request outside the batching engine:
   * after its batch finishes, before the reply, as a real server's HTTP and (de)serialisation
   * work. Not counted in the server's statistics. Default 0 (docs/emulator.md has measured values).
   */
  readonly requestOverheadMs?: number;
  readonly now?: () => bigint;
}

export interface TorchServeEmulator {
  readonly inferenceUrl: string;
  readonly managementUrl: string;
  readonly metricsUrl: string;
  readonly inferencePort: number;
  readonly managementPort: number;
  readonly metricsPort: number;
  readonly models: readonly EmulatedModel[];
  readonly skipped: readonly string[];
  /** The path of key_file.json, when token auth is on. */
  readonly keyFile: string | undefined;
  /** The current keys, when token auth is on. */
  keys(): TorchServeKeys | undefined;
  /** The engine of a model version (the default version when none is given). */
  engine(model: string, version?: string): ModelEngine | undefined;
  stop(): Promise<void>;
}

interface Version {
  readonly model: string;
  readonly version: string;
  readonly url: string;
  readonly emulated: EmulatedModel;
  readonly batchSize: number;
  readonly maxBatchDelay: number;
  readonly responseTimeout: number;
  readonly startupTimeout: number;
  minWorkers: number;
  maxWorkers: number;
  readonly loadedAtStartup: boolean;
  readonly engine: ModelEngine;
}

interface Model {
  readonly versions: Map<number, Version>;
  defaultKey: number;
}

/** Errors as TorchServe's ErrorResponse: {code, type, message}. */
class TsError extends Error {
  constructor(readonly status: number, readonly type: string, message: string) {
    super(message);
  }
}

const NOT_FOUND = 'Requested resource is not found, please refer to API document.';
const NOT_ALLOWED = 'Requested method is not allowed, please refer to API document.';
const INVALID_KEY = 'Token Authorization failed. Token either incorrect, expired, or not provided correctly';
const TOKEN_API_FAILED = 'Token Authentication failed. Token either incorrect, expired, or not provided correctly';
const resourceNotFound = (): TsError => new TsError(404, 'ResourceNotFoundException', NOT_FOUND);
const methodNotAllowed = (): TsError => new TsError(405, 'MethodNotAllowedException', NOT_ALLOWED);
const modelNotFound = (m: string): TsError => new TsError(404, 'ModelNotFoundException', `Model not found: ${m}`);
const WORKER_MEMORY_BYTES = 209_715_200;
const FIRST_WORKER_PORT = 9000;

export async function startTorchServeEmulator(options: TorchServeEmulatorOptions): Promise<TorchServeEmulator> {
  const { models: selected, skipped } = selectModels(options.profiles, options.hardware, options.gpu);
  const byName = new Map(selected.map((m) => [m.name, m]));
  const enableModelApi = options.enableModelApi ?? false;
  const metricsMode = options.metricsMode ?? 'log';
  const jobQueueSize = options.jobQueueSize ?? 100;
  const metrics = new TorchServeMetrics(options.hostname ?? osHostname());
  const tokens = (options.tokenAuth ?? true)
    ? new TokenStore(path.resolve(options.keyFile ?? 'key_file.json'), options.tokenExpirationMin ?? 60, Date.now, options.seed)
    : undefined;
  let nextWorkerPort = FIRST_WORKER_PORT;
  const registry = new Map<string, Model>();

  const newVersion = (v: Omit<Version, 'engine'>, workers: number): Version => ({
    ...v,
    engine: new ModelEngine({
      name: `${v.model} ${v.version}`,
      curve: v.emulated.curve,
      replicas: workers,
      maxBatch: v.batchSize,
      maxQueueDelayMs: v.maxBatchDelay,
      delayOrigin: 'batch-start',
      scaleDown: options.workerRemoval ?? 'requeue',
      queueCapacity: jobQueueSize,
      replicaStartupMs: options.workerStartupMs ?? 0,
      allocateReplicaId: () => nextWorkerPort++,
      ...(options.now ? { now: options.now } : {}),
    }),
  });

  const workers = options.workers ?? 1;
  for (const m of selected) {
    const batchSize = options.batchSize ?? 1;
    if (batchSize > m.curve.maxBatch) throw new RangeError(`${m.name}: batch size ${batchSize} is past the largest profiled batch size ${m.curve.maxBatch} on ${m.hardware}`);
    const v = newVersion({
      model: m.name, version: '1.0', url: `${m.name}.mar`, emulated: m, batchSize, maxBatchDelay: options.maxBatchDelayMs ?? 100,
      responseTimeout: 120, startupTimeout: 120, minWorkers: workers, maxWorkers: workers, loadedAtStartup: true,
    }, workers);
    registry.set(m.name, { versions: new Map([[1, v]]), defaultKey: 1 });
  }

  /** ModelManager.getModel: undefined when the model is unknown; throws for a bad or missing version. */
  const getModel = (name: string, version: string | undefined): Version | undefined => {
    const m = registry.get(name);
    if (!m) return undefined;
    const v = m.versions.get(version === undefined ? m.defaultKey : versionKey(version));
    if (!v) throw new TsError(404, 'ModelVersionNotFoundException', `Model version: ${version} does not exist for model: ${name}`);
    return v;
  };

  // --- inference API ---------------------------------------------------------------------------

  const handleInference = async (req: HttpRequest): Promise<HttpReply> => {
    const segments = javaSplit(req.path);
    if (isApiDescription(req, segments)) return tsJson(200, apiDescription());
    if (tokens && !tokens.check(header(req, 'authorization'), 'inference')) throw new TsError(400, 'InvalidKeyException', INVALID_KEY);
    if (segments[1] === 'ping') return tsJson(200, { status: 'Healthy' });
    if (segments[1] !== 'predictions' || segments.length < 3) throw resourceNotFound();
    const name = segments[2] as string;
    const version = segments[3];
    const v = getModel(name, version);
    if (!v) throw modelNotFound(name);
    if (req.method === 'OPTIONS') return tsJson(200, modelApiDescription(name));
    metrics.request(name, version);
    const noWorker = new TsError(503, 'ServiceUnavailableException',
      `Model "${name}${version !== undefined ? `" Version ${version}` : ''}" has no worker to serve inference request. Please use scale workers API to add workers. If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize`);
    if (v.engine.replicas === 0) throw noWorker;
    try {
      const outcome = await v.engine.submit(1);
      await pause(options.requestOverheadMs ?? 0);
      metrics.served(name, version, Number(outcome.totalNs) / 1000, Number(outcome.queueNs) / 1000);
      return tsJson(200, { model: name, version: v.version, batchSize: outcome.batchSize });
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      if (err.kind === 'queue-full') throw noWorker;
      if (err.kind === 'scaled-down') throw new TsError(500, 'InternalServerException', err.message);
      throw new TsError(503, 'ServiceUnavailableException', err.message);
    }
  };

  // --- management API --------------------------------------------------------------------------

  const handleManagement = async (req: HttpRequest): Promise<HttpReply> => {
    const segments = javaSplit(req.path);
    if (isApiDescription(req, segments)) return tsJson(200, apiDescription());
    if (tokens) {
      if (req.path.includes('/token')) {
        const type = req.query.get('type');
        if (!tokens.check(header(req, 'authorization'), 'api') || (type !== 'management' && type !== 'inference')) {
          throw new TsError(400, 'InvalidKeyException', TOKEN_API_FAILED);
        }
        await tokens.regenerate(type);
        return { status: 200, headers: { 'Content-Type': 'application/json' }, body: '' };
      }
      if (!tokens.check(header(req, 'authorization'), 'management')) throw new TsError(400, 'InvalidKeyException', INVALID_KEY);
    }
    const n = segments.length;
    if (n === 4 && segments[1] === 'v1' && segments[2] === 'models') {
      if (req.method !== 'GET') throw methodNotAllowed();
      const name = (segments[3] as string).split(':')[0] as string;
      const v = getModel(name, undefined);
      if (!v) throw modelNotFound(name);
      return tsJson(200, { name, ready: v.engine.replicas > 0 });
    }
    const isManagement = (n >= 2 && n <= 4 && segments[1] === 'models') || (n === 5 && segments[4] === 'set-default');
    if (!isManagement || segments[1] !== 'models') throw resourceNotFound();
    if (n < 3) {
      if (req.method === 'GET') return tsJson(200, listModels(req.query));
      if (req.method === 'POST' && enableModelApi) return register(req);
      throw methodNotAllowed();
    }
    const name = segments[2] as string;
    const version = n === 4 ? segments[3] : undefined;
    switch (req.method) {
      case 'GET': return tsJson(200, describe(name, version));
      case 'PUT':
        if (n === 5) return tsJson(200, { status: setDefault(name, segments[3] as string) });
        return scale(name, version, req.query);
      case 'DELETE':
        if (!enableModelApi) throw methodNotAllowed();
        return tsJson(200, { status: unregister(name, version) });
      case 'OPTIONS':
        if (!getModel(name, version)) throw modelNotFound(name);
        return tsJson(200, modelApiDescription(name));
      default: throw methodNotAllowed();
    }
  };

  const listModels = (query: URLSearchParams): Record<string, unknown> => {
    let limit = intParam(query, 'limit', 100);
    if (limit > 100 || limit < 0) limit = 100;
    const token = Math.max(0, intParam(query, 'next_page_token', 0));
    const keys = [...registry.keys()].sort();
    const last = Math.min(token + limit, keys.length);
    return {
      ...(token + limit <= keys.length ? { nextPageToken: String(token + limit) } : {}),
      models: keys.slice(token, last).map((k) => ({ modelName: k, modelUrl: defaultOf(k).url })),
    };
  };

  const defaultOf = (name: string): Version => {
    const m = registry.get(name) as Model;
    return m.versions.get(m.defaultKey) as Version;
  };

  const describe = (name: string, version: string | undefined): Record<string, unknown>[] => {
    if (version === 'all') {
      const m = registry.get(name);
      if (!m) throw modelNotFound(name);
      return [...m.versions.values()].map(describeVersion);
    }
    const v = getModel(name, version);
    if (!v) throw modelNotFound(name);
    return [describeVersion(v)];
  };

  const describeVersion = (v: Version): Record<string, unknown> => ({
    modelName: v.model,
    modelVersion: v.version,
    modelUrl: v.url,
    runtime: 'python',
    minWorkers: v.minWorkers,
    maxWorkers: v.maxWorkers,
    batchSize: v.batchSize,
    maxBatchDelay: v.maxBatchDelay,
    responseTimeout: v.responseTimeout,
    startupTimeout: v.startupTimeout,
    maxRetryTimeoutInSec: 300,
    clientTimeoutInMills: 0,
    parallelType: '',
    parallelLevel: 0,
    deviceType: v.emulated.gpu ? 'gpu' : 'cpu',
    continuousBatching: false,
    useJobTicket: false,
    useVenv: false,
    stateful: false,
    sequenceMaxIdleMSec: 0,
    sequenceTimeoutMSec: 0,
    maxNumSequence: 0,
    maxSequenceJobQueueSize: 0,
    loadedAtStartup: v.loadedAtStartup,
    workers: v.engine.replicaSnapshot().filter((w) => w.state !== 'retiring').map((w) => ({
      id: String(w.id),
      startTime: new Date(w.startedAtMs).toISOString(),
      // READY only once the worker has loaded its model; anything else reads UNLOADING.
      status: w.state === 'starting' ? 'UNLOADING' : 'READY',
      memoryUsage: WORKER_MEMORY_BYTES,
      pid: 30_000 + (w.id - FIRST_WORKER_PORT),
      gpu: v.emulated.gpu,
      gpuUsage: v.emulated.gpu ? 'gpuId::0 utilization.gpu [%]::0 % utilization.memory [%]::0 % memory.used [MiB]::0 MiB' : 'N/A',
    })),
    jobQueueStatus: { remainingCapacity: jobQueueSize - v.engine.pendingRequests, pendingRequests: v.engine.pendingRequests },
  });

  const scale = async (name: string, version: string | undefined, query: URLSearchParams): Promise<HttpReply> => {
    const min = intParam(query, 'min_worker', 1);
    const max = intParam(query, 'max_worker', min);
    const ver = version ?? query.get('model_version') ?? undefined;
    const synchronous = query.get('synchronous')?.toLowerCase() === 'true';
    if (max < min) throw new TsError(400, 'BadRequestException', 'max_worker cannot be less than min_worker.');
    if (!registry.has(name)) throw modelNotFound(name);
    const v = getModel(name, ver) as Version;
    const ready = updateWorkers(v, min, max);
    if (!synchronous) return tsJson(202, { status: 'Processing worker updates...' });
    await ready;
    return tsJson(200, { status: `Workers scaled to ${min} for model: ${name}${ver !== undefined ? `, version: ${ver}` : ''}` });
  };

  /** WorkLoadManager.modelChanged: start workers up to min, or stop workers from the end down to max. */
  const updateWorkers = (v: Version, min: number, max: number): Promise<void> => {
    v.minWorkers = min;
    v.maxWorkers = max;
    const current = v.engine.replicas;
    if (current < min) return v.engine.setReplicas(min);
    if (current > max) return v.engine.setReplicas(max);
    return Promise.resolve();
  };

  const setDefault = (name: string, version: string): string => {
    const m = registry.get(name);
    if (!m) throw modelNotFound(name);
    const key = versionKey(version);
    if (!m.versions.has(key)) throw new TsError(403, 'InvalidModelVersionException', `Can't set default to: ${version}`);
    m.defaultKey = key;
    return `Default version successfully updated for model "${name}" to "${version}"`;
  };

  const unregister = (name: string, version: string | undefined): string => {
    const m = registry.get(name);
    if (!m) throw modelNotFound(name);
    const key = version === undefined ? m.defaultKey : versionKey(version);
    if (key === m.defaultKey && m.versions.size > 1) {
      throw new TsError(403, 'InvalidModelVersionException', `Cannot remove default version for model ${name}`);
    }
    const v = m.versions.get(key);
    if (!v) throw new TsError(404, 'ModelVersionNotFoundException', `Model version: ${version} does not exist for model: ${name}`);
    // Its workers are stopped (a batch in flight goes back to its queue), then its queue fails.
    void v.engine.setReplicas(0);
    v.engine.stop();
    m.versions.delete(key);
    if (m.versions.size === 0) registry.delete(name);
    return `Model "${name}" unregistered`;
  };

  const register = async (req: HttpRequest): Promise<HttpReply> => {
    const p = registerParams(req);
    const url = p.get('url');
    if (url === undefined) throw new TsError(400, 'BadRequestException', 'Parameter url is required.');
    const archive = parseArchiveName(url);
    const emulated = archive ? byName.get(archive.model) : undefined;
    if (!archive || !emulated) throw new TsError(404, 'ModelNotFoundException', `Model not found in model store: ${url}`);
    const name = p.get('model_name') || archive.model;
    const batchSize = intOf(p.get('batch_size'), 1);
    const maxBatchDelay = intOf(p.get('max_batch_delay'), 100);
    const initialWorkers = intOf(p.get('initial_workers'), 0);
    const synchronous = (p.get('synchronous') ?? 'true').toLowerCase() === 'true';
    if (batchSize < 1 || batchSize > emulated.curve.maxBatch) {
      throw new TsError(400, 'BadRequestException', `batch_size ${batchSize} is outside the profile of ${emulated.name} on ${emulated.hardware} (1..${emulated.curve.maxBatch}); the emulator does not extrapolate`);
    }
    const key = versionKey(archive.version);
    const existing = registry.get(name);
    if (existing?.versions.has(key)) throw new TsError(409, 'ConflictStatusException', `Model version ${archive.version} is already registered for model ${name}`);
    const responseTimeout = intOf(p.get('response_timeout'), -1);
    const startupTimeout = intOf(p.get('startup_timeout'), -1);
    const v = newVersion({
      model: name, version: archive.version, url, emulated, batchSize, maxBatchDelay,
      responseTimeout: responseTimeout === -1 ? 120 : responseTimeout, startupTimeout: startupTimeout === -1 ? 120 : startupTimeout,
      minWorkers: 0, maxWorkers: 0, loadedAtStartup: false,
    }, 0);
    // A new version becomes the default only when it is the model's first.
    if (existing) existing.versions.set(key, v);
    else registry.set(name, { versions: new Map([[key, v]]), defaultKey: key });
    if (initialWorkers <= 0) {
      return tsJson(200, { status: `Model "${name}" Version: ${archive.version} registered with 0 initial workers. Use scale workers API to add workers for the model.` });
    }
    const ready = updateWorkers(v, initialWorkers, initialWorkers);
    if (!synchronous) return tsJson(202, { status: 'Processing worker updates...' });
    await ready;
    return tsJson(200, { status: `Model "${name}" Version: ${archive.version} registered with ${initialWorkers} initial workers` });
  };

  // --- metrics API -----------------------------------------------------------------------------

  const handleMetrics = (req: HttpRequest): HttpReply => {
    const segments = javaSplit(req.path);
    if (segments[1] !== 'metrics') throw resourceNotFound();
    return { status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }, body: metrics.text(metricsMode, req.query.getAll('name[]')) };
  };

  const counted = (handler: (req: HttpRequest) => HttpReply | Promise<HttpReply>) => async (req: HttpRequest): Promise<HttpReply> => {
    let r: HttpReply;
    try {
      r = await handler(req);
    } catch (err) {
      if (!(err instanceof TsError)) throw err;
      r = tsJson(err.status, { code: err.status, type: err.type, message: err.message });
    }
    metrics.response(r.status);
    return r;
  };
  const plain = (handler: (req: HttpRequest) => HttpReply) => (req: HttpRequest): HttpReply => {
    try {
      return handler(req);
    } catch (err) {
      if (!(err instanceof TsError)) throw err;
      return tsJson(err.status, { code: err.status, type: err.type, message: err.message });
    }
  };

  const stopEngines = (): void => {
    for (const m of registry.values()) for (const v of m.versions.values()) v.engine.stop();
  };
  let servers;
  try {
    if (tokens) await tokens.write();
    servers = await startHttpServers([
      { port: options.inferencePort ?? 0, handler: counted(handleInference) },
      { port: options.managementPort ?? 0, handler: counted(handleManagement) },
      { port: options.metricsPort ?? 0, handler: plain(handleMetrics) },
    ]);
  } catch (err) {
    stopEngines();
    await tokens?.remove();
    throw err;
  }
  const [inference, management, metricsServer] = servers as [typeof servers[0], typeof servers[0], typeof servers[0]];
  let stopping: Promise<void> | undefined;

  return {
    inferenceUrl: inference.url,
    managementUrl: management.url,
    metricsUrl: `${metricsServer.url}/metrics`,
    inferencePort: inference.port,
    managementPort: management.port,
    metricsPort: metricsServer.port,
    models: selected,
    skipped,
    keyFile: tokens?.path,
    keys: () => tokens?.keys,
    engine: (model, version) => {
      try {
        return getModel(model, version)?.engine;
      } catch {
        return undefined;
      }
    },
    stop: () => {
      stopping ??= (async () => {
        stopEngines();
        await Promise.all([inference.close(), management.close(), metricsServer.close()]);
        await tokens?.remove();
      })();
      return stopping;
    },
  };
}

/** A JSON reply as TorchServe sends it: Gson pretty-printed (HTML-safe escapes), newline-terminated. */
function tsJson(status: number, body: unknown): HttpReply {
  const text = JSON.stringify(body, null, 2)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/=/g, '\\u003d').replace(/'/g, '\\u0027');
  return { status, headers: { 'Content-Type': 'application/json' }, body: `${text}\n` };
}

/** Java's String.split("/") of the decoded path: trailing empty segments dropped. */
function javaSplit(p: string): string[] {
  let decoded = p;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    // keep the raw path
  }
  const parts = decoded.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function isApiDescription(req: HttpRequest, segments: readonly string[]): boolean {
  return (req.method === 'OPTIONS' && segments.length <= 1) || segments[1] === 'api-description';
}

function apiDescription(): Record<string, unknown> {
  return {
    openapi: '3.0.1',
    info: { title: 'TorchServe APIs', description: 'TorchServe is a flexible and easy to use tool for serving deep learning models', version: '0.12.0' },
    paths: {},
  };
}

function modelApiDescription(model: string): Record<string, unknown> {
  return { openapi: '3.0.1', info: { title: `RESTful API for: ${model}`, version: '1.0.0' }, paths: {} };
}

function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** ModelVersionedRefs.validateVersionId: versions compare as doubles ("1" and "1.0" are one version). */
function versionKey(v: string): number {
  const n = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?\s*$/.test(v) ? Number.parseFloat(v) : Number.NaN;
  if (Number.isNaN(n)) throw new TsError(403, 'NumberFormatException', `For input string: "${v}"`);
  if (n <= 0) throw new TsError(403, 'InvalidModelVersionException', `Model version is invalid: ${v}`);
  return n;
}

/**
 * The emulator's model store: an archive `<model>.mar` is version 1.0 of a model of the profile
 * file, and `<model>_v<version>.mar` (or `-v`) another version of it, since the emulator cannot
 * read a MANIFEST. Any directory or URL prefix is ignored.
 */
export function parseArchiveName(url: string): { model: string; version: string } | undefined {
  const base = url.split(/[/\\]/).pop() ?? '';
  const m = /^(.+?)(?:[_-]v(\d+(?:\.\d+)?))?\.mar$/.exec(base);
  if (!m) return undefined;
  const version = m[2] === undefined ? '1.0' : m[2].includes('.') ? m[2] : `${m[2]}.0`;
  return { model: m[1] as string, version };
}

function intParam(query: URLSearchParams, name: string, fallback: number): number {
  return intOf(query.get(name) ?? undefined, fallback);
}

function intOf(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  return Number.isInteger(n) ? n : fallback;
}

/** Register parameters: the query string, or a JSON body with the same keys. */
function registerParams(req: HttpRequest): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const type = header(req, 'content-type') ?? '';
  if (/^application\/json/i.test(type)) {
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8') || '{}');
    } catch (err) {
      // Gson's JsonSyntaxException is no exception the handler maps, so it is a 500.
      throw new TsError(500, 'JsonSyntaxException', `com.google.gson.stream.MalformedJsonException: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) out.set(k, v === null || v === undefined ? undefined : String(v));
  } else {
    for (const [k, v] of req.query) out.set(k, v);
  }
  return out;
}
