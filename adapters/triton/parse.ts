// Pure parsers: Triton's wire bodies → domain types. Every number is read losslessly; anything
// that breaks the contract of reference/server-apis.md §A throws a MalformedBodyError naming the
// path. Nothing here does I/O.
import { PrometheusSyntaxError, parsePrometheusText, sumBy } from '../common/prometheus.js';
import type { LosslessJson } from '../common/lossless-json.js';
import type { BatchSizeCounters, DeviceKind, MetricSample, ModelCounters, ModelStatus, TensorSpec } from '../../src/ports/server-adapter.js';
import { MalformedBodyError } from './errors.js';
import { asArray, asCounter, asInt, asObject, asString, field, join, opt, parseJsonBody, req } from './json-fields.js';
import type { JsonObject } from './json-fields.js';

// ---- repository index (§A.8) ----

/** One entry of `POST /v2/repository/index`. A model never loaded has only a name. */
export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  /** UNKNOWN, READY, UNAVAILABLE, LOADING or UNLOADING; absent when never loaded. */
  readonly state?: string;
  readonly reason?: string;
}

export function parseRepositoryIndex(text: string): IndexEntry[] {
  return asArray(parseJsonBody(text), '').map((v, i) => {
    const p = join('', i);
    const o = asObject(v, p);
    const version = opt(o, 'version', p, asString);
    const state = opt(o, 'state', p, asString);
    const reason = opt(o, 'reason', p, asString);
    return {
      name: req(o, 'name', p, asString),
      ...(version !== undefined ? { version } : {}),
      ...(state !== undefined ? { state } : {}),
      ...(reason !== undefined ? { reason } : {}),
    };
  });
}

// ---- model configuration (§A.6) ----

export interface InstanceGroupSummary {
  /** KIND_AUTO (the protobuf default when absent), KIND_GPU, KIND_CPU or KIND_MODEL. */
  readonly kind: string;
  /** As configured; Triton runs at least 1 (a count of 0 is overridden to 1). */
  readonly count: number;
}

export type SchedulerKind = 'default' | 'dynamic' | 'sequence' | 'ensemble';

/** The parts of a model config inferline reads, plus the whole config to edit and post back. */
export interface TritonModelConfig {
  readonly raw: JsonObject;
  readonly name: string;
  /** As Triton says it: 0 means the inputs have no batch dimension. */
  readonly maxBatchSize: number;
  readonly instanceGroups: readonly InstanceGroupSummary[];
  readonly scheduler: SchedulerKind;
  /** dynamic_batching.max_queue_delay_microseconds, when the dynamic batcher is on. */
  readonly maxQueueDelayUs?: number;
}

export function parseModelConfig(text: string): TritonModelConfig {
  const raw = asObject(parseJsonBody(text), '');
  const groups = opt(raw, 'instance_group', '', asArray) ?? [];
  const instanceGroups = groups.map((g, i) => {
    const p = join('instance_group', i);
    const o = asObject(g, p);
    return { kind: opt(o, 'kind', p, asString) ?? 'KIND_AUTO', count: opt(o, 'count', p, (v, q) => asInt(v, q, 0)) ?? 0 };
  });
  const dynamic = opt(raw, 'dynamic_batching', '', asObject);
  const maxQueueDelayUs = dynamic === undefined ? undefined
    : opt(dynamic, 'max_queue_delay_microseconds', 'dynamic_batching', (v, q) => asInt(v, q, 0)) ?? 0;
  const platform = opt(raw, 'platform', '', asString);
  const scheduler: SchedulerKind = dynamic !== undefined ? 'dynamic'
    : opt(raw, 'sequence_batching', '', asObject) !== undefined ? 'sequence'
      : opt(raw, 'ensemble_scheduling', '', asObject) !== undefined || platform === 'ensemble' ? 'ensemble' : 'default';
  return {
    raw,
    name: req(raw, 'name', '', asString),
    // Protobuf JSON omits a field at its default; Triton prints it, but absent still means 0.
    maxBatchSize: opt(raw, 'max_batch_size', '', (v, q) => asInt(v, q, 0)) ?? 0,
    instanceGroups,
    scheduler,
    ...(maxQueueDelayUs !== undefined ? { maxQueueDelayUs } : {}),
  };
}

/**
 * Where the instances run. Triton normalises KIND_AUTO to GPU or CPU before it serves a config,
 * so an AUTO left over, KIND_MODEL (the model places itself) or a mix of kinds is 'unknown'.
 */
export function deviceOf(groups: readonly InstanceGroupSummary[]): DeviceKind {
  const kinds = new Set(groups.map((g) => g.kind));
  if (kinds.size !== 1) return 'unknown';
  if (kinds.has('KIND_GPU')) return 'gpu';
  if (kinds.has('KIND_CPU')) return 'cpu';
  return 'unknown';
}

/** Highest numeric version among the entries, or undefined. */
function highestVersion(entries: readonly IndexEntry[]): string | undefined {
  const versions = entries.map((e) => e.version).filter((v): v is string => v !== undefined);
  return versions.sort((a, b) => Number(b) - Number(a) || b.localeCompare(a))[0];
}

