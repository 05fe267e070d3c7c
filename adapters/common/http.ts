// The HTTP transport every adapter's client.ts uses: node:http over one keep-alive connection pool
// per client (a sidecar reads its server ten times a second: axios cost about twice a bare request
// per exchange and 20 MB of RSS to load), with a timeout on every request,
// capped retries with exponential backoff on idempotent reads only (network errors, timeouts,
// 502/503/504), raw text bodies (parse.ts decides how to read them), and every failure turned into
// an AdapterError naming the server, the endpoint and the status. With a Telemetry it records
// each exchange's duration (by endpoint template and status class) and each failed request.
import http from 'node:http';
import https from 'node:https';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { ServerKind } from '../../src/ports/server-adapter.js';
import type { Clock } from '../../src/ports/clock.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import { systemClock } from '../../src/platform/system-clock.js';
import { endpointTemplate } from './endpoint-template.js';

export interface HttpClientOptions {
  readonly server: ServerKind;
  readonly baseUrl: string;
  /** Per-request timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** Retries of an idempotent read after the first try (default 2). */
  readonly retries?: number;
  /** First backoff; doubles per retry (default 100 ms). */
  readonly backoffMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  /** Records request durations and errors (none by default). */
  readonly telemetry?: Telemetry;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean>>;
  readonly body?: unknown;
  /** Safe to repeat: retried on transient failures. Defaults to true for GET only. */
  readonly idempotent?: boolean;
  /** Statuses that are answers rather than failures (default: 2xx). */
  readonly accept?: readonly number[];
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

const TRANSIENT = new Set([502, 503, 504]);

export class HttpClient {
  readonly server: ServerKind;
  readonly baseUrl: string;
  private readonly agent: http.Agent;
  private readonly base: URL | undefined;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly telemetry: Telemetry | undefined;

  constructor(options: HttpClientOptions) {
    this.server = options.server;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 100;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.clock = options.clock ?? systemClock;
    this.telemetry = options.telemetry;
    this.headers = { Accept: 'application/json, text/plain, */*', ...(options.headers ?? {}) };
    this.base = urlOrUndefined(this.baseUrl);
    // Kept-alive sockets are unref'd by Node while idle: the pool never holds a process open. No
    // cap on sockets (as Node's global agent): the profiler's closed-loop load runs many requests at once.
    const agentOptions = { keepAlive: true };
    this.agent = this.base?.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Closes the kept-alive connections (they close by themselves when idle too). */
  close(): void {
    this.agent.destroy();
  }

  /** The endpoint as it appears in errors: method and path. */
  endpointOf(req: Pick<HttpRequest, 'method' | 'path'>): string {
    return `${req.method} ${req.path}`;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    if (!this.telemetry) return this.attempt(req);
    try {
      return await this.attempt(req);
    } catch (err) {
      if (err instanceof AdapterError) {
        this.telemetry.recordAdapterError({ server: this.server, endpoint: endpointTemplate(this.server, req.method, req.path), errorType: err.kind });
      }
      throw err;
    }
  }

  private async attempt(req: HttpRequest): Promise<HttpResponse> {
    const idempotent = req.idempotent ?? req.method === 'GET';
    const attempts = idempotent ? this.retries + 1 : 1;
    let last: AdapterError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await this.clock.sleep(this.backoffMs * 2 ** (attempt - 1));
      try {
        const res = await this.once(req);
        const accept = req.accept ?? [];
        if ((res.status >= 200 && res.status < 300) || accept.includes(res.status)) return res;
        last = this.statusError(req, res);
        if (!TRANSIENT.has(res.status)) throw last;
      } catch (err) {
        if (!(err instanceof AdapterError)) throw err;
        last = err;
        const transient = err.kind === 'unreachable' || err.kind === 'timeout' || (err.status !== undefined && TRANSIENT.has(err.status));
        if (!transient) throw err;
      }
    }
    throw last as AdapterError;
  }

  private async once(req: HttpRequest): Promise<HttpResponse> {
    if (!this.telemetry) return this.exchange(req);
    const startMs = this.clock.nowMs();
    let status: number | undefined;
    try {
      const res = await this.exchange(req);
      status = res.status;
      return res;
    } finally {
      this.telemetry.recordAdapterRequest({
        server: this.server, endpoint: endpointTemplate(this.server, req.method, req.path), durationMs: this.clock.nowMs() - startMs,
        ...(status === undefined ? {} : { status }),
      });
    }
  }

