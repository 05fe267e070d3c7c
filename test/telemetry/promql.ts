// What the dashboard and docs tests need to read PromQL: the queries of the Grafana dashboard,
// Grafana's variables replaced for a plain Prometheus, and the metric names an expression uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_FILE = join(import.meta.dirname, '..', '..', 'deploy', 'grafana', 'inferline-dashboard.json');
/** Where the metrics are documented (the PromQL examples and the list of every series). */
export const METRICS_DOC = join(import.meta.dirname, '..', '..', 'docs', 'metrics.md');

export interface Target { readonly datasource?: { readonly uid?: string }; readonly expr: string; readonly refId: string }
export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
export interface Dashboard {
  readonly title: string;
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly definition?: string; readonly query?: unknown }[] };
}

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: panel targets, and the variables' label_values() queries as selectors. */
export function dashboardQueries(d: Dashboard): { readonly where: string; readonly expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels(d)) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
  for (const v of d.templating.list) {
    if (v.type !== 'query' || v.definition === undefined) continue;
    const m = /^label_values\(\s*(.+?)\s*,\s*[a-zA-Z_]+\s*\)$/.exec(v.definition);
    if (!m) throw new Error(`variable ${v.name}: not a label_values() query: ${v.definition}`);
    out.push({ where: `variable ${v.name}`, expr: m[1] as string });
  }
  return out;
}

/** A Grafana expression as Prometheus takes it: every pipeline, a fixed rate interval. */
export function forPrometheus(expr: string, rateInterval = '10s'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', '1h')
    .replaceAll('"$pipeline"', '".*"');
}

const FUNCTIONS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'quantile', 'stddev', 'group',
  'rate', 'irate', 'increase', 'delta', 'deriv', 'changes', 'resets', 'histogram_quantile', 'clamp_min', 'clamp_max',
  'abs', 'ceil', 'floor', 'round', 'label_replace', 'vector', 'scalar', 'time', 'absent', 'max_over_time', 'min_over_time', 'avg_over_time', 'last_over_time',
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

/** The metric names an expression selects; throws on a function this reader does not know. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping label lists
    .replace(/\$\w+/g, ' '); // Grafana variables
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const rest = stripped.slice((m.index ?? 0) + word.length);
    if (/^\s*\(/.test(rest)) {
      if (!FUNCTIONS.has(word)) throw new Error(`unknown PromQL function ${word} in: ${expr}`);
      continue;
    }
    if (KEYWORDS.has(word) || /^(inf|nan)$/i.test(word)) continue;
    if (/^\d/.test(word)) continue;
    names.push(word);
  }
  return names;
}

/** The PromQL examples of docs/metrics.md: the ```promql blocks. */
export function docPromql(text = readFileSync(METRICS_DOC, 'utf8')): string[] {
  return [...text.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim());
}
