// TF Serving's two text-proto files the adapter reads: the batching parameters file
// (`--batching_parameters_file`, C.4) and the model config file (`--model_config_file`, C.5). Pure:
// text in, values or new text out.
import { TextProtoError, integerOf, parseTextProto } from './text-proto.js';
import type { TextProtoField } from './text-proto.js';

/** TF's SharedBatchScheduler default when the file leaves max_batch_size unset (C.4). */
export const TF_DEFAULT_MAX_BATCH_SIZE = 1000;

export interface BatchingParameters {
  /** As written in the file; absent when the file leaves the key to the server's default. */
  readonly maxBatchSize?: number;
  readonly batchTimeoutMicros?: number;
  readonly allowedBatchSizes: readonly number[];
}

export interface BatchingChange {
  readonly maxBatchSize: number;
  readonly batchTimeoutMicros: number;
}

/** The new settings cannot be written without breaking another key the server checks at startup. */
export class BatchingConflictError extends Error {
  override readonly name = 'BatchingConflictError';
}

const WRAPPED = ['max_batch_size', 'batch_timeout_micros'] as const;

/** Reads an Int64Value wrapper `name { value: N }`; `name {}` is the wrapper's default, 0. */
function wrappedInt(fields: readonly TextProtoField[], name: string): { value: number; field: TextProtoField } | undefined {
  const found = fields.filter((f) => f.name === name);
  if (found.length > 1) throw new TextProtoError(`${name} is given ${found.length} times`);
  const field = found[0];
  if (field === undefined) return undefined;
  if (field.value.kind !== 'message') throw new TextProtoError(`${name} must be written as ${name} { value: N }`);
  const inner = field.value.fields;
  if (inner.some((f) => f.name !== 'value') || inner.length > 1) throw new TextProtoError(`${name} holds only one "value"`);
  const v = inner[0];
  if (v === undefined) return { value: 0, field };
  if (v.value.kind !== 'scalar') throw new TextProtoError(`${name}.value must be an integer`);
  const value = integerOf(v.value.token, `${name}.value`);
  if (value < 0) throw new TextProtoError(`${name}.value must be ≥ 0, found ${value}`);
  return { value, field };
}

export function readBatchingParameters(text: string): BatchingParameters {
  const fields = parseTextProto(text);
  const max = wrappedInt(fields, 'max_batch_size');
  const timeout = wrappedInt(fields, 'batch_timeout_micros');
  const allowedBatchSizes = fields.filter((f) => f.name === 'allowed_batch_sizes').map((f) => {
    if (f.value.kind !== 'scalar') throw new TextProtoError('allowed_batch_sizes holds integers');
    return integerOf(f.value.token, 'allowed_batch_sizes');
  });
  return {
    ...(max ? { maxBatchSize: max.value } : {}),
    ...(timeout ? { batchTimeoutMicros: timeout.value } : {}),
    allowedBatchSizes,
  };
}

/**
 * Returns the file with max_batch_size and batch_timeout_micros set, every other byte unchanged
 * (a missing key is appended). Refuses a change that the server would reject at startup.
 */
export function rewriteBatchingParameters(text: string, change: BatchingChange): string {
  const current = readBatchingParameters(text); // a malformed file is refused before any rewrite
  const last = current.allowedBatchSizes[current.allowedBatchSizes.length - 1];
  if (last !== undefined && last !== change.maxBatchSize) {
    throw new BatchingConflictError(
      `allowed_batch_sizes ends at ${last}, and TF Serving requires its last entry to equal max_batch_size; ` +
      `edit allowed_batch_sizes by hand before setting max_batch_size ${change.maxBatchSize}`,
    );
  }
  const fields = parseTextProto(text);
  const wanted: Record<(typeof WRAPPED)[number], number> = {
    max_batch_size: change.maxBatchSize,
    batch_timeout_micros: change.batchTimeoutMicros,
  };
  const edits: { start: number; end: number; text: string }[] = [];
  let appended = '';
  for (const name of WRAPPED) {
    const line = `${name} { value: ${wanted[name]} }`;
    const found = wrappedInt(fields, name);
    if (found) edits.push({ start: found.field.start, end: found.field.end, text: line });
    else appended += `${line}\n`;
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  if (appended !== '') out += (out === '' || out.endsWith('\n') ? '' : '\n') + appended;
  return out;
}

/** The model names of a `model_config_list` config file, in file order. */
export function readModelConfigNames(text: string): string[] {
  const root = parseTextProto(text);
  const lists = root.filter((f) => f.name === 'model_config_list');
  if (lists.length !== 1 || lists[0]?.value.kind !== 'message') {
    throw new TextProtoError('expected one model_config_list { config { name: ... } } (custom_model_config is not supported)');
  }
  const names: string[] = [];
  for (const config of lists[0].value.fields) {
    if (config.name !== 'config') continue;
    if (config.value.kind !== 'message') throw new TextProtoError('model_config_list.config must be a message');
    const name = config.value.fields.find((f) => f.name === 'name');
    if (name?.value.kind !== 'scalar' || name.value.token.kind !== 'string' || name.value.token.value === '') {
      throw new TextProtoError('every model_config_list.config needs a non-empty name');
    }
    if (!names.includes(name.value.token.value)) names.push(name.value.token.value);
  }
  return names;
}
