// The HTML report of `inferline replay`: one standalone page with the predicted and measured
// end-to-end latency distributions (latency by percentile, the SLO as a line), the per-stage hop
// times as paired bars, and the harness's health. Deterministic: same input, same bytes.
import type { ReplayDetail } from './types.js';
import { fmtMs, fmtPct } from '../output.js';
import type { ChartPoint } from './decimate.js';
import { escapeXml } from './escape.js';
import { meta, reportPage } from './style.js';
import { lineChart, PALETTE } from './svg.js';

const PREDICTED = PALETTE[0] as string;
const MEASURED = PALETTE[1] as string;

/** Latency at each of up to 400 percentiles from 0 to 99.99 of a sorted array. */
function quantileCurve(sorted: Float64Array): ChartPoint[] {
  if (sorted.length === 0) return [];
  const out: ChartPoint[] = [];
  for (let i = 0; i <= 400; i++) {
    const p = i < 300 ? (i / 300) * 90 : 90 + ((i - 300) / 100) * 9.99;
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    out.push([p, sorted[idx] as number]);
  }
  return out;
}

function bar(value: number, max: number, color: string): string {
  const w = max > 0 && Number.isFinite(value) ? Math.max(0.5, (value / max) * 100) : 0;
  return `<div style="background:${color};height:0.8em;width:${w.toFixed(1)}%"></div>`;
}

export function renderReplayReport(detail: ReplayDetail): string {
  const s = detail.summary;
  const title = `inferline replay — ${s.pipeline}`;
  const e = s.endToEnd;
  const chart = lineChart({
    title: 'End-to-end latency by percentile', width: 1138, height: 340, xLabel: 'percentile', yLabel: 'latency (ms)',
    series: [
      { name: 'predicted (estimator)', points: quantileCurve(detail.predictedMs), color: PREDICTED },
      { name: 'measured (live fleet)', points: quantileCurve(detail.measuredMs), color: MEASURED },
    ],
    hLines: [{ y: s.sloMs, label: `SLO ${fmtMs(s.sloMs)}`, color: '#d62728' }],
    xMin: 0, xMax: 100,
  });
  const max = Math.max(...s.stages.flatMap((st) => [st.hopP99Ms.predicted, st.hopP99Ms.measured].filter(Number.isFinite)), 0);
  const stageRows = s.stages.map((st) => [
    '<tr>',
    `<td>${escapeXml(st.stage)}<br><small>${escapeXml(st.server)} · ${escapeXml(st.model)}</small></td>`,
    `<td>P50 ${escapeXml(fmtMs(st.hopP50Ms.predicted))} / ${escapeXml(fmtMs(st.hopP50Ms.measured))}<br>P99 ${escapeXml(fmtMs(st.hopP99Ms.predicted))} / ${escapeXml(fmtMs(st.hopP99Ms.measured))}</td>`,
    `<td style="width:50%">${bar(st.hopP99Ms.predicted, max, PREDICTED)}${bar(st.hopP99Ms.measured, max, MEASURED)}</td>`,
    '</tr>',
  ].join(''));
  const h = s.health;
  const body = [
    '<header>',
    `<h1>${escapeXml(title)}</h1>`,
    '<dl class="meta">',
    meta('SLO', escapeXml(`P${s.percentile} ≤ ${fmtMs(s.sloMs)}`)),
    meta('Workload', escapeXml(`${s.workload} (${s.queries} queries)`)),
    meta('Seed', String(s.seed)),
    meta('Harness', escapeXml(s.verdict.trustworthy ? 'trustworthy' : `NOT trustworthy: ${s.verdict.reasons.join('; ')}`)),
    '</dl>',
    '</header>',
    '<section><h2>End to end</h2>',
    '<table><tr><th></th><th>predicted</th><th>measured</th></tr>',
    `<tr><td>P50</td><td>${fmtMs(e.predicted.p50Ms)}</td><td>${fmtMs(e.measured.p50Ms)}</td></tr>`,
    `<tr><td>P99</td><td>${fmtMs(e.predicted.p99Ms)}</td><td>${fmtMs(e.measured.p99Ms)}</td></tr>`,
    `<tr><td>P99.9</td><td>${fmtMs(e.predicted.p999Ms)}</td><td>${fmtMs(e.measured.p999Ms)}</td></tr>`,
    `<tr><td>SLO misses</td><td>${fmtPct(e.predicted.missRate)}</td><td>${fmtPct(e.measured.missRate)}</td></tr>`,
    '</table>',
    chart,
    '</section>',
    '<section><h2>Per stage: hop time (hop overhead + queue + compute), predicted / measured</h2>',
    `<p><span style="color:${PREDICTED}">■</span> predicted P99 &nbsp; <span style="color:${MEASURED}">■</span> measured P99</p>`,
    `<table>${stageRows.join('')}</table>`,
    '</section>',
    '<section><h2>Harness health</h2>',
    `<p>Send slip P50 ${h.sendSlipP50Ms.toFixed(2)} ms, P99 ${h.sendSlipP99Ms.toFixed(2)} ms, max ${h.sendSlipMaxMs.toFixed(1)} ms; event-loop delay P99 ${h.loopDelayP99Ms.toFixed(1)} ms; host load ${h.loadAverage.toFixed(2)} on ${h.cores} cores; ${h.failed} failed.</p>`,
    '</section>',
  ];
  return reportPage(title, body);
}
