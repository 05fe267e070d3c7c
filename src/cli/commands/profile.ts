// `inferline profile`: measures a model's profile table (latency and throughput per batch size)
// on one server, per hardware. Active: sends batches in a closed loop and sweeps batch sizes
// (refusing a server with live traffic unless told otherwise; on Triton it can switch the
// instance kind between CPU and GPU and always restores the original config). Passive (Triton):
// watches the per-batch-size statistics of the traffic the server already serves. Writes the
// planner's profile format (merged into --out), a JSON result, and an HTML report.
import type { Command } from 'commander';
import { createAdapter } from '../../../adapters/registry.js';
import type { ServerFlags } from '../../../adapters/registry.js';
import { formatDurationMs } from '../../core/model/duration.js';
import type { Clock } from '../../ports/clock.js';
import {
  ACTIVE_DEFAULTS, mergeIntoProfileFile, PASSIVE_DEFAULTS, runActiveProfile, runPassiveProfile,
} from '../../runtime/profiler/index.js';
import type { HardwareTarget, ProfileFileUpdate } from '../../runtime/profiler/index.js';
import { systemClock } from '../../platform/system-clock.js';
import type { CliContext } from '../context.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';
import { UsageError } from '../errors.js';
import { printJson, processOutput } from '../output.js';
import { createProgress, PROGRESS_STYLES } from '../progress.js';
import type { ProgressStyle } from '../progress.js';
import { renderProfileReport } from '../report/index.js';
import { addServerFlags, serverAdapterOptions } from './server-flags.js';
import {
  count, defaultHardwareName, duration, HOP_IN_FLIGHT_DEFAULT, parseBatchSizes, parseHardware, parseHopInFlight,
} from './profile/flags.js';
import { SweepProgress } from './profile/progress.js';
import { activeReport, formatProfile, htmlReport, passiveReport } from './profile/report.js';
import type { ProfileCommandReport } from './profile/report.js';

export { parseBatchSizes, parseHardware } from './profile/flags.js';
export { formatProfile } from './profile/report.js';
export type { HardwareReport, PointReport, ProfileCommandReport } from './profile/report.js';

/** The server flags (no --models: a profile is of one --model). */
export interface ProfileCommandOptions extends Omit<ServerFlags, 'models'> {
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
}


export interface ProfileRunOptions {
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Default: lines (the command picks per --progress). */
  readonly progress?: ProgressStyle;
}

export function registerProfile(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  addServerFlags(program
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
    .option('--progress <style>', `progress on stderr: ${PROGRESS_STYLES.join(', ')} (auto: a bar on a terminal, lines otherwise)`, 'auto'))
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
  const adapterOptions = serverAdapterOptions(opts.server, { ...opts, models: opts.model });
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

