// A small line-chart renderer for the CLI's HTML reports: options in, one `<svg>` string out.
// No dependencies, no scripts and no ids (many charts share one page, and ids would collide), and
// deterministic: the same options give the same bytes, so reports diff cleanly.
import { decimate, DEFAULT_MAX_POINTS } from './decimate.js';
import type { ChartPoint } from './decimate.js';
import { escapeXml } from './escape.js';
import { decimalsOf, logTicks, niceTicks } from './ticks.js';

/** One line of a chart. */
export interface LineSeries {
  readonly name: string;
  /** In x order. A non-finite x or y (or, on a log axis, y ≤ 0) is a gap: the line breaks there. */
  readonly points: readonly ChartPoint[];
  /** Any SVG paint; by default the next colour of `PALETTE`. */
  readonly color?: string;
  readonly dashed?: boolean;
  /** Draw a staircase: each y holds until the next point's x (replica counts, capacity). */
  readonly step?: boolean;
}

/** A horizontal reference line across the plot, such as the SLO. */
export interface ReferenceLine {
  readonly y: number;
  readonly label: string;
  readonly color?: string;
}

export interface LineChartOptions {
  readonly title: string;
  /** Pixels; default 640 × 300. */
  readonly width?: number;
  readonly height?: number;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly hLines?: readonly ReferenceLine[];
  /**
   * Fixed y bounds. By default the y-axis spans the data and the reference lines (from 0 on a
   * linear axis), rounded out to the nearest ticks. Lines beyond fixed bounds are clipped.
   */
  readonly yMin?: number;
  readonly yMax?: number;
  /** Fixed x bounds; by default the x-axis spans the data exactly. */
  readonly xMin?: number;
  readonly xMax?: number;
  readonly xFormat?: (x: number) => string;
  readonly yFormat?: (y: number) => string;
  readonly logY?: boolean;
  /** Ticks on whole numbers only (counts, such as replicas). */
  readonly integerY?: boolean;
  /**
   * Shifts series i of n by (i − (n − 1) / 2) × dodgePx pixels up or down, so that different
   * series at equal values (replica counts of several stages) stay visible side by side.
   */
  readonly dodgePx?: number;
  /** Series longer than this are decimated (min and max per bucket); default 2000. */
  readonly maxPointsPerSeries?: number;
}

/** Default series colours (d3's category10): distinct, and readable on white. */
export const PALETTE: readonly string[] = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const FONT_SIZE = 11;
const TITLE_SIZE = 13;
// Layout only estimates text widths (there is no font metrics without a browser): the average
// advance of an 11 px sans-serif character, slightly generous.
const CHAR_WIDTH = 6.4;
const LEGEND_ROW = 16;
const PAD = 8;
const TEXT = '#333';
const AXIS = '#888';
const GRID = '#e6e6e6';
// Far-off points are pulled in to this many pixels outside the plot: the clip hides them, and
// renderers misdraw coordinates like 1e12.
const FAR = 1e5;

interface Axis {
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  readonly format: (v: number) => string;
}

