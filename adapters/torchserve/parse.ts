// TorchServe wire text → domain types (server-apis.md B, fixtures F5–F10). Pure: no I/O. Anything
// that breaks the wire contract (not JSON, an HTML page, a wrong type, a negative or fractional
// count, an integer past 2^53) throws TorchServeWireError naming the field; decode() turns that into
// an AdapterError of kind 'malformed' with the endpoint and status.
import { parseJsonLossless } from '../common/lossless-json.js';
import type { LosslessJson } from '../common/lossless-json.js';
import { parsePrometheusText } from '../common/prometheus.js';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { DeviceKind, MetricSample, ModelCounters, ModelStatus } from '../../src/ports/server-adapter.js';

export class TorchServeWireError extends Error {
  override readonly name = 'TorchServeWireError';
}

/** Runs a parser on a response body; a wire error becomes AdapterError 'malformed' (nothing else changes). */
export function decode<T>(res: { status: number; body: string; endpoint: string }, parse: (text: string) => T): T {
  try {
    return parse(res.body);
  } catch (err) {
    if (!(err instanceof TorchServeWireError)) throw err;
    throw new AdapterError({ server: 'torchserve', endpoint: res.endpoint, status: res.status, kind: 'malformed', message: err.message, cause: err });
  }
}

// ---- JSON field readers -------------------------------------------------------------------------

type Obj = { [key: string]: LosslessJson };

function readJson(text: string, what: string): LosslessJson {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('<')) throw new TorchServeWireError(`${what}: an HTML page, not JSON (a proxy or the wrong port?)`);
  try {
    return parseJsonLossless(text);
  } catch (err) {
    throw new TorchServeWireError(`${what}: not JSON: ${(err as Error).message}`, { cause: err });
  }
}

function asObj(v: LosslessJson | undefined, path: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TorchServeWireError(`${path}: expected an object`);
  return v as Obj;
}

function asArray(v: LosslessJson | undefined, path: string): LosslessJson[] {
  if (!Array.isArray(v)) throw new TorchServeWireError(`${path}: expected an array`);
  return v;
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new TorchServeWireError(`${path}.${key}: expected a string, got ${typeName(v)}`);
  return v;
}

function optStr(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path);
}

function int(o: Obj, key: string, path: string, min = 0): number {
  const v = o[key];
  if (typeof v === 'bigint') throw new TorchServeWireError(`${path}.${key}: ${v} is above 2^53`);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TorchServeWireError(`${path}.${key}: expected an integer, got ${typeName(v)}`);
  if (v < min) throw new TorchServeWireError(`${path}.${key}: ${v} is below ${min}`);
  return v;
}

function optInt(o: Obj, key: string, path: string, min = 0): number | undefined {
  return o[key] === undefined ? undefined : int(o, key, path, min);
}

function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new TorchServeWireError(`${path}.${key}: expected a boolean, got ${typeName(v)}`);
  return v;
}

