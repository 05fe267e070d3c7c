// The TF Serving adapter's options, checked once at construction (every problem listed at once),
// and the command templates they carry.
import { InvalidInputError } from '../../src/core/model/errors.js';
import type { Problem } from '../../src/core/model/errors.js';
import type { Telemetry } from '../../src/ports/telemetry.js';
import type { Clock } from '../../src/ports/clock.js';
import type { DeviceKind } from '../../src/ports/server-adapter.js';
import { systemClock } from '../../src/platform/system-clock.js';

export interface TfServingAdapterOptions {
  /** REST base URL, e.g. http://127.0.0.1:8501 (the server needs --rest_api_port). */
  readonly url: string;
  /** Path of the Prometheus page on the REST port (C.3). Default /monitoring/prometheus/metrics. */
  readonly metricsPath?: string;
  /**
   * The models this server serves. REST cannot list models (C.2), so give them here or give
   * `modelConfigFile`, not both.
   */
  readonly models?: readonly string[];
  /** The server's --model_config_file; its model_config_list names are re-read on every call. */
  readonly modelConfigFile?: string;
  /** Signature used by inputs()/infer(). Default serving_default. */
  readonly signatureName?: string;
  /** What the server runs on; TF Serving does not say. Default 'unknown'. */
  readonly device?: DeviceKind;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly clock?: Clock;
  /** Records every HTTP exchange with the server (duration, status, errors); none by default. */
  readonly telemetry?: Telemetry;
  /** The server's --batching_parameters_file (global batching, C.4). */
  readonly batchingParametersFile?: string;
  /** argv that restarts the server, e.g. ['systemctl', 'restart', 'tfserving']. */
  readonly restartCommand?: readonly string[];
  /** argv that sets the replica count through the orchestrator; `{model}` and `{replicas}` are filled in. */
  readonly scaleCommand?: readonly string[];
  /** Limit for one restart or scale command. Default 120 s. */
  readonly commandTimeoutMs?: number;
  /** How long setBatching waits for the model to be AVAILABLE after the restart. Default 120 s. */
  readonly readyTimeoutMs?: number;
}

export interface TfServingConfig {
  readonly url: string;
  readonly metricsPath: string;
  readonly models: readonly string[] | undefined;
  readonly modelConfigFile: string | undefined;
  readonly signatureName: string;
  readonly device: DeviceKind;
  readonly timeoutMs: number | undefined;
  readonly retries: number | undefined;
  readonly clock: Clock;
  readonly telemetry: Telemetry | undefined;
  readonly batchingParametersFile: string | undefined;
  readonly restartCommand: readonly string[] | undefined;
  readonly scaleCommand: readonly string[] | undefined;
  readonly commandTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly readyPollMs: number;
}

/** Why a model name cannot be used, or undefined. TF's REST paths take `[^/:]+` (C.2). */
export function modelNameProblem(name: string): string | undefined {
  if (!/^[^/:]+$/.test(name)) return `${JSON.stringify(name)} is not a TF Serving model name (no "/" or ":", not empty)`;
  // Names go into scaleCommand's argv: one starting with "-" would read as an option there.
  if (name.startsWith('-')) return `${JSON.stringify(name)} starts with "-"`;
  return undefined;
}

function commandProblems(path: string, argv: readonly string[] | undefined, out: Problem[]): void {
  if (argv === undefined) return;
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string') || argv[0] === '') {
    out.push({ path, message: 'must be a non-empty array of strings (argv; no shell)' });
  }
}

function positive(path: string, v: number | undefined, out: Problem[]): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) out.push({ path, message: `${v} — must be a whole number of ms > 0` });
}

export function compileOptions(o: TfServingAdapterOptions): TfServingConfig {
  const problems: Problem[] = [];
  let url = '';
  try {
    const u = new URL(o.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push({ path: 'url', message: `${o.url} — must be http(s)` });
    url = o.url.replace(/\/+$/, '');
  } catch {
    problems.push({ path: 'url', message: `${JSON.stringify(o.url)} — must be a URL` });
  }
  const metricsPath = o.metricsPath ?? '/monitoring/prometheus/metrics';
  if (!metricsPath.startsWith('/')) problems.push({ path: 'metricsPath', message: `${metricsPath} — must start with "/"` });
  if ((o.models === undefined) === (o.modelConfigFile === undefined)) {
    problems.push({ path: 'models', message: 'give the model names (models) or the server\'s model config file (modelConfigFile), exactly one: TF Serving cannot list its models over REST' });
  }
  if (o.models !== undefined && o.models.length === 0) problems.push({ path: 'models', message: 'must name at least one model' });
  o.models?.forEach((m, i) => {
    const p = modelNameProblem(m);
    if (p) problems.push({ path: `models[${i}]`, message: p });
  });
  if (o.device !== undefined && !['cpu', 'gpu', 'unknown'].includes(o.device)) problems.push({ path: 'device', message: `${o.device} — must be cpu, gpu or unknown` });
  commandProblems('restartCommand', o.restartCommand, problems);
  commandProblems('scaleCommand', o.scaleCommand, problems);
  if (o.scaleCommand !== undefined && !o.scaleCommand.some((a) => typeof a === 'string' && a.includes('{replicas}'))) {
    problems.push({ path: 'scaleCommand', message: 'must contain {replicas} (and {model} where the orchestrator target differs per model)' });
  }
  positive('timeoutMs', o.timeoutMs, problems);
  positive('commandTimeoutMs', o.commandTimeoutMs, problems);
  positive('readyTimeoutMs', o.readyTimeoutMs, problems);
  if (o.retries !== undefined && !(Number.isSafeInteger(o.retries) && o.retries >= 0)) problems.push({ path: 'retries', message: `${o.retries} — must be a whole number ≥ 0` });
  if (problems.length > 0) throw new InvalidInputError('TF Serving adapter options', problems);
  return Object.freeze({
    url,
    metricsPath,
    models: o.models ? Object.freeze([...o.models]) : undefined,
    modelConfigFile: o.modelConfigFile,
    signatureName: o.signatureName ?? 'serving_default',
    device: o.device ?? 'unknown',
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    clock: o.clock ?? systemClock,
    telemetry: o.telemetry,
    batchingParametersFile: o.batchingParametersFile,
    restartCommand: o.restartCommand ? Object.freeze([...o.restartCommand]) : undefined,
    scaleCommand: o.scaleCommand ? Object.freeze([...o.scaleCommand]) : undefined,
    commandTimeoutMs: o.commandTimeoutMs ?? 120_000,
    readyTimeoutMs: o.readyTimeoutMs ?? 120_000,
    readyPollMs: 500,
  });
}

/** Fills `{name}` placeholders in every argv element. */
export function fillCommand(template: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return template.map((arg) => arg.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole));
}

/** argv as one readable string for messages. */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./{}-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}
