// The Triton adapter (reference §A): KServe v2 plus Triton's model-repository, configuration and
// statistics extensions over HTTP. Reads go through parse.ts; changes follow §A.12 (GET the full
// config, change one part, POST it back as a load override) and need --model-control-mode=explicit.
import { describeBody } from '../common/http.js';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type {
  AdapterCapabilities, AdapterErrorKind, BatchControl, CounterReadOptions, BatchSettings, ConfigRestore, ConfigSnapshot, DeviceKind, InferOptions,
  InferResult, MetricSample, ModelCounters, ModelStatus, Profilable, ReplicaControl, ServerAdapter, ServerHealth, TensorSpec,
} from '../../src/ports/server-adapter.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import type { Clock } from '../../src/ports/clock.js';
import { systemClock } from '../../src/platform/system-clock.js';
import { TritonClient, metricsBase } from './client.js';
import { TritonGrpcControl, defaultGrpcTarget, grpcTarget } from './grpc-control.js';
import type { TritonAnswer } from './client.js';
import { loadRequestBody, withBatching, withInstanceCount } from './config-edit.js';
import { MalformedBodyError, UnsupportedChangeError } from './errors.js';
import { buildInferRequest } from './infer-request.js';
import type { JsonObject } from './json-fields.js';
import {
  inputSpecsOf, isExplicitModeRefusal, modelStatusOf, parseErrorBody, parseInferResponse, parseMetrics, parseModelConfig,
  parseModelMetadata, parseRepositoryIndex, parseServerMetadata, parseStats, withPending,
} from './parse.js';
import type { IndexEntry, TritonModelConfig } from './parse.js';

export { sumOverGpus } from './parse.js';
export { MalformedBodyError, UnsupportedChangeError } from './errors.js';

export interface TritonAdapterOptions {
  /** HTTP API base, e.g. http://127.0.0.1:8000. */
  readonly url: string;
  /** Metrics base (a trailing /metrics is allowed); default: the same host on port 8002. */
  readonly metricsUrl?: string;
  /** Per-request timeout of reads (default 5 s, HttpClient's). */
  readonly timeoutMs?: number;
  /** Retries of a GET after a transient failure (default 2, HttpClient's); POSTs never retry. */
  readonly retries?: number;
  /**
   * Triton's gRPC address (host:port, grpc:// or http://) for model-repository loads, which stall
   * the HTTP frontend's inference requests while they run (grpc-control.ts); 'none' sends loads
   * over HTTP. Default: port 8001 on the same host when the HTTP port is 8000 (tritonserver's
   * defaults), else HTTP, with a warning in capabilities().
   */
  readonly grpcUrl?: string;
  /** Timeout of a load: it returns only once the model is loaded, warmup included (default 300 s). */
  readonly loadTimeoutMs?: number;
  /** Sent on every request, for --http-restricted-api (§A.13). */
  readonly restrictedApiHeader?: { readonly name: string; readonly value: string };
  readonly clock?: Clock;
  /** Records every HTTP exchange with the server (duration, status, errors); none by default. */
  readonly telemetry?: Telemetry;
}

const DEFAULT_LOAD_TIMEOUT_MS = 300_000;
const PROBE_NAME = 'inferline-control-mode-probe';

type ControlMode = { kind: 'explicit' } | { kind: 'not-explicit' | 'unknown'; detail: string };

interface InputSpecs {
  readonly inputs: readonly TensorSpec[];
  readonly maxBatchSize: number;
}

/** The full config Triton served for a model, as read: what restoreConfig posts back. */
class TritonConfigSnapshot implements ConfigSnapshot {
  constructor(readonly model: string, readonly adapter: TritonAdapter, readonly raw: JsonObject) {}
}

export class TritonAdapter implements ServerAdapter, ReplicaControl, BatchControl, Profilable, ConfigRestore {
  readonly kind = 'triton' as const;
  readonly endpoint: string;
  private readonly client: TritonClient;
  private readonly clock: Clock;
  /** Inputs per model for infer(); dropped when a change or a failed request may have made them stale. */
  private readonly specs = new Map<string, InputSpecs>();
  /** Loads go over HTTP because the config said `grpcUrl: none` (no warning then). */
  private readonly httpLoadsChosen: boolean;

