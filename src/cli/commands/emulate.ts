// `inferline emulate`: runs one emulated model server (Triton, TorchServe or TF Serving) hosting
// every model of a profile file, prints where it listens, and serves until SIGINT or SIGTERM.
import type { Command } from 'commander';
import { DURATION_HINT, parseDurationMs } from '../../core/model/duration.js';
import type { ModelProfile } from '../../core/model/types.js';
import {
  PortUnavailableError, readProfileFile, selectModels, startTfServingEmulator, startTorchServeEmulator, startTritonEmulator,
} from '../../emulator/index.js';
import type { EmulatedModel, TorchServeMetricsMode, TritonApiGroup, TritonModelControlMode, TritonRestriction } from '../../emulator/index.js';
import { UsageError } from '../errors.js';
import { printJson, table } from '../output.js';
import type { CliContext } from '../context.js';
import { checkOutputPath } from '../output-file.js';

export interface EmulateCommandOptions {
  readonly server: string;
  readonly port: string;
  readonly profiles: string;
  readonly hardware?: string;
  readonly instances?: string;
  readonly maxBatch?: string;
  readonly delay?: string;
  readonly requestOverhead?: string;
  readonly modelControlMode?: string;
  readonly httpRestrictedApi?: readonly string[];
  readonly tokenAuth?: string;
  readonly enableModelApi?: boolean;
  readonly keyFile?: string;
  readonly metricsPort?: string;
  readonly grpcPort?: string;
  readonly managementPort?: string;
  readonly metricsMode?: string;
  readonly monitoring?: boolean;
  readonly maxEnqueuedBatches?: string;
  readonly seed?: string;
  readonly jobQueueSize?: string;
  readonly workerStartup?: string;
  readonly reloadDelay?: string;
  readonly json?: boolean;
  readonly stopOnDisconnect?: boolean;
}

/** Where a running emulator listens, as printed (and as --json prints it). */
export interface EmulatorReport {
  readonly server: 'triton' | 'torchserve' | 'tfserving';
  readonly urls: Readonly<Record<string, string>>;
  readonly ports: Readonly<Record<string, number>>;
  readonly models: readonly { readonly name: string; readonly hardware: string; readonly maxBatch: number }[];
  /** Models of the file without a profile on --hardware (not served). */
  readonly skipped: readonly string[];
  readonly keyFile?: string;
}

export interface RunningEmulator {
  readonly report: EmulatorReport;
  stop(): Promise<void>;
}

const SERVERS = ['triton', 'torchserve', 'tfserving'] as const;

/** Flags that only some servers take: given for another, they are refused rather than ignored. */
const SERVER_FLAGS: readonly (readonly [keyof EmulateCommandOptions, string, readonly (typeof SERVERS)[number][]])[] = [
  ['modelControlMode', '--model-control-mode', ['triton']],
  ['httpRestrictedApi', '--http-restricted-api', ['triton']],
  ['tokenAuth', '--token-auth', ['torchserve']],
  ['enableModelApi', '--enable-model-api', ['torchserve']],
  ['keyFile', '--key-file', ['torchserve']],
  ['managementPort', '--management-port', ['torchserve']],
  ['metricsMode', '--metrics-mode', ['torchserve']],
  ['metricsPort', '--metrics-port', ['triton', 'torchserve']],
  ['grpcPort', '--grpc-port', ['triton']],
  ['monitoring', '--monitoring', ['tfserving']],
  ['maxEnqueuedBatches', '--max-enqueued-batches', ['tfserving']],
  ['seed', '--seed', ['triton', 'torchserve']],
  ['jobQueueSize', '--job-queue-size', ['torchserve']],
  ['workerStartup', '--worker-startup', ['torchserve']],
  ['reloadDelay', '--reload-delay', ['triton']],
];

