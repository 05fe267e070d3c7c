export type { Clock } from './clock.js';
export { AdapterError, SERVER_KINDS, hasBatchControl, hasReplicaControl, isProfilable } from './server-adapter.js';
export type {
  AdapterCapabilities, AdapterErrorKind, BatchControl, BatchSettings, BatchSizeCounters, ChangeMode, DeviceKind,
  InferOptions, InferResult, MetricSample, ModelCounters, ModelStatus, Profilable, ReplicaControl, ServerAdapter,
  ServerHealth, ServerKind, TensorSpec,
} from './server-adapter.js';
