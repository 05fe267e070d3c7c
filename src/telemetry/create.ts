// createTelemetry: the OpenTelemetry SDK wired from the telemetry config, behind the Telemetry
// port. Only composition roots (src/cli) call it; everything else records through the port.
//
// Lifecycle: createTelemetry does no I/O and starts no timer; start() listens on the Prometheus
// port and starts the OTLP push loop (idempotent); shutdown(deadlineMs) pushes the last values,
// closes the endpoint and shuts the SDK down, and resolves by the deadline whatever happens.
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { TelemetryConfig } from '../config/types.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../platform/system-clock.js';
import { ATTR_SERVICE_NAME, METER_NAME } from './names.js';
import { noopTelemetryService } from './service.js';
import type { TelemetryService } from './service.js';
import { OtelTelemetry } from './otel-telemetry.js';
import { OtlpPush } from './otlp-push.js';
import { PrometheusEndpoint } from './prometheus-endpoint.js';

export const DEFAULT_SHUTDOWN_DEADLINE_MS = 5000;

export interface CreateTelemetryOptions {
  readonly clock?: Clock;
  /** Export failures (a push the collector refused, a timeout); they never stop the loop. */
  readonly onError?: (err: unknown) => void;
}

/** The Telemetry for `config`: the no-op one when no exporter is enabled. */
export function createTelemetry(config: TelemetryConfig, options: CreateTelemetryOptions = {}): TelemetryService {
  if (!config.prometheus.enabled && !config.otlp.enabled) return noopTelemetryService;
  return new SdkTelemetry(config, options);
}

class SdkTelemetry extends OtelTelemetry implements TelemetryService {
  private readonly provider: MeterProvider;
  private readonly prometheus: PrometheusEndpoint | undefined;
  private readonly otlp: OtlpPush | undefined;
  private readonly clock: Clock;
  private readonly onError: (err: unknown) => void;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(config: TelemetryConfig, options: CreateTelemetryOptions) {
    const clock = options.clock ?? systemClock;
    const onError = options.onError ?? ((): void => undefined);
    const prometheus = config.prometheus.enabled ? new PrometheusEndpoint({ host: config.prometheus.host, port: config.prometheus.port }) : undefined;
    const otlp = config.otlp.enabled
      ? new OtlpPush({ endpoint: config.otlp.endpoint, headers: config.otlp.headers, intervalMs: config.otlp.intervalMs, timeoutMs: config.otlp.timeoutMs, clock, onError })
      : undefined;
    const readers: IMetricReader[] = [];
    if (prometheus) readers.push(prometheus.reader);
    if (otlp) readers.push(otlp.reader);
    const provider = new MeterProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }), readers });
    super(provider.getMeter(METER_NAME));
    this.provider = provider;
    this.prometheus = prometheus;
    this.otlp = otlp;
    this.clock = clock;
    this.onError = onError;
  }

  get metricsUrl(): string | undefined {
    return this.prometheus?.url;
  }

  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error('telemetry was shut down'));
    this.starting ??= (async () => {
      await this.prometheus?.start();
      this.otlp?.start();
    })().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  shutdown(deadlineMs = DEFAULT_SHUTDOWN_DEADLINE_MS): Promise<void> {
    this.stopping ??= this.stop(deadlineMs);
    return this.stopping;
  }

  private async stop(deadlineMs: number): Promise<void> {
    const started = this.starting !== undefined;
    const work = (async () => {
      if (started) await this.starting?.catch(() => undefined);
      if (started) await this.otlp?.stop(deadlineMs);
      await this.prometheus?.stop();
      await this.provider.shutdown();
    })().catch(this.onError);
    const deadline = new AbortController();
    await Promise.race([work, this.clock.sleep(deadlineMs, deadline.signal).catch(() => undefined)]);
    deadline.abort();
  }
}
