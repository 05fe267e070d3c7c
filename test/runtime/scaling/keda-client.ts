// A KEDA-side gRPC client for the tests, built the way KEDA builds its own: from the
// externalscaler.proto file (loaded with @grpc/proto-loader), not from inferline's server code.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('../../../src/runtime/scaling/externalscaler.proto', import.meta.url));

export interface Ref {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

export interface KedaClient {
  isActive(ref: Ref): Promise<{ result: boolean }>;
  getMetricSpec(ref: Ref): Promise<{ metricSpecs: { metricName: string; targetSize: number; targetSizeFloat: number }[] }>;
  getMetrics(ref: Ref, metricName: string): Promise<{ metricValues: { metricName: string; metricValue: number; metricValueFloat: number }[] }>;
  streamIsActive(ref: Ref): grpc.ClientReadableStream<{ result: boolean }>;
  streamMetricSpec(ref: Ref): grpc.ClientReadableStream<unknown>;
  close(): void;
}

export function kedaClient(address: string): KedaClient {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } };
  const client = new pkg.externalscaler.ExternalScaler(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const unary = <T>(method: string, req: unknown): Promise<T> => new Promise<T>((resolve, reject) => {
    (client[method] as (r: unknown, cb: (err: grpc.ServiceError | null, res: T) => void) => void).call(client, req, (err, res) => (err ? reject(err) : resolve(res)));
  });
  return {
    isActive: (ref) => unary('IsActive', ref),
    getMetricSpec: (ref) => unary('GetMetricSpec', ref),
    getMetrics: (ref, metricName) => unary('GetMetrics', { scaledObjectRef: ref, metricName }),
    streamIsActive: (ref) => (client['StreamIsActive'] as (r: unknown) => grpc.ClientReadableStream<{ result: boolean }>).call(client, ref),
    streamMetricSpec: (ref) => (client['StreamMetricSpec'] as (r: unknown) => grpc.ClientReadableStream<unknown>).call(client, ref),
    close: () => client.close(),
  };
}

export const ref = (metadata: Record<string, string>, name = 'triton-cls', namespace = 'serving'): Ref => ({ name, namespace, scalerMetadata: metadata });