export function registerEmulate(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('emulate')
    .description('run one emulated model server hosting every model of a profile file, until SIGINT or SIGTERM')
    .requiredOption('--server <kind>', 'triton, torchserve or tfserving')
    .requiredOption('--port <n>', 'main port: Triton HTTP, TorchServe inference, TF Serving REST (0: a free one)')
    .requiredOption('--profiles <file>', 'profile file ({profiles: [...]}, YAML or JSON)')
    .option('--hardware <name>', "serve each model's profile on this hardware (default: each model's first profile)")
    .option('--instances <n>', 'replicas per model: Triton instances, TorchServe workers, TF Serving batch threads (default 1)')
    .option('--max-batch <n>', 'Triton max_batch_size, TorchServe batch_size, TF Serving max_batch_size')
    .option('--delay <d>', 'max queue delay: Triton max_queue_delay_microseconds, TorchServe max_batch_delay, TF Serving batch_timeout, e.g. 5ms')
    .option('--request-overhead <d>', 'a fixed time added to every inference request outside the batcher (HTTP and serialisation), e.g. 0.3ms; default 0')
    .option('--model-control-mode <mode>', 'Triton: explicit (load/unload allowed, the default) or none (503 like the real default)')
    .option('--http-restricted-api <spec>', 'Triton: API[,API...]:<header>=<value>, as --http-restricted-api (repeatable)', collect)
    .option('--token-auth <on|off>', 'TorchServe token authorization (default on)')
    .option('--enable-model-api', 'TorchServe: allow register and unregister (405 otherwise)')
    .option('--key-file <path>', 'TorchServe: where key_file.json is written (default ./key_file.json)')
    .option('--metrics-port <n>', 'Triton or TorchServe metrics port (default: port + 2, or a free one with --port 0)')
    .option('--grpc-port <n>', 'Triton: the gRPC port of model loads (default: port + 1, or a free one with --port 0)')
    .option('--management-port <n>', 'TorchServe management port (default: port + 1, or a free one with --port 0)')
    .option('--metrics-mode <mode>', 'TorchServe metrics_mode: log (empty /metrics, the default) or prometheus')
    .option('--monitoring', 'TF Serving: enable Prometheus at /monitoring/prometheus/metrics (404 otherwise)')
    .option('--max-enqueued-batches <n>', 'TF Serving: max_enqueued_batches, past which a predict gets 503 (default unbounded; the real default is 10)')
    .option('--seed <n>', 'seed (Triton GPU UUID, TorchServe keys)')
    .option('--job-queue-size <n>', 'TorchServe job_queue_size: requests queued per model before 503 (default 100, as TorchServe)')
    .option('--worker-startup <d>', 'TorchServe: how long a new worker takes to start, e.g. 200ms (default 0)')
    .option('--reload-delay <d>', 'Triton: how long a model load (a config change) takes, e.g. 20ms (default 50ms)')
    .option('--json', 'print where the server listens as JSON')
    .option('--stop-on-disconnect', 'also stop when the parent process\'s IPC channel closes (a fleet started by startEmulatedFleet)')
    .addHelpText('after', '\nExit status: 0 after a clean stop, 2 on bad input.')
    .action(async (opts: EmulateCommandOptions) => {
      const running = await startEmulator(opts);
      if (opts.json) printJson(output, running.report);
      else output.out(formatReport(running.report));
      const signal = await waitForSignal(opts.stopOnDisconnect === true);
      if (!opts.json) output.out(`${signal}: stopping\n`);
      await running.stop();
    });
}

/** A port the server listens on, and how it was chosen (given, or `--port` + offset). */
interface AssignedPort {
  readonly flag: string;
  readonly port: number;
  readonly offset?: number;
}

/**
 * Checks the options, reads the profiles and starts the server. A port that is taken or reserved
 * is bad input naming the flag it came from, or the default it was derived from.
 */
export async function startEmulator(opts: EmulateCommandOptions): Promise<RunningEmulator> {
  const assigned: AssignedPort[] = [];
  try {
    return await launchEmulator(opts, assigned);
  } catch (err) {
    if (!(err instanceof PortUnavailableError)) throw err;
    const a = assigned.find((x) => x.port === err.port && x.port !== 0);
    const fix = err.reason === 'taken' ? 'pick another, or --port 0 for free ones' : 'pick one above 1023, or --port 0 for free ones';
    if (a === undefined) throw new UsageError(`${err.message} — ${fix}`);
    if (a.offset === undefined) throw new UsageError(`${a.flag} ${a.port}: ${err.message} — ${fix}`);
    throw new UsageError(`${a.flag} (not given, so --port + ${a.offset} = ${a.port}): ${err.message} — give ${a.flag}, or ${fix}`);
  }
}

