// The profiler's imperative shell: active sweeps with closed-loop load, passive observation of
// per-batch-size statistics, the live-traffic check, and the profile file.
export { ACTIVE_DEFAULTS, runActiveProfile } from './active.js';
export type {
  ActiveProfileOptions, ActiveProfileResult, HardwareResult, HardwareTarget, ProfileEvent, ProfileRunContext, RestoreOutcome,
} from './active-types.js';
export { PASSIVE_DEFAULTS, runPassiveProfile } from './passive.js';
export type { PassiveEvent, PassiveProfileOptions, PassiveProfileResult } from './passive.js';
export { ClosedLoop } from './closed-loop.js';
export type { ClosedLoopOptions, CompletedBatch } from './closed-loop.js';
export { checkLiveTraffic } from './live-traffic.js';
export type { TrafficCheck } from './live-traffic.js';
export { LiveTrafficError, ProfilerError } from './errors.js';
export { mergeIntoProfileFile } from './profile-file.js';
export type { ProfileFileUpdate } from './profile-file.js';
