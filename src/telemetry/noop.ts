// The Telemetry that records nothing: the default where telemetry is off, and what a part gets when
// its caller passes none.
import type { Telemetry } from '../ports/telemetry.js';

const ignore = (): void => undefined;

export const noopTelemetry: Telemetry = Object.freeze({
  recordTraffic: ignore,
  recordStage: ignore,
  recordRequests: ignore,
  recordLatency: ignore,
  recordPlannerRun: ignore,
  recordTunerDecision: ignore,
  recordReconcile: ignore,
  recordAdapterRequest: ignore,
  recordAdapterError: ignore,
  recordLeadership: ignore,
  recordShortfall: ignore,
  recordConfigReload: ignore,
  recordWorkload: ignore,
});
