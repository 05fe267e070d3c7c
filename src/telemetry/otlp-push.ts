// OTLP over HTTP push: a pull-style reader collected on our own PeriodicTask (the one helper every
// background loop runs on: no overlap, a timeout per run, failures counted, never thrown), and the
// OTLP/HTTP exporter (JSON encoding) sending each collection. stop() pushes once more so the last
// values are not lost, within the caller's deadline. The exporter package (and the protobuf
// machinery under it, some 18 MB of RSS) is loaded at the first push, not at start-up.
import { AggregationTemporality, InstrumentType, MetricReader } from '@opentelemetry/sdk-metrics';
import type { AggregationTemporalitySelector, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { Clock } from '../ports/clock.js';
import { PeriodicTask } from '../platform/periodic.js';
import type { PeriodicStats } from '../platform/periodic.js';
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

/**
 * The temporality the OTLP exporter would ask for (OpenTelemetry's
 * OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: cumulative, the default; delta: counters,
 * histograms and gauges as deltas, up-down counters cumulative; lowmemory: only synchronous
 * counters and histograms as deltas). The reader needs it before the exporter is loaded.
 */
export function temporalityOf(preference: string | undefined): AggregationTemporalitySelector {
  const delta = new Set<InstrumentType>(
    preference?.toLowerCase() === 'delta'
      ? [InstrumentType.COUNTER, InstrumentType.OBSERVABLE_COUNTER, InstrumentType.GAUGE, InstrumentType.HISTOGRAM, InstrumentType.OBSERVABLE_GAUGE]
      : preference?.toLowerCase() === 'lowmemory' ? [InstrumentType.COUNTER, InstrumentType.HISTOGRAM] : [],
  );
  return (type) => (delta.has(type) ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE);
}

/** A reader that collects only when asked: the push loop asks. */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: temporalityOf(process.env['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE']) });
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export class OtlpPush {
  readonly reader: MetricReader;
  private readonly options: OtlpPushOptions;
  private exporter: Promise<PushMetricExporter> | undefined;
  private readonly task: PeriodicTask;
  private exported = 0;

  constructor(options: OtlpPushOptions) {
    this.options = options;
    this.reader = new OnDemandReader();
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
    if (this.exporter) await this.exporter.then((e) => e.shutdown()).catch((err: unknown) => this.options.onError?.(err));
  }

  private exporterNow(): Promise<PushMetricExporter> {
    this.exporter ??= import('@opentelemetry/exporter-metrics-otlp-http').then(({ OTLPMetricExporter }) => new OTLPMetricExporter({
      url: this.options.endpoint,
      headers: { ...this.options.headers },
      timeoutMillis: this.options.timeoutMs,
    }));
    return this.exporter;
  }

  /** Collects and pushes once. @throws TelemetryError when the collector does not take it. */
  async pushOnce(): Promise<void> {
    const { resourceMetrics, errors } = await this.reader.collect({ timeoutMillis: this.options.timeoutMs });
    if (errors.length > 0) this.options.onError?.(new TelemetryError(`metric collection: ${errors.map(String).join('; ')}`));
    if (resourceMetrics.scopeMetrics.length === 0) return;
    const exporter = await this.exporterNow();
    const result = await new Promise<ExportResult>((resolve) => exporter.export(resourceMetrics, resolve));
    if (result.code !== EXPORT_SUCCESS) {
      throw new TelemetryError(`OTLP push to ${this.options.endpoint} failed: ${result.error?.message ?? 'no reason given'}`, { cause: result.error });
    }
    this.exported++;
  }
}
