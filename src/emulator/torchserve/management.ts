// The emulated TorchServe's management API: the token API, the KServe-style /v1/models/{m}
// readiness, and /models (list, describe, scale, set-default, register, unregister), behind the
// management key.
import type { HttpReply, HttpRequest } from '../common/http.js';
import { INVALID_KEY, TOKEN_API_FAILED, TsError, methodNotAllowed, modelNotFound, resourceNotFound, tsJson } from './errors.js';
import { register, scale, setDefault, unregister } from './model-control.js';
import { FIRST_WORKER_PORT, defaultOf, getModel } from './registry.js';
import type { TorchServeContext } from './registry.js';
import type { Version } from './types.js';
import { apiDescription, header, intParam, isApiDescription, javaSplit, modelApiDescription } from './wire.js';

const WORKER_MEMORY_BYTES = 209_715_200;

export async function handleManagement(ctx: TorchServeContext, req: HttpRequest): Promise<HttpReply> {
  const segments = javaSplit(req.path);
  if (isApiDescription(req, segments)) return tsJson(200, apiDescription());
  const tokens = ctx.tokens;
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
    const v = getModel(ctx, name, undefined);
    if (!v) throw modelNotFound(name);
    return tsJson(200, { name, ready: v.engine.replicas > 0 });
  }
  const isManagement = (n >= 2 && n <= 4 && segments[1] === 'models') || (n === 5 && segments[4] === 'set-default');
  if (!isManagement || segments[1] !== 'models') throw resourceNotFound();
  if (n < 3) {
    if (req.method === 'GET') return tsJson(200, listModels(ctx, req.query));
    if (req.method === 'POST' && ctx.enableModelApi) return register(ctx, req);
    throw methodNotAllowed();
  }
  return modelRoute(ctx, req, segments);
}

/** /models/{name}[/{version}[/set-default]]. */
function modelRoute(ctx: TorchServeContext, req: HttpRequest, segments: readonly string[]): HttpReply | Promise<HttpReply> {
  const n = segments.length;
  const name = segments[2] as string;
  const version = n === 4 ? segments[3] : undefined;
  switch (req.method) {
    case 'GET': return tsJson(200, describe(ctx, name, version));
    case 'PUT':
      if (n === 5) return tsJson(200, { status: setDefault(ctx, name, segments[3] as string) });
      return scale(ctx, name, version, req.query);
    case 'DELETE':
      if (!ctx.enableModelApi) throw methodNotAllowed();
      return tsJson(200, { status: unregister(ctx, name, version) });
    case 'OPTIONS':
      if (!getModel(ctx, name, version)) throw modelNotFound(name);
      return tsJson(200, modelApiDescription(name));
    default: throw methodNotAllowed();
  }
}

function listModels(ctx: TorchServeContext, query: URLSearchParams): Record<string, unknown> {
  let limit = intParam(query, 'limit', 100);
  if (limit > 100 || limit < 0) limit = 100;
  const token = Math.max(0, intParam(query, 'next_page_token', 0));
  const keys = [...ctx.registry.keys()].sort();
  const last = Math.min(token + limit, keys.length);
  return {
    ...(token + limit <= keys.length ? { nextPageToken: String(token + limit) } : {}),
    models: keys.slice(token, last).map((k) => ({ modelName: k, modelUrl: defaultOf(ctx, k).url })),
  };
}

function describe(ctx: TorchServeContext, name: string, version: string | undefined): Record<string, unknown>[] {
  if (version === 'all') {
    const m = ctx.registry.get(name);
    if (!m) throw modelNotFound(name);
    return [...m.versions.values()].map((v) => describeVersion(ctx, v));
  }
  const v = getModel(ctx, name, version);
  if (!v) throw modelNotFound(name);
  return [describeVersion(ctx, v)];
}

function describeVersion(ctx: TorchServeContext, v: Version): Record<string, unknown> {
  return {
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
    jobQueueStatus: { remainingCapacity: ctx.jobQueueSize - v.engine.pendingRequests, pendingRequests: v.engine.pendingRequests },
  };
}
