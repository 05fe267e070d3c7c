// The TorchServe adapter (server-apis.md B): workers are replicas and change live; batch size and
// delay change only by a version swap (version-swap.ts); counters come from the Prometheus
// metrics, since TorchServe has no structured statistics API.
import { AdapterError } from '../../src/ports/server-adapter.js';
import type {
  AdapterCapabilities, BatchControl, BatchSettings, ChangeMode, CounterReadOptions, DeviceKind, InferOptions, InferResult, MetricSample,
  ModelCounters, ModelStatus, Profilable, ReplicaControl, ServerAdapter, ServerHealth, TensorSpec,
} from '../../src/ports/server-adapter.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import type { Clock } from '../../src/ports/clock.js';
import { systemClock } from '../../src/platform/system-clock.js';
import { hashUnit, streamKey } from '../../src/core/math/random.js';
import { TorchServeClient } from './client.js';
import { KeyStore } from './keys.js';
import {
  countersFromMetrics, decode, isLogModeMetrics, isUrlRequired, parseDescribe, parseMetrics, parseModelList, parseStatusMessage,
  toModelStatus,
} from './parse.js';
import type { ModelDescription } from './parse.js';
import { canSwap, swapVersion } from './version-swap.js';
import type { DrainOptions } from './version-swap.js';

export interface TorchServeAdapterOptions {
  /** Default http://127.0.0.1:8080. */
  readonly inferenceUrl?: string;
  /** Default http://127.0.0.1:8081. */
  readonly managementUrl?: string;
  /** Default http://127.0.0.1:8082. */
  readonly metricsUrl?: string;
  /** Per-request timeout of reads and inference (default 5 s). */
  readonly timeoutMs?: number;
  /** Timeout of calls that wait for workers to start or stop (default 150 s: startup_timeout is 120 s). */
  readonly changeTimeoutMs?: number;
  /** Retries of idempotent reads (default 2). */
  readonly retries?: number;
  readonly clock?: Clock;
  /** Records every HTTP exchange with the server (duration, status, errors); none by default. */
  readonly telemetry?: Telemetry;
  /** key_file.json that TorchServe writes into its working directory (token auth is on by default). */
  readonly keyFile?: string;
  /** Management key, used before the key file's. */
  readonly managementKey?: string;
  /** Inference key, used before the key file's. */
  readonly inferenceKey?: string;
  /**
   * Per model, the archives a batching change may register (each .mar built with its own --version,
   * version-swap.ts). Without an entry the model's own archive is re-registered, which only works if
   * that file was rebuilt with a new version.
   */
  readonly archives?: Readonly<Record<string, readonly string[]>>;
  /**
   * How workers are removed. 'drain' (default): by a version swap to a version with fewer workers,
   * the old one unregistered once drained (version-swap.ts), so no request fails; it needs
   * enable_model_api and an alternate archive in `archives` (docs/scale-down.md); a model with
   * no entry there is scaled as with 'interrupt'. 'interrupt': the scale API, which interrupts the
   * removed workers: their batch runs again on the others, or now and then fails with 500 "Worker
   * died." (client.ts scale).
   */
  readonly scaleDown?: 'drain' | 'interrupt';
  /**
   * Draining: how long a batch may still run once the old version's queue is empty, beyond its
   * max_batch_delay (default 2000 ms). Set it above the model's slowest batch.
   */
  readonly drainGraceMs?: number;
  /**
   * Whether a scale-up waits for its new workers to load (synchronous=true). Default false: the
   * scale call returns as soon as TorchServe has started the workers (202), so a decision never
   * waits seconds on a worker's start-up and the next one can follow at once; the new workers are
   * counted from then on (describe lists them, "UNLOADING" until loaded), and one that fails to
   * start shows only there, as a worker that never turns READY. Removing workers always waits.
   */
  readonly waitForWorkers?: boolean;
}

const LOG_MODE = 'the metrics API answered an empty body: TorchServe runs with metrics_mode=log (its default), which writes '
  + 'metrics to logs/ts_metrics.log instead of serving them; set metrics_mode=prometheus (config.properties or TS_METRICS_MODE) and restart it';
const MODEL_API_OFF = 'enable_model_api is false (TorchServe answers 405 to register): batch size and delay cannot change; '
  + 'set enable_model_api=true (or --enable-model-api) and restart';
const PAGE_LIMIT = 100; // the server's maximum (B.4)
const MAX_PAGES = 1000;
const DESCRIBE_CONCURRENCY = 4;

