// Public surface of the fleet logic the leader runs: placement, merged arrival counts, the policy.
export { placeReplicas, placeableHardware } from './placement.js';
export type { Placement, PlacementMember, Shortfall, StageAssignment, StageDemand } from './placement.js';
export { CountMerger, bucketCounts, traceFromCounts } from './count-merger.js';
export type { CountInterval, CountMergerOptions } from './count-merger.js';
export { queryCounting } from './query-counting.js';
export type { QueryCounting } from './query-counting.js';
export { applyPolicy, parsePolicy, policyDiff, policyOf } from './policy.js';
export type { FleetPolicy } from './policy.js';
export { keepRunning, mergeRunning, parseTrafficRecord, trafficIntervals, trafficRecordOf } from './handover.js';
export type { KeptSetting, RunningStage, TrafficRecord } from './handover.js';
