// The ServerAdapter port: what inferline needs from every model server, and the optional
// capabilities (ReplicaControl, BatchControl, Profilable) an adapter may add. Adapters live in
// adapters/<kind>/ and are built by the registry in adapters/registry.ts.
//
// Counters are cumulative and may pass 2^53 (Triton's nanosecond sums), so they are bigint;
// every counter of every server is treated as resettable (see core/observe/counters.ts).

export type ServerKind = 'triton' | 'torchserve' | 'tfserving';
export const SERVER_KINDS: readonly ServerKind[] = ['triton', 'torchserve', 'tfserving'];

/** The kind of device a model instance runs on, as the server reports it. */
export type DeviceKind = 'cpu' | 'gpu' | 'unknown';

export interface ServerHealth {
  readonly live: boolean;
  readonly ready: boolean;
  /** Why not, when the server says. */
  readonly detail?: string;
}

/** How a model is served right now (observed). */
export interface ModelStatus {
  readonly model: string;
  /** The version serving, when the server has versions (as a string: TF Serving's are int64). */
  readonly version?: string;
  readonly ready: boolean;
  /** Instances (Triton: sum of instance_group counts), workers (TorchServe), or processes. */
  readonly replicas: number;
  readonly device: DeviceKind;
  /** Largest batch the server forms; 1 when the model does not batch. */
  readonly maxBatchSize: number;
  /** How long the server may hold a request to fill a batch, when it batches. */
  readonly batchDelayMs?: number;
}

/** Executions of one batch size (Triton's batch_stats). */
export interface BatchSizeCounters {
  readonly batchSize: number;
  /** Batches of this size executed. */
  readonly executions: bigint;
  /** Cumulative compute time of those batches (input + infer + output), in nanoseconds. */
  readonly computeNs: bigint;
}

/** Cumulative counters of one model (observed). Absent fields: the server does not expose them. */
export interface ModelCounters {
  readonly model: string;
  readonly version?: string;
  /** Requests that succeeded. */
  readonly requests: bigint;
  readonly failures: bigint;
  /** Queries inferred (a batched request of n counts n). */
  readonly inferences?: bigint;
  /** Batches executed. */
  readonly executions?: bigint;
  readonly queueNs?: bigint;
  readonly computeNs?: bigint;
  readonly batchSizes?: readonly BatchSizeCounters[];
  /**
   * A gauge, not a counter: requests received and not yet counted in `requests` or `failures`,
   * as the server reports them when the counters were read (Triton: nv_inference_pending_request_count,
   * requests queued and not yet executing). Servers that count requests on arrival leave it out.
   * A saturated server answers no faster than it serves, so arrivals are answers + Δpending.
   */
  readonly pending?: number;
  /**
   * A gauge: requests waiting in the server's queue when the counters were read, where it says
   * (Triton: the pending requests; TorchServe: describe's jobQueueStatus.pendingRequests, which
   * its request counter already counts). What the tuner's backlog term drains.
   */
  readonly queued?: number;
}

/** One Prometheus sample. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** How a change can be applied on this server. */
export type ChangeMode = 'live' | 'reload' | 'restart' | 'orchestrator' | 'unsupported';

export interface AdapterCapabilities {
  /** Changing replicas: live through the server's API, or only by restart or an orchestrator. */
  readonly replicas: ChangeMode;
  /** Changing batch size / delay. */
  readonly batching: ChangeMode;
  /** Per-batch-size execution statistics (passive profiling). */
  readonly perBatchStats: boolean;
  /** Inference requests for active profiling. */
  readonly profiling: boolean;
  /** Why a capability is limited, e.g. "model control mode is not explicit". */
  readonly warnings: readonly string[];
}

export interface CounterReadOptions {
  readonly queues?: boolean;
}

