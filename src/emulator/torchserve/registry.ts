// The emulated TorchServe's state, passed to every handler as one context: its registry of model
// versions (each served by its own engine), the token store, the metrics, and the settings the
// handlers read; and the registry's operations (lookup, new version, worker updates).
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { ModelEngine } from '../engine/index.js';
import type { EmulatedModel } from '../common/profiles.js';
import { TokenStore } from './auth.js';
import { TsError } from './errors.js';
import { TorchServeMetrics } from './metrics.js';
import type { TorchServeMetricsMode } from './metrics.js';
import type { Model, TorchServeEmulatorOptions, Version } from './types.js';
import { versionKey } from './wire.js';

export const FIRST_WORKER_PORT = 9000;

export interface TorchServeContext {
  readonly options: TorchServeEmulatorOptions;
  /** The emulated models of the profiles, by name: the model store. */
  readonly byName: ReadonlyMap<string, EmulatedModel>;
  readonly enableModelApi: boolean;
  readonly metricsMode: TorchServeMetricsMode;
  readonly jobQueueSize: number;
  readonly metrics: TorchServeMetrics;
  readonly tokens: TokenStore | undefined;
  readonly registry: Map<string, Model>;
  /** Workers are numbered by port across the server. */
  nextWorkerPort: number;
}

/** The context with every selected model registered as version 1.0 with its initial workers. */
export function createTorchServeContext(options: TorchServeEmulatorOptions, selected: readonly EmulatedModel[]): TorchServeContext {
  const ctx: TorchServeContext = {
    options,
    byName: new Map(selected.map((m) => [m.name, m])),
    enableModelApi: options.enableModelApi ?? false,
    metricsMode: options.metricsMode ?? 'log',
    jobQueueSize: options.jobQueueSize ?? 100,
    metrics: new TorchServeMetrics(options.hostname ?? osHostname()),
    tokens: (options.tokenAuth ?? true)
      ? new TokenStore(path.resolve(options.keyFile ?? 'key_file.json'), options.tokenExpirationMin ?? 60, Date.now, options.seed)
      : undefined,
    registry: new Map(),
    nextWorkerPort: FIRST_WORKER_PORT,
  };
  const workers = options.workers ?? 1;
  for (const m of selected) {
    const batchSize = options.batchSize ?? 1;
    if (batchSize > m.curve.maxBatch) throw new RangeError(`${m.name}: batch size ${batchSize} is past the largest profiled batch size ${m.curve.maxBatch} on ${m.hardware}`);
    const v = newVersion(ctx, {
      model: m.name, version: '1.0', url: `${m.name}.mar`, emulated: m, batchSize, maxBatchDelay: options.maxBatchDelayMs ?? 100,
      responseTimeout: 120, startupTimeout: 120, minWorkers: workers, maxWorkers: workers, loadedAtStartup: true,
    }, workers);
    ctx.registry.set(m.name, { versions: new Map([[1, v]]), defaultKey: 1 });
  }
  return ctx;
}

/** A model version with its engine of `workers` workers. */
export function newVersion(ctx: TorchServeContext, v: Omit<Version, 'engine'>, workers: number): Version {
  const options = ctx.options;
  return {
    ...v,
    engine: new ModelEngine({
      name: `${v.model} ${v.version}`,
      curve: v.emulated.curve,
      replicas: workers,
      maxBatch: v.batchSize,
      maxQueueDelayMs: v.maxBatchDelay,
      delayOrigin: 'batch-start',
      scaleDown: options.workerRemoval ?? 'requeue',
      queueCapacity: ctx.jobQueueSize,
      replicaStartupMs: options.workerStartupMs ?? 0,
      allocateReplicaId: () => ctx.nextWorkerPort++,
      ...(options.now ? { now: options.now } : {}),
    }),
  };
}

/** ModelManager.getModel: undefined when the model is unknown; throws for a bad or missing version. */
export function getModel(ctx: TorchServeContext, name: string, version: string | undefined): Version | undefined {
  const m = ctx.registry.get(name);
  if (!m) return undefined;
  const v = m.versions.get(version === undefined ? m.defaultKey : versionKey(version));
  if (!v) throw new TsError(404, 'ModelVersionNotFoundException', `Model version: ${version} does not exist for model: ${name}`);
  return v;
}

export function defaultOf(ctx: TorchServeContext, name: string): Version {
  const m = ctx.registry.get(name) as Model;
  return m.versions.get(m.defaultKey) as Version;
}

/** WorkLoadManager.modelChanged: start workers up to min, or stop workers from the end down to max. */
export function updateWorkers(v: Version, min: number, max: number): Promise<void> {
  v.minWorkers = min;
  v.maxWorkers = max;
  const current = v.engine.replicas;
  if (current < min) return v.engine.setReplicas(min);
  if (current > max) return v.engine.setReplicas(max);
  return Promise.resolve();
}

export function stopEngines(ctx: TorchServeContext): void {
  for (const m of ctx.registry.values()) for (const v of m.versions.values()) v.engine.stop();
}