/** The flags, checked: everything but the ports other than --port, read with the profiles. */
interface EmulateSettings {
  readonly server: (typeof SERVERS)[number];
  readonly port: number;
  readonly instances: number | undefined;
  readonly maxBatch: number | undefined;
  readonly delayMs: number | undefined;
  readonly requestOverheadMs: number | undefined;
  readonly mode: string;
  readonly tokenAuth: string;
  readonly metricsMode: string;
  readonly seed: number | undefined;
  readonly maxEnqueuedBatches: number | undefined;
  readonly restrictions: readonly TritonRestriction[];
  readonly jobQueueSize: number | undefined;
  readonly workerStartupMs: number | undefined;
  readonly reloadDelayMs: number | undefined;
}

/** What every server's start takes from the command line. */
interface LaunchInput {
  readonly opts: EmulateCommandOptions;
  readonly s: EmulateSettings;
  readonly common: { readonly profiles: readonly ModelProfile[]; readonly hardware?: string; readonly requestOverheadMs?: number };
  /** A sibling port: the flag's value, or --port + offset (0 with --port 0). */
  readonly sibling: (flag: string, given: string | undefined, offset: number) => number;
}

async function launchEmulator(opts: EmulateCommandOptions, assigned: AssignedPort[]): Promise<RunningEmulator> {
  const s = checkFlags(opts);
  const port = s.port;
  assigned.push({ flag: '--port', port });
  const sibling = (flag: string, given: string | undefined, offset: number): number => {
    if (given !== undefined) {
      const p = parsePort(flag, given);
      assigned.push({ flag, port: p });
      return p;
    }
    if (port === 0) return 0;
    if (port + offset > 65535) throw new UsageError(`${flag}: port ${port} + ${offset} is past 65535 — give ${flag}`);
    assigned.push({ flag, port: port + offset, offset });
    return port + offset;
  };

  // The TorchServe emulator writes its key file: a path that cannot be written fails now, by name.
  if (opts.keyFile !== undefined) await checkOutputPath('--key-file', opts.keyFile);
  const profiles: ModelProfile[] = readProfileFile(opts.profiles);
  // Checked here so that a bad --hardware or --max-batch is bad input, not a failure to start.
  const { models } = selectModels(profiles, opts.hardware);
  const maxBatch = s.maxBatch;
  if (maxBatch !== undefined) {
    const short = models.filter((m) => m.curve.maxBatch < maxBatch);
    if (short.length > 0) {
      throw new UsageError(`--max-batch ${maxBatch}: past the largest profiled batch size of ${short.map((m) => `${m.name} (${m.curve.maxBatch})`).join(', ')}`);
    }
  }
  const common = {
    profiles,
    ...(opts.hardware !== undefined ? { hardware: opts.hardware } : {}),
    ...(s.requestOverheadMs !== undefined ? { requestOverheadMs: s.requestOverheadMs } : {}),
  };
  const input: LaunchInput = { opts, s, common, sibling };
  switch (s.server) {
    case 'triton': return launchTriton(input);
    case 'torchserve': return launchTorchServe(input);
    case 'tfserving': return launchTfServing(input);
  }
}

/** Checks every flag but the sibling ports, in the order the errors are reported. */
function checkFlags(opts: EmulateCommandOptions): EmulateSettings {
  const server = opts.server as (typeof SERVERS)[number];
  if (!SERVERS.includes(server)) throw new UsageError(`--server ${opts.server}: unknown server — must be one of: ${SERVERS.join(', ')}`);
  for (const [key, flag, servers] of SERVER_FLAGS) {
    if (opts[key] !== undefined && !servers.includes(server)) {
      throw new UsageError(`${flag}: only for --server ${servers.join(' or ')} — ${server === 'tfserving' ? 'TF Serving serves everything on its one --port' : `not used by ${server}`}`);
    }
  }
  const port = parsePort('--port', opts.port);
  const instances = opts.instances === undefined ? undefined : parseCount('--instances', opts.instances, 1);
  const maxBatch = opts.maxBatch === undefined ? undefined : parseCount('--max-batch', opts.maxBatch, 1);
  const delayMs = durationFlag('--delay', opts.delay);
  const requestOverheadMs = durationFlag('--request-overhead', opts.requestOverhead);
  const mode = opts.modelControlMode ?? 'explicit';
  if (mode !== 'explicit' && mode !== 'none') throw new UsageError(`--model-control-mode ${mode}: must be explicit or none`);
  const tokenAuth = opts.tokenAuth ?? 'on';
  if (tokenAuth !== 'on' && tokenAuth !== 'off') throw new UsageError(`--token-auth ${tokenAuth}: must be on or off`);
  const metricsMode = opts.metricsMode ?? 'log';
  if (!['log', 'prometheus', 'legacy'].includes(metricsMode)) throw new UsageError(`--metrics-mode ${metricsMode}: must be log, prometheus or legacy`);
  const seed = opts.seed === undefined ? undefined : parseCount('--seed', opts.seed, 0);
  const maxEnqueuedBatches = opts.maxEnqueuedBatches === undefined ? undefined : parseCount('--max-enqueued-batches', opts.maxEnqueuedBatches, 1);
  const restrictions = (opts.httpRestrictedApi ?? []).map(parseRestriction);
  const jobQueueSize = opts.jobQueueSize === undefined ? undefined : parseCount('--job-queue-size', opts.jobQueueSize, 1);
  const workerStartupMs = durationFlag('--worker-startup', opts.workerStartup);
  const reloadDelayMs = durationFlag('--reload-delay', opts.reloadDelay);
  return {
    server, port, instances, maxBatch, delayMs, requestOverheadMs, mode, tokenAuth, metricsMode, seed, maxEnqueuedBatches, restrictions,
    jobQueueSize, workerStartupMs, reloadDelayMs,
  };
}

