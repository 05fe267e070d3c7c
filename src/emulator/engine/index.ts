// The emulators' one queueing and batching engine (model-engine.ts), its vocabulary, its default
// service time and the deadline timer it schedules on.
export { ModelEngine } from './model-engine.js';
export { EngineError, WORKER_SCALED_DOWN, FAILURE_REASONS } from './types.js';
export type {
  BatchRecord, BatchSizeStat, BatchingSettings, DelayOrigin, DurationCounter, EngineCounters, EngineErrorKind, FailureReason,
  InferenceOutcome, ModelEngineOptions, ReplicaSnapshot, ReplicaState, ScaleDownPolicy,
} from './types.js';
export { profileServiceMs } from './service-time.js';
export { pause, preciseTimer, SPIN_MS } from './deadline-timer.js';
export type { DeadlineTimer } from './deadline-timer.js';
