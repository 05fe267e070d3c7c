// Model-repository loads over Triton's gRPC service instead of HTTP. Triton's HTTP frontend runs
// a load on the worker thread that received it and holds that thread until the load returns; the
// inference requests of every connection the thread serves wait with it. An in-place instance
// removal returns only once each removed instance happens to be idle, which under steady load
// took 3 to 110 s on Triton 2.51 here, and requests waited as long (up to the client's 60 s
// timeout: failures). The gRPC service runs repository control on a handler thread of its own, so
// inference is untouched (docs/scale-down.md has the measurements).
//
// Answers are mapped onto the HTTP statuses Triton gives the same errors (INVALID_ARGUMENT → 400,
// INTERNAL → 500, UNAVAILABLE → 503, …) with the message as `{"error": …}`, so the adapter reads a
// failed load one way whatever carried it.
//
// gRPC loads on the first load, not with the adapter: an agent that only reads its server (or
// whose loads go over HTTP) does not carry @grpc/grpc-js (about 13 MB of RSS; docs/live-control.md).
import type * as Grpc from '@grpc/grpc-js';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type { Clock } from '../../src/ports/clock.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import type { HttpResponse } from '../common/http.js';

/** An answer as client.ts's TritonAnswer has it: HTTP-shaped, with the endpoint it came from. */
type TritonAnswer = HttpResponse & { readonly endpoint: string };

/** The wire definition, shared with the emulator (the build copies proto/ into dist/). */
export const MODEL_REPOSITORY_PROTO = new URL('../../proto/triton-model-repository.proto', import.meta.url);

export const LOAD_RPC = 'inference.GRPCInferenceService/RepositoryModelLoad';

/** The endpoint template of a gRPC load, for errors and telemetry. */
export const GRPC_LOAD_ENDPOINT = `gRPC ${LOAD_RPC}`;

interface LoadRequestMessage {
  readonly model_name: string;
  readonly parameters: Record<string, { string_param: string }>;
}

type LoadFn = (req: LoadRequestMessage, metadata: Grpc.Metadata, options: Grpc.CallOptions, callback: (err: Grpc.ServiceError | null) => void) => void;

interface ServiceClient extends Grpc.Client {
  RepositoryModelLoad: LoadFn;
}

/** The gRPC status codes used here (grpc/doc/statuscodes.md). */
const CODE = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

interface GrpcRuntime {
  readonly grpc: typeof Grpc;
  readonly Service: Grpc.ServiceClientConstructor;
}

/** @grpc/grpc-js and the GRPCInferenceService client constructor, loaded once, on first use. */
let runtime: Promise<GrpcRuntime> | undefined;

