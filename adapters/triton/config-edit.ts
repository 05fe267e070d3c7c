// Pure edits of a model config for the load-with-override recipe (reference §A.12): take the full
// config Triton served, change only what the call is about, and post all of it back as a JSON
// string. Every other field, unknown ones included, goes back exactly as it came (numbers too:
// they are written losslessly), because an override replaces the on-disk config completely.
import type { LosslessJson } from '../common/lossless-json.js';
import type { BatchSettings } from '../../src/ports/server-adapter.js';
import { UnsupportedChangeError } from './errors.js';
import { asObject } from './json-fields.js';
import type { JsonObject } from './json-fields.js';
import type { TritonModelConfig } from './parse.js';

const KIND: Record<'cpu' | 'gpu', string> = { cpu: 'KIND_CPU', gpu: 'KIND_GPU' };

/**
 * The config with `replicas` instances: the count of its one instance group, and its kind when
 * `device` is given. Changing the kind also empties `gpus` (a CPU group may not list GPUs; for a
 * GPU group empty means every visible GPU) and `host_policy` (it names the old device).
 */
export function withInstanceCount(config: TritonModelConfig, replicas: number, device?: 'cpu' | 'gpu'): JsonObject {
  if (!Number.isSafeInteger(replicas) || replicas < 1) {
    throw new UnsupportedChangeError(`replicas must be a whole number ≥ 1, got ${replicas}: Triton runs at least one instance (a count of 0 means 1); unload the model instead`);
  }
  if (config.scheduler === 'ensemble') {
    throw new UnsupportedChangeError(`'${config.name}' is an ensemble: it has no instances of its own; scale its composing models`);
  }
  const groups = config.raw['instance_group'];
  const list = Array.isArray(groups) ? groups : [];
  if (list.length > 1) {
    throw new UnsupportedChangeError(`'${config.name}' has ${list.length} instance groups; inferline sets the instance count of a model with one group`);
  }
  const old = list[0] === undefined ? {} : asObject(list[0], 'instance_group[0]');
  const group: Record<string, LosslessJson> = { ...old, count: replicas };
  if (device !== undefined && old['kind'] !== KIND[device]) {
    group['kind'] = KIND[device];
    if ('gpus' in old) group['gpus'] = [];
    if ('host_policy' in old) group['host_policy'] = '';
  }
  return { ...config.raw, instance_group: [group] };
}

/**
 * The config with a new max_batch_size and dynamic_batching.max_queue_delay_microseconds (the
 * delay rounded to whole microseconds). Turns the dynamic batcher on when the model had the
 * default scheduler; drops preferred batch sizes above the new maximum, which Triton rejects.
 */
export function withBatching(config: TritonModelConfig, settings: BatchSettings): JsonObject {
  const { maxBatchSize, batchDelayMs } = settings;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new UnsupportedChangeError(`maxBatchSize must be a whole number ≥ 1, got ${maxBatchSize}`);
  }
  if (!Number.isFinite(batchDelayMs) || batchDelayMs < 0) {
    throw new UnsupportedChangeError(`batchDelayMs must be ≥ 0, got ${batchDelayMs}`);
  }
  if (config.maxBatchSize === 0) {
    // Its inputs have no batch dimension; turning batching on would change every client's shapes.
    throw new UnsupportedChangeError(`'${config.name}' does not batch (max_batch_size 0): its inputs have no batch dimension`);
  }
  if (config.scheduler === 'sequence' || config.scheduler === 'ensemble') {
    throw new UnsupportedChangeError(`'${config.name}' uses the ${config.scheduler} scheduler, not the dynamic batcher`);
  }
  const old = config.raw['dynamic_batching'];
  const dynamic: Record<string, LosslessJson> = old === undefined || old === null ? {} : { ...asObject(old, 'dynamic_batching') };
  dynamic['max_queue_delay_microseconds'] = Math.round(batchDelayMs * 1000);
  const preferred = dynamic['preferred_batch_size'];
  if (Array.isArray(preferred)) {
    dynamic['preferred_batch_size'] = preferred.filter((p) => (typeof p === 'number' || typeof p === 'bigint') && p <= maxBatchSize);
  }
  return { ...config.raw, max_batch_size: maxBatchSize, dynamic_batching: dynamic };
}

/** JSON text of a losslessly parsed value: bigints are written as the integers they are. */
export function stringifyLossless(v: LosslessJson): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} as JSON`);
    return JSON.stringify(v);
  }
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifyLossless).join(',')}]`;
  return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${stringifyLossless(v[k] as LosslessJson)}`).join(',')}}`;
}

/** The body of `POST /v2/repository/models/{m}/load`: the config as a JSON string (§A.8, §A.12). */
export function loadRequestBody(config: JsonObject): { parameters: { config: string } } {
  return { parameters: { config: stringifyLossless(config) } };
}
