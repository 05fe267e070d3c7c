// `inferline profile`: measures a model's profile table (latency and throughput per batch size)
// on one server, per hardware. Active: sends batches in a closed loop and sweeps batch sizes
// (refusing a server with live traffic unless told otherwise; on Triton it can switch the
// instance kind between CPU and GPU and always restores the original config). Passive (Triton):
// watches the per-batch-size statistics of the traffic the server already serves. Writes the
// planner's profile format (merged into --out), a JSON result, and an HTML report.
import type { Command } from 'commander';
import { createAdapter } from '../../../adapters/registry.js';
import { DURATION_HINT, formatDurationMs, parseDurationMs } from '../../core/model/duration.js';
import { activeProfile, batchingKnee, hopOverheadCurve, hopOverheadMs, isoTime, passiveProfile, pointLatencyMs } from '../../core/profiler/index.js';
import type { PointResult } from '../../core/profiler/index.js';
import type { ProfileOptions } from '../../core/model/profiles.js';
import type { HopOverheadPoint } from '../../core/model/types.js';
import type { Clock } from '../../ports/clock.js';
import type { DeviceKind, ServerKind } from '../../ports/server-adapter.js';
import {
  ACTIVE_DEFAULTS, mergeIntoProfileFile, PASSIVE_DEFAULTS, runActiveProfile, runPassiveProfile,
} from '../../runtime/profiler/index.js';
import type {
  ActiveProfileResult, HardwareTarget, PassiveProfileResult, ProfileEvent, ProfileFileUpdate, RestoreOutcome,
} from '../../runtime/profiler/index.js';
import { systemClock } from '../../platform/system-clock.js';
import type { CliContext } from '../context.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';
import { UsageError } from '../errors.js';
import { fmtMs, printJson, processOutput, table } from '../output.js';
import { createProgress, PROGRESS_STYLES } from '../progress.js';
import type { Progress, ProgressStyle } from '../progress.js';
import { renderProfileReport } from '../report/index.js';
import type { ProfileReport } from '../report/index.js';
import { inspectAdapterOptions } from './inspect.js';

export interface ProfileCommandOptions {
  readonly server: string;
  readonly url: string;
  readonly model: string;
  readonly hardware?: string;
  readonly batchSizes?: string;
  readonly budget?: string;
  readonly window?: string;
  readonly maxWindows?: string;
  readonly warmup?: string;
  readonly hopInFlight?: string;
  readonly timeout?: string;
  readonly allowLiveTraffic?: boolean;
  readonly passive?: boolean;
  readonly duration?: string;
  readonly interval?: string;
  readonly minSamples?: string;
  readonly out?: string;
  readonly report?: string;
  readonly json?: boolean;
  readonly progress?: string;
  readonly metricsUrl?: string;
  readonly grpcUrl?: string;
  readonly managementUrl?: string;
  readonly token?: string;
  readonly keyFile?: string;
  readonly header?: string;
}

/** One point in the output; null where not measured. */
export interface PointReport {
  readonly batchSize: number;
  /** Active: stable | unstable | cut | failed. Passive: stable | few-samples. */
  readonly status: string;
  /** What the profile table records: computeLatencyMs where the server reports timings, else clientLatencyMs. */
  readonly latencyMs: number | null;
  readonly computeLatencyMs: number | null;
  readonly queueLatencyMs: number | null;
  /** Where computeLatencyMs comes from: batch-stats (Triton, exactly this size), per-request (counters), or null. */
  readonly timing: 'batch-stats' | 'per-request' | null;
  readonly clientLatencyMs: number | null;
  readonly p99LatencyMs: number | null;
  /** Items per second per replica. */
  readonly throughputQps: number | null;
  /** Measurement windows (active; 0 for passive). */
  readonly windows: number;
  /** Batches measured (active: in the last three windows; passive: executions). */
  readonly samples: number;
  /** max/min − 1 of the last three windows (active; null inside when a window was empty; compute null without server timings). */
  readonly spread: { readonly latency: number | null; readonly throughput: number | null; readonly compute: number | null } | null;
  readonly measuredAt: string;
  readonly error: string | null;
}