function described(list: readonly EmulatedModel[], batch: (m: EmulatedModel) => number): EmulatorReport['models'] {
  return list.map((m) => ({ name: m.name, hardware: m.hardware, maxBatch: batch(m) }));
}

async function launchTriton({ opts, s, common, sibling }: LaunchInput): Promise<RunningEmulator> {
  const { maxBatch, instances, delayMs, reloadDelayMs, seed, restrictions } = s;
  const e = await startTritonEmulator({
    ...common,
    port: s.port,
    metricsPort: sibling('--metrics-port', opts.metricsPort, 2),
    grpcPort: sibling('--grpc-port', opts.grpcPort, 1),
    modelControlMode: s.mode as TritonModelControlMode,
    ...(restrictions.length > 0 ? { restrictedApis: restrictions } : {}),
    ...(instances !== undefined ? { instances } : {}),
    ...(maxBatch !== undefined ? { maxBatchSize: maxBatch } : {}),
    ...(delayMs !== undefined ? { maxQueueDelayMs: delayMs } : {}),
    ...(reloadDelayMs !== undefined ? { reloadDelayMs } : {}),
    ...(seed !== undefined ? { seed } : {}),
  });
  return {
    report: {
      server: s.server, urls: { http: e.url, metrics: e.metricsUrl, grpc: e.grpcUrl ?? '' }, ports: { http: e.port, metrics: e.metricsPort, grpc: e.grpcPort ?? 0 },
      models: described(e.models, (m) => maxBatch ?? m.curve.maxBatch), skipped: e.skipped,
    },
    stop: () => e.stop(),
  };
}

async function launchTorchServe({ opts, s, common, sibling }: LaunchInput): Promise<RunningEmulator> {
  const { maxBatch, instances, delayMs, jobQueueSize, workerStartupMs, seed } = s;
  const e = await startTorchServeEmulator({
    ...common,
    inferencePort: s.port,
    managementPort: sibling('--management-port', opts.managementPort, 1),
    metricsPort: sibling('--metrics-port', opts.metricsPort, 2),
    tokenAuth: s.tokenAuth === 'on',
    enableModelApi: opts.enableModelApi === true,
    metricsMode: s.metricsMode as TorchServeMetricsMode,
    ...(opts.keyFile !== undefined ? { keyFile: opts.keyFile } : {}),
    ...(instances !== undefined ? { workers: instances } : {}),
    ...(maxBatch !== undefined ? { batchSize: maxBatch } : {}),
    ...(delayMs !== undefined ? { maxBatchDelayMs: delayMs } : {}),
    ...(jobQueueSize !== undefined ? { jobQueueSize } : {}),
    ...(workerStartupMs !== undefined ? { workerStartupMs } : {}),
    ...(seed !== undefined ? { seed } : {}),
  });
  return {
    report: {
      server: s.server,
      urls: { inference: e.inferenceUrl, management: e.managementUrl, metrics: e.metricsUrl },
      ports: { inference: e.inferencePort, management: e.managementPort, metrics: e.metricsPort },
      models: described(e.models, () => maxBatch ?? 1), skipped: e.skipped,
      ...(e.keyFile !== undefined ? { keyFile: e.keyFile } : {}),
    },
    stop: () => e.stop(),
  };
}

