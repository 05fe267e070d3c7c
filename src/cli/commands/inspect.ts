// `inferline inspect`: what an adapter sees on one model server: health, every model with its
// serving configuration, the capabilities (what can change, and how) with their warnings, the
// counters and their rates over a short window, and how many metric series the server exports.
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { createAdapter } from '../../../adapters/registry.js';
import type { AdapterOptions } from '../../../adapters/registry.js';
import { modelList } from '../../../adapters/common/server-settings.js';
import { modelDelta } from '../../core/observe/counters.js';
import { counterRates, sumCounters } from '../../core/observe/counter-rates.js';
import type { CounterRates } from '../../core/observe/counter-rates.js';
import { DURATION_HINT, parseDurationMs } from '../../core/model/duration.js';
import { AdapterError, SERVER_KINDS } from '../../ports/server-adapter.js';
import type {
  AdapterCapabilities, ModelCounters, ModelStatus, ServerAdapter, ServerHealth, ServerKind,
} from '../../ports/server-adapter.js';
import { UsageError } from '../errors.js';
import { fmtMs, printJson, table } from '../output.js';
import type { CliContext } from '../context.js';
import { addServerFlags, serverAdapterOptions } from './server-flags.js';
import type { ServerFlags } from '../../../adapters/registry.js';

export interface InspectCommandOptions extends ServerFlags {
  readonly server: string;
  readonly window?: string;
  readonly json?: boolean;
}

/** Counters as decimal strings: they pass 2^53 (Triton's nanosecond sums). */
export interface CountersReport {
  readonly requests: string;
  readonly failures: string;
  readonly inferences: string | null;
  readonly executions: string | null;
  readonly queueNs: string | null;
  readonly computeNs: string | null;
}

export interface ModelReport {
  readonly model: string;
  readonly version: string | null;
  readonly ready: boolean;
  readonly replicas: number;
  readonly device: ModelStatus['device'];
  readonly maxBatchSize: number;
  readonly batchDelayMs: number | null;
  /** At the end of the window; null when the server gave none. */
  readonly counters: CountersReport | null;
  /** Over the window; null when the server gave no counters. */
  readonly rates: (CounterRates & { readonly reset: boolean }) | null;
}

/** The --json output. Every key is always present (null when unknown). */
export interface InspectReport {
  readonly server: ServerKind;
  readonly endpoint: string;
  readonly health: { readonly live: boolean; readonly ready: boolean; readonly detail: string | null };
  readonly capabilities: Omit<AdapterCapabilities, 'warnings'>;
  readonly models: readonly ModelReport[];
  /** Series on the metrics endpoint; null when it could not be read. */
  readonly metricSeries: number | null;
  readonly windowMs: number;
  /** The capabilities' warnings, then inspect's own (counters or metrics unavailable, resets). */
  readonly warnings: readonly string[];
}

const DEFAULT_WINDOW = '2s';
const MAX_WINDOW_MS = 300_000;
export { TORCHSERVE_TOKEN_ENV } from './server-flags.js';

export function registerInspect(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  addServerFlags(program
    .command('inspect')
    .description('show what inferline sees on a model server: models, serving config, capabilities, counters and rates')
    .requiredOption('--server <kind>', `server kind: ${SERVER_KINDS.join(', ')}`)
    .requiredOption('--url <url>', 'Triton HTTP API, TorchServe inference API, or TF Serving REST API'))
    .option('--models <a,b>', 'models to report (TF Serving: required, as REST cannot list them)')
    .option('--window <duration>', 'how long to watch the counters for rates', DEFAULT_WINDOW)
    .option('--json', 'print a JSON object')
    .addHelpText('after', '\nExit status: 0 ok, 1 when the server cannot be read, 2 on bad input.')
    .action(async (opts: InspectCommandOptions) => {
      const report = await runInspect(opts);
      if (opts.json) printJson(output, report);
      else output.out(formatInspect(report));
    });
}

