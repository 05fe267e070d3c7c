// The SVG line-chart renderer: ticks, decimation, path geometry, reference lines, escaping.
import { expect } from 'chai';
import fc from 'fast-check';
import { decimate, escapeXml, lineChart, logTicks, niceStep, niceTicks } from '../../../src/cli/report/index.js';
import type { ChartPoint, LineChartOptions } from '../../../src/cli/report/index.js';
import { attrs, elements, pathShape, seriesPath, tagProblem } from './svg-parse.js';

const base = { title: 'Chart', xLabel: 'x', yLabel: 'y' } as const;

function line(n: number, f: (i: number) => number = (i) => i): ChartPoint[] {
  return Array.from({ length: n }, (_, i): ChartPoint => [i, f(i)]);
}

/** The plot rectangle of a rendered chart. */
function plotArea(svg: string): { x: number; y: number; width: number; height: number } {
  const a = attrs(elements(svg, 'rect', 'plot-area')[0] ?? '');
  return { x: Number(a['x']), y: Number(a['y']), width: Number(a['width']), height: Number(a['height']) };
}

function shapeOf(svg: string, name: string): ReturnType<typeof pathShape> {
  const tag = seriesPath(svg, name);
  expect(tag, `a path for series ${name}`).to.be.a('string');
  return pathShape(attrs(tag as string)['d'] ?? '');
}

describe('report/svg: niceStep and niceTicks', () => {
  const steps: { given: number; want: number }[] = [
    { given: 19.4, want: 20 }, { given: 20, want: 20 }, { given: 0.3, want: 0.5 }, { given: 1, want: 1 },
    { given: 7, want: 10 }, { given: 0.00072, want: 0.001 }, { given: 2.4, want: 5 }, { given: 120, want: 200 },
  ];
  for (const { given, want } of steps) it(`niceStep(${given}) = ${want}`, () => expect(niceStep(given)).to.equal(want));

  const cases: { name: string; given: [number, number, number?, boolean?]; want: number[] }[] = [
    { name: '0–97', given: [0, 97], want: [0, 20, 40, 60, 80, 100] },
    { name: '0–100', given: [0, 100], want: [0, 20, 40, 60, 80, 100] },
    { name: '0–1', given: [0, 1], want: [0, 0.2, 0.4, 0.6, 0.8, 1] },
    { name: '0–7', given: [0, 7], want: [0, 2, 4, 6, 8] },
    { name: 'negative to positive', given: [-3, 7], want: [-4, -2, 0, 2, 4, 6, 8] },
    { name: 'small decimals print exactly', given: [3, 3.4], want: [3, 3.1, 3.2, 3.3, 3.4] },
    { name: 'tiny values', given: [0.001, 0.0037], want: [0.001, 0.002, 0.003, 0.004] },
    { name: 'millions', given: [0, 1e6], want: [0, 2e5, 4e5, 6e5, 8e5, 1e6] },
    { name: 'a single value gets room around it', given: [250, 250], want: [220, 230, 240, 250, 260, 270, 280] },
    { name: 'zero width at zero', given: [0, 0], want: [-1, -0.5, 0, 0.5, 1] },
    { name: 'reversed bounds', given: [97, 0], want: [0, 20, 40, 60, 80, 100] },
    { name: 'integer: no half replicas', given: [0, 2, 5, true], want: [0, 1, 2] },
    { name: 'integer: 0–3', given: [0, 3, 5, true], want: [0, 1, 2, 3] },
    { name: 'fewer ticks asked', given: [0, 97, 2], want: [0, 50, 100] },
  ];
  for (const { name, given, want } of cases) {
    it(`niceTicks ${name}`, () => expect(niceTicks(...given)).to.deep.equal(want));
  }

  it('ticks are evenly spaced 1-2-5 steps that cover the range', () => {
    fc.assert(fc.property(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
      (lo, span) => {
        const hi = lo + span;
        const ticks = niceTicks(lo, hi);
        // Ticks are rounded to the decimals of their step: allow for the float error of that.
        const eps = span * 1e-9;
        expect(ticks[0]).to.be.at.most(lo + eps);
        expect(ticks[ticks.length - 1]).to.be.at.least(hi - eps);
        expect(ticks.length).to.be.within(3, 12);
        const step = (ticks[1] as number) - (ticks[0] as number);
        const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
        expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `step ${step}`).to.equal(true);
        for (let i = 1; i < ticks.length; i++) expect((ticks[i] as number) - (ticks[i - 1] as number)).to.be.closeTo(step, step * 1e-6);
      },
    ));
  });

  const logCases: { given: [number, number]; want: number[] }[] = [
    { given: [1, 97], want: [1, 2, 5, 10, 20, 50, 100] },
    { given: [120, 80_000], want: [100, 1000, 10_000, 100_000] },
    { given: [0.02, 0.3], want: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1] },
    { given: [1, 1e20], want: [1, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 1e21] },
  ];
  for (const { given, want } of logCases) {
    it(`logTicks ${given.join('–')}`, () => expect(logTicks(...given)).to.deep.equal(want));
  }
});

