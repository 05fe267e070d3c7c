// Builds a KServe v2 inference request (reference §A.7) for active profiling: every input shaped
// [batchSize, ...shape] (variable dimensions -1 become 1), filled with zeros or seeded random values.
// Random values come from one named stream per input, so the same seed gives the same request.
//
// Data goes as JSON, except FP16 and BF16, which Triton refuses in JSON ("receiving FP16 data via
// JSON is not supported"): those travel as binary tensor data after the JSON. The shared
// HttpClient sends string bodies only (as UTF-8), so those bytes are chosen below 0x80, where UTF-8
// writes each character as that one byte: zeros, or positive values in [0.25, 1) (FP16) and
// [0.5, 1) (BF16). Outputs are asked for in binary so the server spends no time writing JSON.
import { RandomStream } from '../../src/core/math/random.js';
import type { InferOptions, TensorSpec } from '../../src/ports/server-adapter.js';
import { UnsupportedChangeError } from './errors.js';

export interface InferRequest {
  /** JSON, followed by the binary inputs when there are any. */
  readonly body: string;
  /** Bytes of the JSON part when binary data follows: the Inference-Header-Content-Length. */
  readonly jsonLength?: number;
}

const INTEGER_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
const FLOAT_TYPES = new Set(['FP32', 'FP64']);
const HALF_TYPES = new Set(['FP16', 'BF16']);

type JsonData = number[] | boolean[] | string[];

function jsonData(datatype: string, n: number, rng: RandomStream | undefined): JsonData {
  if (FLOAT_TYPES.has(datatype)) return Array.from({ length: n }, () => (rng ? Math.round(rng.next() * 1e6) / 1e6 : 0));
  // Small non-negative integers fit every integer type and stay valid as indices (token ids).
  if (INTEGER_TYPES.has(datatype)) return Array.from({ length: n }, () => (rng ? rng.nextUint32() % 100 : 0));
  if (datatype === 'BOOL') return Array.from({ length: n }, () => (rng ? rng.next() < 0.5 : false));
  return Array.from({ length: n }, () => (rng ? rng.nextUint32().toString(36) : ''));
}

/** Little-endian 16-bit floats, every byte below 0x80 (see the header comment). */
function halfBytes(datatype: string, n: number, rng: RandomStream | undefined): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    if (!rng) {
      out += '\u0000\u0000';
      continue;
    }
    const low = rng.nextUint32() & 0x7f;
    const high = datatype === 'FP16' ? 0x34 + (rng.nextUint32() % 8) : 0x3f;
    out += String.fromCharCode(low, high);
  }
  return out;
}

/**
 * The request for `batchSize` queries. `batchDim` is false for a model with max_batch_size 0: its
 * inputs have no batch dimension, so only a batch of 1 can be sent.
 */
export function buildInferRequest(
  inputs: readonly TensorSpec[], batchDim: boolean, options: Pick<InferOptions, 'batchSize' | 'data' | 'seed'>,
): InferRequest {
  const { batchSize, data, seed } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new UnsupportedChangeError(`batch size must be a whole number ≥ 1, got ${batchSize}`);
  if (!batchDim && batchSize !== 1) throw new UnsupportedChangeError(`the model does not batch (max_batch_size 0): batch size ${batchSize} cannot be sent`);
  let binary = '';
  const tensors = inputs.map((t) => {
    const dims = t.shape.map((d) => (d < 0 ? 1 : d));
    const shape = batchDim ? [batchSize, ...dims] : dims;
    const n = shape.reduce((a, b) => a * b, 1);
    const rng = data === 'random' ? new RandomStream(seed ?? 0, `infer:${t.name}`) : undefined;
    if (HALF_TYPES.has(t.datatype)) {
      binary += halfBytes(t.datatype, n, rng);
      return { name: t.name, shape, datatype: t.datatype, parameters: { binary_data_size: 2 * n } };
    }
    if (!FLOAT_TYPES.has(t.datatype) && !INTEGER_TYPES.has(t.datatype) && t.datatype !== 'BOOL' && t.datatype !== 'BYTES') {
      throw new UnsupportedChangeError(`input '${t.name}' has datatype ${t.datatype}, which the profiler cannot fill`);
    }
    return { name: t.name, shape, datatype: t.datatype, data: jsonData(t.datatype, n, rng) };
  });
  const json = JSON.stringify({ inputs: tensors, parameters: { binary_data_output: true } });
  return binary === '' ? { body: json } : { body: json + binary, jsonLength: Buffer.byteLength(json, 'utf8') };
}
