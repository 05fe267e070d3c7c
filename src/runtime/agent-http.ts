// The agent's HTTP API (DESIGN.md): GET /healthz, /readyz, /v1/status, /v1/plan; mutating calls
// (POST /v1/replan, /v1/samples, /v1/policy, /v1/profile) need the bearer token, and so does the
// config part of /v1/status (the handler is told whether the caller showed it; docs/fleet-safety.md).
// Bodies are JSON; errors are {"error": "..."} with the right status; a bad body never reaches a
// handler. Nothing the caller sent in a header is ever echoed back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';

export interface AgentApiHandlers {
  /** Liveness: the process serves. */
  readonly healthy: () => boolean;
  /** Readiness: attached to its server and to the coordinator. */
  readonly ready: () => { readonly ready: boolean; readonly reason?: string };
  /** `authorised`: the caller showed the bearer token (the full status), else the public part. */
  readonly status: (authorised: boolean) => unknown;
  /** The plan in force, or undefined before the first one. */
  readonly plan: () => unknown;
  /** Ask the leader for a plan now; resolves with what to answer (or rejects when not leader). */
  readonly replan?: () => Promise<unknown>;
  /** Samples pushed by an agent to the leader. */
  readonly samples?: (body: unknown, caller: CallerHeaders) => Promise<void> | void;
  /** A fleet policy (SLOs, prices) sent by an agent whose config changed, for the leader to store. */
  readonly policy?: (body: unknown) => Promise<void> | void;
  /** The leader asks this agent for an active profile of a model; resolves with what to answer. */
  readonly profile?: (body: unknown) => Promise<unknown>;
}

export interface AgentApiOptions {
  readonly host?: string;
  readonly port: number;
  /** Bearer token for mutating calls; without one they are refused (403). */
  readonly token?: string;
  /** Largest body accepted (default 1 MiB). */
  readonly maxBodyBytes?: number;
}

/** What a handler may know of the request's headers: the pushing agent's credential. */
export interface CallerHeaders {
  readonly credential?: string;
}

export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class AgentApi {
  private readonly server: http.Server;
  private readonly options: AgentApiOptions;
  private readonly handlers: AgentApiHandlers;

  private constructor(options: AgentApiOptions, handlers: AgentApiHandlers) {
    this.options = options;
    this.handlers = handlers;
    this.server = http.createServer((req, res) => {
      this.route(req).then(
        ({ status, body }) => send(res, status, body),
        (err: unknown) => send(res, err instanceof HttpProblem ? err.status : 500, { error: err instanceof Error ? err.message : String(err) }),
      );
    });
  }

  static async start(options: AgentApiOptions, handlers: AgentApiHandlers): Promise<AgentApi> {
    const api = new AgentApi(options, handlers);
    await new Promise<void>((resolve, reject) => {
      const where = `${options.host ?? '127.0.0.1'}:${options.port}`;
      api.server.once('error', (err: NodeJS.ErrnoException) => {
        const why = err.code === 'EADDRINUSE' ? 'the port is taken: another process listens on it — set agent.api.port to another, or 0 for a free one'
          : err.code === 'EACCES' ? 'the port is reserved: only root may listen below 1024 — set agent.api.port above 1023'
            : err.code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine\'s — set agent.api.host'
              : err.message;
        reject(new Error(`cannot serve the agent API on ${where}: ${why}`, { cause: err }));
      });
      api.server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
    });
    return api;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    const get = (fn: () => unknown) => {
      if (method !== 'GET') throw new HttpProblem(405, `${method} ${path}: method not allowed — use GET`);
      return { status: 200, body: fn() };
    };
    switch (path) {
      case '/healthz':
        return get(() => ({ ok: this.handlers.healthy() }));
      case '/readyz': {
        if (method !== 'GET') throw new HttpProblem(405, `${method} ${path}: method not allowed — use GET`);
        const r = this.handlers.ready();
        return { status: r.ready ? 200 : 503, body: r };
      }
      case '/v1/status':
        return get(() => this.handlers.status(this.authorised(req)));
      case '/v1/plan': {
        if (method !== 'GET') throw new HttpProblem(405, `${method} ${path}: method not allowed — use GET`);
        const plan = this.handlers.plan();
        if (plan === undefined) throw new HttpProblem(404, 'no plan yet');
        return { status: 200, body: plan };
      }
      case '/v1/replan': {
        this.authorise(req, method, path);
        if (!this.handlers.replan) throw new HttpProblem(404, `${path}: not served by this agent`);
        await readJson(req, this.options.maxBodyBytes, true);
        return { status: 202, body: await this.handlers.replan() };
      }
      case '/v1/samples': {
        this.authorise(req, method, path);
        if (!this.handlers.samples) throw new HttpProblem(404, `${path}: not served by this agent`);
        const credential = req.headers['x-inferline-credential'];
        await this.handlers.samples(await readJson(req, this.options.maxBodyBytes, false), typeof credential === 'string' ? { credential } : {});
        return { status: 204, body: undefined };
      }
      case '/v1/profile': {
        this.authorise(req, method, path);
        if (!this.handlers.profile) throw new HttpProblem(404, `${path}: not served by this agent`);
        return { status: 200, body: await this.handlers.profile(await readJson(req, this.options.maxBodyBytes, false)) };
      }
      case '/v1/policy': {
        this.authorise(req, method, path);
        if (!this.handlers.policy) throw new HttpProblem(404, `${path}: not served by this agent`);
        await this.handlers.policy(await readJson(req, this.options.maxBodyBytes, false));
        return { status: 204, body: undefined };
      }
      default:
        throw new HttpProblem(404, `${path}: no such endpoint`);
    }
  }

  /** Whether the request carries the right bearer token (false when none is configured). */
  private authorised(req: http.IncomingMessage): boolean {
    const token = this.options.token;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!token || !m) return false;
    const given = Buffer.from(m[1] as string);
    const want = Buffer.from(token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private authorise(req: http.IncomingMessage, method: string, path: string): void {
    if (method !== 'POST') throw new HttpProblem(405, `${method} ${path}: method not allowed — use POST`);
    const token = this.options.token;
    if (!token) throw new HttpProblem(403, `${path}: mutating calls are disabled (no agent token configured)`);
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new HttpProblem(401, `${path}: needs "Authorization: Bearer <token>"`);
    const given = Buffer.from(m[1] as string);
    const want = Buffer.from(token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpProblem(401, `${path}: the bearer token is wrong`);
  }
}

async function readJson(req: http.IncomingMessage, maxBytes = 1 << 20, optional: boolean): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpProblem(413, `body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') {
    if (optional) return undefined;
    throw new HttpProblem(400, 'empty body — must be JSON');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem(400, `body is not JSON: ${(err as Error).message}`);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = `${JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
