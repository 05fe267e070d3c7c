// Public surface of the telemetry module: the SDK wiring for composition roots, the no-op port,
// and the metric names (for the README, the dashboard and tests).
export { createTelemetry, DEFAULT_SHUTDOWN_DEADLINE_MS } from './create.js';
export type { CreateTelemetryOptions } from './create.js';
export { noopTelemetryService } from './service.js';
export type { TelemetryService } from './service.js';
export { noopTelemetry } from './noop.js';
export { OtelTelemetry, statusClass, windowAttribute } from './otel-telemetry.js';
export { TelemetryError } from './errors.js';
export { ALL_METRICS, ATTR, LATENCY_BUCKETS_S, METER_NAME, METRICS, PLANNER_DURATION_BUCKETS_S, prometheusSeriesNames } from './names.js';
export type { InstrumentKind, MetricDefinition, MetricKey } from './names.js';
