// A hand-written fake model server for the profiler's runner, on a FakeClock: a batch of b takes
// computeMs(b) of "server" time plus overheadMs of network, counted in Triton-like counters
// (per batch size too). It records every change made to it.
import type { FakeClock } from '../../helpers/fake-clock.js';
import { AdapterError } from '../../../src/ports/server-adapter.js';
import type {
  AdapterCapabilities, DeviceKind, InferOptions, InferResult, MetricSample, ModelCounters, ModelStatus, Profilable, ReplicaControl,
  ServerAdapter, ServerHealth, TensorSpec,
} from '../../../src/ports/server-adapter.js';

export interface FakeServerOptions {
  /** Server-side compute time of a batch of `b`; `call` counts inferences at that size so far (for noise). */
  readonly computeMs: (b: number, call: number) => number;
  readonly overheadMs?: number;
  /** Extra overhead per other request in flight when a request arrives (a server busier with more connections). */
  readonly overheadPerInFlightMs?: number;
  readonly replicas?: number;
  readonly device?: DeviceKind;
  readonly maxBatchSize?: number;
  /** Counters as Triton has them (per batch size); false: no counters at all (they throw 'unsupported'). */
  readonly counters?: boolean;
  /** Batch sizes whose requests fail. */
  readonly failAt?: readonly number[];
  /** Devices setReplicas refuses. */
  readonly refuseDevices?: readonly DeviceKind[];
}

export class FakeServer implements ServerAdapter, Profilable, ReplicaControl {
  readonly kind = 'triton' as const;
  readonly endpoint = 'http://fake.invalid:8000';
  readonly changes: string[] = [];
  /** Batches in flight now, and the most seen at once. */
  inFlight = 0;
  maxInFlight = 0;
  sent = 0;
  device: DeviceKind;
  replicas: number;
  private readonly calls = new Map<number, number>();
  private requests = 0n;
  private computeNs = 0n;
  private readonly perSize = new Map<number, { executions: bigint; computeNs: bigint }>();

  constructor(private readonly clock: FakeClock, private readonly options: FakeServerOptions) {
    this.device = options.device ?? 'gpu';
    this.replicas = options.replicas ?? 1;
  }

  /** Requests from someone else: live traffic. */
  otherTraffic(n: number): void {
    this.requests += BigInt(n);
  }

  async health(): Promise<ServerHealth> {
    return { live: true, ready: true };
  }

  async models(): Promise<ModelStatus[]> {
    return [await this.model('m')];
  }

  async model(name: string): Promise<ModelStatus> {
    if (name !== 'm') throw new AdapterError({ server: 'triton', endpoint: 'GET /config', kind: 'not-found', message: `no model ${name}` });
    return { model: 'm', ready: true, replicas: this.replicas, device: this.device, maxBatchSize: this.options.maxBatchSize ?? 16 };
  }

  async counters(): Promise<ModelCounters[]> {
    if (this.options.counters === false) throw new AdapterError({ server: 'triton', endpoint: 'GET /stats', kind: 'unsupported', message: 'no statistics' });
    return [{
      model: 'm', version: '1', requests: this.requests, failures: 0n, computeNs: this.computeNs,
      batchSizes: [...this.perSize.entries()].sort(([a], [b]) => a - b).map(([batchSize, s]) => ({ batchSize, ...s })),
    }];
  }

  async metrics(): Promise<MetricSample[]> {
    return [];
  }

  async capabilities(): Promise<AdapterCapabilities> {
    return { replicas: 'live', batching: 'unsupported', perBatchStats: this.options.counters !== false, profiling: true, warnings: [] };
  }

  async setReplicas(model: string, replicas: number, device?: Exclude<DeviceKind, 'unknown'>): Promise<ModelStatus> {
    this.changes.push(`${model}: ${replicas} ${device ?? 'same device'}`);
    if (device !== undefined && (this.options.refuseDevices ?? []).includes(device)) {
      throw new AdapterError({ server: 'triton', endpoint: 'POST /load', kind: 'http', status: 400, message: `no ${device} here` });
    }
    this.replicas = replicas;
    if (device !== undefined) this.device = device;
    return this.model(model);
  }

  async inputs(): Promise<TensorSpec[]> {
    return [{ name: 'INPUT0', datatype: 'FP32', shape: [4] }];
  }

  async infer(_model: string, o: InferOptions): Promise<InferResult> {
    this.sent++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const call = this.calls.get(o.batchSize) ?? 0;
      this.calls.set(o.batchSize, call + 1);
      const overhead = (this.options.overheadMs ?? 1) + (this.options.overheadPerInFlightMs ?? 0) * (this.inFlight - 1);
      if ((this.options.failAt ?? []).includes(o.batchSize)) {
        await this.clock.sleep(overhead);
        throw new AdapterError({ server: 'triton', endpoint: 'POST /infer', kind: 'http', status: 500, message: `batch ${o.batchSize} failed` });
      }
      const compute = this.options.computeMs(o.batchSize, call);
      await this.clock.sleep(compute + overhead);
      const ns = BigInt(Math.round(compute * 1e6));
      this.requests += 1n;
      this.computeNs += ns;
      const s = this.perSize.get(o.batchSize) ?? { executions: 0n, computeNs: 0n };
      s.executions += 1n;
      s.computeNs += ns;
      this.perSize.set(o.batchSize, s);
      return { latencyMs: compute + overhead, batchSize: o.batchSize };
    } finally {
      this.inFlight--;
    }
  }
}

/** Advances the fake clock in steps until `p` settles; returns its value (or throws its error). */
export async function drive<T>(clock: FakeClock, p: Promise<T>, stepMs = 5, maxMs = 3_600_000): Promise<T> {
  let settled = false;
  const watched = p.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  for (let t = 0; !settled && t < maxMs; t += stepMs) await clock.advance(stepMs);
  return watched;
}