/** The adapter options the flags stand for (each kind's settings map them); bad flags are a UsageError. */
export function inspectAdapterOptions(opts: InspectCommandOptions, env: NodeJS.ProcessEnv = process.env): AdapterOptions {
  return serverAdapterOptions(opts.server, opts, env);
}

export async function runInspect(opts: InspectCommandOptions): Promise<InspectReport> {
  const options = inspectAdapterOptions(opts);
  const windowMs = parseWindow(opts.window ?? DEFAULT_WINDOW);
  try {
    return await inspectWith(options, opts, windowMs);
  } catch (err) {
    throw withEndpointHint(err, options);
  }
}

/** A server that cannot be read, with the flag that points inspect at the endpoint that failed. */
export class InspectError extends Error {
  override readonly name = 'InspectError';
}

/**
 * A metrics or management endpoint that cannot be reached is most often on another port than the
 * default (an emulator prints its own): the message says which flag sets it.
 */
function withEndpointHint(err: unknown, options: AdapterOptions): unknown {
  if (!(err instanceof AdapterError) || (err.kind !== 'unreachable' && err.kind !== 'timeout')) return err;
  const path = err.endpoint.replace(/^\S+ /, '');
  let hint: string | undefined;
  if (options.kind === 'triton' && path.startsWith('/metrics')) {
    hint = 'the metrics endpoint (default: the --url host on port 8002) — give --metrics-url where the server serves its metrics';
  } else if (options.kind === 'torchserve' && path.startsWith('/metrics')) {
    hint = 'the metrics API (default: the --url host on port 8082) — give --metrics-url where TorchServe serves its metrics';
  } else if (options.kind === 'torchserve' && err.message.includes(options.managementUrl ?? '\u0000')) {
    hint = 'the management API (default: the --url host on port 8081) — give --management-url where TorchServe serves it';
  } else if (options.kind === 'torchserve' && err.kind === 'timeout' && path.startsWith('/models')) {
    hint = 'the management API — give --management-url where TorchServe serves it';
  }
  return hint === undefined ? err : new InspectError(`${err.message}; that is ${hint}`, { cause: err });
}

async function inspectWith(options: AdapterOptions, opts: InspectCommandOptions, windowMs: number): Promise<InspectReport> {
  const wanted = opts.models === undefined ? undefined : modelList(opts.models);
  const adapter = createAdapter(options);
  const warnings: string[] = [];

  const [health, all, caps] = await Promise.all([adapter.health(), adapter.models(), adapter.capabilities()]);
  warnings.push(...caps.warnings);
  const models = wanted === undefined ? all : all.filter((m) => wanted.includes(m.model));
  for (const w of wanted ?? []) {
    if (!all.some((m) => m.model === w)) warnings.push(`--models: the server has no model ${w} (it has: ${all.map((m) => m.model).join(', ') || 'none'})`);
  }

  const first = await readCounters(adapter, warnings);
  const t0 = performance.now();
  if (first !== undefined) await sleep(windowMs);
  const second = first === undefined ? undefined : await readCounters(adapter, warnings);
  const elapsedMs = performance.now() - t0;

  let metricSeries: number | null = null;
  try {
    metricSeries = (await adapter.metrics()).length;
  } catch (err) {
    warnings.push(`metrics: ${warningOrThrow(err)}`);
  }

  const reports = models.map((m) => modelReport(m, first, second, elapsedMs));
  for (const r of reports) {
    if (r.rates?.reset) warnings.push(`${r.model}: its counters went down during the window (a restart or reload): rates count from the reset`);
  }
  return {
    server: adapter.kind,
    endpoint: adapter.endpoint,
    health: healthReport(health),
    capabilities: { replicas: caps.replicas, batching: caps.batching, perBatchStats: caps.perBatchStats, profiling: caps.profiling },
    models: reports,
    metricSeries,
    windowMs: Math.round(elapsedMs),
    warnings,
  };
}

/** Counters of every model, or undefined (with a warning) when the server gives none. An unreachable server is a failure. */
async function readCounters(adapter: ServerAdapter, warnings: string[]): Promise<ModelCounters[] | undefined> {
  try {
    return await adapter.counters();
  } catch (err) {
    warnings.push(`counters: ${warningOrThrow(err)}`);
    return undefined;
  }
}