/** Renders a line chart as a standalone `<svg>` element (also valid inline in HTML). */
export function lineChart(options: LineChartOptions): string {
  const width = positiveOr(options.width, 640);
  const height = positiveOr(options.height, 300);
  const logY = options.logY === true;
  const inDomain = (p: ChartPoint): boolean => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!logY || p[1] > 0);
  const maxPoints = options.maxPointsPerSeries ?? DEFAULT_MAX_POINTS;
  const series = options.series.map((s, i) => ({
    name: s.name,
    color: s.color ?? (PALETTE[i % PALETTE.length] as string),
    dashed: s.dashed === true,
    step: s.step === true,
    points: decimate(s.points, maxPoints),
  }));
  const hLines = (options.hLines ?? []).filter((h) => Number.isFinite(h.y) && (!logY || h.y > 0));

  const { xLo, xHi, yLo, yHi, hasData } = dataExtent(options.series, hLines, inDomain);

  // Vertical layout: title, legend rows, plot, x tick labels, x label.
  const legend = layoutLegend(series.map((s) => s.name), width - 2 * PAD);
  const legendTop = PAD + TITLE_SIZE + 8;
  const top = legendTop + legend.rows * LEGEND_ROW + (legend.rows > 0 ? 8 : 4);
  const bottom = PAD + FONT_SIZE + 6 + FONT_SIZE + 8;
  const plotH = Math.max(10, height - top - bottom);
  const y = yAxis(yLo, yHi, options, Math.max(2, Math.round(plotH / 35)));

  // Horizontal layout: y label, y tick labels, plot, room for the last x tick label.
  const yLabelWidth = Math.max(0, ...y.ticks.map((t) => textWidth(y.format(t))));
  const left = PAD + FONT_SIZE + 8 + yLabelWidth + 6;
  const [x0, x1] = xDomain(options, xLo, xHi);
  const roughXFormat = options.xFormat ?? numberFormat((x1 - x0) / 5, Math.max(Math.abs(x0), Math.abs(x1)));
  const right = Math.max(16, textWidth(roughXFormat(x1)) / 2 + 4);
  const plotW = Math.max(10, width - left - right);
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.floor(plotW / 90))).filter((t) => t >= x0 - 1e-9 * (x1 - x0) && t <= x1 + 1e-9 * (x1 - x0));
  const xStep = xTicks.length > 1 ? (xTicks[1] as number) - (xTicks[0] as number) : x1 - x0;
  const xFormat = options.xFormat ?? numberFormat(xStep, Math.max(Math.abs(x0), Math.abs(x1)));

  const px = (v: number): number => clamp(left + ((v - x0) / (x1 - x0)) * plotW, left - FAR, left + plotW + FAR);
  const yFrac = logY
    ? (v: number): number => (Math.log10(v) - Math.log10(y.min)) / (Math.log10(y.max) - Math.log10(y.min))
    : (v: number): number => (v - y.min) / (y.max - y.min);
  const py = (v: number): number => clamp(top + plotH - yFrac(v) * plotH, top - FAR, top + plotH + FAR);
  const plotBottom = top + plotH;
  const plotRight = left + plotW;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" role="img" aria-label="${escapeXml(options.title)}" font-family="${escapeXml(FONT_FAMILY)}" font-size="${FONT_SIZE}">`);
  out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect width="${n(width)}" height="${n(height)}" fill="#fff"/>`);
  out.push(`<text class="chart-title" x="${PAD}" y="${PAD + TITLE_SIZE}" font-size="${TITLE_SIZE}" font-weight="600" fill="${TEXT}">${escapeXml(options.title)}</text>`);

  out.push(...legendItems(series, legend, legendTop));

  // Plot area, grid and tick labels.
  out.push(`<rect class="plot-area" x="${n(left)}" y="${n(top)}" width="${n(plotW)}" height="${n(plotH)}" fill="#fff"/>`);
  for (const t of y.ticks) {
    const ty = n(py(t));
    out.push(`<line class="grid" x1="${n(left)}" y1="${ty}" x2="${n(plotRight)}" y2="${ty}" stroke="${GRID}"/>`);
    out.push(`<text class="y-tick" x="${n(left - 6)}" y="${ty}" dy="0.35em" text-anchor="end" fill="${TEXT}">${escapeXml(y.format(t))}</text>`);
  }
  for (const t of xTicks) {
    const tx = n(px(t));
    out.push(`<line class="grid" x1="${tx}" y1="${n(top)}" x2="${tx}" y2="${n(plotBottom)}" stroke="${GRID}"/>`);
    out.push(`<text class="x-tick" x="${tx}" y="${n(plotBottom + FONT_SIZE + 5)}" text-anchor="middle" fill="${TEXT}">${escapeXml(xFormat(t))}</text>`);
  }
  out.push(`<line class="axis" x1="${n(left)}" y1="${n(plotBottom)}" x2="${n(plotRight)}" y2="${n(plotBottom)}" stroke="${AXIS}"/>`);
  out.push(`<line class="axis" x1="${n(left)}" y1="${n(top)}" x2="${n(left)}" y2="${n(plotBottom)}" stroke="${AXIS}"/>`);
  out.push(`<text class="x-label" x="${n(left + plotW / 2)}" y="${n(height - PAD)}" text-anchor="middle" fill="${TEXT}">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text class="y-label" transform="rotate(-90)" x="${n(-(top + plotH / 2))}" y="${n(PAD + FONT_SIZE - 2)}" text-anchor="middle" fill="${TEXT}">${escapeXml(options.yLabel)}</text>`);

  // Reference lines under the series, so a series hugging the SLO stays visible; labels go on top.
  const labels: string[] = [];
  for (const h of hLines) {
    if (h.y < y.min || h.y > y.max) continue;
    const [line, label] = referenceLine(h, py(h.y), left, plotRight);
    out.push(line);
    labels.push(label);
  }

  // Series, inside a nested viewport that clips to the plot (with a margin for the stroke).
  const m = 4;
  out.push(`<svg class="plot" x="${n(left - m)}" y="${n(top - m)}" width="${n(plotW + 2 * m)}" height="${n(plotH + 2 * m)}" viewBox="${n(left - m)} ${n(top - m)} ${n(plotW + 2 * m)} ${n(plotH + 2 * m)}" overflow="hidden">`);
  const dodge = finiteOr(options.dodgePx, 0);
  series.forEach((s, i) => {
    const shift = dodge * (i - (series.length - 1) / 2);
    const d = pathData(s.points, s.step, inDomain, px, (v) => py(v) - shift);
    if (d === '') return;
    out.push(`<path class="series" data-series="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.75" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 5"' : ''}/>`);
  });
  out.push('</svg>');
  out.push(...labels);
  if (!hasData) {
    out.push(`<text class="no-data" x="${n(left + plotW / 2)}" y="${n(top + plotH / 2)}" dy="0.35em" text-anchor="middle" fill="${AXIS}">no data</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Path data for one series: `M` starts a segment (at the start and after each gap), `L` joins
 * points, or `H x V y` for a staircase. A segment of one point becomes a dot (`h0` drawn with
 * round caps).
 */
/** Data extent, over every point (decimation keeps the extremes anyway); the reference lines widen the y range. */
function dataExtent(
  series: readonly LineSeries[], hLines: readonly ReferenceLine[], inDomain: (p: ChartPoint) => boolean,
): { xLo: number; xHi: number; yLo: number; yHi: number; hasData: boolean } {
  let xLo = Infinity;
  let xHi = -Infinity;
  let yLo = Infinity;
  let yHi = -Infinity;
  for (const s of series) {
    for (const p of s.points) {
      if (Number.isFinite(p[0])) { xLo = Math.min(xLo, p[0]); xHi = Math.max(xHi, p[0]); }
      if (inDomain(p)) { yLo = Math.min(yLo, p[1]); yHi = Math.max(yHi, p[1]); }
    }
  }
  const hasData = yLo <= yHi;
  for (const h of hLines) { yLo = Math.min(yLo, h.y); yHi = Math.max(yHi, h.y); }
  return { xLo, xHi, yLo, yHi, hasData };
}

/** The x range: the options' bounds, else the data's; never empty. */
function xDomain(options: LineChartOptions, xLo: number, xHi: number): [number, number] {
  let x0 = finiteOr(options.xMin, Number.isFinite(xLo) ? xLo : 0);
  let x1 = finiteOr(options.xMax, Number.isFinite(xHi) ? xHi : x0 + 1);
  if (x1 < x0) [x0, x1] = [x1, x0];
  if (x1 === x0) {
    const pad = x0 === 0 ? 1 : Math.abs(x0) * 0.1;
    x0 -= pad;
    x1 += pad;
  }
  return [x0, x1];
}

function legendItems(series: readonly { name: string; color: string; dashed: boolean }[], legend: LegendLayout, legendTop: number): string[] {
  const out: string[] = [];
  series.forEach((s, i) => {
    const item = legend.items[i];
    if (!item) return;
    const cy = legendTop + item.row * LEGEND_ROW + LEGEND_ROW / 2;
    const x = PAD + item.x;
    out.push(`<g class="legend-item"><line x1="${n(x)}" y1="${n(cy)}" x2="${n(x + 20)}" y2="${n(cy)}" stroke="${escapeXml(s.color)}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 5"' : ''}/><text x="${n(x + 25)}" y="${n(cy)}" dy="0.35em" fill="${TEXT}">${escapeXml(s.name)}</text></g>`);
  });
  return out;
}

