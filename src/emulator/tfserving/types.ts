// The emulated TF Serving's public options and handle.
import type { ModelEngine } from '../engine/index.js';
import type { EmulatedModel } from '../common/profiles.js';
import type { EmulatorBaseOptions } from '../common/serving.js';

export const TF_PROMETHEUS_PATH = '/monitoring/prometheus/metrics';

export interface TfServingEmulatorOptions extends EmulatorBaseOptions {
  readonly gpu?: boolean;
  /** REST port (0: a free one). Default 0. */
  readonly port?: number;
  /** A monitoring config with prometheus_config { enable: true }. Default false: the path is 404. */
  readonly monitoring?: boolean;
  /** prometheus_config.path. Default /monitoring/prometheus/metrics. */
  readonly monitoringPath?: string;
  /** --enable_batching. Default true in the emulator (the real server's default is false). */
  readonly enableBatching?: boolean;
  /** max_batch_size. Default: the profile's largest measured batch size. */
  readonly maxBatchSize?: number;
  /** batch_timeout_micros, in ms. Default 0. */
  readonly batchTimeoutMs?: number;
  /**
   * max_enqueued_batches: batches waiting for a thread, past which a predict is refused with 503
   * UNAVAILABLE. Default: unbounded (the real scheduler's default is 10).
   */
  readonly maxEnqueuedBatches?: number;
  /** num_batch_threads: batches of one model running at once. Default 1. */
  readonly numBatchThreads?: number;
  /** The one version every model has. Default 1. */
  readonly modelVersion?: number;
}

export interface TfServingEmulator {
  readonly url: string;
  readonly port: number;
  /** The Prometheus URL, also when monitoring is off (it then answers 404). */
  readonly metricsUrl: string;
  readonly models: readonly EmulatedModel[];
  readonly skipped: readonly string[];
  engine(model: string): ModelEngine | undefined;
  stop(): Promise<void>;
}
