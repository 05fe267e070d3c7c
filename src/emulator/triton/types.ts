// The emulated Triton's public options and handle, and its per-model state.
import type { EmulatorBaseOptions } from '../common/serving.js';
import type { ModelEngine } from '../engine/index.js';
import type { EmulatedModel } from '../common/profiles.js';
import type { TritonServing } from './config.js';

export type TritonModelControlMode = 'explicit' | 'none';

/** The API groups of --http-restricted-api. */
export type TritonApiGroup =
  | 'health' | 'metadata' | 'inference' | 'shared-memory' | 'model-config' | 'model-repository' | 'statistics' | 'trace' | 'logging';

/** One --http-restricted-api entry: these groups need `header: value`. */
export interface TritonRestriction {
  readonly groups: readonly TritonApiGroup[];
  readonly header: string;
  readonly value: string;
}

export interface TritonEmulatorOptions extends EmulatorBaseOptions {
  /** Force GPU (KIND_GPU instances, gpu_uuid labels) or CPU; default: a hardware name containing "gpu". */
  readonly gpu?: boolean;
  /** HTTP port (0: a free one). Default 0. */
  readonly port?: number;
  /** Metrics port (0: a free one). Default 0. */
  readonly metricsPort?: number;
  /** gRPC port for the model-repository load (0: a free one); none when left out. */
  readonly grpcPort?: number;
  /** 'explicit' (default here) allows load/unload; 'none' answers them 503 like the real server's default. */
  readonly modelControlMode?: TritonModelControlMode;
  /** Instances per model at start (count of the one instance group). Default 1. */
  readonly instances?: number;
  /** max_batch_size at start. Default: the profile's largest measured batch size. */
  readonly maxBatchSize?: number;
  /** dynamic_batching.max_queue_delay_microseconds at start, in ms. Default 0. */
  readonly maxQueueDelayMs?: number;
  readonly preferredBatchSizes?: readonly number[];
  readonly restrictedApis?: readonly TritonRestriction[];
  /** How long a full (background) reload or a load takes. Default 50 ms. */
  readonly reloadDelayMs?: number;
  /** How long a new instance takes to be created by an in-place update. Default 0. */
  readonly instanceStartupMs?: number;
  /** Seeds the GPU UUID. Default 1. */
  readonly seed?: number;
}

export interface TritonEmulator {
  readonly url: string;
  readonly metricsUrl: string;
  readonly port: number;
  readonly metricsPort: number;
  /** host:port of the gRPC service, and its port, when grpcPort was given. */
  readonly grpcUrl?: string;
  readonly grpcPort?: number;
  readonly models: readonly EmulatedModel[];
  /** Models of the profiles not served (no profile on the hardware asked for). */
  readonly skipped: readonly string[];
  /** The engine serving a model now (undefined when unloaded). */
  engine(model: string): ModelEngine | undefined;
  stop(): Promise<void>;
}

export type ModelState = 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE';

export interface TritonModel {
  readonly model: EmulatedModel;
  serving: TritonServing;
  /** The last config override; it sticks for later loads without one. */
  override: TritonServing | undefined;
  state: ModelState;
  engine: ModelEngine | undefined;
  /** Earlier copies since the model was loaded: their counters keep the metrics going. */
  retired: ModelEngine[];
  /** Control operations on one model run one after another. */
  control: Promise<unknown>;
}
