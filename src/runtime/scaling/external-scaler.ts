// KEDA's external scaler, served over gRPC (@grpc/grpc-js, externalscaler.proto loaded at run time
// with @grpc/proto-loader). A ScaledObject of type `external-push` (or `external`) per stage
// Deployment points at it; its trigger metadata names the stage (scaled-object.ts):
// - GetMetricSpec: one metric, `inferline-<pipeline>-<stage>`, target replicasPerPod;
// - GetMetrics: the stage's desired replicas, so KEDA's HPA sets ceil(desired / replicasPerPod) pods;
// - IsActive: desired > 0;
// - StreamIsActive: the answer at once, then again on every change of the stage's desired
//   replicas, so that KEDA re-checks the ScaledObject at once instead of at its next poll.
// The figures come from the DesiredReplicasFeed: the leader's own while this agent leads, else
// the last leader's as the coordinator stores them (KEDA talks to whichever pod its Service picks).
// No figure yet (no plan, no stored record) → UNAVAILABLE, and KEDA keeps the replicas it has.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { WorkloadConfig } from '../../config/index.js';
import type { Logger } from '../../ports/logger.js';
import type { DesiredReplicasFeed, DesiredReplicasSnapshot } from './desired-replicas-feed.js';
import { resolveScaledObject, ScaledObjectRefError } from './scaled-object.js';
import type { ScaledObjectRefMessage, ScaledStage } from './scaled-object.js';

/** The proto file shipped beside this module (the build copies it next to the compiled file). */
export const EXTERNAL_SCALER_PROTO = new URL('./externalscaler.proto', import.meta.url);

/** How the proto is loaded, here and by a client: field names as written, int64 as numbers, defaults filled. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export interface ExternalScalerOptions {
  readonly host: string;
  /** 0 takes a free port. */
  readonly port: number;
  readonly feed: DesiredReplicasFeed;
  readonly workloads: readonly WorkloadConfig[];
  readonly log: Logger;
}

interface GetMetricsRequestMessage {
  readonly scaledObjectRef?: ScaledObjectRefMessage;
  readonly metricName?: string;
}

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;
type ServerStream<Req, Res> = grpc.handleServerStreamingCall<Req, Res>;

/** The service definition of externalscaler.ExternalScaler, from the proto file. */
export function loadExternalScalerService(): grpc.ServiceDefinition {
  const text = readFileSync(EXTERNAL_SCALER_PROTO, 'utf8');
  if (!text.includes('service ExternalScaler')) throw new Error(`${EXTERNAL_SCALER_PROTO.pathname}: not KEDA's externalscaler.proto`);
  const definition = protoLoader.loadSync(EXTERNAL_SCALER_PROTO.pathname, PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } };
  return pkg.externalscaler.ExternalScaler.service;
}

export class ExternalScalerServer {
  private readonly o: ExternalScalerOptions;
  private readonly server = new grpc.Server();
  private readonly streams = new Set<grpc.ServerWritableStream<ScaledObjectRefMessage, { result: boolean }>>();
  private port_ = 0;
  private stopped: Promise<void> | undefined;

  private constructor(options: ExternalScalerOptions) {
    this.o = options;
  }

  /** Binds and serves; rejects when the address cannot be bound. */
  static async start(options: ExternalScalerOptions): Promise<ExternalScalerServer> {
    const s = new ExternalScalerServer(options);
    await s.listen();
    return s;
  }

  /** host:port as a client dials it. */
  get address(): string {
    const host = this.o.host === '0.0.0.0' || this.o.host === '::' ? '127.0.0.1' : this.o.host;
    return `${host.includes(':') ? `[${host}]` : host}:${this.port_}`;
  }

  get port(): number {
    return this.port_;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Ends every stream and stops serving, forcibly after `deadlineMs`; idempotent. */
  stop(deadlineMs = 5000): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      for (const call of this.streams) call.end();
      this.streams.clear();
      const force = setTimeout(() => { this.server.forceShutdown(); resolve(); }, deadlineMs);
      force.unref();
      this.server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
    return this.stopped;
  }

