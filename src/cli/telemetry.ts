// Telemetry for the one-shot commands (plan): their runs are pushed over OTLP when it is
// configured, but they serve no Prometheus endpoint (nothing would scrape a process that exits),
// and they flush before exiting. With the default config this is the no-op telemetry, and the
// OpenTelemetry SDK is not even loaded (it costs ~150 ms of start-up): create.ts is imported only
// when an exporter is on.
import type { TelemetryConfig } from '../config/index.js';
import { noopTelemetryService } from '../telemetry/service.js';
import type { TelemetryService } from '../telemetry/service.js';
import type { Output } from './output.js';

/** How long a one-shot command waits for its last push before exiting. */
export const ONE_SHOT_FLUSH_DEADLINE_MS = 3000;

export async function startOneShotTelemetry(config: TelemetryConfig, output: Output): Promise<TelemetryService> {
  if (!config.otlp.enabled) return noopTelemetryService;
  const { createTelemetry } = await import('../telemetry/create.js');
  // The push may not outlive the command: its timeout (retries included) is the flush deadline.
  const otlp = { ...config.otlp, timeoutMs: Math.min(config.otlp.timeoutMs, ONE_SHOT_FLUSH_DEADLINE_MS) };
  const service = createTelemetry(
    { ...config, prometheus: { ...config.prometheus, enabled: false }, otlp },
    { onError: (err) => output.err(`inferline: telemetry: ${err instanceof Error ? err.message : String(err)}\n`) },
  );
  await service.start();
  return service;
}
