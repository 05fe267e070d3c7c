// A fake server made from a real one: a loopback HTTP proxy in front of an emulator that forwards
// every request, records it, and rewrites the answers of chosen requests (a truncated body, an
// HTML page, a negative counter, an integer past 2^53). The tests use the record to show that an
// adapter which could not read an answer sent nothing that changes the server afterwards.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly body: string;
}

export interface ProxiedAnswer {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

/** Rewrites the upstream answer of the requests it matches. */
export interface Corruption {
  readonly match: (req: ProxiedRequest) => boolean;
  readonly rewrite: (upstream: ProxiedAnswer) => ProxiedAnswer;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

export class CorruptingProxy {
  readonly requests: ProxiedRequest[] = [];
  private corruptions: Corruption[] = [];
  private server: Server | undefined;
  url = '';

  private constructor(private readonly upstream: string) {}

  static async start(upstream: string): Promise<CorruptingProxy> {
    const proxy = new CorruptingProxy(upstream.replace(/\/+$/, ''));
    const server = createServer((req, res) => void proxy.forward(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.server = server;
    proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return proxy;
  }

  /** Rewrites the answers to matching requests from now on (until reset). */
  corrupt(match: Corruption['match'], rewrite: Corruption['rewrite']): this {
    this.corruptions.push({ match, rewrite });
    return this;
  }

  /** Forgets the corruptions and the record. */
  reset(): void {
    this.corruptions = [];
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      const seen: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body };
      this.requests.push(seen);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !HOP_BY_HOP.has(k)) headers[k] = v;
      const up = await fetch(`${this.upstream}${seen.path}`, {
        method: seen.method, headers, ...(seen.method === 'GET' || seen.method === 'HEAD' ? {} : { body }),
      });
      const raw = Buffer.from(await up.arrayBuffer());
      const upHeaders: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k)) upHeaders[k] = v;
      });
      const rules = this.corruptions.filter((c) => c.match(seen));
      if (rules.length === 0) {
        // Untouched answers pass through byte for byte (binary tensors included), headers and all.
        res.writeHead(up.status, upHeaders);
        res.end(raw);
        return;
      }
      let answer: ProxiedAnswer = { status: up.status, body: raw.toString('utf8'), ...(upHeaders['content-type'] ? { contentType: upHeaders['content-type'] } : {}) };
      for (const c of rules) answer = c.rewrite(answer);
      res.writeHead(answer.status, answer.contentType ? { 'Content-Type': answer.contentType } : {});
      res.end(answer.body);
    } catch (err) {
      res.writeHead(599, { 'Content-Type': 'text/plain' });
      res.end(`proxy: ${(err as Error).message}`);
    }
  }
}

// ---- the four corruptions ----

/** The first half of the body: a connection cut mid-answer. */
export function truncated(a: ProxiedAnswer): ProxiedAnswer {
  return { ...a, body: a.body.slice(0, Math.floor(a.body.length / 2)) };
}

/** A 200 with an HTML page instead of the API's answer: a captive portal, a misrouted proxy. */
export function htmlPage(a: ProxiedAnswer): ProxiedAnswer {
  return { status: 200, contentType: 'text/html', body: `<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>Bad Gateway</h1><p>upstream sent ${a.status}</p></body></html>\n` };
}

/** Replaces the first match of `pattern` (a JSON field or a metric line) with `replacement`. */
export function replacing(pattern: RegExp, replacement: string): (a: ProxiedAnswer) => ProxiedAnswer {
  return (a) => {
    if (!pattern.test(a.body)) throw new Error(`corruption: ${pattern} does not occur in ${JSON.stringify(a.body.slice(0, 300))}`);
    return { ...a, body: a.body.replace(pattern, replacement) };
  };
}

/** 2^53 + 1: no JS number holds it exactly. */
export const ABOVE_2_53 = '9007199254740993';