/**
 * A model's observed status from its index entries and (when it is loaded) its config. Replicas
 * count instance_group counts per loaded version, as configured: for a KIND_GPU group that is
 * instances per listed GPU, the number inferline sets (see ReplicaControl).
 */
export function modelStatusOf(name: string, entries: readonly IndexEntry[], config: TritonModelConfig | undefined): ModelStatus {
  const readyEntries = entries.filter((e) => e.state === 'READY');
  const version = highestVersion(readyEntries.length > 0 ? readyEntries : entries);
  const base = { model: name, ...(version !== undefined ? { version } : {}) };
  if (config === undefined || readyEntries.length === 0) {
    // Not loaded: no instances run, and Triton serves no config for it.
    return { ...base, ready: false, replicas: 0, device: 'unknown', maxBatchSize: 1 };
  }
  const batching = config.maxBatchSize > 0;
  return {
    ...base,
    ready: true,
    replicas: config.instanceGroups.reduce((n, g) => n + Math.max(1, g.count), 0),
    device: deviceOf(config.instanceGroups),
    maxBatchSize: Math.max(1, config.maxBatchSize),
    // Only the dynamic batcher holds requests to fill a batch; microseconds kept as fractional ms.
    ...(batching && config.maxQueueDelayUs !== undefined ? { batchDelayMs: config.maxQueueDelayUs / 1000 } : {}),
  };
}

// ---- model metadata (§A.5) ----

