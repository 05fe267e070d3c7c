// The emulated Triton's model configuration: the JSON form of inference.ModelConfig that
// GET /v2/models/{m}/config returns (every field present, enums as strings, 64-bit fields as
// numbers, instance groups normalised), and the parsing of a load request's config override.
//
// An emulated model is a python-backend model with one FP32 input INPUT0 and one output OUTPUT0
// of dims [4] (the output echoes the input). Like Triton, an override replaces the whole config
// and auto-complete fills what the "backend" knows: the tensors, max_batch_size (the server's
// default-max-batch-size, 4) and dynamic_batching when max_batch_size > 1.
import type { EmulatedModel } from '../common/profiles.js';

export const TRITON_VERSION = '2.73.0';
export const TRITON_MODEL_VERSION = '1';
export const INPUT_NAME = 'INPUT0';
export const OUTPUT_NAME = 'OUTPUT0';
export const TENSOR_DIMS: readonly number[] = [4];
export const DEFAULT_MAX_BATCH_SIZE = 4;
/** The GPUs an emulated GPU server has. */
export const EMULATED_GPUS: readonly number[] = [0];

export type InstanceKind = 'KIND_GPU' | 'KIND_CPU';

export interface InstanceGroup {
  readonly name: string;
  readonly kind: InstanceKind;
  /** Instances per listed GPU (GPU kind) or in total (CPU kind). */
  readonly count: number;
  readonly gpus: readonly number[];
}

/** What the emulator serves for one model: the settings a config stands for. */
export interface TritonServing {
  /** 0: the model does not batch (no batch dimension). */
  readonly maxBatchSize: number;
  readonly dynamicBatching?: {
    readonly maxQueueDelayUs: number;
    readonly preferredBatchSizes: readonly number[];
  };
  readonly instanceGroups: readonly InstanceGroup[];
}

/** Instances the groups make: GPU groups have `count` per GPU. */
export function instanceCount(s: TritonServing): number {
  return s.instanceGroups.reduce((n, g) => n + g.count * (g.kind === 'KIND_GPU' ? Math.max(1, g.gpus.length) : 1), 0);
}

export function usesGpu(s: TritonServing): boolean {
  return s.instanceGroups.some((g) => g.kind === 'KIND_GPU');
}

/**
 * Triton's NormalizeModelConfig: dynamic batching with no preferred_batch_size gets
 * [max_batch_size] (seen in GET /config of Triton 2.51: test/integration/servers/observed/triton/config.json).
 */
function normalPreferred(sizes: readonly number[], maxBatchSize: number): readonly number[] {
  return sizes.length === 0 && maxBatchSize > 0 ? [maxBatchSize] : sizes;
}

/** The serving settings a server starts with, from the emulator's options. */
export function initialServing(model: EmulatedModel, o: { instances: number; maxBatchSize: number; maxQueueDelayMs: number; preferredBatchSizes?: readonly number[] }): TritonServing {
  const kind: InstanceKind = model.gpu ? 'KIND_GPU' : 'KIND_CPU';
  return {
    maxBatchSize: o.maxBatchSize,
    ...(o.maxBatchSize > 0 ? {
      dynamicBatching: {
        maxQueueDelayUs: Math.round(o.maxQueueDelayMs * 1000),
        preferredBatchSizes: normalPreferred((o.preferredBatchSizes ?? []).filter((k) => k <= o.maxBatchSize), o.maxBatchSize),
      },
    } : {}),
    instanceGroups: [{ name: `${model.name}_0`, kind, count: o.instances, gpus: kind === 'KIND_GPU' ? EMULATED_GPUS : [] }],
  };
}

/** GET /v2/models/{m}/config: the full JSON ModelConfig. */
export function configJson(model: EmulatedModel, s: TritonServing): Record<string, unknown> {
  return {
    name: model.name,
    platform: '',
    backend: 'python',
    runtime: '',
    version_policy: { latest: { num_versions: 1 } },
    max_batch_size: s.maxBatchSize,
    input: [{
      name: INPUT_NAME, data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [...TENSOR_DIMS], is_shape_tensor: false,
      allow_ragged_batch: false, optional: false, is_non_linear_format_io: false,
    }],
    output: [{ name: OUTPUT_NAME, data_type: 'TYPE_FP32', dims: [...TENSOR_DIMS], label_filename: '', is_shape_tensor: false, is_non_linear_format_io: false }],
    batch_input: [],
    batch_output: [],
    optimization: {
      priority: 'PRIORITY_DEFAULT', input_pinned_memory: { enable: true }, output_pinned_memory: { enable: true },
      gather_kernel_buffer_threshold: 0, eager_batching: false,
    },
    ...(s.dynamicBatching ? {
      dynamic_batching: {
        preferred_batch_size: [...s.dynamicBatching.preferredBatchSizes],
        max_queue_delay_microseconds: s.dynamicBatching.maxQueueDelayUs,
        preserve_ordering: false,
        priority_levels: 0,
        default_priority_level: 0,
        priority_queue_policy: {},
      },
    } : {}),
    instance_group: s.instanceGroups.map((g) => ({
      name: g.name, kind: g.kind, count: g.count, gpus: [...g.gpus], secondary_devices: [], profile: [], passive: false, host_policy: '',
    })),
    default_model_filename: 'model.py',
    cc_model_filenames: {},
    metric_tags: {},
    parameters: {},
    model_warmup: [],
  };
}