  constructor(options: TritonAdapterOptions) {
    this.endpoint = options.url.replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    const header = options.restrictedApiHeader;
    this.httpLoadsChosen = options.grpcUrl?.trim() === 'none';
    const target = options.grpcUrl === undefined ? defaultGrpcTarget(this.endpoint)
      : this.httpLoadsChosen ? undefined : grpcTarget(options.grpcUrl);
    const loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    this.client = new TritonClient({
      url: this.endpoint,
      metricsUrl: metricsBase(this.endpoint, options.metricsUrl),
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      loadTimeoutMs,
      headers: header ? { [header.name]: header.value } : {},
      clock: this.clock,
      ...(options.telemetry ? { telemetry: options.telemetry } : {}),
      ...(target === undefined ? {} : {
        grpc: new TritonGrpcControl({
          target, loadTimeoutMs, clock: this.clock, ...(header ? { restrictedApiHeader: header } : {}), ...(options.telemetry ? { telemetry: options.telemetry } : {}),
        }),
      }),
    });
  }

  /** Where model-repository loads go: Triton's gRPC host:port, or undefined for HTTP. */
  get loadsVia(): string | undefined {
    return this.client.grpcTarget;
  }

  async health(): Promise<ServerHealth> {
    const [live, ready] = await Promise.all([this.client.live(), this.client.ready()]);
    const isLive = live.status < 300;
    const isReady = ready.status < 300;
    if (isLive && isReady) return { live: true, ready: true };
    return {
      live: isLive,
      ready: isReady,
      detail: !isLive ? 'the server is not live' : 'the server is not ready (with --strict-readiness, the default, every model must be ready)',
    };
  }

  async models(): Promise<ModelStatus[]> {
    const byName = groupByName(this.decode(await this.client.repositoryIndex(), parseRepositoryIndex));
    const names = [...byName.keys()].sort();
    return Promise.all(names.map((name) => this.statusOf(name, byName.get(name) ?? [])));
  }

  async model(name: string): Promise<ModelStatus> {
    const answer = await this.client.repositoryIndex();
    const entries = this.decode(answer, parseRepositoryIndex).filter((e) => e.name === name);
    if (entries.length === 0) throw this.error(answer.endpoint, 'not-found', `model '${name}' is not in the model repository`);
    return this.statusOf(name, entries);
  }

  /** Cumulative counters per model version. A full reload (setBatching) starts them again at zero. */
  /** The statistics, with each model's pending requests from the metrics where they can be read. */
  async counters(model?: string, options: CounterReadOptions = {}): Promise<ModelCounters[]> {
    const [stats, metrics] = await Promise.all([
      this.client.stats(model),
      // The metrics port may be off or elsewhere: the counters stand without it.
      options.queues === false ? undefined : this.metrics().catch(() => undefined),
    ]);
    const counters = this.decode(stats, parseStats);
    return metrics === undefined ? counters : withPending(counters, metrics);
  }

  /** Every series of `:8002/metrics`; sum per-model ones across GPUs with sumOverGpus. */
  async metrics(): Promise<MetricSample[]> {
    return this.decode(await this.client.metrics(), parseMetrics);
  }

  /**
   * Instances live, batching by background reload, when the server runs in explicit model-control
   * mode. Nothing reports the mode, so it is probed: an unload of a name absent from the
   * repository index. Outside explicit mode Triton refuses it with 503 before anything else; in
   * explicit mode unloading an unknown name finds nothing to unload, so it changes nothing.
   */
  async capabilities(): Promise<AdapterCapabilities> {
    const meta = this.decode(await this.client.serverMetadata(), parseServerMetadata);
    const warnings: string[] = [];
    const perBatchStats = meta.extensions.includes('statistics');
    if (!perBatchStats) warnings.push('the server lacks the statistics extension: no per-batch-size statistics');
    if (!meta.extensions.includes('model_repository')) {
      warnings.push('the server lacks the model_repository extension: instances and batching cannot be changed through its API');
      return { replicas: 'unsupported', batching: 'unsupported', perBatchStats, profiling: true, warnings };
    }
    const mode = await this.controlMode();
    if (mode.kind === 'not-explicit') {
      warnings.push(`model control mode is not explicit: ${mode.detail}; changes need tritonserver restarted with --model-control-mode=explicit`);
      return { replicas: 'restart', batching: 'restart', perBatchStats, profiling: true, warnings };
    }
    if (mode.kind === 'unknown') warnings.push(`model control mode unknown: ${mode.detail}`);
    const loads = this.loadsWarning();
    if (loads) warnings.push(loads);
    return { replicas: 'live', batching: 'reload', perBatchStats, profiling: true, warnings };
  }

