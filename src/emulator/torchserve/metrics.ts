// TorchServe's metrics port in Prometheus mode: the Java simpleclient's text format 0.0.4
// (HELP "Torchserve prometheus <type> metric with unit: <unit>", labels ending with ",}", values
// printed by Double.toString), as in fixture F10.
import { javaDouble } from '../common/number-format.js';
import { escapeLabel } from '../common/prometheus.js';

export type TorchServeMetricsMode = 'log' | 'prometheus' | 'legacy';

interface Series {
  readonly labels: readonly (readonly [string, string])[];
  value: number;
}

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly unit: string;
  readonly series: Map<string, Series>;
}

/** The frontend metrics TorchServe keeps, by family and label values. */
export class TorchServeMetrics {
  private readonly families = new Map<string, Family>();

  constructor(private readonly hostname: string) {
    for (const [name, type, unit] of [
      ['ts_inference_requests_total', 'counter', 'Count'],
      ['ts_inference_latency_microseconds', 'counter', 'Microseconds'],
      ['ts_queue_latency_microseconds', 'counter', 'Microseconds'],
      ['Requests2XX', 'counter', 'Count'],
      ['Requests4XX', 'counter', 'Count'],
      ['Requests5XX', 'counter', 'Count'],
      ['QueueTime', 'gauge', 'Milliseconds'],
    ] as const) {
      this.families.set(name, { name, type, unit, series: new Map() });
    }
  }

  /** A request to /predictions (model_version "default" when the URL named none). */
  request(model: string, version: string | undefined): void {
    this.add('ts_inference_requests_total', this.modelLabels(model, version), 1);
  }

  /** A successful inference: its end-to-end and queue time. */
  served(model: string, version: string | undefined, totalUs: number, queueUs: number): void {
    const labels = this.modelLabels(model, version);
    this.add('ts_inference_latency_microseconds', labels, totalUs);
    this.add('ts_queue_latency_microseconds', labels, queueUs);
    this.set('QueueTime', this.hostLabels(), Math.floor(queueUs / 1000));
  }

  /** Any response of the inference or management API, by status class. */
  response(status: number): void {
    const cls = Math.floor(status / 100);
    if (cls === 2 || cls === 4 || cls === 5) this.add(`Requests${cls}XX`, this.hostLabels(), 1);
  }

  /** The /metrics body in a mode, filtered by `name[]` when names are given. */
  text(mode: TorchServeMetricsMode, names: readonly string[]): string {
    if (mode === 'log') return '';
    const shown = [...this.families.values()]
      .filter((f) => mode === 'prometheus' || f.name.startsWith('ts_'))
      .filter((f) => names.length === 0 || names.includes(f.name));
    const lines: string[] = [];
    for (const f of shown) {
      lines.push(`# HELP ${f.name} Torchserve prometheus ${f.type} metric with unit: ${f.unit}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.series.values()) {
        lines.push(`${f.name}{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}",`).join('')}} ${javaDouble(s.value)}`);
      }
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  private modelLabels(model: string, version: string | undefined): [string, string][] {
    return [['model_name', model], ['model_version', version ?? 'default'], ['hostname', this.hostname]];
  }

  private hostLabels(): [string, string][] {
    return [['Level', 'Host'], ['Hostname', this.hostname]];
  }

  private add(name: string, labels: [string, string][], by: number): void {
    const s = this.series(name, labels);
    s.value += by;
  }

  private set(name: string, labels: [string, string][], value: number): void {
    this.series(name, labels).value = value;
  }

  private series(name: string, labels: [string, string][]): Series {
    const f = this.families.get(name) as Family;
    const key = labels.map(([, v]) => v).join('\u0000');
    let s = f.series.get(key);
    if (!s) {
      s = { labels, value: 0 };
      f.series.set(key, s);
    }
    return s;
  }
}