  private async listen(): Promise<void> {
    const isActive: Unary<ScaledObjectRefMessage, { result: boolean }> = (call, callback) => {
      this.answer(call.request, callback, (desired) => ({ result: desired > 0 }));
    };
    const getMetricSpec: Unary<ScaledObjectRefMessage, unknown> = (call, callback) => {
      let stage: ScaledStage;
      try {
        stage = resolveScaledObject(call.request, this.o.workloads);
      } catch (err) {
        callback(this.problem(err));
        return;
      }
      callback(null, { metricSpecs: [{ metricName: stage.metricName, targetSize: stage.replicasPerPod, targetSizeFloat: stage.replicasPerPod }] });
    };
    const getMetrics: Unary<GetMetricsRequestMessage, unknown> = (call, callback) => {
      const ref = call.request.scaledObjectRef ?? {};
      this.answer(ref, callback, (desired, stage) => ({
        metricValues: [{ metricName: call.request.metricName || stage.metricName, metricValue: desired, metricValueFloat: desired }],
      }));
    };
    const streamIsActive: ServerStream<ScaledObjectRefMessage, { result: boolean }> = (call) => this.stream(call);
    this.server.addService(loadExternalScalerService(), {
      IsActive: isActive, GetMetricSpec: getMetricSpec, GetMetrics: getMetrics, StreamIsActive: streamIsActive,
    } as grpc.UntypedServiceImplementation);
    const host = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    this.port_ = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.o.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.o.log.info(`KEDA external scaler listening on ${this.address}`);
  }

  /** Resolves the stage and its desired replicas, then answers with `build`, or with the gRPC status that says why not. */
  private answer<T>(ref: ScaledObjectRefMessage, callback: grpc.sendUnaryData<T>, build: (desired: number, stage: ScaledStage) => T): void {
    try {
      const stage = resolveScaledObject(ref, this.o.workloads);
      callback(null, build(this.desiredOf(stage, this.o.feed.current), stage));
    } catch (err) {
      callback(this.problem(err));
    }
  }

  private desiredOf(stage: ScaledStage, snapshot: DesiredReplicasSnapshot | undefined): number {
    const found = snapshot?.stages.find((s) => s.pipeline === stage.pipeline && s.stage === stage.stage);
    if (found === undefined) throw new NoFigureError(`no desired replicas of ${stage.pipeline}/${stage.stage} yet: no plan of it from a leader${snapshot === undefined ? '' : ` (epoch ${snapshot.epoch})`}`);
    return found.desired;
  }

  private stream(call: grpc.ServerWritableStream<ScaledObjectRefMessage, { result: boolean }>): void {
    let stage: ScaledStage;
    try {
      stage = resolveScaledObject(call.request, this.o.workloads);
    } catch (err) {
      call.emit('error', this.problem(err));
      return;
    }
    this.streams.add(call);
    let last: number | undefined;
    const sub = this.o.feed.subscribe((snapshot) => {
      const found = snapshot?.stages.find((s) => s.pipeline === stage.pipeline && s.stage === stage.stage);
      if (found === undefined || found.desired === last || call.cancelled) return;
      last = found.desired;
      call.write({ result: found.desired > 0 });
    });
    const done = (): void => {
      sub.close();
      this.streams.delete(call);
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.on('finish', done);
    call.on('error', done);
  }

  private problem(err: unknown): Partial<grpc.StatusObject> {
    if (err instanceof ScaledObjectRefError) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
    if (err instanceof NoFigureError) return { code: grpc.status.UNAVAILABLE, details: err.message };
    this.o.log.error(`external scaler: ${err instanceof Error ? err.message : String(err)}`);
    return { code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err) };
  }
}

/** No leader has published a figure for the stage yet. */
export class NoFigureError extends Error {
  override readonly name = 'NoFigureError';
}
