// The TensorFlow Serving adapter (REST :8501). What TF Serving lets a sidecar do (C.7, D):
// - observe: model status per configured model (REST cannot list models), Prometheus counters;
// - batching: only by rewriting the --batching_parameters_file and restarting the server;
// - replicas: none inside the process; one server process is one replica, and more means more
//   pods, changed through an orchestrator command. Pods are out of this adapter's view, so the
//   replica count it reports is the one its scaleCommand last applied (1 before that).
// Every failure is an AdapterError naming the endpoint (an HTTP call, a file or a command).
import { HttpClient } from '../common/http.js';
import { AdapterError } from '../../src/ports/server-adapter.js';
import type {
  AdapterCapabilities, BatchControl, BatchSettings, DeviceKind, InferOptions, InferResult, MetricSample, ModelCounters,
  ModelStatus, Profilable, ReplicaControl, ServerAdapter, ServerHealth, TensorSpec,
} from '../../src/ports/server-adapter.js';
import { TfServingClient, runCommand } from './client.js';
import type { Fetched } from './client.js';
import { BatchingConflictError, TF_DEFAULT_MAX_BATCH_SIZE, readBatchingParameters, readModelConfigNames, rewriteBatchingParameters } from './config-files.js';
import { commandError, fileError, malformed, unsupported } from './errors.js';
import { backupPathOf, parseLocal, readLocal, writeFileAtomic, writeLocal } from './local-files.js';
import { UnsupportedInputError, buildInstances } from './instances.js';
import { compileOptions, fillCommand, modelNameProblem, showCommand } from './options.js';
import type { TfServingAdapterOptions, TfServingConfig } from './options.js';
import { MalformedBodyError, parseModelMetadata, parseModelStatus, parsePredictResponse, servingVersion, toTensorSpec } from './parse.js';
import type { InputSpec, ModelVersionStatus } from './parse.js';
import { countersFromMetrics, parseTfMetrics } from './parse-metrics.js';
import type { TfMetrics } from './parse-metrics.js';

export type { TfServingAdapterOptions } from './options.js';

const MONITORING_HINT = 'Prometheus monitoring is not enabled: start tensorflow_model_server with --monitoring_config_file '
  + 'holding prometheus_config { enable: true } (C.3), or set metricsPath to its prometheus_config.path';

export function createTfServingAdapter(options: TfServingAdapterOptions): TfServingAdapter {
  return new TfServingAdapter(compileOptions(options));
}

function decode<T>(f: Fetched, parse: (body: string) => T): T {
  try {
    return parse(f.res.body);
  } catch (err) {
    if (err instanceof MalformedBodyError) throw malformed(f, err);
    throw err;
  }
}