export interface ModelMetadata {
  readonly name: string;
  readonly versions?: readonly string[];
  readonly platform?: string;
  /** Shapes as Triton gives them: with the batch dimension (-1) for batching models. */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

function tensorSpecs(o: JsonObject, key: string): TensorSpec[] {
  return req(o, key, '', asArray).map((v, i) => {
    const p = join(key, i);
    const t = asObject(v, p);
    return {
      name: req(t, 'name', p, asString),
      datatype: req(t, 'datatype', p, asString),
      shape: req(t, 'shape', p, asArray).map((d, j) => asInt(d, join(join(p, 'shape'), j), -1)),
    };
  });
}

export function parseModelMetadata(text: string): ModelMetadata {
  const o = asObject(parseJsonBody(text), '');
  const versions = opt(o, 'versions', '', asArray)?.map((v, i) => asString(v, join('versions', i)));
  const platform = opt(o, 'platform', '', asString);
  return {
    name: req(o, 'name', '', asString),
    ...(versions !== undefined ? { versions } : {}),
    ...(platform !== undefined ? { platform } : {}),
    inputs: tensorSpecs(o, 'inputs'),
    outputs: tensorSpecs(o, 'outputs'),
  };
}

/** Input specs without the batch dimension, which batching models report as a leading -1. */
export function inputSpecsOf(meta: ModelMetadata, maxBatchSize: number): TensorSpec[] {
  return meta.inputs.map((t, i) => {
    if (maxBatchSize === 0) return t;
    if (t.shape[0] !== -1) {
      throw new MalformedBodyError(join(join('inputs', i), 'shape'), `a batching model's shape starts with -1, found [${t.shape.join(', ')}]`);
    }
    return { ...t, shape: t.shape.slice(1) };
  });
}

// ---- statistics (§A.9) ----

interface DurationStat { readonly count: bigint; readonly ns: bigint }

function duration(o: JsonObject, key: string, path: string): DurationStat {
  const p = join(path, key);
  const d = req(o, key, path, asObject);
  return { count: req(d, 'count', p, asCounter), ns: req(d, 'ns', p, asCounter) };
}

/**
 * Per batch size: executions = compute_infer.count (Triton writes the same count in all three
 * fields), computeNs = compute_input.ns + compute_infer.ns + compute_output.ns, per execution,
 * not per request (unlike the model-level sums, which weigh each batch by its size).
 */
function batchSizes(stat: JsonObject, path: string): BatchSizeCounters[] | undefined {
  const list = opt(stat, 'batch_stats', path, asArray);
  if (list === undefined) return undefined;
  const seen = new Set<number>();
  const out = list.map((v, i) => {
    const p = join(join(path, 'batch_stats'), i);
    const b = asObject(v, p);
    const batchSize = req(b, 'batch_size', p, (x, q) => asInt(x, q, 1));
    if (seen.has(batchSize)) throw new MalformedBodyError(join(p, 'batch_size'), `batch size ${batchSize} appears twice`);
    seen.add(batchSize);
    const [input, infer, output] = (['compute_input', 'compute_infer', 'compute_output'] as const).map((k) => duration(b, k, p)) as [DurationStat, DurationStat, DurationStat];
    return { batchSize, executions: infer.count, computeNs: input.ns + infer.ns + output.ns };
  });
  return out.sort((a, b) => a.batchSize - b.batchSize);
}

/** `GET /v2/models[/{m}]/stats` → one ModelCounters per model version. */
export function parseStats(text: string): ModelCounters[] {
  const root = asObject(parseJsonBody(text), '');
  return req(root, 'model_stats', '', asArray).map((v, i) => {
    const p = join('model_stats', i);
    const s = asObject(v, p);
    const version = opt(s, 'version', p, asString);
    const inf = req(s, 'inference_stats', p, asObject);
    const ip = join(p, 'inference_stats');
    const [success, fail, queue, cin, cinfer, cout] = (['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output'] as const)
      .map((k) => duration(inf, k, ip)) as [DurationStat, DurationStat, DurationStat, DurationStat, DurationStat, DurationStat];
    const sizes = batchSizes(s, p);
    return {
      model: req(s, 'name', p, asString),
      ...(version !== undefined ? { version } : {}),
      requests: success.count,
      failures: fail.count,
      inferences: req(s, 'inference_count', p, asCounter),
      executions: req(s, 'execution_count', p, asCounter),
      queueNs: queue.ns,
      computeNs: cin.ns + cinfer.ns + cout.ns,
      ...(sizes !== undefined ? { batchSizes: sizes } : {}),
    };
  });
}

// ---- Prometheus metrics (§A.10) ----

export function parseMetrics(text: string): MetricSample[] {
  if (text.trimStart().startsWith('<')) throw new MalformedBodyError('', 'an HTML page, not Prometheus text');
  try {
    return parsePrometheusText(text);
  } catch (err) {
    if (err instanceof PrometheusSyntaxError) throw new MalformedBodyError('', `not Prometheus text: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Model totals of one metric: sums its series across `gpu_uuid`, the series without that label
 * (the model-level reporter) included, keeping every other label (model, version, reason, …).
 */
export function sumOverGpus(samples: readonly MetricSample[], name: string): MetricSample[] {
  const keep = new Set<string>();
  for (const s of samples) if (s.name === name) for (const k of Object.keys(s.labels)) if (k !== 'gpu_uuid') keep.add(k);
  return sumBy(samples, name, [...keep].sort());
}

/**
 * The counters with each model version's pending requests (also its queue) (nv_inference_pending_request_count,
 * summed over GPUs) where the metrics have them; a version the metrics do not list keeps none.
 */
export function withPending(counters: readonly ModelCounters[], samples: readonly MetricSample[]): ModelCounters[] {
  const pending = new Map<string, number>();
  for (const s of sumOverGpus(samples, 'nv_inference_pending_request_count')) {
    const model = s.labels['model'];
    if (model === undefined || !Number.isFinite(s.value) || s.value < 0) continue;
    const key = `${model}\u0000${s.labels['version'] ?? ''}`;
    pending.set(key, (pending.get(key) ?? 0) + s.value);
  }
  return counters.map((c) => {
    const p = pending.get(`${c.model}\u0000${c.version ?? ''}`);
    // Triton counts a request when it is answered: what is pending is also what is queued.
    return p === undefined ? c : { ...c, pending: p, queued: p };
  });
}

// ---- server metadata (§A.4), inference (§A.7), errors (§A.2) ----

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export function parseServerMetadata(text: string): ServerMetadata {
  const o = asObject(parseJsonBody(text), '');
  return {
    name: req(o, 'name', '', asString),
    version: req(o, 'version', '', asString),
    extensions: req(o, 'extensions', '', asArray).map((v, i) => asString(v, join('extensions', i))),
  };
}

export interface InferResponseSummary {
  /** Triton always names the model; the protocol's own examples (F3) may not. */
  readonly modelName?: string;
  readonly outputs: readonly TensorSpec[];
}

/**
 * The JSON part of an inference response. With binary outputs (§A.7) the body is JSON followed
 * by raw bytes and `Inference-Header-Content-Length` gives the JSON's length in bytes.
 */
export function parseInferResponse(body: string, headerLength?: string): InferResponseSummary {
  let json = body;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    const bytes = Buffer.from(body, 'utf8');
    if (!Number.isSafeInteger(n) || n < 0 || n > bytes.length) {
      throw new MalformedBodyError('', `Inference-Header-Content-Length ${JSON.stringify(headerLength)} does not fit a ${bytes.length}-byte body`);
    }
    // The JSON header is valid UTF-8 ending in '}', so its bytes decode back unchanged.
    json = bytes.subarray(0, n).toString('utf8');
  }
  const o = asObject(parseJsonBody(json), '');
  const modelName = opt(o, 'model_name', '', asString);
  return { ...(modelName !== undefined ? { modelName } : {}), outputs: tensorSpecs(o, 'outputs') };
}

/** The message of a Triton error body `{"error": "…"}`, or undefined when it is not one. */
export function parseErrorBody(text: string): string | undefined {
  let v: LosslessJson;
  try {
    v = parseJsonBody(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const e = field(v, 'error');
  return typeof e === 'string' ? e : undefined;
}

/** Triton's answer to a load or unload outside explicit model-control mode (§A.8): 503 and this. */
export function isExplicitModeRefusal(status: number, message: string | undefined): boolean {
  return status === 503 && message !== undefined && /explicit model load \/ unload is not allowed/.test(message);
}
