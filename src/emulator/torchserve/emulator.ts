// An emulated TorchServe 0.12 on the paths, bodies and status codes of
// reference/server-apis.md §B: the inference API (/ping, /predictions/{m}[/{v}]), the management
// API (list, describe as an array, scale workers, register a version, set-default, unregister)
// and the metrics API, each on its own port, with the defaults that block a sidecar: token
// authorization on (400 InvalidKeyException), enable_model_api off (405 on register and
// unregister) and metrics_mode=log (an empty /metrics).
//
// Every model version is served by its own ModelEngine: workers are replicas, batch_size and
// max_batch_delay are its batching (the delay counted from when a worker took its first job),
// job_queue_size bounds its queue, and removing a busy worker puts its batch back at the head of
// the queue, as 0.12 does (WorkerThread.shutdown → BatchAggregator.sendError(null) →
// Model.addFirst; the real server sometimes loses a race to the worker's own cleanup and fails
// the batch with 500 "Worker died.", which is not emulated). /predictions requests are single
// queries; the engine batches them.
//
// This file holds the lifecycle (registry, key file, listeners, stop); inference.ts,
// management.ts and model-control.ts the APIs, registry.ts the state they share.
import { startHttpServers } from '../common/http.js';
import type { HttpReply, HttpRequest, RunningHttpServer } from '../common/http.js';
import { selectModels } from '../common/profiles.js';
import { startOrCleanUp } from '../common/serving.js';
import { errorReply, resourceNotFound } from './errors.js';
import { handleInference } from './inference.js';
import { handleManagement } from './management.js';
import { createTorchServeContext, getModel, stopEngines } from './registry.js';
import type { TorchServeContext } from './registry.js';
import type { TorchServeEmulator, TorchServeEmulatorOptions } from './types.js';
import { javaSplit } from './wire.js';

export async function startTorchServeEmulator(options: TorchServeEmulatorOptions): Promise<TorchServeEmulator> {
  const { models: selected, skipped } = selectModels(options.profiles, options.hardware, options.gpu);
  const ctx = createTorchServeContext(options, selected);
  const tokens = ctx.tokens;
  const [inference, management, metricsServer] = await startOrCleanUp(() => listen(ctx), async () => {
    stopEngines(ctx);
    await tokens?.remove();
  });
  let stopping: Promise<void> | undefined;
  return {
    inferenceUrl: inference.url,
    managementUrl: management.url,
    metricsUrl: `${metricsServer.url}/metrics`,
    inferencePort: inference.port,
    managementPort: management.port,
    metricsPort: metricsServer.port,
    models: selected,
    skipped,
    keyFile: tokens?.path,
    keys: () => tokens?.keys,
    engine: (model, version) => {
      try {
        return getModel(ctx, model, version)?.engine;
      } catch {
        return undefined;
      }
    },
    stop: () => {
      stopping ??= (async () => {
        stopEngines(ctx);
        await Promise.all([inference.close(), management.close(), metricsServer.close()]);
        await tokens?.remove();
      })();
      return stopping;
    },
  };
}

/** Writes the key file, then the inference, management and metrics ports. */
async function listen(ctx: TorchServeContext): Promise<[RunningHttpServer, RunningHttpServer, RunningHttpServer]> {
  const options = ctx.options;
  if (ctx.tokens) await ctx.tokens.write();
  const servers = await startHttpServers([
    { port: options.inferencePort ?? 0, handler: counted(ctx, (req) => handleInference(ctx, req)) },
    { port: options.managementPort ?? 0, handler: counted(ctx, (req) => handleManagement(ctx, req)) },
    { port: options.metricsPort ?? 0, handler: (req) => withErrors(() => handleMetrics(ctx, req)) },
  ]);
  return servers as [RunningHttpServer, RunningHttpServer, RunningHttpServer];
}

/** A handler whose TsErrors become their replies, every reply counted in the metrics. */
function counted(ctx: TorchServeContext, handler: (req: HttpRequest) => Promise<HttpReply>) {
  return async (req: HttpRequest): Promise<HttpReply> => {
    let r: HttpReply;
    try {
      r = await handler(req);
    } catch (err) {
      r = errorReply(err);
    }
    ctx.metrics.response(r.status);
    return r;
  };
}

function withErrors(handler: () => HttpReply): HttpReply {
  try {
    return handler();
  } catch (err) {
    return errorReply(err);
  }
}

/** The metrics API. */
function handleMetrics(ctx: TorchServeContext, req: HttpRequest): HttpReply {
  const segments = javaSplit(req.path);
  if (segments[1] !== 'metrics') throw resourceNotFound();
  return { status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }, body: ctx.metrics.text(ctx.metricsMode, req.query.getAll('name[]')) };
}
