// The emulated Triton's gRPC service, the part the adapter calls: RepositoryModelLoad, on
// 127.0.0.1 (port 0 picks a free one), served by the same load as the HTTP route. Replies map
// the HTTP statuses back onto the gRPC codes Triton gives the same errors (400 → INVALID_ARGUMENT,
// 503 → UNAVAILABLE), and the restricted-API header comes as `triton-grpc-protocol-<header>`
// metadata (reference/server-apis.md §A.13); without it the load is refused as Triton 2.51 does:
// UNAVAILABLE, "This protocol is restricted, expecting header 'triton-grpc-protocol-<header>'".
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { IncomingHttpHeaders } from 'node:http';
import { EMULATOR_HOST } from '../common/http.js';
import type { HttpReply } from '../common/http.js';

const PROTO = new URL('../../../proto/triton-model-repository.proto', import.meta.url);
const METADATA_PREFIX = 'triton-grpc-protocol-';

export interface TritonGrpcHandlers {
  /** The header a restricted model-repository group needs (undefined: none, or it was sent). */
  missingHeader(headers: IncomingHttpHeaders): string | undefined;
  /** The load, as the HTTP route runs it: `parameters` as a JSON body would hold them. */
  load(model: string, parameters: Record<string, unknown>): Promise<HttpReply>;
}

export interface RunningGrpcServer {
  readonly port: number;
  /** host:port */
  readonly target: string;
  close(): Promise<void>;
}

interface LoadMessage {
  model_name: string;
  parameters: Record<string, { parameter_choice?: string } & Record<string, unknown>>;
}

const CODE: Record<number, grpc.status> = { 400: grpc.status.INVALID_ARGUMENT, 404: grpc.status.NOT_FOUND, 503: grpc.status.UNAVAILABLE };

function errorText(r: HttpReply): string {
  const body = r.body === undefined ? '' : r.body.toString();
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch { /* not JSON: the text as it is */ }
  return body;
}

export async function startTritonGrpc(port: number, handlers: TritonGrpcHandlers): Promise<RunningGrpcServer> {
  const definition = protoLoader.loadSync(PROTO.pathname, { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  const server = new grpc.Server();
  server.addService(pkg.inference.GRPCInferenceService.service, {
    RepositoryModelLoad: (call: grpc.ServerUnaryCall<LoadMessage, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const headers: IncomingHttpHeaders = {};
      for (const [key, values] of Object.entries(call.metadata.getMap())) {
        if (key.startsWith(METADATA_PREFIX)) headers[key.slice(METADATA_PREFIX.length)] = String(values);
      }
      const parameters: Record<string, unknown> = {};
      for (const [key, p] of Object.entries(call.request.parameters)) {
        parameters[key] = p.parameter_choice === undefined ? undefined : p[p.parameter_choice];
      }
      const missing = handlers.missingHeader(headers);
      if (missing !== undefined) {
        callback({ code: grpc.status.UNAVAILABLE, details: `This protocol is restricted, expecting header '${METADATA_PREFIX}${missing}'` });
        return;
      }
      handlers.load(call.request.model_name, parameters).then((r) => {
        if (r.status < 300) callback(null, {});
        else callback({ code: CODE[r.status] ?? grpc.status.INTERNAL, details: errorText(r) });
      }, (err: unknown) => callback({ code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) }));
    },
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${EMULATOR_HOST}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port: bound,
    target: `${EMULATOR_HOST}:${bound}`,
    close: () => new Promise<void>((resolve) => {
      // Loads still running are the emulator's own to end; the server goes at once.
      server.forceShutdown();
      resolve();
    }),
  };
}
