// The emulated Triton's inference route: the request through the model's engine, and the reply
// in the form asked for (JSON data, or the binary tensor extension).
import { EngineError } from '../engine/index.js';
import type { ModelEngine } from '../engine/index.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { serveOnEngine } from '../common/serving.js';
import { OUTPUT_NAME, TENSOR_DIMS, TRITON_MODEL_VERSION } from './config.js';
import { parseInferRequest } from './infer-request.js';
import { error, json } from './state.js';
import type { TritonContext } from './state.js';
import type { TritonModel } from './types.js';

export async function infer(ctx: TritonContext, t: TritonModel, req: HttpRequest): Promise<HttpReply> {
  const engine = t.engine as ModelEngine;
  const name = t.model.name;
  const parsed = parseInferRequest(req, t.serving.maxBatchSize, name);
  if ('status' in parsed) {
    if (parsed.counted) engine.recordFailure('REJECTED');
    return parsed;
  }
  try {
    await serveOnEngine(engine, parsed.batch, ctx.options.requestOverheadMs);
  } catch (err) {
    if (err instanceof EngineError) return error(err.kind === 'too-large' ? 400 : 503, err.kind === 'too-large' ? `inference request batch-size must be <= ${t.serving.maxBatchSize} for '${name}'` : err.message);
    throw err;
  }
  const shape = t.serving.maxBatchSize > 0 ? [parsed.batch, ...TENSOR_DIMS] : [...TENSOR_DIMS];
  const wanted = parsed.outputs;
  const head: Record<string, unknown> = { model_name: name, model_version: TRITON_MODEL_VERSION, ...(parsed.id !== undefined ? { id: parsed.id } : {}) };
  if (wanted.binary) {
    const bytes = Buffer.from(parsed.values.buffer, parsed.values.byteOffset, parsed.values.byteLength);
    const text = JSON.stringify({ ...head, outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape, parameters: { binary_data_size: bytes.length } }] });
    return {
      status: 200,
      headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(Buffer.byteLength(text)) },
      body: Buffer.concat([Buffer.from(text), bytes]),
    };
  }
  return json(200, { ...head, outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape, data: Array.from(parsed.values) }] });
}
