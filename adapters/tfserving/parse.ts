// TF Serving REST bodies → domain values (C.2, F11). Pure. int64 fields arrive as JSON strings
// ("version": "123", "size": "-1"); prediction bodies may hold bare NaN/Infinity. A body that breaks
// the wire contract throws MalformedBodyError; index.ts names the endpoint and status.
import { JsonSyntaxError, parseJsonLossless } from '../common/lossless-json.js';
import type { LosslessJson } from '../common/lossless-json.js';
import type { TensorSpec } from '../../src/ports/server-adapter.js';

export class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
}

export const MODEL_STATES = ['UNKNOWN', 'START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface ModelVersionStatus {
  readonly version: string;
  readonly state: ModelState;
  /** A tensorflow.error.Code name: "OK", "NOT_FOUND", … */
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** One input of a signature; `dims` includes the batch dimension, undefined when the rank is unknown. */
export interface InputSpec {
  readonly name: string;
  readonly dtype: string;
  readonly dims: readonly number[] | undefined;
}

export interface SignatureSpec {
  readonly methodName: string;
  readonly inputs: readonly InputSpec[];
}

type JsonObject = { [key: string]: LosslessJson };

function json(body: string, allowNonFinite = false): LosslessJson {
  try {
    return parseJsonLossless(body, { allowNonFinite });
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new MalformedBodyError(`not JSON: ${err.message}`, { cause: err });
    throw err;
  }
}

function object(v: LosslessJson | undefined, path: string): JsonObject {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new MalformedBodyError(`${path} must be an object`);
  return v;
}

function string(v: LosslessJson | undefined, path: string): string {
  if (typeof v !== 'string') throw new MalformedBodyError(`${path} must be a string`);
  return v;
}

/** An int64 written as a string, as proto3 JSON writes it. */
function int64String(v: LosslessJson | undefined, path: string): string {
  const s = string(v, path);
  if (!/^-?\d+$/.test(s)) throw new MalformedBodyError(`${path} must be an integer string, found ${JSON.stringify(s)}`);
  return s;
}

/** `GET /v1/models/{m}` → every version's state. */
export function parseModelStatus(body: string): ModelVersionStatus[] {
  const root = object(json(body), 'body');
  const list = root['model_version_status'];
  if (!Array.isArray(list)) throw new MalformedBodyError('model_version_status must be an array');
  return list.map((entry, i) => {
    const path = `model_version_status[${i}]`;
    const e = object(entry, path);
    const version = int64String(e['version'], `${path}.version`);
    if (version.startsWith('-')) throw new MalformedBodyError(`${path}.version must be ≥ 0, found ${version}`);
    const state = string(e['state'], `${path}.state`);
    if (!(MODEL_STATES as readonly string[]).includes(state)) throw new MalformedBodyError(`${path}.state: unknown state ${JSON.stringify(state)}`);
    // proto3 leaves default-valued messages out: an absent status means OK.
    const status = e['status'] === undefined ? {} : object(e['status'], `${path}.status`);
    return {
      version,
      state: state as ModelState,
      errorCode: status['error_code'] === undefined ? 'OK' : string(status['error_code'], `${path}.status.error_code`),
      errorMessage: status['error_message'] === undefined ? '' : string(status['error_message'], `${path}.status.error_message`),
    };
  });
}

/** The version that serves: the highest AVAILABLE one (versions compared as integers). */
export function servingVersion(statuses: readonly ModelVersionStatus[]): string | undefined {
  let best: string | undefined;
  for (const s of statuses) if (s.state === 'AVAILABLE' && (best === undefined || BigInt(s.version) > BigInt(best))) best = s.version;
  return best;
}

function inputSpec(name: string, v: LosslessJson | undefined, path: string): InputSpec {
  const info = object(v, path);
  const dtype = string(info['dtype'], `${path}.dtype`);
  if (!/^DT_[A-Z0-9_]+$/.test(dtype)) throw new MalformedBodyError(`${path}.dtype: not a TF dtype: ${JSON.stringify(dtype)}`);
  if (info['tensor_shape'] === undefined) return { name, dtype, dims: undefined };
  const shape = object(info['tensor_shape'], `${path}.tensor_shape`);
  const unknownRank = shape['unknown_rank'] ?? false;
  if (typeof unknownRank !== 'boolean') throw new MalformedBodyError(`${path}.tensor_shape.unknown_rank must be a boolean`);
  if (unknownRank) return { name, dtype, dims: undefined };
  const dim = shape['dim'] ?? [];
  if (!Array.isArray(dim)) throw new MalformedBodyError(`${path}.tensor_shape.dim must be an array`);
  const dims = dim.map((d, j) => {
    const size = Number(int64String(object(d, `${path}.tensor_shape.dim[${j}]`)['size'], `${path}.tensor_shape.dim[${j}].size`));
    if (!Number.isSafeInteger(size) || size < -1) throw new MalformedBodyError(`${path}.tensor_shape.dim[${j}].size out of range: ${size}`);
    return size;
  });
  return { name, dtype, dims };
}

/** `GET /v1/models/{m}/metadata` → its signatures by name. */
export function parseModelMetadata(body: string): Map<string, SignatureSpec> {
  const root = object(json(body), 'body');
  const defs = object(object(object(root['metadata'], 'metadata')['signature_def'], 'metadata.signature_def')['signature_def'], 'metadata.signature_def.signature_def');
  const out = new Map<string, SignatureSpec>();
  for (const [sig, value] of Object.entries(defs)) {
    const path = `signature_def.${sig}`;
    const def = object(value, path);
    const inputs = def['inputs'] === undefined ? {} : object(def['inputs'], `${path}.inputs`);
    out.set(sig, {
      methodName: def['method_name'] === undefined ? '' : string(def['method_name'], `${path}.method_name`),
      inputs: Object.entries(inputs).map(([name, info]) => inputSpec(name, info, `${path}.inputs.${name}`)),
    });
  }
  return out;
}

/**
 * The port's view of an input: TF's dtype name as is (DT_FLOAT, …), the shape without the batch
 * dimension, and [-1] when the rank itself is unknown (no shape can be derived).
 */
export function toTensorSpec(input: InputSpec): TensorSpec {
  return { name: input.name, datatype: input.dtype, shape: input.dims === undefined ? [-1] : input.dims.slice(1) };
}

/** `POST /v1/models/{m}:predict` (row format) → how many predictions came back. */
export function parsePredictResponse(body: string): { readonly predictions: number } {
  const root = object(json(body, true), 'body');
  const predictions = root['predictions'];
  if (!Array.isArray(predictions)) throw new MalformedBodyError('predictions must be an array');
  return { predictions: predictions.length };
}
