// What changed between two configs, one line per changed setting ("pipelines[0].slo.latencyMs:
// 250 → 200"), for the reload log. Profiles are compared as a whole: a line per point would drown
// the rest. A secret's line never shows its values: "agent.api.token: <redacted, changed>".
import { isSecretPath } from '../../config/secrets.js';

const MAX_VALUE = 80;

export function configDiff(a: unknown, b: unknown): string[] {
  const lines: string[] = [];
  walk(a, b, '', lines);
  return lines;
}

function walk(a: unknown, b: unknown, path: string, out: string[], keys: readonly (string | number)[] = []): void {
  if (path === 'source') return;
  if (isSecretPath(keys)) {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    out.push(`${path}: <redacted, ${a === undefined ? 'added' : b === undefined ? 'removed' : 'changed'}>`);
    return;
  }
  if (path === 'profiles') {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push('profiles: changed');
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      walk(a[key], b[key], path === '' ? key : `${path}.${key}`, out, [...keys, key]);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, out, [...keys, i]);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${show(a)} → ${show(b)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  const text = JSON.stringify(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}