/** A reference line at pixel height `y` across the plot, and its label (drawn above the series). */
function referenceLine(h: ReferenceLine, y: number, left: number, plotRight: number): [string, string] {
  const hy = n(y);
  const color = escapeXml(h.color ?? '#d62728');
  return [
    `<line class="hline" data-label="${escapeXml(h.label)}" x1="${n(left)}" y1="${hy}" x2="${n(plotRight)}" y2="${hy}" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
    `<text class="hline-label" x="${n(plotRight - 4)}" y="${n(y - 4)}" text-anchor="end" fill="${color}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(h.label)}</text>`,
  ];
}

function pathData(
  points: readonly ChartPoint[], step: boolean, inDomain: (p: ChartPoint) => boolean,
  px: (v: number) => number, py: (v: number) => number,
): string {
  const parts: string[] = [];
  let segment = 0;
  for (const p of points) {
    if (!inDomain(p)) {
      if (segment === 1) parts.push('h0');
      segment = 0;
      continue;
    }
    const x = n(px(p[0]));
    const yy = n(py(p[1]));
    if (segment === 0) parts.push(`M${x} ${yy}`);
    else if (step) parts.push(`H${x} V${yy}`);
    else parts.push(`L${x} ${yy}`);
    segment++;
  }
  if (segment === 1) parts.push('h0');
  return parts.join(' ');
}

