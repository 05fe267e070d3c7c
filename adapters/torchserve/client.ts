// TorchServe over HTTP, through the shared HttpClient: one client per API (inference :8080,
// management :8081, metrics :8082, B.1), each request carrying its API's bearer key (B.2). Returns
// raw responses; parse.ts reads them. Only transport and auth decisions live here.
import { describeBody, HttpClient } from '../common/http.js';
import type { HttpRequest, HttpResponse } from '../common/http.js';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import type { Clock } from '../../src/ports/clock.js';
import { isInvalidKey } from './parse.js';
import type { KeyRole, KeyStore } from './keys.js';

export interface TorchServeClientOptions {
  readonly inferenceUrl: string;
  readonly managementUrl: string;
  readonly metricsUrl: string;
  readonly timeoutMs?: number;
  /** Timeout of calls that wait for workers to start (synchronous scale and register). */
  readonly changeTimeoutMs: number;
  readonly retries?: number;
  readonly clock?: Clock;
  readonly telemetry?: Telemetry;
  readonly keys: KeyStore;
}

export interface RegisterParams {
  readonly url: string;
  readonly modelName: string;
  readonly batchSize: number;
  readonly maxBatchDelayMs: number;
  readonly initialWorkers: number;
  readonly responseTimeoutS?: number;
  readonly startupTimeoutS?: number;
}

/** A response, with the endpoint ("METHOD /path") that errors about it must name. */
export interface TorchServeResponse extends HttpResponse {
  readonly endpoint: string;
}

const path = (...parts: string[]): string => `/${parts.map(encodeURIComponent).join('/')}`;

export class TorchServeClient {
  readonly inference: HttpClient;
  readonly management: HttpClient;
  readonly metricsApi: HttpClient;
  private readonly keys: KeyStore;
  private readonly changeTimeoutMs: number;

  constructor(options: TorchServeClientOptions) {
    const common = { server: 'torchserve' as const, timeoutMs: options.timeoutMs, retries: options.retries, clock: options.clock, telemetry: options.telemetry };
    this.inference = new HttpClient({ ...common, baseUrl: options.inferenceUrl });
    this.management = new HttpClient({ ...common, baseUrl: options.managementUrl });
    this.metricsApi = new HttpClient({ ...common, baseUrl: options.metricsUrl });
    this.keys = options.keys;
    this.changeTimeoutMs = options.changeTimeoutMs;
  }

  /** `GET /ping`; 500 {"status": "Unhealthy"} is an answer, not a failure (B.3). */
  ping(): Promise<TorchServeResponse> {
    return this.send('inference', { method: 'GET', path: '/ping', accept: [500] });
  }

  /** `GET /models?limit=&next_page_token=` (limit at most 100, B.4). */
  listModels(limit: number, pageToken?: string): Promise<TorchServeResponse> {
    return this.send('management', { method: 'GET', path: '/models', query: { limit, ...(pageToken !== undefined ? { next_page_token: pageToken } : {}) } });
  }

  /** `GET /models/{m}` (the default version), `/{m}/{v}` or `/{m}/all`. */
  describe(model: string, version?: string): Promise<TorchServeResponse> {
    return this.send('management', { method: 'GET', path: version === undefined ? path('models', model) : path('models', model, version) });
  }

  /**
   * Sets the default version's workers to exactly n and waits (B.4): min_worker grows, max_worker
   * caps. Shrinking is not graceful: a removed worker is interrupted (WorkerThread.shutdown), and
   * 0.12 puts its batch back at the head of the queue for the remaining workers, where it runs
   * again, except when it loses a race to the worker's own cleanup, which fails the batch with 500
   * "Worker died." (docs/scale-down.md). `wait: false` (synchronous=false) returns 202 as soon as
   * the server has started the change: new workers are listed by describe at once (reading
   * "UNLOADING" until loaded), and a failed start shows there only, as workers that never turn READY.
   */
  scale(model: string, workers: number, wait = true): Promise<TorchServeResponse> {
    return this.send('management', {
      method: 'PUT', path: path('models', model),
      query: { min_worker: workers, max_worker: workers, synchronous: wait },
      ...(wait ? { timeoutMs: this.changeTimeoutMs } : {}),
    });
  }