export class TfServingAdapter implements ServerAdapter, ReplicaControl, BatchControl, Profilable {
  readonly kind = 'tfserving' as const;
  readonly endpoint: string;
  private readonly client: TfServingClient;
  /** Replica counts applied through scaleCommand by this process. */
  private readonly replicaCounts = new Map<string, number>();
  private readonly signatures = new Map<string, readonly InputSpec[]>();
  /** Restart and scale commands run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: TfServingConfig) {
    this.endpoint = config.url;
    const http = new HttpClient({
      server: 'tfserving', baseUrl: config.url, clock: config.clock,
      ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
      ...(config.retries !== undefined ? { retries: config.retries } : {}),
      ...(config.telemetry ? { telemetry: config.telemetry } : {}),
    });
    this.client = new TfServingClient(http, config.metricsPath);
  }

  async health(): Promise<ServerHealth> {
    const names = await this.modelNames();
    if (names.length === 0) {
      // Nothing to ask about: any answer on the REST port shows the server is up.
      const live = await this.client.metrics().then(() => true, (err: unknown) => err instanceof AdapterError && err.status !== undefined);
      return { live, ready: false, detail: 'no models configured' };
    }
    const results = await Promise.allSettled(names.map((m) => this.versionStatus(m)));
    let live = false;
    const problems: string[] = [];
    results.forEach((r, i) => {
      const m = names[i] as string;
      if (r.status === 'fulfilled') {
        live = true;
        if (servingVersion(r.value) === undefined) problems.push(`${m}: no AVAILABLE version (${r.value.map((v) => `${v.version} ${v.state}`).join(', ') || 'none'})`);
        return;
      }
      const err: unknown = r.reason;
      if (!(err instanceof AdapterError) || err.kind === 'malformed') throw err;
      if (err.status !== undefined) live = true; // it answered, just not with an available model
      problems.push(err.message);
    });
    return { live, ready: live && problems.length === 0, ...(problems.length > 0 ? { detail: problems.join('; ') } : {}) };
  }

  async models(): Promise<ModelStatus[]> {
    const names = await this.modelNames();
    const batching = await this.batching();
    return Promise.all(names.map(async (m) => {
      try {
        return this.status(m, await this.versionStatus(m), batching);
      } catch (err) {
        // A configured model the server does not know (yet) is listed, not ready.
        if (err instanceof AdapterError && err.kind === 'not-found') return this.status(m, [], batching);
        throw err;
      }
    }));
  }

  async model(name: string): Promise<ModelStatus> {
    const [statuses, batching] = await Promise.all([this.versionStatus(name), this.batching()]);
    return this.status(name, statuses, batching);
  }

  async counters(model?: string): Promise<ModelCounters[]> {
    const names = await this.modelNames();
    const scraped = await this.scrape();
    if ('missing' in scraped) {
      throw new AdapterError({ server: 'tfserving', endpoint: scraped.missing, status: 404, kind: 'unsupported', message: `${MONITORING_HINT}; TF Serving has no other source of counters` });
    }
    return countersFromMetrics(scraped, model === undefined ? names : [model], names);
  }

  async metrics(): Promise<MetricSample[]> {
    const scraped = await this.scrape();
    return 'missing' in scraped ? [] : [...scraped.samples];
  }

  async capabilities(): Promise<AdapterCapabilities> {
    const c = this.config;
    const warnings: string[] = [];
    if (!c.scaleCommand) warnings.push('replicas: TF Serving has no replication inside the process; set scaleCommand to scale pods through the orchestrator');
    const missing = [c.batchingParametersFile ? '' : 'batchingParametersFile', c.restartCommand ? '' : 'restartCommand'].filter((s) => s !== '');
    if (missing.length > 0) warnings.push(`batching: TF Serving reads batching only at startup; set ${missing.join(' and ')} to change it by rewriting the file and restarting`);
    try {
      const f = await this.client.metrics();
      if (f.res.status === 404) warnings.push(`metrics: ${f.endpoint} → 404: ${MONITORING_HINT}; counters are unavailable`);
    } catch (err) {
      if (!(err instanceof AdapterError)) throw err;
      warnings.push(`metrics: could not check (${err.message})`);
    }
    return {
      replicas: c.scaleCommand ? 'orchestrator' : 'unsupported',
      batching: missing.length === 0 ? 'restart' : 'unsupported',
      perBatchStats: false,
      profiling: true,
      warnings,
    };
  }

  setReplicas(model: string, replicas: number, device?: Exclude<DeviceKind, 'unknown'>): Promise<ModelStatus> {
    return this.exclusive(async () => {
      const template = this.config.scaleCommand;
      if (!template) throw unsupported('setReplicas', 'TF Serving has no replication inside the process (C.7); set scaleCommand to scale pods through the orchestrator');
      const endpoint = `command ${showCommand(template)}`;
      if (!(Number.isSafeInteger(replicas) && replicas >= 0)) throw unsupported(endpoint, `replicas ${replicas} — must be a whole number ≥ 0`);
      if (device !== undefined && this.config.device !== 'unknown' && device !== this.config.device) {
        throw unsupported(endpoint, `this server runs on ${this.config.device}; the adapter cannot move it to ${device}`);
      }
      await this.requireConfigured(model, endpoint);
      const argv = fillCommand(template, { model, replicas: String(replicas) });
      await this.run(argv);
      this.replicaCounts.set(model, replicas);
      return this.model(model);
    });
  }

  /** Batching is server-wide in TF Serving (one scheduler, C.4): this changes it for every model. */
  setBatching(model: string, settings: BatchSettings): Promise<ModelStatus> {
    return this.exclusive(async () => {
      const { batchingParametersFile: file, restartCommand } = this.config;
      if (!file || !restartCommand) throw unsupported('setBatching', `set ${[file ? '' : 'batchingParametersFile', restartCommand ? '' : 'restartCommand'].filter(Boolean).join(' and ')}: TF Serving reads batching only at startup`);
      const endpoint = `file ${file}`;
      if (!(Number.isSafeInteger(settings.maxBatchSize) && settings.maxBatchSize >= 1)) throw unsupported(endpoint, `maxBatchSize ${settings.maxBatchSize} — must be a whole number ≥ 1`);
      if (!(Number.isFinite(settings.batchDelayMs) && settings.batchDelayMs >= 0)) throw unsupported(endpoint, `batchDelayMs ${settings.batchDelayMs} — must be ≥ 0`);
      await this.requireConfigured(model, endpoint);
      const change = { maxBatchSize: settings.maxBatchSize, batchTimeoutMicros: Math.round(settings.batchDelayMs * 1000) };
      const previous = await readLocal(file);
      const current = parseLocal(file, () => readBatchingParameters(previous));
      if (current.maxBatchSize === change.maxBatchSize && current.batchTimeoutMicros === change.batchTimeoutMicros) return this.model(model);
      let next: string;
      try {
        next = rewriteBatchingParameters(previous, change);
      } catch (err) {
        if (err instanceof BatchingConflictError) throw unsupported(endpoint, err.message);
        throw err;
      }
      await writeLocal(backupPathOf(file), previous);
      await writeLocal(file, next);
      const failed = await this.tryRun(restartCommand);
      if (failed) {
        const restored = await writeFileAtomic(file, previous).then(
          () => 'the previous batching parameters were restored (the server may need a restart to read them)',
          (e: unknown) => `restoring the previous file failed too (${(e as Error).message}); a copy is in ${backupPathOf(file)}`,
        );
        throw failed(restored);
      }
      return this.waitReady(model);
    });
  }