  private async exchange(req: HttpRequest): Promise<HttpResponse> {
    const endpoint = this.endpointOf(req);
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    try {
      return await this.send(req, timeoutMs);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const timeout = err instanceof RequestTimeout;
      throw new AdapterError({
        server: this.server, endpoint, kind: timeout ? 'timeout' : 'unreachable',
        message: timeout ? `no answer within ${timeoutMs} ms` : `cannot reach ${this.baseUrl} (${networkReason(code, err)})`,
        cause: err,
      });
    }
  }

  /** One exchange on the wire: the status, the headers (lower-case, single-valued) and the body as text. */
  private send(req: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    if (this.base === undefined) return Promise.reject(Object.assign(new TypeError(`invalid URL: ${this.baseUrl}`), { code: 'ERR_INVALID_URL' }));
    const base = this.base;
    const body = req.body === undefined ? undefined : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body), 'utf8');
    const headers: Record<string, string> = {
      ...this.headers,
      ...(req.body !== undefined && typeof req.body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
      ...(req.headers ?? {}),
      ...(body !== undefined ? { 'Content-Length': String(body.length) } : {}),
    };
    const transport = base.protocol === 'https:' ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      let timedOut: RequestTimeout | undefined;
      const fail = (err: unknown): void => {
        clearTimeout(timer);
        reject(timedOut ?? err);
      };
      const request = transport.request({
        protocol: base.protocol, hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port,
        path: base.pathname.replace(/\/+$/, '') + req.path + queryOf(req.query),
        method: req.method, headers, agent: this.agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => { chunks.push(chunk); });
        res.on('error', fail);
        res.on('aborted', () => fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          clearTimeout(timer);
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: out });
        });
      });
      // The whole exchange, body included, within the timeout (as axios counted it).
      const timer = setTimeout(() => {
        timedOut = new RequestTimeout(timeoutMs);
        request.destroy(timedOut);
      }, timeoutMs);
      timer.unref();
      request.on('error', fail);
      request.end(body);
    });
  }

  private statusError(req: HttpRequest, res: HttpResponse): AdapterError {
    const kind = res.status === 401 || res.status === 403 ? 'auth' : res.status === 404 ? 'not-found' : 'http';
    return new AdapterError({ server: this.server, endpoint: this.endpointOf(req), kind, status: res.status, message: describeBody(res) });
  }
}

class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
  readonly code = 'ETIMEDOUT';

  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

function urlOrUndefined(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** `?a=1&b=true`, or '' without parameters. */
function queryOf(query: HttpRequest['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** Network failures in words: what went wrong and what to check, never a bare Node error code. */
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens on that port — is the server running, and is the port right?',
  ECONNRESET: 'the connection was closed without an answer — is this an HTTP server, and the right port?',
  EPIPE: 'the connection was closed without an answer — is this an HTTP server, and the right port?',
  ENOTFOUND: 'no such host — check the host name',
  EAI_AGAIN: 'the host name could not be resolved — check it, or use an IP address',
  EHOSTUNREACH: 'no route to the host — check the address',
  ENETUNREACH: 'no route to the network — check the address',
  EADDRNOTAVAIL: 'the address is not available here — check it',
  ERR_INVALID_URL: 'not a valid URL',
  ERR_BAD_RESPONSE: 'the answer is not HTTP — is this the right port?',
};

function networkReason(code: string | undefined, err: unknown): string {
  if (code !== undefined && NETWORK_REASONS[code] !== undefined) return NETWORK_REASONS[code];
  // llhttp's parse errors (HPE_INVALID_CONSTANT, …): bytes came back, but not an HTTP answer.
  if (code !== undefined && code.startsWith('HPE_')) return 'the answer is not HTTP — is this the right port?';
  const message = err instanceof Error ? err.message : String(err);
  return code === undefined ? message : `${message.replace(code, '').trim() || 'network error'} — check the URL`;
}

/** A short, readable account of an error body: JSON error field, or text with HTML stripped. */
export function describeBody(res: Pick<HttpResponse, 'body' | 'headers'>): string {
  const body = res.body.trim();
  if (body === '') return 'empty body';
  try {
    const parsed = JSON.parse(body) as unknown;
    if (parsed && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>;
      const msg = o['error'] ?? o['message'] ?? o['detail'];
      if (typeof msg === 'string') return msg;
    }
  } catch {
    // not JSON: fall through to text
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || 'empty body';
}
