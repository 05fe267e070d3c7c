export type { Clock } from './clock.js';
export { AdapterError, SERVER_KINDS, hasBatchControl, hasReplicaControl, isProfilable } from './server-adapter.js';
export type {
  AdapterCapabilities, AdapterErrorKind, BatchControl, BatchSettings, BatchSizeCounters, ChangeMode, DeviceKind,
  InferOptions, InferResult, MetricSample, ModelCounters, ModelStatus, Profilable, ReplicaControl, ServerAdapter,
  ServerHealth, ServerKind, TensorSpec,
} from './server-adapter.js';
export { COORDINATION_BACKENDS, CoordinatorError, LeaseLostError, StaleEpochError } from './coordinator.js';
export type {
  CampaignOptions, CoordinationBackend, Coordinator, DesiredStateRecord, DesiredStateStore, JsonValue, LeaderElection,
  LeaderSnapshot, Leadership, LeaseLostReason, Listener, MemberInfo, Membership, RegisterOptions, Registration, Subscription,
} from './coordinator.js';
export type {
  AdapterErrorRecord, AdapterRequestRecord, EnvelopeReading, LatencySample, LeadershipSample, PlannerRunRecord, ReconcileRecord,
  RequestsSample, StageSample, Telemetry, TrafficSample, TunerDecisionKind, TunerDecisionRecord,
} from './telemetry.js';
export { silentLogger } from './logger.js';
export type { LogFields, Logger } from './logger.js';