describe('report/svg: decimate', () => {
  it('returns short series as they are', () => {
    const points = line(2000);
    expect(decimate(points)).to.equal(points);
  });

  it('thins a long series to about the limit, in order, keeping both ends', () => {
    const points = line(100_000, (i) => Math.sin(i / 50));
    const out = decimate(points, 2000);
    expect(out.length).to.be.at.most(2000);
    expect(out.length).to.be.at.least(1000);
    expect(out[0]).to.equal(points[0]);
    expect(out[out.length - 1]).to.equal(points[points.length - 1]);
    for (let i = 1; i < out.length; i++) expect((out[i] as ChartPoint)[0]).to.be.above((out[i - 1] as ChartPoint)[0]);
  });

  it('keeps a single-point spike and a single-point dip', () => {
    const points = line(50_000, (i) => (i === 31_337 ? 1000 : i === 7_777 ? -1000 : 1));
    const out = decimate(points, 2000);
    expect(out.some(([x, y]) => x === 31_337 && y === 1000)).to.equal(true);
    expect(out.some(([x, y]) => x === 7_777 && y === -1000)).to.equal(true);
  });

  it('keeps a gap, so the line still breaks there', () => {
    const points = line(50_000, (i) => (i === 25_000 ? Number.NaN : 1));
    const out = decimate(points, 2000);
    expect(out.filter(([, y]) => Number.isNaN(y))).to.have.length(1);
  });

  it('is deterministic', () => {
    const points = line(30_000, (i) => Math.sin(i) * Math.cos(i / 3));
    expect(decimate(points, 500)).to.deep.equal(decimate(points, 500));
  });
});