export function tritonGrpcService(): Promise<GrpcRuntime> {
  runtime ??= (async () => {
    const [grpc, protoLoader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
    const definition = protoLoader.loadSync(MODEL_REPOSITORY_PROTO.pathname, { keepCase: true, longs: Number, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: Grpc.ServiceClientConstructor } };
    return { grpc, Service: pkg.inference.GRPCInferenceService };
  })();
  return runtime;
}

export { grpcTarget } from './grpc-address.js';


/**
 * The gRPC address Triton serves beside an HTTP URL when neither port was moved: the HTTP port
 * 8000 pairs with gRPC 8001 (tritonserver's defaults). Any other HTTP port says the ports were
 * chosen, and the gRPC one cannot be guessed: undefined.
 */
export function defaultGrpcTarget(httpUrl: string): string | undefined {
  const u = new URL(httpUrl);
  const port = u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port;
  return port === '8000' ? `${u.hostname}:8001` : undefined;
}

const HTTP_STATUS: Readonly<Record<number, number>> = {
  [CODE.INVALID_ARGUMENT]: 400,
  [CODE.NOT_FOUND]: 404,
  [CODE.ALREADY_EXISTS]: 409,
  [CODE.UNAUTHENTICATED]: 401,
  [CODE.PERMISSION_DENIED]: 403,
  [CODE.UNIMPLEMENTED]: 501,
  [CODE.UNAVAILABLE]: 503,
};

/**
 * The HTTP status Triton gives the same error; undefined for a deadline. A restricted protocol
 * called without its header is UNAVAILABLE over gRPC ("This protocol is restricted, expecting
 * header 'triton-grpc-protocol-…'", Triton 2.51) where HTTP answers 403: read as 403.
 */
function statusOf(err: Pick<Grpc.ServiceError, 'code' | 'details'>): number | undefined {
  if (err.code === CODE.DEADLINE_EXCEEDED) return undefined;
  if (err.code === CODE.UNAVAILABLE && /protocol is restricted/i.test(err.details)) return 403;
  return HTTP_STATUS[err.code] ?? 500;
}

/** A gRPC failure that never reached Triton's handler: no connection could be made. */
export function isConnectionFailure(err: unknown): boolean {
  const { code, details } = (err ?? {}) as { code?: unknown; details?: unknown };
  return err instanceof Error && code === CODE.UNAVAILABLE && typeof details === 'string'
    && /no connection established|ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|failed to connect|connection dropped/i.test(details);
}

export interface TritonGrpcControlOptions {
  /** host:port of Triton's gRPC service. */
  readonly target: string;
  readonly loadTimeoutMs: number;
  /** The restricted-API header (§A.13), sent as `triton-grpc-protocol-<name>` metadata. */
  readonly restrictedApiHeader?: { readonly name: string; readonly value: string };
  readonly clock: Clock;
  readonly telemetry?: Telemetry;
}

/** Loads over gRPC. One channel, opened on the first load; it goes idle by itself between loads. */
export class TritonGrpcControl {
  readonly target: string;
  private client: ServiceClient | undefined;

  constructor(private readonly o: TritonGrpcControlOptions) {
    this.target = o.target;
  }

  /** The endpoint as errors name it. */
  endpoint(): string {
    return `${GRPC_LOAD_ENDPOINT} (${this.target})`;
  }

  /**
   * One load with a config override. Resolves with Triton's answer as an HTTP-shaped status and
   * body; rejects with the gRPC error only when no connection could be made (`isConnectionFailure`:
   * nothing reached Triton, the caller may send it another way), and with an AdapterError on a
   * timeout.
   */
  async load(model: string, config: string): Promise<TritonAnswer> {
    const { grpc, Service } = await tritonGrpcService();
    this.client ??= new Service(this.target, grpc.credentials.createInsecure()) as unknown as ServiceClient;
    const client = this.client;
    const metadata = new grpc.Metadata();
    const header = this.o.restrictedApiHeader;
    if (header) metadata.set(`triton-grpc-protocol-${header.name.toLowerCase()}`, header.value);
    const start = this.o.clock.nowMs();
    return new Promise<TritonAnswer>((resolve, reject) => {
      client.RepositoryModelLoad(
        { model_name: model, parameters: { config: { string_param: config } } },
        metadata,
        { deadline: Date.now() + this.o.loadTimeoutMs },
        (err) => {
          const durationMs = this.o.clock.nowMs() - start;
          const unreached = isConnectionFailure(err);
          const status = err === null ? 200 : statusOf(err);
          this.o.telemetry?.recordAdapterRequest({ server: 'triton', endpoint: GRPC_LOAD_ENDPOINT, ...(status !== undefined && !unreached ? { status } : {}), durationMs });
          if (err === null) {
            resolve({ status: 200, body: '', headers: {}, endpoint: this.endpoint() });
          } else if (err.code === CODE.DEADLINE_EXCEEDED) {
            this.o.telemetry?.recordAdapterError({ server: 'triton', endpoint: GRPC_LOAD_ENDPOINT, errorType: 'timeout' });
            reject(new AdapterError({ server: 'triton', endpoint: this.endpoint(), kind: 'timeout', message: `no answer within ${this.o.loadTimeoutMs} ms`, cause: err }));
          } else if (unreached) {
            reject(err);
          } else {
            resolve({ status: status ?? 500, body: JSON.stringify({ error: err.details }), headers: {}, endpoint: this.endpoint() });
          }
        },
      );
    });
  }
}