function typeName(v: LosslessJson | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

// ---- Describe (B.4, F5) ---------------------------------------------------------------------------

export interface WorkerDescription {
  readonly id: string;
  /** "READY" once loaded; every other state, starting up included, reads "UNLOADING" (B.4). */
  readonly status: string;
  readonly gpu: boolean;
}

/** One version of a model, as `GET /models/{m}[/{v}|/all]` describes it. */
export interface ModelDescription {
  readonly modelName: string;
  readonly modelVersion: string;
  /** The .mar it was registered from (a file name in model_store, or a URL). */
  readonly modelUrl: string;
  readonly minWorkers: number;
  readonly maxWorkers: number;
  readonly batchSize: number;
  readonly maxBatchDelay: number;
  readonly responseTimeout?: number;
  readonly startupTimeout?: number;
  readonly deviceType?: string;
  readonly workers: readonly WorkerDescription[];
  /** Requests waiting for a worker (jobQueueStatus.pendingRequests). */
  readonly pendingRequests?: number;
}

/** Describe always answers a JSON array (one element per version asked for); never empty. */
export function parseDescribe(text: string): ModelDescription[] {
  const items = asArray(readJson(text, 'describe'), 'describe');
  if (items.length === 0) throw new TorchServeWireError('describe: an empty array (expected at least one version)');
  return items.map((item, i) => {
    const path = `[${i}]`;
    const o = asObj(item, path);
    const workers = asArray(o['workers'], `${path}.workers`).map((w, j) => {
      const wp = `${path}.workers[${j}]`;
      const wo = asObj(w, wp);
      optInt(wo, 'memoryUsage', wp);
      return { id: str(wo, 'id', wp), status: str(wo, 'status', wp), gpu: bool(wo, 'gpu', wp) };
    });
    const queue = o['jobQueueStatus'] === undefined ? undefined : asObj(o['jobQueueStatus'], `${path}.jobQueueStatus`);
    if (queue) optInt(queue, 'remainingCapacity', `${path}.jobQueueStatus`);
    return {
      modelName: str(o, 'modelName', path),
      modelVersion: str(o, 'modelVersion', path),
      modelUrl: str(o, 'modelUrl', path),
      minWorkers: int(o, 'minWorkers', path),
      maxWorkers: int(o, 'maxWorkers', path),
      batchSize: int(o, 'batchSize', path, 1),
      maxBatchDelay: int(o, 'maxBatchDelay', path),
      responseTimeout: optInt(o, 'responseTimeout', path),
      startupTimeout: optInt(o, 'startupTimeout', path),
      deviceType: optStr(o, 'deviceType', path),
      workers,
      pendingRequests: queue ? optInt(queue, 'pendingRequests', `${path}.jobQueueStatus`) : undefined,
    };
  });
}

/**
 * The observed status of one version. replicas counts every listed worker, starting ones included
 * (they read "UNLOADING" until loaded, B.4): after a scale they exist and hold memory, so counting
 * them keeps a reconciler from asking twice. minWorkers is the request, not the observation.
 */
export function toModelStatus(d: ModelDescription): ModelStatus {
  return {
    model: d.modelName,
    version: d.modelVersion,
    ready: d.workers.some((w) => w.status === 'READY'),
    replicas: d.workers.length,
    device: deviceOf(d),
    maxBatchSize: d.batchSize,
    batchDelayMs: d.maxBatchDelay,
  };
}

function deviceOf(d: ModelDescription): DeviceKind {
  if (d.workers.some((w) => w.gpu)) return 'gpu';
  if (d.workers.length > 0) return 'cpu';
  // No worker to ask: fall back on the configured deviceType (newer servers only).
  return d.deviceType === 'gpu' || d.deviceType === 'cpu' ? d.deviceType : 'unknown';
}

// ---- List, status and error bodies (B.4) -------------------------------------------------------

export interface ModelListPage {
  readonly models: readonly { readonly modelName: string; readonly modelUrl: string }[];
  /** Present when the server thinks there may be more (it can point at an empty page). */
  readonly nextPageToken?: string;
}

export function parseModelList(text: string): ModelListPage {
  const o = asObj(readJson(text, 'model list'), 'model list');
  const models = asArray(o['models'], 'models').map((m, i) => {
    const mo = asObj(m, `models[${i}]`);
    return { modelName: str(mo, 'modelName', `models[${i}]`), modelUrl: str(mo, 'modelUrl', `models[${i}]`) };
  });
  return { models, nextPageToken: optStr(o, 'nextPageToken', 'model list') };
}

/** `{"status": "..."}` of register, scale, set-default, unregister and /ping (F7, B.3). */
export function parseStatusMessage(text: string): string {
  return str(asObj(readJson(text, 'status body'), 'status body'), 'status', 'status body');
}

/** The version a register status names: `Model "m" Version: 2.0 registered with …` (F7). */
export function registeredVersionOf(status: string): string | undefined {
  return /\bVersion: (\S+) registered\b/.exec(status)?.[1];
}

export interface TorchServeErrorBody {
  readonly code: number;
  readonly type: string;
  readonly message: string;
}

/** `{"code", "type", "message"}` (ErrorResponse.java), or undefined for any other body: lenient on purpose. */
export function parseErrorBody(text: string): TorchServeErrorBody | undefined {
  try {
    const o = asObj(readJson(text, 'error body'), 'error body');
    return { code: int(o, 'code', 'error body'), type: str(o, 'type', 'error body'), message: str(o, 'message', 'error body') };
  } catch {
    return undefined;
  }
}

/** A refused bearer key: HTTP 400 with InvalidKeyException (B.2), unlike every other 400. */
export function isInvalidKey(status: number, text: string): boolean {
  return status === 400 && parseErrorBody(text)?.type === 'InvalidKeyException';
}

/** The answer to a register with no url when the model API is on: 400 "Parameter url is required." */
export function isUrlRequired(status: number, text: string): boolean {
  const e = parseErrorBody(text);
  return status === 400 && e?.type === 'BadRequestException' && /\burl is required/i.test(e.message);
}

// ---- key_file.json (B.2, F9) ---------------------------------------------------------------------

export interface KeyFile {
  readonly management?: string;
  readonly inference?: string;
  /** The never-expiring key that may ask for new management and inference keys (GET /token). */
  readonly api?: string;
}

export function parseKeyFile(text: string): KeyFile {
  const o = asObj(readJson(text, 'key file'), 'key file');
  const key = (name: string): string | undefined => {
    if (o[name] === undefined) return undefined;
    const k = str(asObj(o[name], name), 'key', name);
    // The server matches `^Bearer\s+(\S+)$`, so a key with blanks could never be accepted.
    if (!/^\S+$/.test(k)) throw new TorchServeWireError(`${name}.key: empty or contains blanks`);
    return k;
  };
  const file = { management: key('management'), inference: key('inference'), api: key('API') };
  if (!file.management && !file.inference && !file.api) throw new TorchServeWireError('key file: none of "management", "inference", "API"');
  return file;
}

// ---- Metrics (B.5, F10) ------------------------------------------------------------------------------

/** In the default metrics_mode=log the metrics API answers 200 with an empty body (B.5). */
export function isLogModeMetrics(text: string): boolean {
  return text.trim() === '';
}

export function parseMetrics(text: string): MetricSample[] {
  try {
    return parsePrometheusText(text);
  } catch (err) {
    throw new TorchServeWireError(`metrics: ${(err as Error).message}`, { cause: err });
  }
}

const REQUESTS = 'ts_inference_requests_total';
const QUEUE_US = 'ts_queue_latency_microseconds';
const LATENCY_US = 'ts_inference_latency_microseconds';

interface Sums {
  requests: bigint;
  queueNs: bigint;
  latencyNs: bigint;
}

/**
 * Cumulative counters per model from the three frontend counters. What TorchServe gives and what it
 * does not (B.5):
 * - series are summed over `hostname` and over `model_version`: "default" is a label value for
 *   requests that named no version, not a version, so the model's total is the sum;
 * - requests = ts_inference_requests_total, counted when a request is received (503s included);
 * - failures: no per-model failure counter exists (Requests4XX/5XX are host-wide), so always 0;
 * - queueNs = ts_queue_latency_microseconds; computeNs = ts_inference_latency_microseconds minus the
 *   queue time, because the frontend's "inference latency" runs from arrival, queue included
 *   (RestJob.responseInference). Both sum answered requests only;
 * - no executions, inferences or per-batch-size statistics.
 */
export function countersFromMetrics(samples: readonly MetricSample[], model?: string): ModelCounters[] {
  const sums = new Map<string, Sums>();
  for (const s of samples) {
    if (s.name !== REQUESTS && s.name !== QUEUE_US && s.name !== LATENCY_US) continue;
    const name = s.labels['model_name'];
    if (name === undefined) throw new TorchServeWireError(`${s.name}: a series without model_name`);
    if (model !== undefined && name !== model) continue;
    const where = `${s.name}{model_name="${name}",model_version="${s.labels['model_version'] ?? ''}"}`;
    if (!Number.isFinite(s.value) || s.value < 0) throw new TorchServeWireError(`${where}: ${s.value} is not a counter value (negative or not finite)`);
    if (s.value > Number.MAX_SAFE_INTEGER) throw new TorchServeWireError(`${where}: ${s.value} is above 2^53 and has lost precision`);
    const acc = sums.get(name) ?? { requests: 0n, queueNs: 0n, latencyNs: 0n };
    if (s.name === REQUESTS) {
      if (!Number.isInteger(s.value)) throw new TorchServeWireError(`${where}: a request count of ${s.value} is not whole`);
      acc.requests += BigInt(s.value);
    } else if (s.name === QUEUE_US) {
      acc.queueNs += nsFromMicros(s.value);
    } else {
      acc.latencyNs += nsFromMicros(s.value);
    }
    sums.set(name, acc);
  }
  // A model asked for by name with no series yet has simply had no request since the server started.
  if (model !== undefined && !sums.has(model)) sums.set(model, { requests: 0n, queueNs: 0n, latencyNs: 0n });
  return [...sums.entries()].map(([name, s]) => ({
    model: name,
    requests: s.requests,
    failures: 0n,
    queueNs: s.queueNs,
    // Each request's latency includes its queue time; clamp only against float rounding of the sums.
    computeNs: s.latencyNs > s.queueNs ? s.latencyNs - s.queueNs : 0n,
  }));
}

/** Microseconds (a double, e.g. 16129.311000000002) → whole nanoseconds, exactly from its decimal form. */
export function nsFromMicros(us: number): bigint {
  const [whole, frac = ''] = us.toFixed(3).split('.');
  return BigInt(`${whole}${frac.padEnd(3, '0')}`);
}