  /** `POST /models?url=…` with synchronous=true; needs enable_model_api=true (else 405). */
  register(p: RegisterParams): Promise<TorchServeResponse> {
    return this.send('management', {
      method: 'POST', path: '/models',
      query: {
        url: p.url, model_name: p.modelName, batch_size: p.batchSize, max_batch_delay: p.maxBatchDelayMs,
        initial_workers: p.initialWorkers, synchronous: true,
        ...(p.responseTimeoutS !== undefined ? { response_timeout: p.responseTimeoutS } : {}),
        ...(p.startupTimeoutS !== undefined ? { startup_timeout: p.startupTimeoutS } : {}),
      },
      timeoutMs: this.changeTimeoutMs,
    });
  }

  /**
   * `POST /models` with no url: side-effect free. 405 when enable_model_api is false; 400
   * "Parameter url is required." when it is true (seen on TorchServe 0.12.0).
   */
  probeRegister(): Promise<TorchServeResponse> {
    return this.send('management', { method: 'POST', path: '/models', accept: [400, 405] });
  }

  setDefault(model: string, version: string): Promise<TorchServeResponse> {
    return this.send('management', { method: 'PUT', path: `${path('models', model, version)}/set-default` });
  }

  /** `DELETE /models/{m}/{v}`: waits for the workers to stop; 403 for the default version. */
  unregister(model: string, version: string): Promise<TorchServeResponse> {
    return this.send('management', { method: 'DELETE', path: path('models', model, version), timeoutMs: this.changeTimeoutMs });
  }

  predict(model: string, body: string, timeoutMs: number): Promise<TorchServeResponse> {
    return this.send('inference', {
      method: 'POST', path: path('predictions', model), body, timeoutMs,
      headers: { 'Content-Type': 'application/json' },
    });
  }

  /** The metrics API has no token check (B.2). */
  async metrics(): Promise<TorchServeResponse> {
    const req: HttpRequest = { method: 'GET', path: '/metrics' };
    return { ...(await this.metricsApi.request(req)), endpoint: this.metricsApi.endpointOf(req) };
  }

  /**
   * Sends with the role's key. A refused key (400 InvalidKeyException) is retried once with a
   * refreshed key; that is safe for POST/PUT/DELETE too, because the token check runs before any
   * handler (B.2).
   */
  private async send(role: KeyRole, req: HttpRequest): Promise<TorchServeResponse> {
    const client = role === 'inference' ? this.inference : this.management;
    const key = await this.keys.key(role);
    let res = await this.once(client, req, key);
    if (!isInvalidKey(res.status, res.body)) return this.checked(client, req, res);
    const refresh = await this.keys.refresh(role, key, (r, apiKey) => this.renewKey(r, apiKey));
    if (refresh.changed) {
      res = await this.once(client, req, refresh.key);
      if (!isInvalidKey(res.status, res.body)) return this.checked(client, req, res);
    }
    const notes = [this.keys.note, refresh.note].filter((n) => n !== '').join('; ');
    throw new AdapterError({
      server: 'torchserve', endpoint: client.endpointOf(req), kind: 'auth', status: 400,
      message: `TorchServe refused the ${role} key (InvalidKeyException: missing, wrong or expired; token auth is on by default). `
        + `Keys come from ${this.keys.sources(role)} and expire after token_expiration_min (60) minutes`
        + `${notes ? ` (${notes})` : ''}. Or run TorchServe with disable_token_authorization=true.`,
    });
  }

  /** `GET /token?type=<role>` with the API key: TorchServe writes a new key to key_file.json and answers an empty body. */
  private async renewKey(role: KeyRole, apiKey: string): Promise<void> {
    const req: HttpRequest = { method: 'GET', path: '/token', query: { type: role } };
    const res = await this.once(this.management, req, apiKey);
    if (isInvalidKey(res.status, res.body)) throw new Error('the API key was refused too');
    this.checked(this.management, req, res);
  }

  private once(client: HttpClient, req: HttpRequest, key: string | undefined): Promise<HttpResponse> {
    return client.request({
      ...req,
      // 400 comes back as an answer so that a refused key can be told from any other bad request.
      accept: [...(req.accept ?? []), 400],
      headers: { ...(req.headers ?? {}), ...(key !== undefined ? { Authorization: `Bearer ${key}` } : {}) },
    });
  }

  private checked(client: HttpClient, req: HttpRequest, res: HttpResponse): TorchServeResponse {
    const endpoint = client.endpointOf(req);
    if (res.status === 400 && !(req.accept ?? []).includes(400)) {
      throw new AdapterError({ server: 'torchserve', endpoint, kind: 'http', status: 400, message: describeBody(res) });
    }
    return { ...res, endpoint };
  }
}