function yAxis(lo: number, hi: number, options: LineChartOptions, target: number): Axis {
  const hasExtent = lo <= hi;
  if (options.logY === true) {
    let min = options.yMin !== undefined && options.yMin > 0 ? options.yMin : hasExtent ? lo : 1;
    let max = options.yMax !== undefined && options.yMax > min ? options.yMax : hasExtent && hi > min ? hi : min * 10;
    const ticks = logTicks(min, max);
    if (options.yMin === undefined) min = Math.min(min, ticks[0] as number);
    if (options.yMax === undefined) max = Math.max(max, ticks[ticks.length - 1] as number);
    return { min, max, ticks: within(ticks, min, max), format: options.yFormat ?? logFormat };
  }
  let min = options.yMin ?? (hasExtent ? Math.min(0, lo) : 0);
  let max = options.yMax ?? (hasExtent ? hi : min + 1);
  if (!(max > min)) max = min + (Math.abs(min) || 1);
  const ticks = niceTicks(min, max, target, options.integerY === true);
  const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : max - min;
  // Data that reaches the top tick exactly would run along the frame: leave one step of room.
  if (options.yMax === undefined && hasExtent && hi >= (ticks[ticks.length - 1] as number) - 1e-9 * step && hi > 0) {
    ticks.push(Number(((ticks[ticks.length - 1] as number) + step).toFixed(decimalsOf(step))));
  }
  if (options.yMin === undefined) min = ticks[0] as number;
  if (options.yMax === undefined) max = ticks[ticks.length - 1] as number;
  return { min, max, ticks: within(ticks, min, max), format: options.yFormat ?? numberFormat(step, Math.max(Math.abs(min), Math.abs(max))) };
}

function within(ticks: readonly number[], min: number, max: number): number[] {
  const eps = 1e-9 * (max - min);
  return ticks.filter((t) => t >= min - eps && t <= max + eps);
}

interface LegendLayout {
  readonly rows: number;
  readonly items: readonly { readonly x: number; readonly row: number }[];
}

/** Places legend items left to right, wrapping into rows within `width`. */
function layoutLegend(names: readonly string[], width: number): LegendLayout {
  const items: { x: number; row: number }[] = [];
  let x = 0;
  let row = 0;
  for (const name of names) {
    const w = 25 + textWidth(name) + 14;
    if (x > 0 && x + w > width) { row++; x = 0; }
    items.push({ x, row });
    x += w;
  }
  return { rows: names.length === 0 ? 0 : row + 1, items };
}

/** Tick labels for one axis: decimals that fit the step, and k/M for large values. */
function numberFormat(step: number, maxAbs: number): (v: number) => string {
  const [divisor, suffix] = maxAbs >= 1e6 ? [1e6, 'M'] : maxAbs >= 1e4 ? [1e3, 'k'] : [1, ''];
  const decimals = decimalsOf(Math.abs(step) / divisor);
  return (v) => (v === 0 ? '0' : `${(v / divisor).toFixed(decimals)}${suffix}`);
}

function logFormat(v: number): string {
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(6))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(6))}k`;
  return String(Number(v.toPrecision(6)));
}

function textWidth(text: string): number {
  return text.length * CHAR_WIDTH;
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** A coordinate as printed: two decimals at most, never "-0". */
function n(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(r === 0 ? 0 : r);
}
