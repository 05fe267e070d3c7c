// Public surface of the emulators: spec-faithful emulated Triton, TorchServe and TF Serving HTTP
// servers on one real-time queueing and batching engine, for the demo, tests and rehearsal.
export { ModelEngine, EngineError, WORKER_SCALED_DOWN, FAILURE_REASONS } from './engine.js';
export type {
  BatchRecord, BatchSizeStat, BatchingSettings, DelayOrigin, DurationCounter, EngineCounters, EngineErrorKind, FailureReason,
  InferenceOutcome, ModelEngineOptions, ReplicaSnapshot, ReplicaState, ScaleDownPolicy,
} from './engine.js';
export { readProfileFile, selectModels, isGpuHardware } from './profiles.js';
export { PortUnavailableError } from './http.js';
export type { EmulatedModel, ModelSelection } from './profiles.js';
export { startTritonEmulator } from './triton.js';
export type { TritonApiGroup, TritonEmulator, TritonEmulatorOptions, TritonModelControlMode, TritonRestriction } from './triton.js';
export { startTorchServeEmulator, parseArchiveName } from './torchserve.js';
export type { TorchServeEmulator, TorchServeEmulatorOptions, TorchServeKeys, TorchServeMetricsMode } from './torchserve.js';
export { startTfServingEmulator, TF_PROMETHEUS_PATH } from './tfserving.js';
export type { TfServingEmulator, TfServingEmulatorOptions } from './tfserving.js';
export { startEmulatedFleet } from './fleet-processes.js';
export type { EmulatedFleetOptions, EmulatedFleetProcesses, EmulatedServerKind, EmulatedServerProcess, EmulatedServerSpec } from './fleet-processes.js';
export { preciseTimer, SPIN_MS } from './deadline-timer.js';
export type { DeadlineTimer } from './deadline-timer.js';
