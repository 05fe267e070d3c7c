// A small stateful stand-in for TorchServe's three HTTP APIs, on 127.0.0.1 ports picked by the OS.
// It follows the behaviour recorded from TorchServe 0.12.0 (server-apis.md B and the real-* fixtures):
// 400 InvalidKeyException for a wrong key, 405 for register/unregister without the model API, 409
// for a version already registered, 403 for removing the default version, describe as an array.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';

export type Api = 'inference' | 'management' | 'metrics';

export interface SeenRequest {
  readonly api: Api;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly auth: string | undefined;
  readonly body: string;
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

interface Version {
  url: string;
  batchSize: number;
  maxBatchDelay: number;
  workers: number;
}

interface Model {
  defaultVersion: string;
  versions: Map<string, Version>;
}

const json = (status: number, value: unknown): Reply => ({ status, body: `${JSON.stringify(value, null, 2)}\n` });
const error = (code: number, type: string, message: string): Reply => json(code, { code, type, message });
const INVALID_KEY = error(400, 'InvalidKeyException', 'Token Authorization failed. Token either incorrect, expired, or not provided correctly');

export class FakeTorchServe {
  modelApi = true;
  tokenAuth = true;
  metricsText = '';
  keys = { management: 'mgmt-1', inference: 'inf-1', api: 'api-1' };
  /** Where rotated keys are written, like TorchServe's key_file.json. */
  keyFile: string | undefined;
  /** The version each archive's MANIFEST carries. */
  readonly archives = new Map<string, string>();
  readonly models = new Map<string, Model>();
  readonly seen: SeenRequest[] = [];
  /** Consulted first: a reply here replaces the normal one (fault injection). */
  inject: ((r: SeenRequest) => Reply | undefined) | undefined;
  urls = { inference: '', management: '', metrics: '' };
  private servers: Server[] = [];

  async start(): Promise<void> {
    for (const api of ['inference', 'management', 'metrics'] as const) {
      const server = createServer((req, res) => void this.serve(api, req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.urls[api] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      this.servers.push(server);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    })));
    this.servers = [];
  }

  addModel(name: string, version: string, v: Version): void {
    this.archives.set(v.url, version);
    this.models.set(name, { defaultVersion: version, versions: new Map([[version, v]]) });
  }

  /** Writes the current keys in TorchServe's key_file.json layout (F9). */
  async writeKeyFile(): Promise<void> {
    if (!this.keyFile) return;
    const exp = '2024-02-16T21:12:24.801167Z';
    await writeFile(this.keyFile, JSON.stringify({
      management: { key: this.keys.management, 'expiration time': exp },
      inference: { key: this.keys.inference, 'expiration time': exp },
      API: { key: this.keys.api },
    }, null, 2));
  }