/** The message of an AdapterError worth a warning; a server that went away, or any other error, is rethrown. */
function warningOrThrow(err: unknown): string {
  if (!(err instanceof AdapterError) || err.kind === 'unreachable' || err.kind === 'timeout') throw err;
  return err.message;
}

function modelReport(m: ModelStatus, first: readonly ModelCounters[] | undefined, second: readonly ModelCounters[] | undefined, elapsedMs: number): ModelReport {
  const base = {
    model: m.model,
    version: m.version ?? null,
    ready: m.ready,
    replicas: m.replicas,
    device: m.device,
    maxBatchSize: m.maxBatchSize,
    batchDelayMs: m.batchDelayMs ?? null,
  };
  const mine = (list: readonly ModelCounters[] | undefined): ModelCounters[] => (list ?? []).filter((c) => c.model === m.model);
  const now = mine(second);
  if (now.length === 0) return { ...base, counters: null, rates: null };
  // Per series (a version, on Triton), then summed for the model.
  const { delta, reset } = modelDelta(m.model, mine(first), now);
  const total = sumCounters(m.model, now);
  return {
    ...base,
    counters: countersReport(total),
    rates: elapsedMs > 0 ? { ...counterRates(delta, Math.round(elapsedMs)), reset } : null,
  };
}

function countersReport(c: ModelCounters): CountersReport {
  const s = (v: bigint | undefined): string | null => (v === undefined ? null : v.toString());
  return {
    requests: c.requests.toString(),
    failures: c.failures.toString(),
    inferences: s(c.inferences),
    executions: s(c.executions),
    queueNs: s(c.queueNs),
    computeNs: s(c.computeNs),
  };
}

function healthReport(h: ServerHealth): InspectReport['health'] {
  return { live: h.live, ready: h.ready, detail: h.detail ?? null };
}

/** The human view. */
export function formatInspect(r: InspectReport): string {
  const state = r.health.live ? (r.health.ready ? 'live, ready' : 'live, NOT ready') : 'NOT live';
  const c = r.capabilities;
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const opt = (v: number | null, fmt: (n: number) => string): string => (v === null ? '—' : fmt(v));
  const perS = (v: number): string => v.toFixed(2);
  const lines = [
    `${r.server} ${r.endpoint}   ${state}${r.health.detail ? ` (${r.health.detail})` : ''}`,
    `capabilities: replicas ${c.replicas}, batching ${c.batching}, per-batch stats ${yes(c.perBatchStats)}, profiling ${yes(c.profiling)}`,
    '',
  ];
  if (r.models.length === 0) lines.push('no models');
  else {
    lines.push(table(
      ['model', 'version', 'ready', 'replicas', 'device', 'max batch', 'delay', 'req/s', 'inf/s', 'queue/req', 'compute/req', 'batch'],
      r.models.map((m) => [
        m.model, m.version ?? '—', yes(m.ready), m.replicas, m.device, m.maxBatchSize, opt(m.batchDelayMs, fmtMs),
        opt(m.rates?.requestsPerS ?? null, perS), opt(m.rates?.inferencesPerS ?? null, perS),
        opt(m.rates?.meanQueueMs ?? null, fmtMs), opt(m.rates?.meanComputeMs ?? null, fmtMs), opt(m.rates?.meanBatchSize ?? null, (n) => n.toFixed(2)),
      ]),
    ));
  }
  lines.push('', `rates over ${(r.windowMs / 1000).toFixed(1)} s; ${r.metricSeries === null ? 'metrics unavailable' : `${r.metricSeries} metric series`}`);
  if (r.warnings.length > 0) lines.push('warnings:', ...r.warnings.map((w) => `  - ${w}`));
  return `${lines.join('\n')}\n`;
}

function parseWindow(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`--window ${text}: must be ${DURATION_HINT}`);
  if (ms <= 0 || ms > MAX_WINDOW_MS) throw new UsageError(`--window ${text}: must be more than 0 and at most 5m`);
  return ms;
}