  /**
   * Sets the instance count of the model's one instance group (and its kind when `device` is
   * given), keeping the rest of the config. Triton applies an instance-only change in place: no
   * reload, statistics kept (§A.12).
   */
  setReplicas(model: string, replicas: number, device?: Exclude<DeviceKind, 'unknown'>): Promise<ModelStatus> {
    return this.applyConfig(model, (c) => withInstanceCount(c, replicas, device));
  }

  /**
   * Sets max_batch_size and the dynamic batcher's max_queue_delay_microseconds. Triton applies
   * this by a full background reload: the old copy serves until the new one is ready (two copies
   * in memory meanwhile, warmup again), and the model's /stats counters start again from zero.
   */
  setBatching(model: string, settings: BatchSettings): Promise<ModelStatus> {
    return this.applyConfig(model, (c) => withBatching(c, settings));
  }

  /** The model's full config as Triton serves it now. */
  async snapshotConfig(model: string): Promise<ConfigSnapshot> {
    return new TritonConfigSnapshot(model, this, this.decode(await this.client.modelConfig(model), parseModelConfig).raw);
  }

  /**
   * Posts a snapshot's config back as the override (§A.12), every field as it was: instance groups
   * with their kind, GPU list and host policy. When only instance groups differ from the config
   * now serving, Triton applies it in place and keeps the statistics.
   */
  async restoreConfig(snapshot: ConfigSnapshot): Promise<ModelStatus> {
    if (!(snapshot instanceof TritonConfigSnapshot) || snapshot.adapter !== this) {
      throw new TypeError(`restoreConfig: not a snapshot this Triton adapter took (model ${snapshot.model})`);
    }
    return this.applyConfig(snapshot.model, () => snapshot.raw);
  }

  /** The model's inputs, without the batch dimension when it batches. */
  async inputs(model: string): Promise<TensorSpec[]> {
    return [...(await this.readSpecs(model)).inputs];
  }

  /** One timed inference of `batchSize` queries; the latency is the client-observed round trip. */
  async infer(model: string, options: InferOptions): Promise<InferResult> {
    const specs = this.specs.get(model) ?? await this.readSpecs(model);
    const endpoint = `POST /v2/models/${encodeURIComponent(model)}/infer`;
    if (specs.maxBatchSize > 0 && options.batchSize > specs.maxBatchSize) {
      throw this.error(endpoint, 'unsupported', `batch size ${options.batchSize} is above the model's max_batch_size ${specs.maxBatchSize}`);
    }
    const request = this.guard(endpoint, () => buildInferRequest(specs.inputs, specs.maxBatchSize > 0, options));
    const start = this.clock.nowMs();
    let answer: TritonAnswer;
    try {
      answer = await this.client.infer(model, request, options.timeoutMs);
    } catch (err) {
      this.specs.delete(model); // the model may have changed under us: read its inputs again next time
      throw err;
    }
    const latencyMs = this.clock.nowMs() - start;
    const response = this.decode(answer, (body) => parseInferResponse(body, answer.headers['inference-header-content-length']));
    const bad = response.outputs.find((o) => specs.maxBatchSize > 0 && o.shape[0] !== options.batchSize);
    if (bad) {
      throw this.error(endpoint, 'malformed', `output '${bad.name}' has shape [${bad.shape.join(', ')}] for a batch of ${options.batchSize}`, answer.status);
    }
    return { latencyMs, batchSize: options.batchSize };
  }

  // ---- internals ----

  /** Why loads go over HTTP, when they do: each stalls the inference requests of one HTTP thread. */
  private loadsWarning(): string | undefined {
    const fallback = this.client.grpcFallback;
    if (fallback) return fallback;
    if (this.client.grpcTarget !== undefined || this.httpLoadsChosen) return undefined;
    return 'loads go over HTTP, where each holds one of Triton\'s HTTP threads, and the inference requests that thread serves, until it returns '
      + '(an instance removal under load can take a minute): set the server\'s grpcUrl (Triton\'s gRPC port, 8001 by default)';
  }

  /** Inputs from the metadata; max_batch_size from the config, which the metadata lacks. */
  private async readSpecs(model: string): Promise<InputSpecs> {
    const [meta, config] = await Promise.all([this.client.modelMetadata(model), this.client.modelConfig(model)]);
    const maxBatchSize = this.decode(config, parseModelConfig).maxBatchSize;
    const inputs = this.decode(meta, (body) => inputSpecsOf(parseModelMetadata(body), maxBatchSize));
    const specs = { inputs, maxBatchSize };
    this.specs.set(model, specs);
    return specs;
  }

