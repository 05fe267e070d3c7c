// The Grafana dashboard and docs/metrics.md's metric list, checked against a live scrape of the
// in-process exporter: every PromQL expression uses only series the exporter exposes, and every
// metric of names.ts is both exposed under the name the docs give and listed in docs/metrics.md.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ALL_METRICS, createTelemetry, prometheusSeriesNames } from '../../src/telemetry/index.js';
import { parsePrometheusText, recordOneOfEach, scrape, telemetryConfig } from './helpers.js';
import { allPanels, dashboardQueries, loadDashboard, metricNamesIn, METRICS_DOC, docPromql } from './promql.js';

describe('telemetry: Grafana dashboard and docs/metrics.md against a live scrape', () => {
  let exposed: Set<string>;
  before(async () => {
    const t = createTelemetry(telemetryConfig({ prometheus: true }));
    await t.start();
    try {
      recordOneOfEach(t);
      exposed = new Set(parsePrometheusText(await scrape(t.metricsUrl as string)).map((s) => s.name));
    } finally {
      await t.shutdown();
    }
  });

  it('the exporter exposes every metric of names.ts under the names prometheusSeriesNames gives', () => {
    const missing = ALL_METRICS.flatMap((m) => prometheusSeriesNames(m)).filter((n) => !exposed.has(n));
    expect(missing).to.deep.equal([]);
  });

  it('every dashboard expression selects only series the exporter exposes', () => {
    const queries = dashboardQueries(loadDashboard());
    expect(queries.length).to.be.above(15);
    for (const q of queries) {
      const names = metricNamesIn(q.expr);
      expect(names.length, `${q.where}: selects no metric: ${q.expr}`).to.be.above(0);
      for (const n of names) expect(exposed.has(n), `${q.where}: ${n} is not exposed (${q.expr})`).to.equal(true);
    }
  });

  it('docs/metrics.md\'s PromQL examples select only exposed series', () => {
    const examples = docPromql();
    expect(examples.length).to.be.at.least(2);
    for (const e of examples) for (const n of metricNamesIn(e)) expect(exposed.has(n), `docs/metrics.md: ${n} in ${e}`).to.equal(true);
  });

  it('docs/metrics.md\'s metric list names every metric, as Prometheus shows it', () => {
    const section = readFileSync(METRICS_DOC, 'utf8');
    for (const m of ALL_METRICS) {
      const shown = prometheusSeriesNames(m)[0]?.replace(/_bucket$/, '') as string;
      expect(section, m.name).to.include(`\`${shown}\``);
      expect(section, m.name).to.include(`\`${m.name}\``);
    }
  });

  it('the metric reader finds metrics and knows its functions (it can fail)', () => {
    expect(metricNamesIn('sum by (pipeline, le) (rate(x_bucket{a="b{c}"}[5m])) / on(pipeline) y')).to.deep.equal(['x_bucket', 'y']);
    expect(() => metricNamesIn('frobnicate(x)')).to.throw(/unknown PromQL function frobnicate/);
  });
});

describe('telemetry: Grafana dashboard shape', () => {
  const d = loadDashboard();
  const panels = allPanels(d).filter((p) => p.type !== 'row');

  it('has the panels the issue asks for', () => {
    const titles = panels.map((p) => p.title);
    for (const want of [/rate vs capacity/i, /replicas per stage/i, /P99 vs SLO/, /SLO miss ratio/, /cost/i, /tuner decisions/i, /reconcile actions/i]) {
      expect(titles.some((t) => want.test(t)), `${String(want)} among ${titles.join(', ')}`).to.equal(true);
    }
  });

  it('every panel queries the dashboard\'s Prometheus data source variable, with unique ids', () => {
    expect(d.templating.list.map((v) => v.name)).to.include.members(['datasource', 'pipeline']);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).to.equal('${datasource}');
      expect(p.targets?.length, p.title).to.be.above(0);
    }
    const ids = allPanels(d).map((p) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('panels fit the 24-column grid and do not overlap', () => {
    const all = allPanels(d);
    for (const p of all) expect(p.gridPos.x + p.gridPos.w, p.title).to.be.at.most(24);
    for (const a of all) {
      for (const b of all) {
        if (a === b) continue;
        const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w
          && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).to.equal(false);
      }
    }
  });

  it('filters on the pipeline variable wherever the series have a pipeline label', () => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        const pipelineScoped = metricNamesIn(t.expr).some((n) => /^inferline_(pipeline|stage|planner|tuner|reconcile)_/.test(n));
        if (pipelineScoped) expect(t.expr, p.title).to.include('pipeline=~"$pipeline"');
      }
    }
  });
});