export class TorchServeAdapter implements ServerAdapter, ReplicaControl, BatchControl, Profilable {
  readonly kind = 'torchserve' as const;
  /** The inference API: where clients send traffic. */
  readonly endpoint: string;
  private readonly client: TorchServeClient;
  private readonly clock: Clock;
  private readonly archives: Readonly<Record<string, readonly string[]>>;
  private readonly scaleDown: 'drain' | 'interrupt';
  private readonly drain: DrainOptions;
  private readonly waitForWorkers: boolean;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(options: TorchServeAdapterOptions = {}) {
    this.endpoint = options.inferenceUrl ?? 'http://127.0.0.1:8080';
    this.clock = options.clock ?? systemClock;
    this.archives = options.archives ?? {};
    this.scaleDown = options.scaleDown ?? 'drain';
    this.waitForWorkers = options.waitForWorkers ?? false;
    const changeTimeoutMs = options.changeTimeoutMs ?? Math.max(150_000, options.timeoutMs ?? 0);
    this.drain = { clock: this.clock, graceMs: Math.max(0, options.drainGraceMs ?? 2000), timeoutMs: changeTimeoutMs };
    this.client = new TorchServeClient({
      inferenceUrl: this.endpoint,
      managementUrl: options.managementUrl ?? 'http://127.0.0.1:8081',
      metricsUrl: options.metricsUrl ?? 'http://127.0.0.1:8082',
      timeoutMs: options.timeoutMs,
      changeTimeoutMs,
      retries: options.retries,
      clock: this.clock,
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      keys: new KeyStore(options),
    });
  }

  /** `GET /ping` on the inference API (it needs the inference key too). 500 "Unhealthy": live, not ready. */
  async health(): Promise<ServerHealth> {
    const res = await this.client.ping();
    const status = decode(res, parseStatusMessage);
    if (res.status === 200 && status === 'Healthy') return { live: true, ready: true };
    return { live: true, ready: false, detail: `/ping answered ${res.status} "${status}": some model has fewer active workers than its minWorkers` };
  }

