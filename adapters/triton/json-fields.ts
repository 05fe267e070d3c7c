// Typed readers over a losslessly parsed JSON body. Each takes the path of the value so a
// MalformedBodyError says exactly where the body broke the contract. Counters may be bigint (they
// pass 2^53); every other integer must be a safe number, so a huge batch size or instance count is
// rejected instead of rounded.
import { JsonSyntaxError, parseJsonLossless } from '../common/lossless-json.js';
import type { LosslessJson } from '../common/lossless-json.js';
import { MalformedBodyError } from './errors.js';

export type JsonObject = { readonly [key: string]: LosslessJson };

/** Parses a body as JSON, keeping integers exact; HTML error pages and truncation are malformed. */
export function parseJsonBody(text: string): LosslessJson {
  const trimmed = text.trimStart();
  if (trimmed === '') throw new MalformedBodyError('', 'empty body where JSON was expected');
  if (trimmed.startsWith('<')) throw new MalformedBodyError('', `an HTML or XML page, not JSON: ${JSON.stringify(trimmed.slice(0, 60))}`);
  try {
    return parseJsonLossless(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new MalformedBodyError('', `not JSON: ${err.message}`, { cause: err });
    throw err;
  }
}

function kindOf(v: LosslessJson): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v === 'bigint' ? 'an integer' : `a ${typeof v}`;
}

function wrong(path: string, want: string, v: LosslessJson): never {
  throw new MalformedBodyError(path, `expected ${want}, found ${kindOf(v)}${typeof v === 'object' && v !== null ? '' : ` (${String(v)})`}`);
}

export function asObject(v: LosslessJson, path: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return wrong(path, 'an object', v);
  return v;
}

export function asArray(v: LosslessJson, path: string): readonly LosslessJson[] {
  if (!Array.isArray(v)) return wrong(path, 'an array', v);
  return v;
}

export function asString(v: LosslessJson, path: string): string {
  if (typeof v !== 'string') return wrong(path, 'a string', v);
  return v;
}

export function asBoolean(v: LosslessJson, path: string): boolean {
  if (typeof v !== 'boolean') return wrong(path, 'a boolean', v);
  return v;
}

/** A cumulative counter: a non-negative integer of any size, as a bigint. */
export function asCounter(v: LosslessJson, path: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) throw new MalformedBodyError(path, `a counter cannot be negative (${v})`);
    return v;
  }
  if (typeof v !== 'number') return wrong(path, 'a non-negative integer', v);
  if (!Number.isSafeInteger(v)) throw new MalformedBodyError(path, `expected an exact integer, found ${v}`);
  if (v < 0) throw new MalformedBodyError(path, `a counter cannot be negative (${v})`);
  return BigInt(v);
}

/** An integer that must fit a JS number exactly (sizes, counts of instances, dimensions). */
export function asInt(v: LosslessJson, path: string, min: number): number {
  if (typeof v === 'bigint') throw new MalformedBodyError(path, `integer ${v} is out of range here`);
  if (typeof v !== 'number') return wrong(path, 'an integer', v);
  if (!Number.isSafeInteger(v)) throw new MalformedBodyError(path, `expected an exact integer, found ${v}`);
  if (v < min) throw new MalformedBodyError(path, `expected at least ${min}, found ${v}`);
  return v;
}

/** The own field of an object, or undefined (protobuf JSON omits unset fields). */
export function field(o: JsonObject, key: string): LosslessJson | undefined {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** A required field, read by `read`. */
export function req<T>(o: JsonObject, key: string, path: string, read: (v: LosslessJson, p: string) => T): T {
  const v = field(o, key);
  if (v === undefined) throw new MalformedBodyError(join(path, key), 'missing');
  return read(v, join(path, key));
}

/** An optional field: undefined when absent (null counts as absent, as protobuf JSON allows). */
export function opt<T>(o: JsonObject, key: string, path: string, read: (v: LosslessJson, p: string) => T): T | undefined {
  const v = field(o, key);
  return v === undefined || v === null ? undefined : read(v, join(path, key));
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}
