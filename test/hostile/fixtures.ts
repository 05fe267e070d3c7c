// Hostile inputs for the corpus: files written once into a temporary folder, and loopback servers
// that misbehave (hang, close at once, speak something other than HTTP, answer nonsense).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Test data edited freely by the cases: any key, any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

/** A valid config (the minimal example's shape) to mutate. */
export function baseConfig(): Record<string, unknown> {
  return {
    hardware: [{ name: 'cpu', costPerHour: 0.17 }, { name: 'gpu-t4', costPerHour: 0.526, capacity: 4 }],
    profiles: [
      { model: 'resize', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 12 }] },
      { model: 'classifier', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 60 }, { batchSize: 4, latencyMs: 230 }] },
      { model: 'classifier', hardware: 'gpu-t4', points: [{ batchSize: 1, latencyMs: 8 }, { batchSize: 8, latencyMs: 24 }, { batchSize: 32, latencyMs: 82 }] },
    ],
    pipelines: [{
      name: 'classify-images',
      slo: { latencyMs: 250, percentile: 99 },
      stages: [
        { name: 'resize', model: 'resize', hardware: ['cpu'], next: [{ stage: 'classify', fraction: 1 }] },
        { name: 'classify', model: 'classifier', hardware: ['cpu', 'gpu-t4'], maxReplicas: 16 },
      ],
    }],
    planner: { arrival: 'poisson:rate=50,duration=20s', seed: 1 },
    telemetry: { prometheus: { enabled: false } },
  };
}

/** A deep copy of the base config changed by `edit`. */
export function configWith(edit: (c: Loose) => void): Record<string, unknown> {
  const c = structuredClone(baseConfig()) as Loose;
  edit(c);
  return c;
}

/** The agent section of a config that would run (tests only use it where something else fails first). */
export const AGENT = { id: 'a1', hardware: 'cpu', server: { kind: 'triton', url: 'http://127.0.0.1:1' }, api: { port: 0, token: 'corpus-token-0123456789abcdef' } };

/** 2.6 KB of nested YAML aliases that expand to 9^9 values. */
export function aliasBomb(key = 'hardware'): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  let prev = 'a';
  for (const c of 'bcdefghi') {
    lines.push(`${c}: &${c} [${Array.from({ length: 9 }, () => `*${prev}`).join(',')}]`);
    prev = c;
  }
  lines.push(`${key}: *i`);
  return `${lines.join('\n')}\n`;
}

export class Fixtures {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'inferline-hostile-'));
    mkdirSync(path.join(this.dir, 'folder'));
  }

  /** Writes `content` (text, or a value written as JSON) to a file in the folder; returns its path. */
  file(name: string, content: string | Buffer | object): string {
    const f = path.join(this.dir, name);
    writeFileSync(f, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 1));
    return f;
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export type Misbehaviour = 'hang' | 'silent' | 'not-http' | 'html' | 'empty-json' | 'garbage-200' | 'error-500';

/** A loopback server on a free port that misbehaves in one way; `url` once started. */
export class HostileServer {
  private server: TcpServer | HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  url = '';
  port = 0;

  constructor(readonly behaviour: Misbehaviour) {}

  async start(): Promise<this> {
    const b = this.behaviour;
    let server: TcpServer | HttpServer;
    if (b === 'hang' || b === 'silent' || b === 'not-http') {
      server = createTcpServer((socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
        if (b === 'silent') socket.destroy();
        else if (b === 'not-http') socket.end('SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001\u0002 binary junk\r\n\r\n');
        // 'hang': reads the request and never answers
      });
    } else {
      server = createHttpServer((req, res) => {
        req.resume();
        if (b === 'html') { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end('<html><body><h1>Welcome to nginx!</h1></body></html>'); }
        else if (b === 'empty-json') { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{}'); }
        else if (b === 'garbage-200') { res.writeHead(200); res.end('\u0000\u0001{{{ not json ]]]'); }
        else { res.writeHead(500); res.end('{"error": "internal: out of memory"}'); }
      });
      server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A loopback port held by a listener until `release` (a port "taken by another process"). */
export async function takenPort(port = 0): Promise<{ port: number; release: () => Promise<void> }> {
  const s = createTcpServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  return { port: (s.address() as AddressInfo).port, release: () => new Promise<void>((resolve) => s.close(() => resolve())) };
}
