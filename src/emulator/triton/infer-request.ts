// The emulated Triton's inference request on the wire: the JSON body (with Triton's parse error
// text) and a KServe v2 inference request, JSON or JSON header plus binary tensors.
import { reply } from '../common/http.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { INPUT_NAME, OUTPUT_NAME, TENSOR_DIMS } from './config.js';

export type ParsedBody = { ok: true; value: unknown } | { ok: false; message: string };

export function parseBody(body: Buffer, length = body.length): ParsedBody {
  const text = body.subarray(0, length).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1] ?? '0';
    return { ok: false, message: `failed to parse the request JSON buffer: ${text.trim() === '' ? 'The document is empty.' : 'Invalid value.'} at ${text.trim() === '' ? '0' : at}` };
  }
}

export interface ParsedInfer {
  readonly batch: number;
  readonly values: Float32Array;
  readonly id?: string;
  readonly outputs: { readonly binary: boolean };
}

export type InferError = HttpReply & { readonly counted: boolean };

/** Reads a KServe v2 inference request (JSON, or JSON header plus binary tensors). */
export function parseInferRequest(req: HttpRequest, maxBatchSize: number, model: string): ParsedInfer | InferError {
  const fail = (message: string, counted = true): InferError => ({ ...reply(400, JSON.stringify({ error: message })), counted });
  const headerLength = req.headers['inference-header-content-length'];
  let jsonLength = req.body.length;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > req.body.length) return fail('Inference-Header-Content-Length is not a valid length', false);
    if (n === 0) return fail('raw binary requests (Inference-Header-Content-Length: 0) are not emulated', false);
    jsonLength = n;
  }
  const parsed = parseBody(req.body, jsonLength);
  if (!parsed.ok) return fail(parsed.message, false);
  const body = parsed.value as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('failed to parse the request JSON buffer: the request must be a JSON object', false);
  const inputs = body['inputs'];
  if (!Array.isArray(inputs)) return fail("Unable to find 'inputs' in JSON request", false);
  if (inputs.length !== 1) return fail(`expected 1 inputs but got ${inputs.length} inputs for model '${model}'`);
  const input = inputs[0] as Record<string, unknown>;
  if (input['name'] !== INPUT_NAME) return fail(`unexpected inference input '${String(input['name'])}' for model '${model}'`);
  if (input['datatype'] !== 'FP32') return fail(`inference input '${INPUT_NAME}' data-type is '${String(input['datatype'])}', but model '${model}' expects 'FP32'`);
  const shape = input['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) return fail(`unable to parse 'shape' for input '${INPUT_NAME}'`);
  const dims = shape as number[];
  const expected = maxBatchSize > 0 ? [-1, ...TENSOR_DIMS] : [...TENSOR_DIMS];
  const tail = maxBatchSize > 0 ? dims.slice(1) : dims;
  if (dims.length !== expected.length || tail.some((d, i) => d !== TENSOR_DIMS[i])) {
    return fail(`unexpected shape for input '${INPUT_NAME}' for model '${model}'. Expected [${expected.join(',')}], got [${dims.join(',')}]`);
  }
  const batch = maxBatchSize > 0 ? (dims[0] as number) : 1;
  if (maxBatchSize > 0 && (batch < 1 || batch > maxBatchSize)) return fail(`inference request batch-size must be <= ${maxBatchSize} for '${model}'`);
  const elements = dims.reduce((a, b) => a * b, 1);

  let values: Float32Array;
  const params = (input['parameters'] ?? {}) as Record<string, unknown>;
  const binarySize = params['binary_data_size'];
  if (binarySize !== undefined) {
    const size = Number(binarySize);
    const available = req.body.length - jsonLength;
    if (!Number.isInteger(size) || size !== elements * 4 || size > available) {
      return fail(`unexpected number of bytes for input '${INPUT_NAME}', expecting ${elements * 4} bytes`);
    }
    values = new Float32Array(elements);
    for (let i = 0; i < elements; i++) values[i] = req.body.readFloatLE(jsonLength + i * 4);
  } else {
    const flat: unknown[] = [];
    flattenInto(input['data'], flat);
    if (flat.length !== elements || !flat.every((v) => typeof v === 'number')) {
      return fail(`unable to parse 'data': Shape does not match true shape of 'data' field`);
    }
    values = Float32Array.from(flat as number[]);
  }

  const requested = body['outputs'];
  const all = (body['parameters'] as Record<string, unknown> | undefined)?.['binary_data_output'] === true;
  let binary = all;
  if (Array.isArray(requested)) {
    for (const o of requested as Record<string, unknown>[]) {
      if (o['name'] !== OUTPUT_NAME) return fail(`unexpected inference output '${String(o['name'])}' for model '${model}'`);
      const p = o['parameters'] as Record<string, unknown> | undefined;
      if (p?.['binary_data'] === true) binary = true;
      if (p?.['binary_data'] === false) binary = false;
    }
  }
  const id = body['id'];
  return { batch, values, ...(typeof id === 'string' ? { id } : {}), outputs: { binary } };
}

function flattenInto(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) flattenInto(x, out);
  else out.push(v);
}
