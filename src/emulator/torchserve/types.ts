// The emulated TorchServe's public options and handle, and its registry of model versions.
import type { ModelEngine, ScaleDownPolicy } from '../engine/index.js';
import type { EmulatedModel } from '../common/profiles.js';
import type { EmulatorBaseOptions } from '../common/serving.js';
import type { TorchServeKeys } from './auth.js';
import type { TorchServeMetricsMode } from './metrics.js';

export interface TorchServeEmulatorOptions extends EmulatorBaseOptions {
  /** Force GPU workers (gpu: true in describe) or CPU; default: a hardware name containing "gpu". */
  readonly gpu?: boolean;
  /** Inference, management and metrics ports (0: a free one). Default 0. */
  readonly inferencePort?: number;
  readonly managementPort?: number;
  readonly metricsPort?: number;
  /** Workers per model at start (minWorkers = maxWorkers). Default 1. */
  readonly workers?: number;
  /** batch_size of the models registered at start. Default 1 (TorchServe's default). */
  readonly batchSize?: number;
  /** max_batch_delay (ms) of the models registered at start. Default 100. */
  readonly maxBatchDelayMs?: number;
  /** Token authorization; default true (TorchServe ≥ 0.11.1). */
  readonly tokenAuth?: boolean;
  /** Where key_file.json is written when token auth is on. Default: ./key_file.json, like TorchServe. */
  readonly keyFile?: string;
  /** Minutes the management and inference keys stay valid. Default 60. */
  readonly tokenExpirationMin?: number;
  /** enable_model_api; default false: register and unregister answer 405. */
  readonly enableModelApi?: boolean;
  /** metrics_mode; default 'log' (an empty /metrics body). */
  readonly metricsMode?: TorchServeMetricsMode;
  /** job_queue_size per model version. Default 100. */
  readonly jobQueueSize?: number;
  /** Time a new worker takes to load its model. Default 0. */
  readonly workerStartupMs?: number;
  /**
   * What a removed busy worker does with its batch: 'requeue' (default, TorchServe 0.12) or
   * 'fail-in-flight' (500 "Worker scaled down.": a removal that does not drain, for tests).
   */
  readonly workerRemoval?: Exclude<ScaleDownPolicy, 'graceful'>;
  /** The hostname label. Default os.hostname(). */
  readonly hostname?: string;
  /** Seeds the keys (random when absent). */
  readonly seed?: number;
}

export interface TorchServeEmulator {
  readonly inferenceUrl: string;
  readonly managementUrl: string;
  readonly metricsUrl: string;
  readonly inferencePort: number;
  readonly managementPort: number;
  readonly metricsPort: number;
  readonly models: readonly EmulatedModel[];
  readonly skipped: readonly string[];
  /** The path of key_file.json, when token auth is on. */
  readonly keyFile: string | undefined;
  /** The current keys, when token auth is on. */
  keys(): TorchServeKeys | undefined;
  /** The engine of a model version (the default version when none is given). */
  engine(model: string, version?: string): ModelEngine | undefined;
  stop(): Promise<void>;
}

export interface Version {
  readonly model: string;
  readonly version: string;
  readonly url: string;
  readonly emulated: EmulatedModel;
  readonly batchSize: number;
  readonly maxBatchDelay: number;
  readonly responseTimeout: number;
  readonly startupTimeout: number;
  minWorkers: number;
  maxWorkers: number;
  readonly loadedAtStartup: boolean;
  readonly engine: ModelEngine;
}

export interface Model {
  readonly versions: Map<number, Version>;
  defaultKey: number;
}
