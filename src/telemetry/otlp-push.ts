// OTLP over HTTP push: a pull-style reader collected on our own PeriodicTask (the one helper every
// background loop runs on: no overlap, a timeout per run, failures counted, never thrown), and the
// OTLP/HTTP exporter (JSON encoding) sending each collection. stop() pushes once more so the last
// values are not lost, within the caller's deadline.
import { MetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { Clock } from '../ports/clock.js';
import { PeriodicTask } from '../runtime/periodic.js';
import type { PeriodicStats } from '../runtime/periodic.js';
import { TelemetryError } from './errors.js';

type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];
/** ExportResultCode.SUCCESS of @opentelemetry/core. */
const EXPORT_SUCCESS = 0;

export interface OtlpPushOptions {
  /** Full URL of the metrics endpoint, e.g. http://collector:4318/v1/metrics. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly intervalMs: number;
  /** Timeout of one collection and push (≤ intervalMs). */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly onError?: (err: unknown) => void;
}

/** A reader that collects only when asked: the push loop asks. */
class OnDemandReader extends MetricReader {
  constructor(exporter: PushMetricExporter) {
    super({
      ...(exporter.selectAggregationTemporality ? { aggregationTemporalitySelector: exporter.selectAggregationTemporality.bind(exporter) } : {}),
      ...(exporter.selectAggregation ? { aggregationSelector: exporter.selectAggregation.bind(exporter) } : {}),
    });
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export class OtlpPush {
  readonly reader: MetricReader;
  private readonly options: OtlpPushOptions;
  private readonly exporter: OTLPMetricExporter;
  private readonly task: PeriodicTask;
  private exported = 0;

  constructor(options: OtlpPushOptions) {
    this.options = options;
    this.exporter = new OTLPMetricExporter({
      url: options.endpoint,
      headers: { ...options.headers },
      timeoutMillis: options.timeoutMs,
    });
    this.reader = new OnDemandReader(this.exporter);
    this.task = new PeriodicTask({
      name: 'otlp-export',
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      clock: options.clock,
      ...(options.onError ? { onError: options.onError } : {}),
    }, () => this.pushOnce());
  }

  /** Runs, failures and timeouts of the push loop, and how many pushes succeeded. */
  get stats(): PeriodicStats & { readonly exported: number } {
    return { ...this.task.counters, exported: this.exported };
  }

  start(): void {
    this.task.start();
  }

  /** Stops the loop and pushes one last time. Never throws: a failed last push goes to onError. */
  async stop(deadlineMs: number): Promise<void> {
    await this.task.stop(deadlineMs);
    try {
      await this.pushOnce();
    } catch (err) {
      this.options.onError?.(err);
    }
    await this.exporter.shutdown().catch((err: unknown) => this.options.onError?.(err));
  }

  /** Collects and pushes once. @throws TelemetryError when the collector does not take it. */
  async pushOnce(): Promise<void> {
    const { resourceMetrics, errors } = await this.reader.collect({ timeoutMillis: this.options.timeoutMs });
    if (errors.length > 0) this.options.onError?.(new TelemetryError(`metric collection: ${errors.map(String).join('; ')}`));
    if (resourceMetrics.scopeMetrics.length === 0) return;
    const result = await new Promise<ExportResult>((resolve) => this.exporter.export(resourceMetrics, resolve));
    if (result.code !== EXPORT_SUCCESS) {
      throw new TelemetryError(`OTLP push to ${this.options.endpoint} failed: ${result.error?.message ?? 'no reason given'}`, { cause: result.error });
    }
    this.exported++;
  }
}