async function launchTfServing({ opts, s, common }: LaunchInput): Promise<RunningEmulator> {
  const { maxBatch, instances, delayMs, maxEnqueuedBatches } = s;
  const e = await startTfServingEmulator({
    ...common,
    port: s.port,
    monitoring: opts.monitoring === true,
    ...(instances !== undefined ? { numBatchThreads: instances } : {}),
    ...(maxBatch !== undefined ? { maxBatchSize: maxBatch } : {}),
    ...(delayMs !== undefined ? { batchTimeoutMs: delayMs } : {}),
    ...(maxEnqueuedBatches !== undefined ? { maxEnqueuedBatches } : {}),
  });
  return {
    report: {
      server: s.server, urls: { rest: e.url, metrics: e.metricsUrl }, ports: { rest: e.port },
      models: described(e.models, (m) => maxBatch ?? m.curve.maxBatch), skipped: e.skipped,
    },
    stop: () => e.stop(),
  };
}

export function formatReport(r: EmulatorReport): string {
  const lines = [`emulated ${r.server} listening (Ctrl-C to stop)`];
  for (const [k, url] of Object.entries(r.urls)) lines.push(`  ${k.padEnd(10)} ${url}`);
  if (r.keyFile) lines.push(`  key file   ${r.keyFile}`);
  lines.push(table(['model', 'hardware', 'max batch'], r.models.map((m) => [m.name, m.hardware, m.maxBatch])).replace(/^/gm, '  '));
  if (r.skipped.length > 0) lines.push(`  not served (no profile on that hardware): ${r.skipped.join(', ')}`);
  lines.push(`  inspect it: ${inspectCommand(r)}`);
  return `${lines.join('\n')}\n`;
}

/** The `inferline inspect` line that reads this emulator, every port named (they differ from inspect's defaults). */
export function inspectCommand(r: EmulatorReport): string {
  const u = r.urls;
  switch (r.server) {
    case 'triton':
      return `inferline inspect --server triton --url ${u['http']} --metrics-url ${u['metrics']}`;
    case 'torchserve':
      return `inferline inspect --server torchserve --url ${u['inference']} --management-url ${u['management']} --metrics-url ${u['metrics']}${r.keyFile ? ` --key-file ${r.keyFile}` : ''}`;
    case 'tfserving':
      return `inferline inspect --server tfserving --url ${u['rest']} --models ${r.models.map((m) => m.name).join(',')}`;
  }
}

/**
 * Resolves with the name of the first SIGINT or SIGTERM, or 'disconnect' when asked to and the
 * IPC channel to the parent closes (the parent ended, however it ended).
 */
function waitForSignal(onDisconnect: boolean): Promise<NodeJS.Signals | 'disconnect'> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals | 'disconnect'): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('disconnect', onDisconnected);
      resolve(signal);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const onDisconnected = (): void => done('disconnect');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (onDisconnect) {
      // The channel only watches the parent: it must not keep this process alive after a stop.
      process.channel?.unref();
      if (process.connected) process.on('disconnect', onDisconnected);
      else if (process.send !== undefined) done('disconnect');
    }
  });
}

const API_GROUPS: readonly TritonApiGroup[] = [
  'health', 'metadata', 'inference', 'shared-memory', 'model-config', 'model-repository', 'statistics', 'trace', 'logging',
];

/** Triton's --http-restricted-api syntax: `API[,API...]:<restricted-key>=<restricted-value>`. */
function parseRestriction(spec: string): TritonRestriction {
  const m = /^([^:]+):([^=]+)=(.+)$/.exec(spec);
  const groups = m?.[1]?.split(',').map((g) => g.trim()) ?? [];
  const unknown = groups.find((g) => !API_GROUPS.includes(g as TritonApiGroup));
  if (!m || groups.length === 0 || unknown !== undefined) {
    throw new UsageError(`--http-restricted-api ${spec}: must be API[,API...]:<header>=<value> with APIs among ${API_GROUPS.join(', ')}`);
  }
  return { groups: groups as TritonApiGroup[], header: (m[2] as string).trim(), value: m[3] as string };
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parsePort(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} ${text}: must be a port number 0–65535`);
  return n;
}

function durationFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new UsageError(`${flag} ${text}: must be ${DURATION_HINT}`);
  return ms;
}

function parseCount(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${text}: must be an integer ≥ ${min}`);
  return n;
}
