// A small node:http wrapper shared by the emulated servers: one async handler per port, bodies
// read whole, replies as plain values, listening on 127.0.0.1 (port 0 picks a free port), and a
// close that also ends kept-alive connections.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EMULATOR_HOST = '127.0.0.1';

export interface HttpRequest {
  readonly method: string;
  /** The path as sent, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface HttpReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export type HttpHandler = (req: HttpRequest) => HttpReply | Promise<HttpReply>;

export interface RunningHttpServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** A reply with a JSON (or other text) body. */
export function reply(status: number, body: string | Buffer = '', contentType = 'application/json'): HttpReply {
  return body.length === 0 ? { status, body } : { status, headers: { 'Content-Type': contentType }, body };
}

export async function startHttpServer(port: number, handler: HttpHandler): Promise<RunningHttpServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      const request: HttpRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: q >= 0 ? raw.slice(0, q) : raw,
        query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      Promise.resolve()
        .then(() => handler(request))
        .catch((err: unknown): HttpReply => reply(500, JSON.stringify({ error: err instanceof Error ? err.message : String(err) })))
        .then((r) => {
          if (res.destroyed) return;
          const body = r.body ?? '';
          res.writeHead(r.status, { ...r.headers, 'Content-Length': String(Buffer.byteLength(body)) });
          res.end(body);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') reject(new PortUnavailableError(port, err.code === 'EACCES' ? 'denied' : 'taken', err));
      else reject(err);
    });
    server.listen(port, EMULATOR_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port: actual,
    url: `http://${EMULATOR_HOST}:${actual}`,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A port the emulator cannot listen on: taken by another process, or reserved (below 1024). */
export class PortUnavailableError extends Error {
  override readonly name = 'PortUnavailableError';
  readonly port: number;
  readonly reason: 'taken' | 'denied';

  constructor(port: number, reason: 'taken' | 'denied', cause?: unknown) {
    super(`port ${port} on ${EMULATOR_HOST} is ${reason === 'taken' ? 'taken: another process listens on it' : 'reserved: only root may listen below 1024'}`, { cause });
    this.port = port;
    this.reason = reason;
  }
}

/** Starts several servers; if one fails to start, closes the ones already started. */
export async function startHttpServers(specs: readonly { port: number; handler: HttpHandler }[]): Promise<RunningHttpServer[]> {
  const started: RunningHttpServer[] = [];
  try {
    for (const s of specs) started.push(await startHttpServer(s.port, s.handler));
    return started;
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}