  async models(): Promise<ModelStatus[]> {
    const names: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const list = decode(await this.client.listModels(PAGE_LIMIT, token), parseModelList);
      names.push(...list.models.map((m) => m.modelName));
      // The server hands out a token even when the next page is empty.
      if (list.nextPageToken === undefined || list.models.length === 0 || list.nextPageToken === token) break;
      token = list.nextPageToken;
    }
    const statuses = await mapLimit(names, DESCRIBE_CONCURRENCY, (name) => this.model(name).catch((err: unknown) => {
      if (err instanceof AdapterError && err.kind === 'not-found') return undefined; // unregistered meanwhile
      throw err;
    }));
    return statuses.filter((s): s is ModelStatus => s !== undefined);
  }

  /** The default version (the one `/predictions/{m}` serves). */
  async model(name: string): Promise<ModelStatus> {
    return toModelStatus(await this.describeDefault(name));
  }

  /** From the Prometheus metrics: see countersFromMetrics for what TorchServe does not expose. */
  async counters(model?: string, options: CounterReadOptions = {}): Promise<ModelCounters[]> {
    const res = await this.client.metrics();
    if (isLogModeMetrics(res.body)) {
      throw new AdapterError({ server: 'torchserve', endpoint: res.endpoint, status: res.status, kind: 'unsupported', message: LOG_MODE });
    }
    const counters = decode(res, (text) => countersFromMetrics(parseMetrics(text), model));
    return options.queues === false ? counters : this.withQueues(counters);
  }

  /**
   * Each model's queue (describe's jobQueueStatus.pendingRequests, summed over its versions) on its
   * first counters entry; a model whose describe fails keeps none. The request counter counts on
   * arrival, so nothing is pending uncounted.
   */
  private async withQueues(counters: ModelCounters[]): Promise<ModelCounters[]> {
    const models = [...new Set(counters.map((c) => c.model))];
    const queues = new Map(await Promise.all(models.map(async (m): Promise<[string, number | undefined]> => {
      try {
        const versions = decode(await this.client.describe(m), parseDescribe);
        const known = versions.filter((v) => v.pendingRequests !== undefined);
        return [m, known.length === 0 ? undefined : known.reduce((s, v) => s + (v.pendingRequests ?? 0), 0)];
      } catch {
        return [m, undefined];
      }
    })));
    const seen = new Set<string>();
    return counters.map((c) => {
      const q = queues.get(c.model);
      if (q === undefined || seen.has(c.model)) return c;
      seen.add(c.model);
      return { ...c, queued: q };
    });
  }

  /** Empty when metrics_mode=log (capabilities() warns about it). */
  async metrics(): Promise<MetricSample[]> {
    const res = await this.client.metrics();
    return isLogModeMetrics(res.body) ? [] : decode(res, parseMetrics);
  }

  async capabilities(): Promise<AdapterCapabilities> {
    const warnings: string[] = [];
    let batching: ChangeMode = 'reload';
    // A register with no url changes nothing: 405 when the model API is off, 400 "url is required" when on.
    const probe = await this.client.probeRegister();
    if (probe.status === 405) {
      batching = 'unsupported';
      warnings.push(MODEL_API_OFF);
    } else if (!isUrlRequired(probe.status, probe.body)) {
      warnings.push(`could not tell whether enable_model_api is on: POST /models with no url answered ${probe.status}`);
    }
    try {
      if (isLogModeMetrics((await this.client.metrics()).body)) warnings.push(LOG_MODE);
    } catch (err) {
      warnings.push(`no counters: ${(err as Error).message}`);
    }
    return { replicas: 'live', batching, perBatchStats: false, profiling: true, warnings };
  }

  /**
   * Sets the default version's worker count. More workers: the scale API, returning once the server
   * has started them (synchronous=false, 202) unless waitForWorkers; fewer: waits for the change
   * (synchronous=true; a 206 "Workers scaling in progress" is returned as the status it leads to).
   * The scale API's shrinking
   * interrupts the removed workers, whose batch is re-run elsewhere or now and then fails
   * (client.ts scale). So by default fewer workers come by a draining version swap (version-swap.ts) where
   * the server allows one, and by the scale API only where it does not. TorchServe places workers
   * itself, so a device other than the current one is unsupported.
   */
  async setReplicas(model: string, replicas: number, device?: Exclude<DeviceKind, 'unknown'>): Promise<ModelStatus> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new RangeError(`replicas must be a whole number ≥ 0, got ${replicas}`);
    return this.exclusive(model, async () => {
      const current = await this.describeDefault(model);
      const now = toModelStatus(current);
      if (device !== undefined && now.device !== 'unknown' && now.device !== device) {
        throw new AdapterError({
          server: 'torchserve', endpoint: `PUT /models/${model}`, kind: 'unsupported',
          message: `workers run on ${now.device} and the scale API cannot choose the device (TorchServe assigns GPUs itself, up to number_of_gpu)`,
        });
      }
      const archives = this.archives[model] ?? [];
      const grows = replicas > now.replicas;
      if (replicas < now.replicas && this.scaleDown === 'drain' && archives.length > 0 && await canSwap(this.client, model, archives)) {
        await swapVersion(this.client, {
          model, workers: replicas, archives, drain: this.drain,
          settings: { maxBatchSize: current.batchSize, batchDelayMs: current.maxBatchDelay },
        });
      } else {
        await this.client.scale(model, replicas, !grows || this.waitForWorkers);
      }
      return this.model(model);
    });
  }

  /** A version swap (version-swap.ts); needs enable_model_api=true. */
  async setBatching(model: string, settings: BatchSettings): Promise<ModelStatus> {
    if (!Number.isInteger(settings.maxBatchSize) || settings.maxBatchSize < 1) throw new RangeError(`maxBatchSize must be a whole number ≥ 1, got ${settings.maxBatchSize}`);
    if (!Number.isInteger(settings.batchDelayMs) || settings.batchDelayMs < 0) throw new RangeError(`batchDelayMs must be whole milliseconds ≥ 0 for TorchServe, got ${settings.batchDelayMs}`);
    return this.exclusive(model, async () => {
      await swapVersion(this.client, { model, settings, archives: this.archives[model] ?? [], drain: this.drain });
      return this.model(model);
    });
  }

  /**
   * TorchServe publishes no input metadata: a handler takes whatever bytes it is sent. We report one
   * opaque input, "data" (the field handlers read), of one BYTES element. Checks that the model exists.
   */
  async inputs(model: string): Promise<TensorSpec[]> {
    await this.describeDefault(model);
    return [{ name: 'data', datatype: 'BYTES', shape: [1] }];
  }

  /**
   * TorchServe batches on the server (up to batchSize requests, waiting maxBatchDelay), and a
   * request is one item. So a batch of n is n concurrent `POST /predictions/{m}`, each a small JSON
   * body `{"data": [8 numbers]}` (zeros or seeded values), and its latency is the time until the
   * last answer. Every request is awaited before returning, so stragglers never overlap the next batch.
   */
  async infer(model: string, options: InferOptions): Promise<InferResult> {
    const n = options.batchSize;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${n}`);
    const key = streamKey(options.seed ?? 0, 'torchserve-infer');
    const bodies = Array.from({ length: n }, (_, i) => JSON.stringify({
      data: Array.from({ length: 8 }, (_v, j) => (options.data === 'zero' ? 0 : hashUnit(key, i, j))),
    }));
    const start = this.clock.nowMs();
    const results = await Promise.allSettled(bodies.map((body) => this.client.predict(model, body, options.timeoutMs)));
    const latencyMs = this.clock.nowMs() - start;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return { latencyMs, batchSize: n };
  }

  private async describeDefault(name: string): Promise<ModelDescription> {
    const [d] = decode(await this.client.describe(name), parseDescribe);
    return d as ModelDescription; // parseDescribe never returns an empty array
  }

  /** Changes to one model run one at a time: a swap and a scale must not interleave. */
  private exclusive<T>(model: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(model) ?? Promise.resolve()).then(fn, fn);
    const tail = run.then(() => undefined, () => undefined);
    this.locks.set(model, tail);
    void tail.then(() => {
      if (this.locks.get(model) === tail) this.locks.delete(model);
    });
    return run;
  }
}

export function createTorchServeAdapter(options: TorchServeAdapterOptions = {}): ServerAdapter & ReplicaControl & BatchControl & Profilable {
  return new TorchServeAdapter(options);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
