// Triton's HTTP endpoints (reference §A.2), through the shared HttpClient: timeouts, retries of
// GETs on transient failures, errors that name the server, endpoint and status. Bodies come back
// as text for parse.ts. POSTs are never retried: a load is not idempotent in effect (a second
// full reload), an inference would count twice, and the index is kept to the same rule.
import { HttpClient } from '../common/http.js';
import type { HttpRequest, HttpResponse } from '../common/http.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import type { Clock } from '../../src/ports/clock.js';
import type { InferRequest } from './infer-request.js';
import { isConnectionFailure } from './grpc-control.js';
import type { TritonGrpcControl } from './grpc-control.js';

export interface TritonClientOptions {
  readonly url: string;
  /** Base of the metrics endpoint; `/metrics` is appended. */
  readonly metricsUrl: string;
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** Loads return only once the model has loaded (warmup included). */
  readonly loadTimeoutMs: number;
  /** Sent on every request (the restricted-API header, §A.13). */
  readonly headers: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  readonly telemetry?: Telemetry;
  /** Loads go over gRPC when given (grpc-control.ts says why); over HTTP otherwise. */
  readonly grpc?: TritonGrpcControl;
}

/** An answer, with the endpoint it came from for error messages. */
export interface TritonAnswer extends HttpResponse {
  readonly endpoint: string;
}

/** Every error status, so the caller can read Triton's error body itself. */
const ANY_ERROR = Array.from({ length: 200 }, (_, i) => 400 + i);

const model = (m: string): string => `/v2/models/${encodeURIComponent(m)}`;

export class TritonClient {
  private readonly api: HttpClient;
  private readonly metricsHttp: HttpClient;
  private readonly loadTimeoutMs: number;
  private readonly grpc: TritonGrpcControl | undefined;
  /** Why the last load went over HTTP although gRPC was configured; undefined once gRPC answers again. */
  private grpcFallback_: string | undefined;

  constructor(options: TritonClientOptions) {
    this.grpc = options.grpc;
    const common = { server: 'triton' as const, headers: options.headers, timeoutMs: options.timeoutMs, retries: options.retries, clock: options.clock, telemetry: options.telemetry };
    this.api = new HttpClient({ ...common, baseUrl: options.url });
    this.metricsHttp = new HttpClient({ ...common, baseUrl: options.metricsUrl });
    this.loadTimeoutMs = options.loadTimeoutMs;
  }

  /** 200 live, 400 not live (§A.3). */
  live(): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'GET', path: '/v2/health/live', accept: [400] });
  }

  /** 200 ready, 400 not ready (§A.3). */
  ready(): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'GET', path: '/v2/health/ready', accept: [400] });
  }

  serverMetadata(): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'GET', path: '/v2' });
  }

  /** Every model in the repository, loaded or not (§A.8). */
  repositoryIndex(): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'POST', path: '/v2/repository/index', body: {} });
  }

  modelConfig(m: string): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'GET', path: `${model(m)}/config` });
  }

  modelMetadata(m: string): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'GET', path: model(m) });
  }

  stats(m?: string): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'GET', path: m === undefined ? '/v2/models/stats' : `${model(m)}/stats` });
  }

  metrics(): Promise<TritonAnswer> {
    return this.send(this.metricsHttp, { method: 'GET', path: '/metrics' });
  }

  loadEndpoint(m: string): string {
    return this.grpc ? this.grpc.endpoint() : this.api.endpointOf({ method: 'POST', path: `/v2/repository/models/${encodeURIComponent(m)}/load` });
  }

  /** Where loads go: the gRPC target, or undefined for HTTP. */
  get grpcTarget(): string | undefined {
    return this.grpc?.target;
  }

  /** Set while gRPC loads fall back to HTTP: what failed, for the capabilities' warnings. */
  get grpcFallback(): string | undefined {
    return this.grpcFallback_;
  }

  /**
   * Load or reload with a config override; answers every status (the caller reads the error).
   * Over gRPC when configured; over HTTP when gRPC is not, or when no gRPC connection could be
   * made (nothing reached Triton, so sending it again is safe).
   */
  async load(m: string, body: { parameters: { config: string } }): Promise<TritonAnswer> {
    if (this.grpc) {
      try {
        const answer = await this.grpc.load(m, body.parameters.config);
        this.grpcFallback_ = undefined;
        return answer;
      } catch (err) {
        if (!isConnectionFailure(err)) throw err;
        this.grpcFallback_ = `no gRPC connection to ${this.grpc.target} (${(err as { details: string }).details}): loads went over HTTP, where each holds one of Triton's HTTP threads and the inference requests it serves until the load returns`;
      }
    }
    return this.send(this.api, {
      method: 'POST', path: `/v2/repository/models/${encodeURIComponent(m)}/load`, body, accept: ANY_ERROR, timeoutMs: this.loadTimeoutMs,
    });
  }

  /** Unload; answers every status (the caller reads the error). */
  unload(m: string): Promise<TritonAnswer> {
    return this.send(this.api, { method: 'POST', path: `/v2/repository/models/${encodeURIComponent(m)}/unload`, accept: ANY_ERROR });
  }

  infer(m: string, request: InferRequest, timeoutMs: number): Promise<TritonAnswer> {
    const headers: Record<string, string> = request.jsonLength === undefined
      ? { 'Content-Type': 'application/json' }
      : { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(request.jsonLength) };
    return this.send(this.api, { method: 'POST', path: `${model(m)}/infer`, body: request.body, headers, timeoutMs });
  }

  private async send(http: HttpClient, req: HttpRequest): Promise<TritonAnswer> {
    const res = await http.request(req);
    return { ...res, endpoint: http.endpointOf(req) };
  }
}

/** The metrics base: as given (a trailing /metrics dropped), or the API's host on port 8002 (§A.1). */
export function metricsBase(url: string, metricsUrl: string | undefined): string {
  if (metricsUrl !== undefined) return metricsUrl.replace(/\/+$/, '').replace(/\/metrics$/, '');
  const u = new URL(url);
  u.port = '8002';
  return `${u.protocol}//${u.host}`;
}