  async inputs(model: string): Promise<TensorSpec[]> {
    return (await this.signature(model)).map(toTensorSpec);
  }

  async infer(model: string, options: InferOptions): Promise<InferResult> {
    const endpoint = `POST /v1/models/${encodeURIComponent(model)}:predict`;
    if (!(Number.isSafeInteger(options.batchSize) && options.batchSize >= 1)) throw unsupported(endpoint, `batchSize ${options.batchSize} — must be a whole number ≥ 1`);
    const inputs = await this.signature(model);
    let instances: unknown[];
    try {
      instances = buildInstances(inputs, options.batchSize, options.data, options.seed ?? 0);
    } catch (err) {
      if (err instanceof UnsupportedInputError) throw unsupported(endpoint, err.message);
      throw err;
    }
    const clock = this.config.clock;
    const start = clock.nowMs();
    let f: Fetched;
    try {
      f = await this.client.predict(model, instances, options.timeoutMs);
    } catch (err) {
      this.signatures.delete(model); // the model may have changed version and signature
      throw err;
    }
    const latencyMs = clock.nowMs() - start;
    const { predictions } = decode(f, parsePredictResponse);
    if (predictions !== options.batchSize) throw malformed(f, new Error(`sent ${options.batchSize} instances, got ${predictions} predictions`));
    return { latencyMs, batchSize: options.batchSize };
  }

  // ---- helpers ----

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private status(model: string, statuses: readonly ModelVersionStatus[], batching: { maxBatchSize: number; batchDelayMs?: number }): ModelStatus {
    const version = servingVersion(statuses);
    return {
      model,
      ...(version !== undefined ? { version } : {}),
      ready: version !== undefined,
      replicas: this.replicaCounts.get(model) ?? 1,
      device: this.config.device,
      ...batching,
    };
  }

