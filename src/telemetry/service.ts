// What a composition root holds: the Telemetry port plus its lifecycle. Kept apart from create.ts
// (and free of the OpenTelemetry SDK) so that a command with telemetry off never loads the SDK.
import type { Telemetry } from '../ports/telemetry.js';
import { noopTelemetry } from './noop.js';

export interface TelemetryService extends Telemetry {
  /** Listens on the Prometheus port and starts pushing OTLP. Idempotent. @throws TelemetryError */
  start(): Promise<void>;
  /** Pushes the last values and stops; resolves within `deadlineMs`. Idempotent; never throws. */
  shutdown(deadlineMs?: number): Promise<void>;
  /** The scrape URL once started (with the port it got), undefined when Prometheus is off. */
  readonly metricsUrl: string | undefined;
}

/** The service when every exporter is off: records nothing, starts nothing. */
export const noopTelemetryService: TelemetryService = Object.freeze({
  ...noopTelemetry,
  start: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  metricsUrl: undefined,
});
