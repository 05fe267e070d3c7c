// Prometheus text helpers shared by the emulated servers: label escaping, and TensorFlow's
// monitoring histograms as TF Serving's exporter prints them (util/prometheus_exporter.cc).
import { formatG } from './number-format.js';

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

type Labels = readonly (readonly [string, string])[];

interface HistogramSeries {
  readonly labels: Labels;
  readonly buckets: number[];
  sum: number;
}

/**
 * A TF monitoring Sampler with Buckets::Exponential(scale, growth, count): limits scale·growth^i
 * for i < count, then an overflow bucket; a value v falls in the first bucket whose limit is > v.
 */
export class TfHistogram {
  readonly limits: readonly number[];
  private readonly series = new Map<string, HistogramSeries>();

  constructor(scale: number, growth: number, count: number) {
    this.limits = Array.from({ length: count }, (_, i) => scale * growth ** i);
  }

  observe(labels: Labels, value: number): void {
    const key = labels.map(([, v]) => v).join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      s = { labels, buckets: new Array<number>(this.limits.length + 1).fill(0), sum: 0 };
      this.series.set(key, s);
    }
    let i = this.limits.findIndex((limit) => value < limit);
    if (i < 0) i = this.limits.length;
    s.buckets[i] = (s.buckets[i] ?? 0) + 1;
    s.sum += value;
  }

  /** `# TYPE NAME histogram`, then cumulative _bucket lines, _sum and _count per series. */
  lines(name: string): string[] {
    const out = [`# TYPE ${name} histogram`];
    for (const s of this.series.values()) {
      const labels = s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
      const prefix = `${name}_bucket{${labels}${labels ? ',' : ''}`;
      let cumulative = 0;
      s.buckets.forEach((n, i) => {
        cumulative += n;
        const le = i < this.limits.length ? formatG(this.limits[i] as number) : '+Inf';
        out.push(`${prefix}le="${le}"} ${cumulative}`);
      });
      out.push(`${name}_sum{${labels}} ${formatG(s.sum)}`, `${name}_count{${labels}} ${cumulative}`);
    }
    return out;
  }
}
