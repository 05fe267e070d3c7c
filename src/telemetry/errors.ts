// The telemetry's I/O failures: the metrics endpoint cannot listen, an OTLP push failed.
export class TelemetryError extends Error {
  override readonly name = 'TelemetryError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
