// A tiny stand-in for TF Serving's REST port: answers routes with recorded bodies, records what it
// was sent. Listens on 127.0.0.1, port 0.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

export interface Route {
  readonly status?: number;
  readonly contentType?: string;
  /** A body, or one computed from the request. */
  readonly body: string | ((req: SeenRequest) => string);
}

export class FakeTfServing {
  /** `METHOD /path` → answer. Unknown routes answer 404 with TF Serving's error shape. */
  readonly routes = new Map<string, Route>();
  readonly requests: SeenRequest[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const seen = { method: req.method ?? '', path: req.url ?? '', body };
    this.requests.push(seen);
    const route = this.routes.get(`${seen.method} ${seen.path}`);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(`{ "error": "Malformed request: ${seen.method} ${seen.path}" }`);
      return;
    }
    res.writeHead(route.status ?? 200, { 'Content-Type': route.contentType ?? 'application/json' });
    res.end(typeof route.body === 'function' ? route.body(seen) : route.body);
  }
}

/** A URL where nothing listens: a port that was just free. */
export async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