  private async statusOf(name: string, entries: readonly IndexEntry[]): Promise<ModelStatus> {
    if (!entries.some((e) => e.state === 'READY')) return modelStatusOf(name, entries, undefined);
    return modelStatusOf(name, entries, this.decode(await this.client.modelConfig(name), parseModelConfig));
  }

  /** §A.12: read the full config, edit it, post it back as an override, read the result. */
  private async applyConfig(model: string, edit: (c: TritonModelConfig) => JsonObject): Promise<ModelStatus> {
    const current = this.decode(await this.client.modelConfig(model), parseModelConfig);
    const endpoint = this.client.loadEndpoint(model);
    const next = this.guard(endpoint, () => edit(current));
    const answer = await this.client.load(model, loadRequestBody(next));
    this.specs.delete(model);
    if (answer.status >= 300) throw await this.loadFailure(model, current, answer);
    return this.model(model);
  }

  private async loadFailure(model: string, previous: TritonModelConfig, answer: TritonAnswer): Promise<AdapterError> {
    const message = (parseErrorBody(answer.body) ?? describeBody(answer)).trim();
    if (isExplicitModeRefusal(answer.status, message)) {
      return this.error(answer.endpoint, 'unsupported', `model control mode is not explicit: ${message} (start tritonserver with --model-control-mode=explicit)`, answer.status);
    }
    const kind = statusKind(answer.status);
    // Triton tried the load and failed: 400 (the backend refused it) or 500 (the override did not
    // poll). Anything else (a busy or gateway answer) never reached the model repository.
    if (answer.status !== 400 && answer.status !== 500) return this.error(answer.endpoint, kind, message, answer.status);
    // An override sticks even when its load fails (§A.12): send back the config that was serving.
    const restored = await this.client.load(model, loadRequestBody(previous.raw)).then(
      (a) => (a.status < 300 ? 'the previous config was sent back' : `sending the previous config back failed too (${a.status}: ${parseErrorBody(a.body) ?? describeBody(a)})`),
      (err: unknown) => `sending the previous config back failed too (${(err as Error).message})`,
    );
    return this.error(answer.endpoint, kind, `${message} (${restored})`, answer.status);
  }

  private async controlMode(): Promise<ControlMode> {
    const names = new Set(this.decode(await this.client.repositoryIndex(), parseRepositoryIndex).map((e) => e.name));
    let probe = PROBE_NAME;
    for (let i = 2; names.has(probe); i++) probe = `${PROBE_NAME}-${i}`;
    let answer: TritonAnswer;
    try {
      answer = await this.client.unload(probe);
    } catch (err) {
      if (err instanceof AdapterError) return { kind: 'unknown', detail: err.message };
      throw err;
    }
    const message = parseErrorBody(answer.body) ?? describeBody(answer);
    if (isExplicitModeRefusal(answer.status, message)) return { kind: 'not-explicit', detail: message };
    if (answer.status === 401 || answer.status === 403) {
      return { kind: 'unknown', detail: `the model-repository API refused the probe (${answer.status}: ${message}); is restrictedApiHeader set?` };
    }
    return { kind: 'explicit' };
  }

  /** Parses an answer's body; a malformed one becomes an AdapterError naming where it came from. */
  private decode<T>(answer: TritonAnswer, parse: (body: string) => T): T {
    try {
      return parse(answer.body);
    } catch (err) {
      if (err instanceof MalformedBodyError) throw this.error(answer.endpoint, 'malformed', `malformed body: ${err.message}`, answer.status, err);
      throw err;
    }
  }

  /** Runs a pure step that may refuse the change. */
  private guard<T>(endpoint: string, step: () => T): T {
    try {
      return step();
    } catch (err) {
      if (err instanceof UnsupportedChangeError) throw this.error(endpoint, 'unsupported', err.message, undefined, err);
      throw err;
    }
  }

  private error(endpoint: string, kind: AdapterErrorKind, message: string, status?: number, cause?: unknown): AdapterError {
    return new AdapterError({ server: 'triton', endpoint, kind, message, ...(status !== undefined ? { status } : {}), ...(cause !== undefined ? { cause } : {}) });
  }
}

export function createTritonAdapter(options: TritonAdapterOptions): ServerAdapter & ReplicaControl & BatchControl & Profilable & ConfigRestore {
  return new TritonAdapter(options);
}

function groupByName(entries: readonly IndexEntry[]): Map<string, IndexEntry[]> {
  const byName = new Map<string, IndexEntry[]>();
  for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  return byName;
}

function statusKind(status: number): AdapterErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  return 'http';
}