export interface HardwareReport {
  readonly hardware: string;
  readonly device: DeviceKind;
  /** The instance kind was switched for it (Triton). */
  readonly switched: boolean;
  readonly replicas: number;
  readonly batchSizes: readonly number[];
  /** Active: the time budget; passive: null. */
  readonly budgetMs: number | null;
  readonly wallMs: number;
  /** The smallest batch size after which the next one adds less than 10 % throughput per replica. */
  readonly knee: number | null;
  /** The fixed cost of one request there and back (client median − server queue − compute, at the smallest batch); null without server timings. */
  readonly hopOverheadMs: number | null;
  /** The hop overhead by requests in flight, where measured at more than one concurrency. */
  readonly hopOverheadCurve: readonly HopOverheadPoint[] | null;
  readonly points: readonly PointReport[];
  readonly error: string | null;
}

/** The --json output. */
export interface ProfileCommandReport {
  readonly mode: 'active' | 'passive';
  readonly server: ServerKind;
  readonly endpoint: string;
  readonly model: string;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly hardware: readonly HardwareReport[];
  /** Active: whether what was changed (the instance kind) was put back; null in passive mode. */
  readonly restore: RestoreOutcome | null;
  readonly interrupted: boolean;
  readonly warnings: readonly string[];
  /** The measured profile table, in the planner's format (what --out merges). */
  readonly profiles: readonly ProfileOptions[];
  readonly out: ProfileFileUpdate | null;
  readonly report: string | null;
}

export interface ProfileRunOptions {
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Default: lines (the command picks per --progress). */
  readonly progress?: ProgressStyle;
}