/** True when two settings differ only in their instance groups: Triton updates those in place. */
export function sameExceptInstances(a: TritonServing, b: TritonServing): boolean {
  return a.maxBatchSize === b.maxBatchSize && JSON.stringify(a.dynamicBatching ?? null) === JSON.stringify(b.dynamicBatching ?? null);
}

// Field names of inference.ModelConfig and the messages the emulator reads (model_config.proto);
// Triton parses overrides with ignore_unknown_fields = false, so anything else is an error.
const MODEL_CONFIG_FIELDS = new Set([
  'name', 'platform', 'backend', 'runtime', 'version_policy', 'max_batch_size', 'input', 'output', 'batch_input',
  'batch_output', 'optimization', 'dynamic_batching', 'sequence_batching', 'ensemble_scheduling', 'instance_group',
  'default_model_filename', 'cc_model_filenames', 'metric_tags', 'parameters', 'model_warmup', 'model_operations',
  'model_transaction_policy', 'model_repository_agents', 'response_cache', 'model_metrics',
]);
const INSTANCE_GROUP_FIELDS = new Set(['name', 'kind', 'count', 'gpus', 'rate_limiter', 'secondary_devices', 'profile', 'passive', 'host_policy']);
const DYNAMIC_BATCHING_FIELDS = new Set([
  'preferred_batch_size', 'max_queue_delay_microseconds', 'preserve_ordering', 'priority_levels', 'default_priority_level',
  'default_queue_policy', 'priority_queue_policy',
]);
const KINDS = new Set(['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL']);

export type OverrideResult = { readonly ok: true; readonly serving: TritonServing } | { readonly ok: false; readonly message: string };

/**
 * Parses the `config` parameter of a load request (JSON text of a ModelConfig, possibly partial)
 * into the settings it stands for, auto-completing what is missing.
 */
export function parseConfigOverride(text: string, model: EmulatedModel): OverrideResult {
  const fail = (why: string): OverrideResult => ({ ok: false, message: `failed to load '${model.name}', failed to parse the config override: ${why}` });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('the config must be a JSON object');
  const cfg = raw as Record<string, unknown>;
  const unknown = unknownKey(cfg, MODEL_CONFIG_FIELDS);
  if (unknown) return fail(`Cannot find field: ${unknown} in message inference.ModelConfig`);
  if (cfg['name'] !== undefined && cfg['name'] !== model.name) {
    return fail(`the config names model '${String(cfg['name'])}', not '${model.name}'`);
  }
  if (cfg['sequence_batching'] !== undefined || cfg['ensemble_scheduling'] !== undefined) {
    return fail('the emulator schedules with dynamic_batching only (sequence_batching and ensemble_scheduling are not emulated)');
  }

  const mbs = cfg['max_batch_size'];
  let maxBatchSize = Math.min(DEFAULT_MAX_BATCH_SIZE, model.curve.maxBatch);
  if (mbs !== undefined) {
    if (!isInt(mbs) || mbs < 0) return fail(`max_batch_size must be an integer ≥ 0, not ${JSON.stringify(mbs)}`);
    maxBatchSize = mbs;
  }
  if (maxBatchSize > model.curve.maxBatch) {
    return fail(`max_batch_size ${maxBatchSize} is past the largest profiled batch size ${model.curve.maxBatch} of '${model.name}' on ${model.hardware}; the emulator does not extrapolate`);
  }

  let dynamicBatching: TritonServing['dynamicBatching'];
  const db = cfg['dynamic_batching'];
  if (db !== undefined) {
    if (typeof db !== 'object' || db === null || Array.isArray(db)) return fail('dynamic_batching must be an object');
    const d = db as Record<string, unknown>;
    const bad = unknownKey(d, DYNAMIC_BATCHING_FIELDS);
    if (bad) return fail(`Cannot find field: ${bad} in message inference.ModelDynamicBatching`);
    const delay = d['max_queue_delay_microseconds'] ?? 0;
    const delayUs = typeof delay === 'string' && /^\d+$/.test(delay) ? Number(delay) : delay;
    if (!isInt(delayUs) || delayUs < 0) return fail(`max_queue_delay_microseconds must be an integer ≥ 0, not ${JSON.stringify(delay)}`);
    const pref = d['preferred_batch_size'] ?? [];
    if (!Array.isArray(pref) || !pref.every((k) => isInt(k) && k >= 1)) return fail('preferred_batch_size must be a list of integers ≥ 1');
    const over = (pref as number[]).find((k) => k > maxBatchSize);
    if (over !== undefined) return fail(`dynamic batching preferred size must be <= max batch size for ${model.name}`);
    if (maxBatchSize === 0) return fail(`dynamic batching is not allowed for ${model.name}: max_batch_size is 0`);
    dynamicBatching = { maxQueueDelayUs: delayUs, preferredBatchSizes: normalPreferred(pref as number[], maxBatchSize) };
  } else if (maxBatchSize > 1) {
    // Auto-complete turns the dynamic batcher on for a batching model with no scheduler.
    dynamicBatching = { maxQueueDelayUs: 0, preferredBatchSizes: normalPreferred([], maxBatchSize) };
  }

  const groups = parseInstanceGroups(cfg['instance_group'], model);
  if (typeof groups === 'string') return fail(groups);
  return { ok: true, serving: { maxBatchSize, ...(dynamicBatching ? { dynamicBatching } : {}), instanceGroups: groups } };
}

