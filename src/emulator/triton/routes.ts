// The emulated Triton's routes: the API port (server and model metadata, health, config,
// statistics, inference, the repository extension), each group behind its restriction, and the
// metrics port.
import { reply } from '../common/http.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { INPUT_NAME, OUTPUT_NAME, TENSOR_DIMS, TRITON_MODEL_VERSION, TRITON_VERSION, configJson, usesGpu } from './config.js';
import { infer } from './inference.js';
import { metricsText, modelStatJson, sumCounters } from './report.js';
import { index, load, unload } from './repository.js';
import { counters, error, json, readyModel, restricted } from './state.js';
import type { TritonContext } from './state.js';
import type { TritonApiGroup, TritonModel } from './types.js';

const EXTENSIONS = [
  'classification', 'sequence', 'model_repository', 'model_repository(unload_dependents)', 'schedule_policy', 'model_configuration',
  'system_shared_memory', 'cuda_shared_memory', 'binary_tensor_data', 'parameters', 'statistics', 'trace', 'logging',
];

const MODEL_RE = /^\/v2\/models\/([^/]+)(?:\/versions\/([0-9]+))?(?:\/(infer|generate|generate_stream|ready|config|stats|trace\/setting))?$/;
const CONTROL_RE = /^\/v2\/repository(?:\/([^/]+))?\/(index|models\/([^/]+)\/(load|unload))$/;
const SERVER_RE = /^\/v2(?:\/health\/(live|ready))?$/;
const METRICS_RE = /^\/metrics\/?$/;

/** The API port. */
export function handleApi(ctx: TritonContext, req: HttpRequest): HttpReply | Promise<HttpReply> {
  const path = req.path;
  if (path === '/v2/models/stats') {
    return refused(ctx, req, 'statistics', 'GET')
      ?? json(200, { model_stats: [...ctx.table.values()].filter((t) => t.state === 'READY').map((t) => modelStatJson(t.model.name, counters(t))) });
  }
  const mm = MODEL_RE.exec(path);
  if (mm) {
    const [, name = '', version, action] = mm;
    return modelRoute(ctx, req, name, version, action);
  }
  const cm = CONTROL_RE.exec(path);
  if (cm) {
    const denied = refused(ctx, req, 'model-repository', 'POST');
    if (denied) return denied;
    const [, , what, name = '', op] = cm;
    if (what === 'index') return index(ctx, req);
    return op === 'load' ? load(ctx, name, req) : unload(ctx, name);
  }
  const sm = SERVER_RE.exec(path);
  if (sm) {
    const check = sm[1];
    const denied = refused(ctx, req, check ? 'health' : 'metadata', 'GET');
    if (denied) return denied;
    if (check === 'live') return reply(200);
    if (check === 'ready') return serverReady(ctx) ? reply(200) : reply(400);
    return json(200, { name: 'triton', version: TRITON_VERSION, extensions: EXTENSIONS });
  }
  return error(400, 'Not Found');
}

/** /v2/models/{name}[/versions/{v}][/{action}]. */
function modelRoute(ctx: TritonContext, req: HttpRequest, name: string, version: string | undefined, action: string | undefined): HttpReply | Promise<HttpReply> {
  switch (action) {
    case undefined: {
      const t = refused(ctx, req, 'metadata', 'GET') ?? readyModel(ctx, name, version);
      return 'status' in t ? t : json(200, metadata(t));
    }
    case 'ready': {
      const denied = refused(ctx, req, 'health', 'GET');
      if (denied) return denied;
      const t = ctx.table.get(name);
      if (!t) return error(400, `Request for unknown model: '${name}' is not found`);
      const ready = t.state === 'READY' && (version === undefined || version === TRITON_MODEL_VERSION);
      return ready ? reply(200) : error(400, 'Model version not ready');
    }
    case 'config': {
      const t = refused(ctx, req, 'model-config', 'GET') ?? readyModel(ctx, name, version);
      return 'status' in t ? t : json(200, configJson(t.model, t.serving));
    }
    case 'stats': {
      const denied = refused(ctx, req, 'statistics', 'GET');
      if (denied) return denied;
      const t = ctx.table.get(name);
      if (!t || t.state !== 'READY') return error(400, `requested model '${name}' is not available`);
      if (version !== undefined && version !== TRITON_MODEL_VERSION) return error(400, `requested model version is not available for model '${name}'`);
      return json(200, { model_stats: [modelStatJson(name, counters(t))] });
    }
    case 'infer': {
      const t = refused(ctx, req, 'inference', 'POST') ?? readyModel(ctx, name, version);
      return 'status' in t ? t : infer(ctx, t, req);
    }
    case 'trace/setting':
      return restricted(ctx, req, 'trace') ?? error(400, 'the trace extension is not emulated');
    default:
      return error(400, `'${action}' is not emulated`);
  }
}

/** The 403 of a restricted group, then the 405 of another method; undefined when the request goes on. */
function refused(ctx: TritonContext, req: HttpRequest, group: TritonApiGroup, method: 'GET' | 'POST'): HttpReply | undefined {
  return restricted(ctx, req, group) ?? (req.method !== method ? error(405, 'Method Not Allowed') : undefined);
}

function serverReady(ctx: TritonContext): boolean {
  return [...ctx.table.values()].every((t) => t.state === 'READY' || t.state === 'UNAVAILABLE');
}

function metadata(t: TritonModel): Record<string, unknown> {
  const shape = t.serving.maxBatchSize > 0 ? [-1, ...TENSOR_DIMS] : [...TENSOR_DIMS];
  return {
    name: t.model.name,
    versions: [TRITON_MODEL_VERSION],
    platform: 'python',
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape }],
    outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape }],
  };
}

/** The metrics port: Prometheus text of every loaded model, its retired copies' counters included. */
export function handleMetrics(ctx: TritonContext, req: HttpRequest): HttpReply {
  if (req.method !== 'GET') return error(405, 'Method Not Allowed');
  if (!METRICS_RE.test(req.path)) return reply(404);
  const models = [...ctx.table.values()]
    .filter((t) => t.engine !== undefined)
    .map((t) => ({
      name: t.model.name,
      counters: sumCounters([...t.retired.map((e) => e.counters()), counters(t)]),
      pending: t.engine?.pendingRequests ?? 0,
      ...(usesGpu(t.serving) ? { gpuUuid: ctx.gpuUuid } : {}),
    }));
  return reply(200, metricsText(models), 'text/plain; charset=utf-8');
}