  calls(filter: Partial<Pick<SeenRequest, 'api' | 'method'>> = {}): string[] {
    return this.seen
      .filter((r) => (filter.api === undefined || r.api === filter.api) && (filter.method === undefined || r.method === filter.method))
      .map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query).toString()}` : ''}`);
  }

  private async serve(api: Api, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const seen: SeenRequest = {
      api, method: req.method ?? 'GET', path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams), auth: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8'),
    };
    this.seen.push(seen);
    const reply = this.inject?.(seen) ?? await this.route(seen);
    res.writeHead(reply.status, { 'content-type': api === 'metrics' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json' });
    res.end(reply.body);
  }

  private authorised(r: SeenRequest, key: string): boolean {
    return !this.tokenAuth || r.auth === `Bearer ${key}`;
  }

  private async route(r: SeenRequest): Promise<Reply> {
    if (r.api === 'metrics') return { status: 200, body: this.metricsText };
    if (r.api === 'inference') {
      if (!this.authorised(r, this.keys.inference)) return INVALID_KEY;
      if (r.path === '/ping') return json(200, { status: 'Healthy' });
      const m = /^\/predictions\/([^/]+)$/.exec(r.path);
      if (m && r.method === 'POST' && this.models.has(m[1] as string)) return json(200, { ok: true });
      return error(404, 'ModelNotFoundException', `Model not found: ${m?.[1] ?? r.path}`);
    }
    if (r.path === '/token') {
      if (!this.authorised(r, this.keys.api)) return error(400, 'InvalidKeyException', 'Token Authentication failed. Token either incorrect, expired, or not provided correctly');
      const type = r.query['type'] as 'management' | 'inference';
      this.keys = { ...this.keys, [type]: `${type === 'management' ? 'mgmt' : 'inf'}-renewed` };
      await this.writeKeyFile();
      return { status: 200, body: '\n' };
    }
    if (!this.authorised(r, this.keys.management)) return INVALID_KEY;
    return this.manage(r);
  }

  private manage(r: SeenRequest): Reply {
    const segs = r.path.split('/').filter((s) => s !== '');
    if (segs[0] !== 'models') return error(404, 'ResourceNotFoundException', 'Requested resource is not found, please refer to API document.');
    const [, name, version, action] = segs;
    if (name === undefined) {
      if (r.method === 'GET') return this.list(r);
      if (r.method === 'POST' && this.modelApi) return this.register(r);
      return error(405, 'MethodNotAllowedException', 'Requested method is not allowed, please refer to API document.');
    }
    const model = this.models.get(name);
    if (!model) return error(404, 'ModelNotFoundException', `Model not found: ${name}`);
    if (r.method === 'GET') {
      const vs = version === 'all' ? [...model.versions.keys()] : [version ?? model.defaultVersion];
      if (vs.some((v) => !model.versions.has(v))) return error(404, 'ModelVersionNotFoundException', `Model version: ${version} does not exist for model: ${name}`);
      return json(200, vs.map((v) => describe(name, v, model.versions.get(v) as Version)));
    }
    if (r.method === 'PUT' && action === 'set-default') {
      if (!model.versions.has(version as string)) return error(404, 'ModelVersionNotFoundException', `Model version ${version} does not exist for model ${name}`);
      model.defaultVersion = version as string;
      return json(200, { status: `Default version successfully updated for model "${name}" to "${version}"` });
    }
    if (r.method === 'PUT') {
      const min = Number(r.query['min_worker'] ?? 1);
      const max = Number(r.query['max_worker'] ?? min);
      if (max < min) return error(400, 'BadRequestException', 'max_worker cannot be less than min_worker.');
      (model.versions.get(version ?? model.defaultVersion) as Version).workers = min;
      return json(200, { status: `Workers scaled to ${min} for model: ${name}` });
    }
    if (r.method === 'DELETE' && this.modelApi) {
      if (version === model.defaultVersion && model.versions.size > 1) return error(403, 'InvalidModelVersionException', `Cannot remove default version for model ${name}`);
      if (!model.versions.delete(version as string)) return error(404, 'ModelVersionNotFoundException', `Model version ${version} does not exist for model ${name}`);
      if (model.versions.size === 0) this.models.delete(name);
      return json(200, { status: `Model "${name}" unregistered` });
    }
    return error(405, 'MethodNotAllowedException', 'Requested method is not allowed, please refer to API document.');
  }

  private list(r: SeenRequest): Reply {
    const limit = Number(r.query['limit'] ?? 100);
    const start = Number(r.query['next_page_token'] ?? 0);
    const names = [...this.models.keys()].sort();
    const page = names.slice(start, start + limit);
    const models = page.map((n) => {
      const m = this.models.get(n) as Model;
      return { modelName: n, modelUrl: (m.versions.get(m.defaultVersion) as Version).url };
    });
    // Like 0.12.0: a token whenever the page is full, even if nothing follows.
    return json(200, { ...(page.length === limit ? { nextPageToken: String(start + limit) } : {}), models });
  }

  private register(r: SeenRequest): Reply {
    const url = r.query['url'];
    if (url === undefined) return error(400, 'BadRequestException', 'Parameter url is required.');
    const version = this.archives.get(url);
    if (version === undefined) return error(404, 'ModelNotFoundException', `Model not found in model store: ${url}`);
    const name = r.query['model_name'] as string;
    const model = this.models.get(name);
    if (model?.versions.has(version)) return error(409, 'ConflictStatusException', `Model version ${version} is already registered for model ${name}`);
    const v: Version = {
      url, batchSize: Number(r.query['batch_size'] ?? 1), maxBatchDelay: Number(r.query['max_batch_delay'] ?? 100), workers: Number(r.query['initial_workers'] ?? 0),
    };
    if (model) model.versions.set(version, v);
    else this.models.set(name, { defaultVersion: version, versions: new Map([[version, v]]) });
    return json(200, { status: `Model "${name}" Version: ${version} registered with ${v.workers} initial workers` });
  }
}

function describe(name: string, version: string, v: Version): unknown {
  return {
    modelName: name, modelVersion: version, modelUrl: v.url, runtime: 'python',
    minWorkers: v.workers, maxWorkers: v.workers, batchSize: v.batchSize, maxBatchDelay: v.maxBatchDelay,
    responseTimeout: 120, startupTimeout: 120, deviceType: 'cpu',
    workers: Array.from({ length: v.workers }, (_, i) => ({
      id: String(9000 + i), startTime: '2026-11-29T03:46:31.671Z', status: 'READY', memoryUsage: 0, pid: 100 + i, gpu: false, gpuUsage: 'N/A',
    })),
    jobQueueStatus: { remainingCapacity: 100, pendingRequests: 0 },
  };
}