describe('report/svg: lineChart', () => {
  it('draws one path per series with one vertex per point', () => {
    const svg = lineChart({ ...base, series: [{ name: 'a', points: line(50) }, { name: 'b', points: line(30, (i) => i % 4), step: true }] });
    expect(shapeOf(svg, 'a')).to.include({ segments: 1, points: 50 });
    const b = shapeOf(svg, 'b');
    expect(b).to.include({ segments: 1, points: 30 });
    // A staircase: every vertical move happens at the x of a data point, after a horizontal run.
    expect(attrs(seriesPath(svg, 'b') as string)['d']).to.match(/^M[\d.]+ [\d.]+( H[\d.]+ V[\d.]+){29}$/);
  });

  it('splits a line at NaN and Infinity, and draws a lone point as a dot', () => {
    const points = line(10, (i) => (i === 4 ? Number.NaN : i === 6 ? Infinity : i));
    const svg = lineChart({ ...base, series: [{ name: 'gappy', points }] });
    const d = attrs(seriesPath(svg, 'gappy') as string)['d'] as string;
    expect(pathShape(d)).to.include({ segments: 3, points: 8 });
    expect(d).to.match(/M[\d.]+ [\d.]+ h0 M/, 'the lone point 5 is a dot');
    expect(svg).to.not.match(/NaN|Infinity/);
  });

  it('treats non-positive values as gaps on a log axis', () => {
    const svg = lineChart({ ...base, logY: true, series: [{ name: 'l', points: line(10, (i) => (i === 5 ? 0 : i + 1)) }] });
    expect(shapeOf(svg, 'l')).to.include({ segments: 2, points: 9 });
  });

  it('decimates long series but keeps a spike', () => {
    const svg = lineChart({ ...base, yMin: 0, yMax: 1000, series: [{ name: 's', points: line(20_000, (i) => (i === 12_345 ? 500 : 10 + (i % 7))) }] });
    const shape = shapeOf(svg, 's');
    expect(shape.points).to.be.at.most(2000);
    const area = plotArea(svg);
    // 500 of 1000: half-way up.
    expect(Math.min(...shape.ys)).to.be.closeTo(area.y + area.height / 2, 0.01);
  });

  it('leaves room above data that reaches the top tick', () => {
    const tickLabels = [...lineChart({ ...base, series: [{ name: 'a', points: line(11, (i) => i * 10) }] }).matchAll(/class="y-tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(tickLabels).to.deep.equal(['0', '20', '40', '60', '80', '100', '120']);
  });

  it('draws a reference line at its y on a linear axis', () => {
    const svg = lineChart({ ...base, yMin: 0, yMax: 400, series: [{ name: 'p99', points: line(10, (i) => 100 + i) }], hLines: [{ y: 250, label: 'SLO 250 ms' }] });
    const area = plotArea(svg);
    const hline = attrs(elements(svg, 'line', 'hline')[0] ?? '');
    expect(hline['data-label']).to.equal('SLO 250 ms');
    expect(Number(hline['y1'])).to.be.closeTo(area.y + area.height * (1 - 250 / 400), 0.01);
    expect(Number(hline['x1'])).to.be.closeTo(area.x, 0.01);
    expect(Number(hline['x2'])).to.be.closeTo(area.x + area.width, 0.01);
    expect(svg).to.include('>SLO 250 ms</text>');
  });

  it('draws a reference line at its y on a log axis', () => {
    const svg = lineChart({ ...base, logY: true, yMin: 100, yMax: 1000, series: [{ name: 'p99', points: line(10, (i) => 100 + i) }], hLines: [{ y: 250, label: 'SLO' }] });
    const area = plotArea(svg);
    const y = Number(attrs(elements(svg, 'line', 'hline')[0] ?? '')['y1']);
    expect(y).to.be.closeTo(area.y + area.height * (1 - Math.log10(2.5)), 0.01);
  });

  it('stretches the y-axis to show a reference line above the data', () => {
    const svg = lineChart({ ...base, series: [{ name: 'p', points: line(10, () => 20) }], hLines: [{ y: 250, label: 'SLO' }] });
    const area = plotArea(svg);
    const y = Number(attrs(elements(svg, 'line', 'hline')[0] ?? '')['y1']);
    expect(y).to.be.within(area.y, area.y + area.height);
    expect(elements(svg, 'text', 'y-tick').map((t) => t)).to.have.length.above(2);
  });

  it('labels the y-axis on nice ticks, integers only when asked', () => {
    const tickLabels = (o: LineChartOptions): string[] => [...lineChart(o).matchAll(/class="y-tick"[^>]*>([^<]*)</g)].map((m) => m[1] as string);
    expect(tickLabels({ ...base, series: [{ name: 'a', points: line(10, (i) => i * 97 / 9) }] })).to.deep.equal(['0', '20', '40', '60', '80', '100']);
    expect(tickLabels({ ...base, integerY: true, series: [{ name: 'r', points: line(5, (i) => i % 3) }] })).to.deep.equal(['0', '1', '2', '3']);
  });

  it('escapes every string: title, legend, labels, colours', () => {
    const svg = lineChart({
      title: 'P99 <"fast"> & \'slow\'', xLabel: 'x<', yLabel: 'y&',
      series: [{ name: '<b>&', points: line(3), color: '"/><script>' }], hLines: [{ y: 1, label: '<SLO>' }],
    });
    expect(svg).to.include('&lt;b&gt;&amp;');
    expect(svg).to.include('data-series="&lt;b&gt;&amp;"');
    expect(svg).to.include('P99 &lt;&quot;fast&quot;&gt; &amp; &#39;slow&#39;');
    expect(svg).to.include('&lt;SLO&gt;');
    expect(svg).to.not.include('<b>');
    expect(svg).to.not.include('<script>');
    expect(tagProblem(svg)).to.equal(undefined);
  });

  it('escapeXml drops characters XML forbids', () => {
    expect(escapeXml('a\u0000b\u001Fc\td\n')).to.equal('abc\td\n');
  });

  it('handles empty series and no series at all', () => {
    for (const series of [[], [{ name: 'empty', points: [] }], [{ name: 'all gaps', points: line(5, () => Number.NaN) }]]) {
      const svg = lineChart({ ...base, series });
      expect(elements(svg, 'path', 'series')).to.have.length(0);
      expect(svg).to.include('>no data</text>');
      expect(svg).to.not.match(/NaN|Infinity/);
      expect(tagProblem(svg)).to.equal(undefined);
    }
    const withEmpty = lineChart({ ...base, series: [{ name: 'empty', points: [] }, { name: 'full', points: line(4) }] });
    expect(withEmpty).to.include('>empty</text>'); // still in the legend
    expect(withEmpty).to.not.include('no data');
  });

  it('clips values outside fixed bounds to a nested viewport, with sane coordinates', () => {
    const svg = lineChart({ ...base, yMin: 0, yMax: 10, series: [{ name: 'big', points: [[0, 1], [1, 1e15], [2, -1e15], [3, 2]] }] });
    expect(elements(svg, 'svg', 'plot')[0]).to.include('overflow="hidden"');
    const shape = shapeOf(svg, 'big');
    for (const y of shape.ys) expect(Math.abs(y)).to.be.below(2e5);
  });

  it('gives byte-identical output for the same input', () => {
    const options: LineChartOptions = {
      ...base, series: [{ name: 'a', points: line(5000, (i) => Math.sin(i / 10)), dashed: true }, { name: 'b', points: line(100), step: true }],
      hLines: [{ y: 0.5, label: 'half' }], xFormat: (x) => `${x} s`,
    };
    expect(lineChart(options)).to.equal(lineChart(options));
  });

  it('uses the formats given for tick labels', () => {
    const svg = lineChart({ ...base, series: [{ name: 'a', points: line(11, (i) => i) }], xFormat: (x) => `${x}s`, yFormat: (y) => `$${y}` });
    expect(svg).to.match(/class="x-tick"[^>]*>10s</);
    expect(svg).to.match(/class="y-tick"[^>]*>\$10</);
  });
});
