// The metric names: one file, OpenTelemetry conventions, bucket advice for inference latencies.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  ALL_METRICS, ATTR, LATENCY_BUCKETS_S, METRICS, PLANNER_DURATION_BUCKETS_S, prometheusSeriesNames,
} from '../../src/telemetry/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ATTRIBUTE_KEYS = new Set<string>(Object.values(ATTR));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('telemetry/names', () => {
  it('every name is unique, lowercase, dot-separated and under inferline.', () => {
    const names = ALL_METRICS.map((m) => m.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const name of names) expect(name, name).to.match(/^inferline(\.[a-z][a-z0-9_]*)+$/);
  });

  it('no name is also the namespace of another (OpenTelemetry: a name is a leaf)', () => {
    const names = ALL_METRICS.map((m) => m.name);
    for (const a of names) for (const b of names) expect(b.startsWith(`${a}.`), `${a} is a prefix of ${b}`).to.equal(false);
  });

  it('names carry no unit and no _total: the unit field and the exporter do that', () => {
    for (const m of ALL_METRICS) {
      expect(m.name, m.name).to.not.match(/(^|[._])(seconds?|ms|millis(econds)?|total|count|per_hour|qps)($|[._])/);
    }
  });

  it('durations are histograms or gauges in seconds, counters count {things}', () => {
    for (const m of ALL_METRICS) {
      if (/duration|latency/.test(m.name)) expect(m.unit, m.name).to.equal('s');
      if (m.kind === 'counter') expect(m.unit, m.name).to.match(/^\{[a-z_]+\}$/);
      expect(m.unit, m.name).to.match(/^(s|1|\{[a-z_]+\}(\/(s|h))?)$/);
      expect(m.description.length, m.name).to.be.above(10);
    }
  });

  it('attributes come from the one ATTR list', () => {
    for (const m of ALL_METRICS) for (const a of m.attributes) expect(ATTRIBUTE_KEYS.has(a), `${m.name}: ${a}`).to.equal(true);
  });

  it('every histogram has explicit bucket advice, strictly increasing', () => {
    const histograms = ALL_METRICS.filter((m) => m.kind === 'histogram');
    expect(histograms.map((m) => m.name)).to.have.members([
      'inferline.pipeline.request.duration', 'inferline.planner.run.duration', 'inferline.adapter.request.duration',
    ]);
    for (const m of histograms) {
      const b = m.buckets ?? [];
      expect(b.length, m.name).to.be.above(5);
      for (let i = 1; i < b.length; i++) expect(b[i] as number, `${m.name}[${i}]`).to.be.above(b[i - 1] as number);
    }
  });

  it('inference latency buckets span 1 ms to 10 s, at most 2.5× apart, finer where SLOs sit', () => {
    expect(LATENCY_BUCKETS_S[0]).to.equal(0.001);
    expect(LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1]).to.equal(10);
    for (let i = 1; i < LATENCY_BUCKETS_S.length; i++) {
      expect((LATENCY_BUCKETS_S[i] as number) / (LATENCY_BUCKETS_S[i - 1] as number)).to.be.at.most(2.5);
    }
    // Between 100 ms and 500 ms, where inference SLOs usually are, boundaries are ≤ 100 ms apart.
    const mid = LATENCY_BUCKETS_S.filter((b) => b >= 0.1 && b <= 0.5);
    for (let i = 1; i < mid.length; i++) expect((mid[i] as number) - (mid[i - 1] as number)).to.be.at.most(0.15 + 1e-9);
    expect(METRICS.requestDuration.buckets).to.equal(LATENCY_BUCKETS_S);
    expect(METRICS.adapterDuration.buckets).to.equal(LATENCY_BUCKETS_S);
    expect(METRICS.plannerDuration.buckets).to.equal(PLANNER_DURATION_BUCKETS_S);
  });

  const series: { name: string; given: { name: string; kind: 'counter' | 'gauge' | 'histogram' }; want: string[] }[] = [
    { name: 'a gauge: dots become underscores', given: { name: 'inferline.stage.replicas.desired', kind: 'gauge' }, want: ['inferline_stage_replicas_desired'] },
    { name: 'a counter gains _total', given: { name: 'inferline.pipeline.slo.misses', kind: 'counter' }, want: ['inferline_pipeline_slo_misses_total'] },
    { name: 'a histogram has three series', given: { name: 'inferline.adapter.request.duration', kind: 'histogram' }, want: ['inferline_adapter_request_duration_bucket', 'inferline_adapter_request_duration_sum', 'inferline_adapter_request_duration_count'] },
  ];
  for (const c of series) it(`Prometheus series: ${c.name}`, () => expect(prometheusSeriesNames(c.given)).to.deep.equal(c.want));

  it('no other source file spells a metric name: they all live in src/telemetry/names.ts', () => {
    const namespaces = [...new Set(ALL_METRICS.map((m) => m.name.split('.')[1]))];
    const spelled = new RegExp(`['"\`]inferline[._](${namespaces.join('|')})[._]`);
    const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'adapters'))];
    const offenders = files
      .filter((f) => !f.endsWith(join('telemetry', 'names.ts')))
      .filter((f) => spelled.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).to.deep.equal([]);
  });
});
