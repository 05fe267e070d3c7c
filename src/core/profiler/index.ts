// The profiler's pure parts: the stability criterion, sweep planning, point summaries, server
// timings, passive per-batch-size points, the profile table and merging.
export { DEFAULT_STABILITY, isStable, lastWindows, relativeSpread, windowSpread } from './stability.js';
export type { StabilityCriterion, WindowSpread, WindowSummary } from './stability.js';
export { checkBatchSizes, nextPointStep, pointDeadlineMs, sweepBatchSizes } from './sweep.js';
export type { PointPlan, PointStep } from './sweep.js';
export { pointLatencyMs, summarisePoint, summariseWindow } from './point.js';
export type { PointInput, PointResult, PointStatus, WindowRecord } from './point.js';
export { nsToMs, serverTiming } from './server-timing.js';
export type { ServerTiming } from './server-timing.js';
export { passivePoints, tallyBatchSizes } from './passive.js';
export type { BatchSizeInterval, BatchSizeTally, PassivePoint } from './passive.js';
export { activeProfile, batchingKnee, hopOverheadCurve, hopOverheadMs, isoTime, passiveProfile } from './table.js';
export { mergeProfiles } from './merge.js';
export type { KeptPoint, MergeResult } from './merge.js';
