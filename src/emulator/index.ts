// Public surface of the emulators: spec-faithful emulated Triton, TorchServe and TF Serving HTTP
// servers (triton/, torchserve/, tfserving/) on one real-time queueing and batching engine
// (engine/), with their shared HTTP and profile helpers (common/), for the demo, tests and
// rehearsal; and the fleet of them as separate processes.
export { ModelEngine, EngineError, WORKER_SCALED_DOWN, FAILURE_REASONS } from './engine/index.js';
export type {
  BatchRecord, BatchSizeStat, BatchingSettings, DelayOrigin, DurationCounter, EngineCounters, EngineErrorKind, FailureReason,
  InferenceOutcome, ModelEngineOptions, ReplicaSnapshot, ReplicaState, ScaleDownPolicy,
} from './engine/index.js';
export { readProfileFile, selectModels, isGpuHardware } from './common/profiles.js';
export { PortUnavailableError } from './common/http.js';
export type { EmulatedModel, ModelSelection } from './common/profiles.js';
export { startTritonEmulator } from './triton/index.js';
export type { TritonApiGroup, TritonEmulator, TritonEmulatorOptions, TritonModelControlMode, TritonRestriction } from './triton/index.js';
export { startTorchServeEmulator, parseArchiveName } from './torchserve/index.js';
export type { TorchServeEmulator, TorchServeEmulatorOptions, TorchServeKeys, TorchServeMetricsMode } from './torchserve/index.js';
export { startTfServingEmulator, TF_PROMETHEUS_PATH } from './tfserving/index.js';
export type { TfServingEmulator, TfServingEmulatorOptions } from './tfserving/index.js';
export { startEmulatedFleet } from './fleet-processes.js';
export type { EmulatedFleetOptions, EmulatedFleetProcesses, EmulatedServerKind, EmulatedServerProcess, EmulatedServerSpec } from './fleet-processes.js';
export { preciseTimer, SPIN_MS } from './engine/index.js';
export type { DeadlineTimer } from './engine/index.js';
