// The emulated TorchServe's inference API: /ping and /predictions/{model}[/{version}], behind the
// inference key; a prediction is a single query that the version's engine batches.
import { EngineError } from '../engine/index.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import { serveOnEngine } from '../common/serving.js';
import { INVALID_KEY, TsError, modelNotFound, resourceNotFound, tsJson } from './errors.js';
import { getModel } from './registry.js';
import type { TorchServeContext } from './registry.js';
import { apiDescription, header, isApiDescription, javaSplit, modelApiDescription } from './wire.js';

export async function handleInference(ctx: TorchServeContext, req: HttpRequest): Promise<HttpReply> {
  const { tokens, metrics } = ctx;
  const segments = javaSplit(req.path);
  if (isApiDescription(req, segments)) return tsJson(200, apiDescription());
  if (tokens && !tokens.check(header(req, 'authorization'), 'inference')) throw new TsError(400, 'InvalidKeyException', INVALID_KEY);
  if (segments[1] === 'ping') return tsJson(200, { status: 'Healthy' });
  if (segments[1] !== 'predictions' || segments.length < 3) throw resourceNotFound();
  const name = segments[2] as string;
  const version = segments[3];
  const v = getModel(ctx, name, version);
  if (!v) throw modelNotFound(name);
  if (req.method === 'OPTIONS') return tsJson(200, modelApiDescription(name));
  metrics.request(name, version);
  const noWorker = new TsError(503, 'ServiceUnavailableException',
    `Model "${name}${version !== undefined ? `" Version ${version}` : ''}" has no worker to serve inference request. Please use scale workers API to add workers. If this is a sequence inference, please check if it is closed, or expired; or exceeds maxSequenceJobQueueSize`);
  if (v.engine.replicas === 0) throw noWorker;
  try {
    const outcome = await serveOnEngine(v.engine, 1, ctx.options.requestOverheadMs);
    metrics.served(name, version, Number(outcome.totalNs) / 1000, Number(outcome.queueNs) / 1000);
    return tsJson(200, { model: name, version: v.version, batchSize: outcome.batchSize });
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    if (err.kind === 'queue-full') throw noWorker;
    if (err.kind === 'scaled-down') throw new TsError(500, 'InternalServerException', err.message);
    throw new TsError(503, 'ServiceUnavailableException', err.message);
  }
}
