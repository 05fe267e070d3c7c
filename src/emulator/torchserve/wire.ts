// The emulated TorchServe's reading of a request: Java's path split, the API descriptions,
// version numbers as TorchServe compares them, archive names of the model store, integer
// parameters, and the register parameters (query string or JSON body).
import type { HttpRequest } from '../common/http.js';
import { TsError } from './errors.js';

/** Java's String.split("/") of the decoded path: trailing empty segments dropped. */
export function javaSplit(p: string): string[] {
  let decoded = p;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    // keep the raw path
  }
  const parts = decoded.split('/');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export function isApiDescription(req: HttpRequest, segments: readonly string[]): boolean {
  return (req.method === 'OPTIONS' && segments.length <= 1) || segments[1] === 'api-description';
}

export function apiDescription(): Record<string, unknown> {
  return {
    openapi: '3.0.1',
    info: { title: 'TorchServe APIs', description: 'TorchServe is a flexible and easy to use tool for serving deep learning models', version: '0.12.0' },
    paths: {},
  };
}

export function modelApiDescription(model: string): Record<string, unknown> {
  return { openapi: '3.0.1', info: { title: `RESTful API for: ${model}`, version: '1.0.0' }, paths: {} };
}

export function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** ModelVersionedRefs.validateVersionId: versions compare as doubles ("1" and "1.0" are one version). */
export function versionKey(v: string): number {
  const n = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?\s*$/.test(v) ? Number.parseFloat(v) : Number.NaN;
  if (Number.isNaN(n)) throw new TsError(403, 'NumberFormatException', `For input string: "${v}"`);
  if (n <= 0) throw new TsError(403, 'InvalidModelVersionException', `Model version is invalid: ${v}`);
  return n;
}

/**
 * The emulator's model store: an archive `<model>.mar` is version 1.0 of a model of the profile
 * file, and `<model>_v<version>.mar` (or `-v`) another version of it, since the emulator cannot
 * read a MANIFEST. Any directory or URL prefix is ignored.
 */
export function parseArchiveName(url: string): { model: string; version: string } | undefined {
  const base = url.split(/[/\\]/).pop() ?? '';
  const m = /^(.+?)(?:[_-]v(\d+(?:\.\d+)?))?\.mar$/.exec(base);
  if (!m) return undefined;
  const version = m[2] === undefined ? '1.0' : m[2].includes('.') ? m[2] : `${m[2]}.0`;
  return { model: m[1] as string, version };
}

export function intParam(query: URLSearchParams, name: string, fallback: number): number {
  return intOf(query.get(name) ?? undefined, fallback);
}

export function intOf(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  return Number.isInteger(n) ? n : fallback;
}

/** Register parameters: the query string, or a JSON body with the same keys. */
export function registerParams(req: HttpRequest): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const type = header(req, 'content-type') ?? '';
  if (/^application\/json/i.test(type)) {
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8') || '{}');
    } catch (err) {
      // Gson's JsonSyntaxException is no exception the handler maps, so it is a 500.
      throw new TsError(500, 'JsonSyntaxException', `com.google.gson.stream.MalformedJsonException: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>)) out.set(k, v === null || v === undefined ? undefined : String(v));
  } else {
    for (const [k, v] of req.query) out.set(k, v);
  }
  return out;
}
