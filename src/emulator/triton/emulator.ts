// An emulated NVIDIA Triton Inference Server (HTTP/REST, KServe v2 plus Triton's extensions), on
// the paths, bodies and status codes of reference/server-apis.md §A: health, server and model
// metadata, model config, statistics, the model repository extension (index, load with a config
// override, unload), inference (JSON and the binary tensor extension), restricted API groups, and
// Prometheus metrics on a separate port. Every model of a profile set is served by one
// ModelEngine: instances are replicas, dynamic_batching is the engine's batching.
//
// This file holds the lifecycle (state, listeners, stop); routes.ts the routes, repository.ts
// the model repository extension, inference.ts and infer-request.ts inference.
import { startHttpServers } from '../common/http.js';
import type { RunningHttpServer } from '../common/http.js';
import { selectModels } from '../common/profiles.js';
import { startOrCleanUp } from '../common/serving.js';
// grpc.js (and @grpc/grpc-js, about 13 MB) loads only for an emulator with a gRPC port:
// the CLI's every command imports this module, the agent included.
import type { RunningGrpcServer } from './grpc.js';
import { loadWith } from './repository.js';
import { handleApi, handleMetrics } from './routes.js';
import { createTritonContext, stopAllEngines, unmet, wakeSleepers } from './state.js';
import type { TritonContext } from './state.js';
import type { TritonEmulator, TritonEmulatorOptions } from './types.js';

export async function startTritonEmulator(options: TritonEmulatorOptions): Promise<TritonEmulator> {
  const { models: selected, skipped } = selectModels(options.profiles, options.hardware, options.gpu);
  const ctx = createTritonContext(options, selected);
  const { servers, grpcServer } = await startOrCleanUp(() => listen(ctx), () => stopAllEngines(ctx));
  const [api, metrics] = servers;
  return {
    url: api.url,
    metricsUrl: `${metrics.url}/metrics`,
    port: api.port,
    metricsPort: metrics.port,
    ...(grpcServer ? { grpcUrl: grpcServer.target, grpcPort: grpcServer.port } : {}),
    models: selected,
    skipped,
    engine: (model) => ctx.table.get(model)?.engine,
    stop: async () => {
      if (ctx.stopped) return;
      ctx.stopped = true;
      wakeSleepers(ctx);
      stopAllEngines(ctx);
      await Promise.all([api.close(), metrics.close(), grpcServer?.close()]);
    },
  };
}

/** The API and metrics ports, and the gRPC service when asked for; none left open on failure. */
async function listen(ctx: TritonContext): Promise<{ servers: [RunningHttpServer, RunningHttpServer]; grpcServer: RunningGrpcServer | undefined }> {
  const options = ctx.options;
  const servers = await startHttpServers([
    { port: options.port ?? 0, handler: (req) => handleApi(ctx, req) },
    { port: options.metricsPort ?? 0, handler: (req) => handleMetrics(ctx, req) },
  ]);
  let grpcServer: RunningGrpcServer | undefined;
  if (options.grpcPort !== undefined) {
    const { startTritonGrpc } = await import('./grpc.js');
    grpcServer = await startTritonGrpc(options.grpcPort, {
      missingHeader: (headers) => unmet(ctx, headers, 'model-repository')?.header.toLowerCase(),
      load: (name, params) => loadWith(ctx, name, params),
    }).catch(async (err: unknown) => {
      await Promise.all(servers.map((s) => s.close()));
      throw err;
    });
  }
  return { servers: servers as [RunningHttpServer, RunningHttpServer], grpcServer };
}
