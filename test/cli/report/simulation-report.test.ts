// The simulation report page: structure, charts per run, the SLO line, escaping, determinism.
import { expect } from 'chai';
import { renderSimulationReport } from '../../../src/cli/report/index.js';
import type { ControllerRun, SimulationReport, TimelinePoint } from '../../../src/cli/report/index.js';
import { EXAMPLE_INTERVALS, EXAMPLE_STAGES, exampleReport } from './example-report.js';
import { attrs, elements, pathShape, seriesPath, tagProblem } from './svg-parse.js';

/** The outer `<svg>` elements of a page, each as its full markup, in page order. */
function charts(html: string): string[] {
  return (html.match(/<svg xmlns[\s\S]*?\n<\/svg>\n<\/figure>/g) ?? []).map((c) => c.replace(/\n<\/figure>$/, ''));
}

function chartTitled(html: string, runIndex: number, title: string): string {
  const section = html.split('<section class="run"')[runIndex + 1] ?? '';
  const chart = charts(section).find((c) => c.includes(`<title>${title}`));
  expect(chart, `run ${runIndex}: chart "${title}"`).to.be.a('string');
  return chart as string;
}

function points(chart: string, escapedName: string): ReturnType<typeof pathShape> {
  const tag = seriesPath(chart, escapedName);
  expect(tag, `a path for ${escapedName}`).to.be.a('string');
  return pathShape(attrs(tag as string)['d'] ?? '');
}

function point(tMs: number, replicas: Record<string, number>, p99Ms = 100): TimelinePoint {
  return { tMs, arrivalRateQps: 50, capacityQps: 80, replicas, p99Ms, costPerHour: 1 };
}

function report(runs: readonly ControllerRun[], over: Partial<SimulationReport> = {}): SimulationReport {
  return { title: 'r', pipeline: 'p', sloMs: 200, percentile: 99, workload: 'w', seed: 1, generatedBy: 'test', runs, ...over };
}

function controllerRun(controller: string, timeline: readonly TimelinePoint[], p99Ms = 150): ControllerRun {
  return { controller, p99Ms, sloMissRate: 0.01, meanCostPerHour: 1, scalingActions: 2, timeline };
}

