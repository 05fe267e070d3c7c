// Shared by the emulator tests: small profiles with latencies of a few ms, and an HTTP client.
import type { ModelProfile } from '../../src/core/model/types.js';

/** A profile from [batchSize, latencyMs] pairs. */
export function profile(model: string, hardware: string, points: readonly (readonly [number, number])[]): ModelProfile {
  return { model, hardware, points: points.map(([batchSize, latencyMs]) => ({ batchSize, latencyMs, throughputQps: (batchSize * 1000) / latencyMs })) };
}

export interface Response {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

export async function request(method: string, url: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const init: RequestInit = { method, headers: { ...options.headers } };
  if (options.body !== undefined) {
    init.body = typeof options.body === 'string' || options.body instanceof Uint8Array ? (options.body as string) : JSON.stringify(options.body);
  }
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  return { status: res.status, headers: res.headers, text, body, json: <T>() => JSON.parse(text) as T };
}

/** Milliseconds an async call takes. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The JSON type of every key path of a value, to compare a body's shape with a fixture's. */
export function shapeOf(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, p: string): void => {
    const t = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
    out.set(p || '.', t);
    if (Array.isArray(v)) v.forEach((x) => walk(x, `${p}[]`));
    else if (t === 'object') for (const [k, x] of Object.entries(v as object)) walk(x, `${p}.${k}`);
  };
  walk(value, prefix);
  return out;
}

/** Every key path of the fixture exists in the body with the same JSON type. */
export function missingShape(body: unknown, fixture: unknown): string[] {
  const got = shapeOf(body);
  const problems: string[] = [];
  for (const [path, type] of shapeOf(fixture)) {
    const t = got.get(path);
    if (t !== type) problems.push(`${path}: ${t ?? 'missing'}, fixture has ${type}`);
  }
  return problems;
}
