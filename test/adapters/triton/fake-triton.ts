// A tiny HTTP server standing in for Triton in client tests: routes by "METHOD /path", records
// every request (headers and raw body bytes), and can hang a request to test timeouts. Loopback
// only, port 0; stop() closes hanging connections too.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type FakeReply = { status?: number; body?: string | Buffer; headers?: Record<string, string> } | 'hang';

/** Answers a request; `n` counts the calls of this route from 0. */
export type FakeRoute = (req: FakeRequest, n: number) => FakeReply;

export class FakeTriton {
  readonly requests: FakeRequest[] = [];
  private readonly routes = new Map<string, FakeRoute>();
  private readonly server: Server;
  private base = '';

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = this.answer({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        if (reply === 'hang') return;
        res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '');
      });
    });
  }

  static async start(): Promise<FakeTriton> {
    const fake = new FakeTriton();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  get url(): string {
    return this.base;
  }

  /** Routes `METHOD /path` to a reply (the same each time) or a function of the call number. */
  on(route: string, reply: FakeReply | FakeRoute): this {
    this.routes.set(route, typeof reply === 'function' ? reply : () => reply);
    return this;
  }

  reset(): void {
    this.routes.clear();
    this.requests.length = 0;
  }

  calls(route: string): FakeRequest[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: FakeRequest): FakeReply {
    const key = `${req.method} ${req.path}`;
    const route = this.routes.get(key);
    const n = this.requests.filter((r) => `${r.method} ${r.path}` === key).length;
    this.requests.push(req);
    return route ? route(req, n) : { status: 404, body: JSON.stringify({ error: `fake: no route ${key}` }) };
  }
}
