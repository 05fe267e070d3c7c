// A parser for the Prometheus text exposition format as the three servers write it: names may
// start with ':' (TF Serving), HELP lines may be missing, label sets may end with ',' (TorchServe)
// or be empty '{}', values may be NaN, ±Inf or in exponent form. Timestamps are ignored.
import type { MetricSample } from '../../src/ports/server-adapter.js';

export class PrometheusSyntaxError extends Error {
  override readonly name = 'PrometheusSyntaxError';
  readonly line: number;

  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const nameMatch = NAME.exec(line);
    if (!nameMatch) throw new PrometheusSyntaxError(`not a metric name: ${JSON.stringify(line.slice(0, 40))}`, lineNo);
    const name = nameMatch[0];
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const ln = LABEL_NAME.exec(line.slice(i));
        if (!ln) throw new PrometheusSyntaxError(`bad label name in ${name}`, lineNo);
        i += ln[0].length;
        if (line[i] !== '=' || line[i + 1] !== '"') throw new PrometheusSyntaxError(`expected ="…" after label ${ln[0]}`, lineNo);
        i += 2;
        let value = '';
        for (;;) {
          const c = line[i];
          if (c === undefined) throw new PrometheusSyntaxError(`unterminated label value in ${name}`, lineNo);
          if (c === '\\') {
            const e = line[i + 1];
            value += e === 'n' ? '\n' : (e ?? '');
            i += 2;
            continue;
          }
          if (c === '"') {
            i++;
            break;
          }
          value += c;
          i++;
        }
        labels[ln[0]] = value;
        while (line[i] === ' ') i++;
        if (line[i] === ',') {
          i++;
          continue;
        }
        if (line[i] === '}') {
          i++;
          break;
        }
        throw new PrometheusSyntaxError(`expected , or } in the labels of ${name}`, lineNo);
      }
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const valueText = rest[0];
    if (valueText === undefined || valueText === '') throw new PrometheusSyntaxError(`${name} has no value`, lineNo);
    const value = parseValue(valueText);
    if (value === undefined) throw new PrometheusSyntaxError(`${name}: not a number: ${JSON.stringify(valueText)}`, lineNo);
    samples.push({ name, labels, value });
  });
  return samples;
}

function parseValue(text: string): number | undefined {
  switch (text) {
    case 'NaN': return Number.NaN;
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    default: {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
      return Number(text);
    }
  }
}

/** Sums samples of one metric over every label but the ones kept (e.g. across gpu_uuid). */
export function sumBy(samples: readonly MetricSample[], name: string, keep: readonly string[]): MetricSample[] {
  const groups = new Map<string, MetricSample>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const labels: Record<string, string> = {};
    for (const k of keep) if (s.labels[k] !== undefined) labels[k] = s.labels[k] as string;
    const key = JSON.stringify(labels);
    const prev = groups.get(key);
    groups.set(key, { name, labels, value: (prev?.value ?? 0) + s.value });
  }
  return [...groups.values()];
}
