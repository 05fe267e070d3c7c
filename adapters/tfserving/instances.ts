// Builds the `instances` of a row-format predict request (C.2) for active profiling: batchSize
// items shaped per the signature, filled with zeros or seeded random values. Pure: the same seed
// gives the same body.
import { RandomStream } from '../../src/core/math/random.js';
import type { InputSpec } from './parse.js';

export class UnsupportedInputError extends Error {
  override readonly name = 'UnsupportedInputError';
}

/** Refuse bodies too big to be a sensible probe (elements across the whole batch). */
export const MAX_ELEMENTS = 16_000_000;

type Json = number | boolean | string | { b64: string } | Json[] | { [k: string]: Json };

const FLOATS = new Set(['DT_FLOAT', 'DT_DOUBLE', 'DT_HALF', 'DT_BFLOAT16']);
const INTS = new Set(['DT_INT8', 'DT_INT16', 'DT_INT32', 'DT_INT64', 'DT_UINT8', 'DT_UINT16', 'DT_UINT32', 'DT_UINT64']);

function base64(bytes: number[]): string {
  return Buffer.from(bytes).toString('base64');
}

/** One element generator per input. Random integers stay in [0, 10) so they are valid ids and indices. */
function element(input: InputSpec, data: 'zero' | 'random', rng: RandomStream): () => Json {
  const random = data === 'random';
  if (FLOATS.has(input.dtype)) return () => (random ? rng.next() : 0);
  if (INTS.has(input.dtype)) return () => (random ? Math.floor(rng.next() * 10) : 0);
  if (input.dtype === 'DT_BOOL') return () => (random ? rng.next() < 0.5 : false);
  if (input.dtype === 'DT_STRING') {
    // Inputs named *_bytes take base64 objects (C.2); other strings go as text.
    const bytes = (): number[] => (random ? Array.from({ length: 8 }, () => Math.floor(rng.next() * 256)) : []);
    if (input.name.endsWith('_bytes')) return () => ({ b64: base64(bytes()) });
    return () => bytes().map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  throw new UnsupportedInputError(`input ${input.name}: cannot generate ${input.dtype} values`);
}

function tensor(shape: readonly number[], next: () => Json): Json {
  const [head, ...rest] = shape;
  if (head === undefined) return next();
  return Array.from({ length: head }, () => tensor(rest, next));
}

/**
 * Variable dimensions (-1) other than the batch take size 1. A single input gives bare tensors
 * per instance; several give one object per instance keyed by input name.
 */
export function buildInstances(inputs: readonly InputSpec[], batchSize: number, data: 'zero' | 'random', seed = 0): Json[] {
  if (inputs.length === 0) throw new UnsupportedInputError('the signature has no inputs');
  const rng = new RandomStream(seed, 'tfserving-instances');
  const plans = inputs.map((input) => {
    if (input.dims === undefined) throw new UnsupportedInputError(`input ${input.name}: unknown rank, no shape to fill`);
    const shape = input.dims.slice(1).map((d) => (d === -1 ? 1 : d));
    return { input, shape, next: element(input, data, rng) };
  });
  const elements = plans.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0) * batchSize;
  if (elements > MAX_ELEMENTS) throw new UnsupportedInputError(`a batch of ${batchSize} needs ${elements} elements (limit ${MAX_ELEMENTS})`);
  const [first] = plans;
  return Array.from({ length: batchSize }, () => {
    if (plans.length === 1 && first) return tensor(first.shape, first.next);
    const item: { [k: string]: Json } = {};
    for (const p of plans) item[p.input.name] = tensor(p.shape, p.next);
    return item;
  });
}