export interface ServerAdapter {
  readonly kind: ServerKind;
  /** Base URL of the server's main API, for messages. */
  readonly endpoint: string;
  health(): Promise<ServerHealth>;
  /** Every model the server knows, with its serving configuration. */
  models(): Promise<ModelStatus[]>;
  model(name: string): Promise<ModelStatus>;
  /**
   * Cumulative counters of one model, or of all. `queues: false` leaves out what needs a read of
   * its own beside the counters (Triton's pending gauge from the metrics port, TorchServe's
   * describe per model): `pending` and `queued` are then absent. Default: read them.
   */
  counters(model?: string, options?: CounterReadOptions): Promise<ModelCounters[]>;
  /** The server's Prometheus metrics, parsed (empty when the server exports none). */
  metrics(): Promise<MetricSample[]>;
  /** What this server lets inferline change, as observed now (may query the server). */
  capabilities(): Promise<AdapterCapabilities>;
}

export interface ReplicaControl {
  /** Sets the number of replicas (and, where the server allows, the device kind); returns the new status. */
  setReplicas(model: string, replicas: number, device?: Exclude<DeviceKind, 'unknown'>): Promise<ModelStatus>;
}

export interface BatchSettings {
  readonly maxBatchSize: number;
  readonly batchDelayMs: number;
}

export interface BatchControl {
  setBatching(model: string, settings: BatchSettings): Promise<ModelStatus>;
}

/** One input of a model, from its metadata. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  /** Shape without the batch dimension; -1 for variable dimensions. */
  readonly shape: readonly number[];
}

export interface InferOptions {
  readonly batchSize: number;
  /** Fill inputs with zeros or with seeded random values. */
  readonly data: 'zero' | 'random';
  readonly seed?: number;
  readonly timeoutMs: number;
}

export interface InferResult {
  /** Client-observed latency of the request. */
  readonly latencyMs: number;
  readonly batchSize: number;
}

export interface Profilable {
  inputs(model: string): Promise<TensorSpec[]>;
  infer(model: string, options: InferOptions): Promise<InferResult>;
}

/** A model's serving configuration as the server held it when taken: opaque, for restoreConfig. */
export interface ConfigSnapshot {
  readonly model: string;
}

/**
 * Putting a model's serving configuration back exactly as it was (Triton: the full model config,
 * instance groups with their GPU lists included), after changes made through other capabilities.
 */
export interface ConfigRestore {
  snapshotConfig(model: string): Promise<ConfigSnapshot>;
  /** Applies the snapshot (a snapshot this adapter took); returns the status it leads to. */
  restoreConfig(snapshot: ConfigSnapshot): Promise<ModelStatus>;
}

export function hasConfigRestore(a: ServerAdapter): a is ServerAdapter & ConfigRestore {
  const r = a as Partial<ConfigRestore>;
  return typeof r.snapshotConfig === 'function' && typeof r.restoreConfig === 'function';
}

export function hasReplicaControl(a: ServerAdapter): a is ServerAdapter & ReplicaControl {
  return typeof (a as Partial<ReplicaControl>).setReplicas === 'function';
}

export function hasBatchControl(a: ServerAdapter): a is ServerAdapter & BatchControl {
  return typeof (a as Partial<BatchControl>).setBatching === 'function';
}

export function isProfilable(a: ServerAdapter): a is ServerAdapter & Profilable {
  const p = a as Partial<Profilable>;
  return typeof p.infer === 'function' && typeof p.inputs === 'function';
}

/** Why an adapter call failed. */
export type AdapterErrorKind =
  | 'unreachable' // connection refused, DNS, reset
  | 'timeout'
  | 'http' // an unexpected status
  | 'auth' // the server refused our credentials
  | 'malformed' // a body we could not parse or that breaks the wire contract
  | 'unsupported' // the server (in its current mode) cannot do this
  | 'not-found';

/** Every adapter failure: names the server, the endpoint and the status. */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
  readonly server: ServerKind;
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly kind: AdapterErrorKind;

  constructor(args: { server: ServerKind; endpoint: string; kind: AdapterErrorKind; status?: number; message: string; cause?: unknown }) {
    super(`${args.server} ${args.endpoint}${args.status !== undefined ? ` → ${args.status}` : ''}: ${args.message}`, { cause: args.cause });
    this.server = args.server;
    this.endpoint = args.endpoint;
    this.status = args.status;
    this.kind = args.kind;
  }
}