describe('report/simulation-report', () => {
  const example = exampleReport();
  const html = renderSimulationReport(example);

  it('is a standalone HTML page: well nested, no scripts, no external assets', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).to.equal(true);
    expect(html).to.include('<meta charset="utf-8">');
    expect(tagProblem(html)).to.equal(undefined);
    expect(html).to.not.match(/<script|<link|<img|\ssrc=|url\(|@import/i);
    // The only URL is the SVG namespace.
    expect([...new Set(html.match(/https?:\/\/[^"\s]*/g))]).to.deep.equal(['http://www.w3.org/2000/svg']);
  });

  it('has a header with pipeline, SLO, workload and seed', () => {
    expect(html).to.include('<h1>Closed-loop simulation: image-classify</h1>');
    expect(html).to.include('<dt>Pipeline</dt><dd>image-classify</dd>');
    expect(html).to.include('<dt>SLO</dt><dd>P99 ≤ 250 ms</dd>');
    expect(html).to.include(`<dt>Workload</dt><dd>${example.workload}</dd>`);
    expect(html).to.include('<dt>Seed</dt><dd>42</dd>');
    expect(html).to.include('<code>inferline simulate --config');
  });

  it('summarises each run with a pass/fail mark, miss rate, cost and scaling actions', () => {
    const rows = html.match(/<tr class="(pass|fail|none)">.*?<\/tr>/g) ?? [];
    expect(rows).to.have.length(example.runs.length);
    const row = (name: string): string => rows.find((r) => r.includes(`>${name}</a>`)) ?? '';
    expect(row('inferline')).to.include('✓ meets SLO');
    expect(row('static-mean')).to.include('✗ misses SLO');
    expect(row('static-peak')).to.include('✓ meets SLO');
    const inferline = example.runs[0] as ControllerRun;
    expect(row('inferline')).to.include(`${(inferline.sloMissRate * 100).toFixed(2)}%`);
    expect(row('inferline')).to.include(`$${inferline.meanCostPerHour.toFixed(3)}/h`);
    expect(row('inferline')).to.include(`<td class="num">${inferline.scalingActions}</td>`);
    // The cheaper of the two runs that meet the SLO is starred, and only it.
    expect(html.match(/★/g)).to.have.length(1);
    expect(row('inferline')).to.include('★');
  });

  it('draws three charts per run and one cost overlay', () => {
    const all = charts(html);
    expect(all).to.have.length(3 * example.runs.length + 1);
    // Each chart clips its series in one nested viewport.
    expect(html.match(/<svg\b/g)).to.have.length(2 * all.length);
    expect(all.every((c) => tagProblem(c) === undefined)).to.equal(true);
  });

  it('plots every interval of arrival rate and capacity, capacity as a staircase', () => {
    const chart = chartTitled(html, 0, 'Arrival rate vs served capacity');
    expect(points(chart, 'arrival rate')).to.include({ segments: 1, points: EXAMPLE_INTERVALS });
    expect(points(chart, 'capacity (entry stage)')).to.include({ segments: 1, points: EXAMPLE_INTERVALS });
    expect(attrs(seriesPath(chart, 'capacity (entry stage)') as string)['d']).to.match(/ H[\d.]+ V/);
  });

  it('plots replicas as one staircase per stage, broken where a stage is absent', () => {
    const inferline = chartTitled(html, 0, 'Replicas per stage');
    for (const stage of EXAMPLE_STAGES) expect(points(inferline, stage)).to.include({ segments: 1, points: EXAMPLE_INTERVALS });
    // The hpa run adds the classifier only under load: several pieces, fewer points.
    const hpa = points(chartTitled(html, 1, 'Replicas per stage'), 'classifier');
    expect(hpa.segments).to.be.above(1);
    expect(hpa.points).to.be.below(EXAMPLE_INTERVALS);
    expect(inferline).to.match(/class="y-tick"[^>]*>2</);
    expect(inferline).to.not.match(/class="y-tick"[^>]*>\d+\.\d/); // no half replicas
  });

  it('plots P99 per interval with the SLO as a horizontal line at the right height', () => {
    const chart = chartTitled(html, 0, 'P99 latency per interval');
    // One interval completed nothing (NaN): a gap.
    expect(points(chart, 'P99 per interval')).to.include({ segments: 2, points: EXAMPLE_INTERVALS - 1 });
    const hline = attrs(elements(chart, 'line', 'hline')[0] ?? '');
    expect(hline['data-label']).to.equal('SLO 250 ms');
    // Interpolate between the y-axis ticks to where 250 ms must be.
    const ticks = [...chart.matchAll(/class="y-tick" x="[\d.]+" y="([\d.]+)"[^>]*>(\d+)</g)].map((m) => ({ y: Number(m[1]), v: Number(m[2]) }));
    const [a, b] = [ticks[0], ticks[ticks.length - 1]] as [{ y: number; v: number }, { y: number; v: number }];
    expect(Number(hline['y1'])).to.be.closeTo(a.y + ((250 - a.v) / (b.v - a.v)) * (b.y - a.y), 0.02);
  });

  it('switches the P99 chart to a log axis when latency runs far past the SLO', () => {
    const section = html.split('<section class="run"')[3] ?? '';
    expect(section).to.include('static-mean');
    expect(section).to.include('<title>P99 latency per interval (log scale)</title>');
    expect(elements(section, 'line', 'hline')).to.have.length(1);
  });

  it('overlays the cost rate of every run', () => {
    const overlay = charts(html)[0] as string;
    expect(overlay).to.include('<title>Cost rate over time, all controllers</title>');
    for (const run of example.runs) expect(points(overlay, run.controller)).to.include({ segments: 1, points: EXAMPLE_INTERVALS });
  });

  it('escapes every user-provided string', () => {
    const evil = '<script>alert(1)</script>';
    const page = renderSimulationReport(report(
      [controllerRun(evil, [point(0, { '<b>&': 2 }), point(1000, { '<b>&': 3 })])],
      { title: 'T <i>', pipeline: 'a&b', workload: '"w"', generatedBy: 'x --y "z" <w>' },
    ));
    expect(page).to.not.include('<script>');
    expect(page).to.not.include('<b>');
    expect(page).to.not.include('<i>');
    expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).to.include('data-series="&lt;b&gt;&amp;"');
    expect(page).to.include('>&lt;b&gt;&amp;</text>');
    expect(page).to.include('<dd>a&amp;b</dd>');
    expect(page).to.include('<dd>&quot;w&quot;</dd>');
    expect(page).to.include('<code>x --y &quot;z&quot; &lt;w&gt;</code>');
    expect(tagProblem(page)).to.equal(undefined);
  });

  it('renders runs without data, and a report without runs', () => {
    const page = renderSimulationReport(report([controllerRun('idle', [], Number.NaN)]));
    expect(charts(page)).to.have.length(4);
    expect(page.match(/>no data<\/text>/g)).to.have.length(4);
    expect(page).to.include('– no data</span>');
    expect(page).to.not.match(/NaN|Infinity/);
    expect(tagProblem(page)).to.equal(undefined);

    const none = renderSimulationReport(report([]));
    expect(none).to.include('No runs.');
    expect(none).to.not.include('<svg');
    expect(tagProblem(none)).to.equal(undefined);
  });

  it('marks an unbounded P99 as a miss', () => {
    const page = renderSimulationReport(report([controllerRun('stuck', [point(0, { a: 1 }, Infinity)], Infinity)]));
    expect(page).to.include('✗ misses SLO');
    expect(page).to.include('>∞</td>');
  });

  it('uses minutes for long runs', () => {
    const page = renderSimulationReport(report([controllerRun('long', [point(0, { a: 1 }), point(3_600_000, { a: 2 })])]));
    expect(page).to.include('simulated time (min)');
    expect(page).to.match(/class="x-tick"[^>]*>60</);
  });

  it('gives byte-identical output for the same report', () => {
    expect(renderSimulationReport(exampleReport())).to.equal(html);
  });
});