function parseInstanceGroups(raw: unknown, model: EmulatedModel): InstanceGroup[] | string {
  const defaultKind: InstanceKind = model.gpu ? 'KIND_GPU' : 'KIND_CPU';
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    // No instance_group: one instance per available GPU, or one CPU instance.
    return [{ name: `${model.name}_0`, kind: defaultKind, count: 1, gpus: defaultKind === 'KIND_GPU' ? EMULATED_GPUS : [] }];
  }
  if (!Array.isArray(raw)) return 'instance_group must be a list';
  const groups: InstanceGroup[] = [];
  for (const [i, item] of raw.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return `instance_group[${i}] must be an object`;
    const g = item as Record<string, unknown>;
    const bad = unknownKey(g, INSTANCE_GROUP_FIELDS);
    if (bad) return `Cannot find field: ${bad} in message inference.ModelInstanceGroup`;
    const name = g['name'] === undefined || g['name'] === '' ? `${model.name}_${i}` : g['name'];
    if (typeof name !== 'string') return `instance_group[${i}].name must be a string`;
    const kindText = g['kind'] === undefined ? 'KIND_AUTO' : g['kind'];
    if (typeof kindText !== 'string' || !KINDS.has(kindText.toUpperCase())) return `invalid value for enum type inference.ModelInstanceGroup.Kind: ${JSON.stringify(kindText)}`;
    const k = kindText.toUpperCase();
    if (k === 'KIND_MODEL') return `instance group ${name} of model ${model.name}: KIND_MODEL is not emulated`;
    const kind: InstanceKind = k === 'KIND_AUTO' ? defaultKind : (k as InstanceKind);
    if (kind === 'KIND_GPU' && !model.gpu) return `instance group ${name} of model ${model.name} has kind KIND_GPU but no GPUs are available`;
    const count = g['count'] === undefined ? 1 : g['count'];
    if (!isInt(count) || count < 0) return `instance group ${name} of model ${model.name}: count must be an integer ≥ 0`;
    let gpus: readonly number[] = [];
    if (kind === 'KIND_GPU') {
      const listed = g['gpus'] ?? [];
      if (!Array.isArray(listed) || !listed.every(isInt)) return `instance group ${name} of model ${model.name}: gpus must be a list of integers`;
      const invalid = (listed as number[]).find((id) => !EMULATED_GPUS.includes(id));
      if (invalid !== undefined) {
        return `instance group ${name} of model ${model.name} specifies invalid or unsupported gpu id ${invalid}. GPUs with at least the minimum required CUDA compute compatibility of 6.0 are: ${EMULATED_GPUS.join(' ')}`;
      }
      gpus = listed.length > 0 ? (listed as number[]) : EMULATED_GPUS;
    }
    // A count of 0 is taken as 1 (qa test_rm_instance_to_zero depends on it).
    groups.push({ name, kind, count: count === 0 ? 1 : count, gpus });
  }
  return groups;
}

function unknownKey(obj: Record<string, unknown>, known: ReadonlySet<string>): string | undefined {
  return Object.keys(obj).find((k) => !known.has(k));
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