  private async versionStatus(model: string): Promise<ModelVersionStatus[]> {
    return decode(await this.client.modelStatus(model), parseModelStatus);
  }

  private async modelNames(): Promise<readonly string[]> {
    const { models, modelConfigFile } = this.config;
    if (models) return models;
    const file = modelConfigFile as string;
    const text = await readLocal(file);
    const names = parseLocal(file, () => readModelConfigNames(text));
    const bad = names.map(modelNameProblem).find((p) => p !== undefined);
    if (bad) throw fileError(file, 'malformed', bad);
    return names;
  }

  private async requireConfigured(model: string, endpoint: string): Promise<void> {
    const names = await this.modelNames();
    if (!names.includes(model)) throw new AdapterError({ server: 'tfserving', endpoint, kind: 'not-found', message: `${model} is not one of this server's models (${names.join(', ')})` });
  }

  /** The batching a ModelStatus reports: from the file when configured, else no batching. */
  private async batching(): Promise<{ maxBatchSize: number; batchDelayMs?: number }> {
    const file = this.config.batchingParametersFile;
    if (!file) return { maxBatchSize: 1 };
    const text = await readLocal(file);
    const p = parseLocal(file, () => readBatchingParameters(text));
    return { maxBatchSize: p.maxBatchSize ?? TF_DEFAULT_MAX_BATCH_SIZE, batchDelayMs: (p.batchTimeoutMicros ?? 0) / 1000 };
  }

  private async scrape(): Promise<TfMetrics | { missing: string }> {
    const f = await this.client.metrics();
    if (f.res.status === 404) return { missing: f.endpoint };
    return decode(f, parseTfMetrics);
  }

  private async signature(model: string): Promise<readonly InputSpec[]> {
    const cached = this.signatures.get(model);
    if (cached) return cached;
    const f = await this.client.modelMetadata(model);
    const sigs = decode(f, parseModelMetadata);
    const sig = sigs.get(this.config.signatureName);
    if (!sig) throw unsupported(f.endpoint, `no signature ${this.config.signatureName} (has ${[...sigs.keys()].join(', ') || 'none'}); set signatureName`);
    this.signatures.set(model, sig.inputs);
    return sig.inputs;
  }

  private async run(argv: readonly string[]): Promise<void> {
    const failed = await this.tryRun(argv);
    if (failed) throw failed();
  }

  /** Runs a command; on failure returns a maker of its AdapterError, to which a note can be added. */
  private async tryRun(argv: readonly string[]): Promise<((note?: string) => AdapterError) | undefined> {
    const timeoutMs = this.config.commandTimeoutMs;
    try {
      const result = await runCommand(argv, timeoutMs);
      return result.timedOut || result.exitCode !== 0 ? (note) => commandError(argv, result, timeoutMs, note) : undefined;
    } catch (err) {
      const message = `cannot start: ${(err as Error).message}`;
      return (note) => new AdapterError({ server: 'tfserving', endpoint: `command ${showCommand(argv)}`, kind: 'unsupported', message: note ? `${message}; ${note}` : message, cause: err });
    }
  }

  /** After a restart: polls until the model is AVAILABLE again, or the deadline passes. */
  private async waitReady(model: string): Promise<ModelStatus> {
    const { clock, readyTimeoutMs, readyPollMs } = this.config;
    const deadline = clock.nowMs() + readyTimeoutMs;
    let last: string;
    for (;;) {
      try {
        const s = await this.model(model);
        if (s.ready) return s;
        last = 'no AVAILABLE version';
      } catch (err) {
        if (!(err instanceof AdapterError) || err.kind === 'malformed') throw err;
        last = err.message; // down or loading while it restarts
      }
      if (clock.nowMs() >= deadline) {
        throw new AdapterError({ server: 'tfserving', endpoint: `GET /v1/models/${encodeURIComponent(model)}`, kind: 'timeout', message: `restarted with the new batching parameters, but ${model} was not AVAILABLE within ${readyTimeoutMs} ms (last: ${last})` });
      }
      await clock.sleep(readyPollMs);
    }
  }
}
