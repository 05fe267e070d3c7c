// An emulated TensorFlow Serving REST API on the paths, bodies and status codes of
// reference/server-apis.md §C: model status (versions as strings, F11), metadata (signature_def),
// predict in row ("instances") and columnar ("inputs") form with rapidjson's output format, errors
// as {"error": "..."} with the HTTP status of the TF status code, and Prometheus text at
// /monitoring/prometheus/metrics only when monitoring is enabled (404 otherwise, as the real
// server without a monitoring config).
//
// Every model has one version and one ModelEngine: num_batch_threads are replicas (per model in
// the emulator; one shared pool in the real server), max_batch_size and batch_timeout_micros its
// batching. A predict request of n instances is one batching task of size n. Each emulated model
// is a `serving_default` signature with input x and output y (DT_FLOAT) that echoes its input.
//
// This file holds the lifecycle (engines, the one port, stop); rest.ts the REST API, tensor.ts
// the predict input, metrics.ts the Prometheus text.
import { ModelEngine } from '../engine/index.js';
import { startHttpServer } from '../common/http.js';
import type { HttpReply, HttpRequest } from '../common/http.js';
import type { EmulatedModel } from '../common/profiles.js';
import { selectModels } from '../common/profiles.js';
import { startOrCleanUp } from '../common/serving.js';
import { TfServingMetrics } from './metrics.js';
import { handleRest } from './rest.js';
import type { TfServingContext } from './rest.js';
import { TF_PROMETHEUS_PATH } from './types.js';
import type { TfServingEmulator, TfServingEmulatorOptions } from './types.js';

const REST_RE = /^\/v1\/.*$/i;

export async function startTfServingEmulator(options: TfServingEmulatorOptions): Promise<TfServingEmulator> {
  const { models: selected, skipped } = selectModels(options.profiles, options.hardware, options.gpu);
  const batching = options.enableBatching ?? true;
  const metrics = new TfServingMetrics(batching);
  const ctx: TfServingContext = {
    options, version: options.modelVersion ?? 1, batching, metrics, engines: newEngines(options, selected, metrics),
  };
  const metricsPath = options.monitoringPath || TF_PROMETHEUS_PATH;
  const handle = (req: HttpRequest): HttpReply | Promise<HttpReply> => {
    if (options.monitoring && req.path === metricsPath) {
      return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: metrics.text() };
    }
    if (REST_RE.test(req.path)) return handleRest(ctx, req);
    // net_http answers paths no handler claims with a bare 404.
    return { status: 404 };
  };
  const stopEngines = (): void => {
    for (const e of ctx.engines.values()) e.stop();
  };
  const running = await startOrCleanUp(() => startHttpServer(options.port ?? 0, handle), stopEngines);
  return {
    url: running.url,
    port: running.port,
    metricsUrl: `${running.url}${metricsPath}`,
    models: selected,
    skipped,
    engine: (model) => ctx.engines.get(model),
    stop: async () => {
      stopEngines();
      await running.close();
    },
  };
}

/** One engine per model: num_batch_threads replicas, max_batch_size and batch_timeout its batching. */
function newEngines(options: TfServingEmulatorOptions, selected: readonly EmulatedModel[], metrics: TfServingMetrics): Map<string, ModelEngine> {
  const batching = options.enableBatching ?? true;
  const engines = new Map<string, ModelEngine>();
  for (const m of selected) {
    const maxBatch = batching ? (options.maxBatchSize ?? m.curve.maxBatch) : m.curve.maxBatch;
    engines.set(m.name, new ModelEngine({
      name: m.name,
      curve: m.curve,
      replicas: options.numBatchThreads ?? 1,
      maxBatch,
      maxQueueDelayMs: batching ? (options.batchTimeoutMs ?? 0) : 0,
      merge: batching,
      ...(batching && options.maxEnqueuedBatches !== undefined ? { queueCapacityBatches: options.maxEnqueuedBatches } : {}),
      delayOrigin: 'oldest-request',
      scaleDown: 'graceful',
      ...(options.now ? { now: options.now } : {}),
      onBatch: (b) => metrics.onBatch(b),
    }));
  }
  return engines;
}