export function registerProfile(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('profile')
    .description('measure a model\'s profile table (latency and throughput per batch size) on a server, per hardware')
    .requiredOption('--server <kind>', 'server kind: triton, torchserve, tfserving')
    .requiredOption('--url <url>', 'Triton HTTP API, TorchServe inference API, or TF Serving REST API')
    .requiredOption('--model <name>', 'the model to profile')
    .option('--hardware <list>', 'the hardware name(s) to record the profile under (default: the device the model runs on, cpu or gpu). '
      + 'Triton: NAME=cpu|gpu switches the instance kind first, e.g. cpu=cpu,gpu-t4=gpu profiles both; the original config is restored')
    .option('--batch-sizes <list>', 'batch sizes to sweep, e.g. 1,2,4,8 (default: powers of two up to the model\'s max batch, and the max batch)')
    .option('--budget <duration>', 'time budget per hardware; points left when it runs out are cut', formatDurationMs(ACTIVE_DEFAULTS.budgetMs))
    .option('--window <duration>', 'shortest measurement window (a window also waits for 5 batches)', formatDurationMs(ACTIVE_DEFAULTS.windowMs))
    .option('--max-windows <n>', 'the trials cap: most windows per batch size before the point is marked unstable', String(ACTIVE_DEFAULTS.maxWindows))
    .option('--warmup <n>', 'batches per replica sent and discarded at each batch size', String(ACTIVE_DEFAULTS.warmupRequests))
    .option('--hop-in-flight <list>', 'after the sweep, measure the hop overhead again at batch 1 with this many requests in flight per replica '
      + '(e.g. 4 or 4,8; "none" to skip): the estimator costs a hop by the requests in flight at the stage', String(HOP_IN_FLIGHT_DEFAULT))
    .option('--timeout <duration>', 'timeout of every inference request', formatDurationMs(ACTIVE_DEFAULTS.timeoutMs))
    .option('--allow-live-traffic', 'profile even when the server is serving traffic (active mode refuses otherwise)')
    .option('--passive', 'Triton: send nothing; derive compute latency per executed batch size from the live traffic\'s statistics')
    .option('--duration <duration>', `passive: how long to watch (default: "${formatDurationMs(PASSIVE_DEFAULTS.durationMs)}")`)
    .option('--interval <duration>', `passive: how often to read the statistics (default: "${formatDurationMs(PASSIVE_DEFAULTS.intervalMs)}")`)
    .option('--min-samples <n>', `passive: executions a batch size needs to count as stable (default: ${PASSIVE_DEFAULTS.minSamples})`)
    .option('--out <file>', 'merge the profile into this profile file (created if absent; .yaml/.yml or .json)')
    .option('--report <file>', 'write an HTML page: latency and throughput against batch size, per hardware')
    .option('--json', 'print a JSON object')
    .option('--progress <style>', `progress on stderr: ${PROGRESS_STYLES.join(', ')} (auto: a bar on a terminal, lines otherwise)`, 'auto')
    .option('--metrics-url <url>', 'metrics endpoint (Triton: port 8002; TorchServe: port 8082; TF Serving: a path on --url)')
    .option('--grpc-url <host:port>', 'Triton: its gRPC address (host:port) for model loads, which over HTTP stall inference (default: port 8001 when --url is on 8000, else HTTP; none: HTTP)')
    .option('--management-url <url>', "TorchServe management API (default: --url's host on port 8081)")
    .option('--token <key>', 'TorchServe: the key for both the inference and management APIs (or INFERLINE_TORCHSERVE_TOKEN)')
    .option('--key-file <path>', "TorchServe: key_file.json from TorchServe's working directory")
    .option('--header <name=value>', 'Triton: the header its --http-restricted-api asks for, sent on every request')
    .addHelpText('after', [
      '',
      'Each point is measured in windows with one batch in flight per replica, until three consecutive',
      'windows agree within 10 % (client latency, throughput, and the server\'s compute time where it',
      'reports one), --max-windows is reached (unstable), or its share of the budget ends (cut). A failing',
      'point is recorded and the sweep goes on. Ctrl-C stops the sweep and restores what was changed.',
      '',
      'Exit status: 0 ok, 1 when nothing could be measured, the server has live traffic, the run was',
      'interrupted or the original config could not be restored, 2 on bad input.',
    ].join('\n'))
    .action(async (opts: ProfileCommandOptions) => {
      const controller = new AbortController();
      const onSignal = (sig: NodeJS.Signals): void => {
        output.err(`\n${sig}: stopping the profile and restoring what it changed (${sig} again quits at once)\n`);
        controller.abort(new Error(`interrupted by ${sig}`));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      // The system clock's timers do not hold the process open (they are for background loops);
      // this command is the foreground, so it does, until it is done.
      const keepAlive = setInterval(() => undefined, 60_000);
      try {
        const style = progressStyle(opts.progress ?? 'auto', ctx);
        const report = await runProfileCommand(opts, ctx, { signal: controller.signal, progress: style });
        if (opts.json) printJson(output, report);
        else output.out(formatProfile(report));
        ctx.exitCode = exitCodeOf(report);
      } finally {
        clearInterval(keepAlive);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

function progressStyle(text: string, ctx: CliContext): ProgressStyle {
  if (!(PROGRESS_STYLES as readonly string[]).includes(text)) throw new UsageError(`--progress ${text}: must be one of: ${PROGRESS_STYLES.join(', ')}`);
  if (text !== 'auto') return text as ProgressStyle;
  return ctx.output === processOutput && process.stderr.isTTY === true ? 'bar' : 'lines';
}

/** 0 when a profile came out and nothing is left changed; 1 otherwise. */
export function exitCodeOf(r: ProfileCommandReport): number {
  if (r.interrupted || (r.restore !== null && !r.restore.ok) || r.profiles.length === 0) return 1;
  return 0;
}

/** Runs the profile the flags ask for, writes --out and --report, and returns the result. */
export async function runProfileCommand(opts: ProfileCommandOptions, ctx: CliContext, run: ProfileRunOptions = {}): Promise<ProfileCommandReport> {
  const model = opts.model.trim();
  if (model === '') throw new UsageError('--model: must name a model');
  const adapterOptions = inspectAdapterOptions({
    server: opts.server, url: opts.url, metricsUrl: opts.metricsUrl, grpcUrl: opts.grpcUrl, managementUrl: opts.managementUrl, token: opts.token, keyFile: opts.keyFile,
    header: opts.header, models: opts.model,
  });
  const hardware = opts.hardware === undefined ? undefined : parseHardware(opts.hardware, adapterOptions.kind, opts.passive === true);
  const outFormatOk = (f: string | undefined, flag: string, re: RegExp, what: string): void => {
    if (f !== undefined && !re.test(f)) throw new UsageError(`${flag} ${f}: must be ${what}`);
  };
  outFormatOk(opts.out, '--out', /\.(ya?ml|json)$/i, 'a .yaml, .yml or .json file');
  outFormatOk(opts.report, '--report', /\.html?$/i, 'an .html file');
  if (opts.out !== undefined) await checkOutputPath('--out', opts.out);
  if (opts.report !== undefined) await checkOutputPath('--report', opts.report);
  const clock = run.clock ?? systemClock;
  const progress = createProgress(ctx.output, run.progress ?? 'lines');
  const adapter = createAdapter(adapterOptions);

  let report: Omit<ProfileCommandReport, 'out' | 'report'>;
  if (opts.passive) {
    if (adapterOptions.kind !== 'triton') {
      throw new UsageError(`--passive: only for --server triton (per-batch-size execution statistics); ${adapterOptions.kind} reports none`);
    }
    for (const [flag, given] of [['--batch-sizes', opts.batchSizes], ['--allow-live-traffic', opts.allowLiveTraffic]] as const) {
      if (given !== undefined) throw new UsageError(`${flag}: only for active profiling (passive sends nothing)`);
    }
    const settings = {
      durationMs: duration('--duration', opts.duration, PASSIVE_DEFAULTS.durationMs),
      intervalMs: duration('--interval', opts.interval, PASSIVE_DEFAULTS.intervalMs),
      minSamples: count('--min-samples', opts.minSamples, PASSIVE_DEFAULTS.minSamples, 1),
    };
    const name = hardware?.[0]?.name ?? defaultHardwareName((await adapter.model(model)).device, model);
    const result = await runPassiveProfile(adapter, { model, hardware: name, ...settings }, {
      clock, ...(run.signal ? { signal: run.signal } : {}),
      onEvent: (e) => progress.update(e.elapsedMs, e.durationMs, `watching ${model}: ${e.executions} executions`),
    });
    progress.end();
    report = passiveReport(result, (await adapter.model(model).catch(() => undefined))?.device ?? 'unknown');
  } else {
    for (const [flag, given] of [['--duration', opts.duration], ['--interval', opts.interval], ['--min-samples', opts.minSamples]] as const) {
      if (given !== undefined) throw new UsageError(`${flag}: only with --passive`);
    }
    const settings = {
      budgetMs: duration('--budget', opts.budget, ACTIVE_DEFAULTS.budgetMs),
      windowMs: duration('--window', opts.window, ACTIVE_DEFAULTS.windowMs),
      maxWindows: count('--max-windows', opts.maxWindows, ACTIVE_DEFAULTS.maxWindows, 3),
      warmupRequests: count('--warmup', opts.warmup, ACTIVE_DEFAULTS.warmupRequests, 0),
      hopInFlightPerReplica: parseHopInFlight(opts.hopInFlight ?? String(HOP_IN_FLIGHT_DEFAULT)),
      timeoutMs: duration('--timeout', opts.timeout, ACTIVE_DEFAULTS.timeoutMs),
      ...(opts.batchSizes !== undefined ? { batchSizes: parseBatchSizes(opts.batchSizes) } : {}),
    };
    const targets: HardwareTarget[] = hardware ?? [{ name: defaultHardwareName((await adapter.model(model)).device, model) }];
    const tracker = new SweepProgress(progress, model);
    const result = await runActiveProfile(adapter, { model, hardware: targets, ...settings, allowLiveTraffic: opts.allowLiveTraffic === true }, { clock, ...(run.signal ? { signal: run.signal } : {}), onEvent: (e) => tracker.on(e) }).finally(() => progress.end());
    report = activeReport(result, model);
  }

  let out: ProfileFileUpdate | null = null;
  let reportFile: string | null = null;
  const warnings = [...report.warnings];
  if (report.interrupted) {
    if (opts.out !== undefined || opts.report !== undefined) warnings.push('interrupted: nothing was written (--out, --report)');
  } else {
    if (opts.out !== undefined) {
      if (report.profiles.length > 0) {
        out = mergeIntoProfileFile(opts.out, report.profiles);
        for (const k of out.kept) {
          warnings.push(`${k.model} on ${k.hardware}, batch ${k.batchSize}: the new point is unstable; the stable one in ${opts.out} was kept`);
        }
      } else warnings.push(`nothing measured: ${opts.out} was not changed`);
    }
    if (opts.report !== undefined) {
      await writeOutputFile('--report', opts.report, renderProfileReport(htmlReport(report)));
      reportFile = opts.report;
    }
  }
  return { ...report, warnings, out, report: reportFile };
}

// ---- flags ----

/** `cpu`, `gpu-t4`, or on Triton `cpu=cpu,gpu-t4=gpu` (switch the instance kind first). */
export function parseHardware(text: string, server: ServerKind, passive: boolean): HardwareTarget[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--hardware ${JSON.stringify(text)}: must name the hardware, e.g. --hardware gpu-t4`);
  const targets = items.map((item): HardwareTarget => {
    const [name = '', kind, extra] = item.split('=').map((s) => s.trim());
    if (name === '' || extra !== undefined) throw new UsageError(`--hardware ${item}: must be NAME or NAME=cpu|gpu`);
    if (kind === undefined) return { name };
    const device = kind.toLowerCase().replace(/^kind_/, '');
    if (device !== 'cpu' && device !== 'gpu') throw new UsageError(`--hardware ${item}: the instance kind must be cpu or gpu`);
    if (server !== 'triton') {
      throw new UsageError(`--hardware ${item}: only Triton can switch a model's device (its instance kind); on ${server} name the hardware it runs on, e.g. --hardware ${name}`);
    }
    if (passive) throw new UsageError(`--hardware ${item}: passive profiling changes nothing; name the hardware the model runs on, e.g. --hardware ${name}`);
    return { name, device };
  });
  const names = targets.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UsageError(`--hardware: ${dup} is named twice`);
  if (passive && targets.length > 1) throw new UsageError('--hardware: passive profiling observes one hardware, the one the model runs on');
  if (targets.length > 1 && targets.some((t) => t.device === undefined)) {
    throw new UsageError('--hardware: with several hardware names, give each its instance kind (NAME=cpu|gpu)');
  }
  return targets;
}

export function parseBatchSizes(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const sizes = parts.map(Number);
  const bad = parts.filter((p, i) => !/^\d+$/.test(p) || !((sizes[i] as number) >= 1));
  if (parts.length === 0 || bad.length > 0) {
    throw new UsageError(`--batch-sizes ${text}: must be whole numbers ≥ 1 separated by commas, e.g. 1,2,4,8${bad.length > 0 ? ` (not: ${bad.join(', ')})` : ''}`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function duration(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDurationMs(text);
  if (ms === undefined || !(ms > 0)) throw new UsageError(`${flag} ${text}: must be ${DURATION_HINT}, more than 0`);
  return ms;
}

function count(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min) throw new UsageError(`${flag} ${text}: must be a whole number ≥ ${min}`);
  return n;
}

function defaultHardwareName(device: DeviceKind, model: string): string {
  if (device === 'unknown') {
    throw new UsageError(`--hardware: the server does not say which device ${model} runs on; name the hardware, e.g. --hardware gpu-t4`);
  }
  return device;
}

// ---- progress ----

/** Turns the runner's events into a bar (points done of all points) and lines. */
class SweepProgress {
  private done = 0;
  private total = 0;
  private readonly announced = new Set<string>();

  constructor(private readonly progress: Progress, private readonly model: string) {}

  on(e: ProfileEvent): void {
    const p = this.progress;
    switch (e.kind) {
      case 'traffic-check':
        p.update(0, 1, `checking ${this.model}'s server for live traffic (${formatDurationMs(e.windowMs)})`);
        break;
      case 'switch':
        p.line(`${e.hardware}: switching ${this.model} to KIND_${e.device.toUpperCase()} instances`);
        break;
      case 'hardware':
        if (!this.announced.has(e.hardware)) {
          this.announced.add(e.hardware);
          this.total += e.batchSizes.length;
        }
        p.line(`${e.hardware}: sweeping batch ${e.batchSizes.join(', ')} with ${e.replicas} replica${e.replicas === 1 ? '' : 's'} on ${e.device}`);
        break;
      case 'hardware-failed':
        p.line(`${e.hardware}: ${e.error}`);
        break;
      case 'point':
        p.update(this.done, Math.max(1, this.total), `${e.hardware} batch ${e.batchSize}: ${e.phase === 'warm-up' ? 'warm-up' : `window ${e.windows + 1}`}`);
        break;
      case 'point-done':
        this.done++;
        p.line(`${e.hardware} batch ${e.point.batchSize}: ${describePoint(e.point)}`);
        p.update(this.done, Math.max(1, this.total), `${e.hardware}: ${this.done}/${this.total} points`);
        break;
      case 'restoring':
        p.update(this.done, Math.max(1, this.total), `restoring ${this.model}'s original config`);
        break;
      case 'restored':
        p.line(e.outcome.ok ? `restored ${this.model}'s original config` : `RESTORING ${this.model}'s ORIGINAL CONFIG FAILED: ${e.outcome.detail ?? ''}`);
        break;
    }
  }
}

function describePoint(p: PointResult): string {
  if (p.status === 'failed') return `failed: ${p.error ?? 'unknown error'}`;
  if (p.clientP50Ms === undefined) return `${p.status} before its first window`;
  const parts = [
    p.server !== undefined ? `compute ${fmtMs(p.server.computeMs)}` : undefined,
    `client P50 ${fmtMs(p.clientP50Ms)}`,
    p.clientP99Ms !== undefined ? `P99 ${fmtMs(p.clientP99Ms)}` : undefined,
    p.throughputQps !== undefined ? `${p.throughputQps.toFixed(1)} items/s per replica` : undefined,
  ].filter((s): s is string => s !== undefined);
  return `${parts.join(', ')} — ${p.status} after ${p.windows} window${p.windows === 1 ? '' : 's'} (${p.samples} batches)`;
}

/** Requests in flight per replica at which `inferline profile` measures the hop overhead again by default. */
const HOP_IN_FLIGHT_DEFAULT = 4;

function parseHopInFlight(text: string): number[] {
  if (text.trim() === 'none') return [];
  const parts = text.split(',').map((x) => x.trim());
  const values = parts.map(Number);
  if (parts.length === 0 || values.some((v) => !Number.isInteger(v) || v < 2 || v > 64) || new Set(values).size !== values.length) {
    throw new UsageError(`--hop-in-flight ${text}: must be distinct whole numbers from 2 to 64 separated by commas, e.g. 4 or 4,8 (or "none")`);
  }
  return values.sort((a, b) => a - b);
}

// ---- results ----

function activeReport(r: ActiveProfileResult, model: string): Omit<ProfileCommandReport, 'out' | 'report'> {
  const profiles = r.hardware.map((h) => activeProfile(model, h.hardware, h.points, h.hopPoints)).filter((p): p is ProfileOptions => p !== undefined);
  return {
    mode: 'active',
    server: r.server,
    endpoint: r.endpoint,
    model,
    startedAt: isoTime(r.startedAtMs),
    wallMs: Math.round(r.wallMs),
    hardware: r.hardware.map((h): HardwareReport => {
      const points = h.points.map(activePointReport);
      return {
        hardware: h.hardware, device: h.device, switched: h.switched, replicas: h.replicas, batchSizes: h.batchSizes,
        budgetMs: h.budgetMs, wallMs: Math.round(h.wallMs), knee: kneeOf(points), hopOverheadMs: hopOverheadMs(h.points) ?? null,
        hopOverheadCurve: hopOverheadCurve(h.points, h.hopPoints) ?? null, points, error: h.error ?? null,
      };
    }),
    restore: r.restore,
    interrupted: r.interrupted,
    warnings: r.warnings,
    profiles,
  };
}

function activePointReport(p: PointResult): PointReport {
  const r = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : Number(v.toPrecision(6)));
  return {
    batchSize: p.batchSize,
    status: p.status,
    latencyMs: p.status === 'failed' ? null : r(pointLatencyMs(p)),
    computeLatencyMs: r(p.server?.computeMs),
    queueLatencyMs: r(p.server?.queueMs),
    timing: p.server?.basis ?? null,
    clientLatencyMs: r(p.clientP50Ms),
    p99LatencyMs: r(p.clientP99Ms),
    throughputQps: r(p.throughputQps),
    windows: p.windows,
    samples: p.samples,
    spread: p.spread === undefined ? null : { latency: r(p.spread.latency), throughput: r(p.spread.throughput), compute: r(p.spread.compute) },
    measuredAt: isoTime(p.measuredAtMs),
    error: p.error ?? null,
  };
}

function passiveReport(r: PassiveProfileResult, device: DeviceKind): Omit<ProfileCommandReport, 'out' | 'report'> {
  const measuredAtMs = r.startedAtMs + r.observedMs;
  const profile = passiveProfile(r.model, r.hardware, r.points, measuredAtMs);
  const points = r.points.map((p): PointReport => ({
    batchSize: p.batchSize,
    status: p.enough ? 'stable' : 'few-samples',
    latencyMs: Number(p.computeMs.toPrecision(6)),
    computeLatencyMs: Number(p.computeMs.toPrecision(6)),
    queueLatencyMs: null,
    timing: 'batch-stats',
    clientLatencyMs: null,
    p99LatencyMs: null,
    throughputQps: Number(((p.batchSize * 1000) / p.computeMs).toPrecision(6)),
    windows: 0,
    samples: p.samples,
    spread: null,
    measuredAt: isoTime(measuredAtMs),
    error: null,
  }));
  return {
    mode: 'passive',
    server: r.server,
    endpoint: r.endpoint,
    model: r.model,
    startedAt: isoTime(r.startedAtMs),
    wallMs: Math.round(r.observedMs),
    hardware: [{
      hardware: r.hardware, device, switched: false, replicas: 0, batchSizes: r.points.map((p) => p.batchSize), budgetMs: null,
      wallMs: Math.round(r.observedMs), knee: kneeOf(points), hopOverheadMs: null, hopOverheadCurve: null, points, error: null,
    }],
    restore: null,
    interrupted: r.interrupted,
    warnings: r.warnings,
    profiles: profile === undefined ? [] : [profile],
  };
}

function kneeOf(points: readonly PointReport[]): number | null {
  const usable = points.filter((p) => p.throughputQps !== null && p.status !== 'failed') as (PointReport & { throughputQps: number })[];
  return batchingKnee(usable) ?? null;
}

// ---- human output ----

export function formatProfile(r: ProfileCommandReport): string {
  const lines = [`profile ${r.model} on ${r.server} ${r.endpoint} — ${r.mode}, ${(r.wallMs / 1000).toFixed(1)} s${r.interrupted ? ', INTERRUPTED' : ''}`];
  const opt = (v: number | null, f: (n: number) => string): string => (v === null ? '—' : f(v));
  for (const h of r.hardware) {
    const how = r.mode === 'passive' ? 'observed' : `${h.replicas} replica${h.replicas === 1 ? '' : 's'}${h.switched ? `, switched to KIND_${h.device.toUpperCase()}` : ''}`;
    lines.push('', `${h.hardware} (${h.device}; ${how})`);
    if (h.error !== null) lines.push(`  ${h.error}`);
    if (h.points.length > 0) {
      const body = table(
        ['batch', 'latency', 'compute', 'queue', 'client P50', 'client P99', 'items/s/replica', 'windows', 'batches', 'status'],
        h.points.map((p) => [
          p.batchSize, opt(p.latencyMs, fmtMs), opt(p.computeLatencyMs, fmtMs), opt(p.queueLatencyMs, fmtMs), opt(p.clientLatencyMs, fmtMs),
          opt(p.p99LatencyMs, fmtMs), opt(p.throughputQps, (n) => n.toFixed(1)), p.windows, p.samples, p.status + (p.error !== null ? `: ${p.error}` : ''),
        ]),
      );
      lines.push(...body.split('\n').map((l) => `  ${l}`));
      const timing = h.points.find((p) => p.timing !== null)?.timing ?? null;
      lines.push(`  latency = ${timing === 'batch-stats' ? 'the server\'s compute time per batch (per-batch-size statistics)'
        : timing === 'per-request' ? 'the server\'s compute time per batch (its counters, queueing excluded)' : 'the client-observed median (the server reports no timings)'}`);
      if (h.knee !== null) lines.push(`  batching stops paying after batch ${h.knee}: the next size adds less than 10 % throughput per replica`);
      if (h.hopOverheadMs !== null) lines.push(`  hop overhead ${fmtMs(h.hopOverheadMs)} per request (client median − server queue − compute): the estimator adds it to every visit`);
      if (h.hopOverheadCurve !== null) {
        lines.push(`  hop overhead by requests in flight: ${h.hopOverheadCurve.map((c) => `${c.inFlight}: ${fmtMs(c.hopOverheadMs)}`).join(', ')} (the estimator interpolates by the requests in flight at the stage)`);
      }
    }
  }
  lines.push('');
  if (r.restore !== null && r.restore.needed) {
    lines.push(r.restore.ok ? `restored the original config of ${r.model}` : `FAILED TO RESTORE the original config of ${r.model}: ${r.restore.detail ?? ''}`);
  }
  if (r.out !== null) {
    lines.push(`${r.out.merged ? 'merged into' : 'wrote'} ${r.out.file}: ${r.out.written} point${r.out.written === 1 ? '' : 's'} written, ${r.out.profiles} profile${r.out.profiles === 1 ? '' : 's'} in the file`);
  }
  if (r.report !== null) lines.push(`report: ${r.report}`);
  if (r.warnings.length > 0) lines.push('warnings:', ...r.warnings.map((w) => `  - ${w}`));
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

function htmlReport(r: Omit<ProfileCommandReport, 'out' | 'report'>): ProfileReport {
  const u = (v: number | null): number | undefined => v ?? undefined;
  return {
    title: `Profile of ${r.model}`,
    model: r.model,
    server: `${r.server} ${r.endpoint}`,
    mode: r.mode,
    measuredAt: r.startedAt,
    generatedBy: `inferline profile ${process.argv.slice(3).join(' ')}`.trim(),
    hardware: r.hardware.map((h) => ({
      name: h.hardware,
      device: `${h.device}${h.switched ? ` (switched to KIND_${h.device.toUpperCase()})` : ''}`,
      points: h.points.map((p) => ({
        batchSize: p.batchSize, status: p.status, samples: p.samples,
        ...defined({ latencyMs: u(p.latencyMs), computeMs: u(p.computeLatencyMs), queueMs: u(p.queueLatencyMs), clientP50Ms: u(p.clientLatencyMs), clientP99Ms: u(p.p99LatencyMs), throughputQps: u(p.throughputQps), note: p.error ?? undefined }),
      })),
      ...(h.error !== null ? { note: h.error } : h.knee !== null ? { note: `Batching stops paying after batch ${h.knee}: the next size adds less than 10 % throughput per replica.` } : {}),
    })),
    notes: r.warnings,
  };
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
