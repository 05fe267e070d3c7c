// `inferline agent --config FILE`: the sidecar. The composition root of the agent: it loads the
// config (every problem at once, exit 2), builds the adapter from agent.server, the coordinator from
// the coordination section and the telemetry from its section, starts the Agent, reloads the config
// when the file changes or on SIGHUP, and on SIGTERM or SIGINT stops the parts in reverse order
// (the leader gives up its lease) before it exits 0. Scaling beyond the fleet's servers (the KEDA
// external scaler, the Deployment scaler, runtime/scaling) starts once the agent has.
import type { Command } from 'commander';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { adapterOptions, createAdapter } from '../../../adapters/registry.js';
import type { AdapterOptions } from '../../../adapters/registry.js';
import { ConfigError, loadConfig } from '../../config/index.js';
import type { AgentConfig, InferlineConfig } from '../../config/index.js';
import { createCoordinator } from '../../coordination/index.js';
import type { CoordinatorError } from '../../ports/coordinator.js';
import { RateLimitedLog } from '../../runtime/rate-limited-log.js';
import type { Logger } from '../../ports/logger.js';
import type { WorkloadScaleClient } from '../../ports/workload-scale.js';
import { Agent, reconcilePolicyOf, watchConfigFile } from '../../runtime/agent/index.js';
import { DesiredReplicasFeed, startScaling } from '../../runtime/scaling/index.js';
import type { RunningScaling } from '../../runtime/scaling/index.js';
import { systemClock } from '../../platform/system-clock.js';
import { noopTelemetryService } from '../../telemetry/service.js';
import type { TelemetryService } from '../../telemetry/service.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';

export interface AgentCommandOptions {
  readonly config: string;
  readonly logFormat?: string;
  /** false: reload only on SIGHUP (where file events are unreliable, e.g. network file systems). */
  readonly watch?: boolean;
}

/** The config `inferline agent` can run on: it has an agent section with a token. */
export function checkAgentConfig(config: InferlineConfig): AgentConfig {
  if (config.agent === undefined) {
    throw new ConfigError(config.source, [{ path: 'agent', message: 'missing — `inferline agent` needs an agent section (server, hardware, api.token)' }]);
  }
  if (config.agent.api.token === undefined) {
    throw new ConfigError(config.source, [{
      path: 'agent.api.token',
      message: 'missing — agents authenticate sample pushes and mutating calls with it: set agent.api.token, agent.api.tokenFile or INFERLINE_AGENT__API__TOKEN',
    }]);
  }
  return config.agent;
}

/** The adapter the agent section names (its kind's settings map it, as they map inspect's flags). */
export function agentAdapterOptions(agent: AgentConfig): AdapterOptions {
  return adapterOptions(agent.server, agent.models);
}

const COORDINATION_LOG_INTERVAL_MS = 10_000;

/**
 * A stable key per kind of error: its name, and for a backend's error the operation that failed.
 * By name: a backend loaded on demand may carry its own copy of the error classes.
 */
function errorKind(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const operation = err.name === 'CoordinatorError' ? (err as Partial<CoordinatorError>).operation : undefined;
  return operation === undefined ? err.name : `${err.name}/${operation}`;
}

export function streamLogger(output: Output, format: 'text' | 'json'): Logger {
  const line = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>): void => {
    const time = new Date().toISOString();
    if (format === 'json') output.err(`${JSON.stringify({ time, level, msg: message, ...fields })}\n`);
    else output.err(`${time} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

/** Runs a command with a timeout, without a shell (its argv as given). */
export function runCommand(argv: readonly string[], timeoutMs: number): Promise<void> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${err.message}${stderr ? ` — ${stderr.trim().slice(0, 200)}` : ''}`));
      else resolve();
    });
  });
}

export function registerAgent(program: Command, ctx: CliContext): void {
  program
    .command('agent')
    .description('the sidecar: attaches to its model server, joins the fleet, reconciles the server to the leader\'s plan (or only recommends)')
    .requiredOption('--config <file>', 'config file (YAML or JSON) with an agent section')
    .option('--log-format <format>', 'text or json (stderr)', 'text')
    .option('--no-watch', 'do not watch the config file; reload it only on SIGHUP')
    .action(async (opts: AgentCommandOptions) => {
      await runAgent(opts, ctx);
    });
}

export async function runAgent(opts: AgentCommandOptions, ctx: CliContext, signals: NodeJS.EventEmitter = process): Promise<void> {
  const format = opts.logFormat === 'json' ? 'json' : 'text';
  if (opts.logFormat !== undefined && opts.logFormat !== 'json' && opts.logFormat !== 'text') {
    throw new UsageError(`--log-format ${opts.logFormat}: must be text or json`);
  }
  const config = await loadConfig(opts.config);
  const agentConfig = checkAgentConfig(config);
  const log = streamLogger(ctx.output, format);
  // A backend that is down fails every retry: one line per kind of failure per interval, with a count.
  const coordinationLog = new RateLimitedLog({ log, clock: systemClock, intervalMs: COORDINATION_LOG_INTERVAL_MS });
  const coordinator = await createCoordinator(config.coordination, {
    identity: agentConfig.id, clock: systemClock,
    onError: (err) => coordinationLog.warn(errorKind(err), `coordination: ${err instanceof Error ? err.message : String(err)}`),
  });
  let telemetry: TelemetryService = noopTelemetryService;
  if (config.telemetry.prometheus.enabled || config.telemetry.otlp.enabled) {
    const { createTelemetry } = await import('../../telemetry/create.js');
    telemetry = createTelemetry(config.telemetry, { onError: (err) => log.warn(`telemetry: ${err instanceof Error ? err.message : String(err)}`) });
    await telemetry.start();
    if (telemetry.metricsUrl) log.info(`metrics on ${telemetry.metricsUrl}`);
  }
  const adapter = createAdapter({ ...agentAdapterOptions(agentConfig), clock: systemClock, telemetry });
  const mtime = async (): Promise<number> => (await stat(opts.config)).mtimeMs;
  const desiredReplicas = new DesiredReplicasFeed((err) => log.error(`desired replicas listener: ${err instanceof Error ? err.message : String(err)}`));
  const agent = Agent.create({ config, adapter, coordinator, clock: systemClock, telemetry, log, runCommand, configTimeMs: await mtime(), desiredReplicas });
  let scaleClient: WorkloadScaleClient | undefined;
  if (config.placement.backend === 'kubernetes-scale') {
    // Loaded only when named: the Kubernetes client is heavy.
    const { KubernetesScaleClient } = await import('../../coordination/kubernetes-scale.js');
    const kubeconfig = config.coordination.kubernetes.kubeconfig;
    scaleClient = KubernetesScaleClient.create(kubeconfig === undefined ? {} : { kubeconfigFile: kubeconfig });
  }
  let scaling: RunningScaling | undefined;
  const reload = async (): Promise<void> => {
    try {
      const timeMs = await mtime();
      agent.reload({ config: await loadConfig(opts.config), timeMs });
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map((p) => `${p.path === '' ? '' : `${p.path}: `}${p.message}`) : [String(err)];
      agent.reload({ problems });
    }
  };
  const watch = opts.watch === false ? { close: () => undefined } : watchConfigFile(opts.config, reload);
  const onHup = (): void => { void reload(); };
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  let stopping = false;
  const onStop = (): void => {
    stopping = true;
    stop();
    void agent.stop(); // also ends a start() still waiting for the server
  };
  signals.on('SIGHUP', onHup);
  signals.on('SIGTERM', onStop);
  signals.on('SIGINT', onStop);
  try {
    await agent.start();
    if (!stopping) {
      scaling = await startScaling({
        config, coordinator, feed: desiredReplicas, policy: reconcilePolicyOf(agentConfig), clock: systemClock, telemetry, log,
        ...(scaleClient === undefined ? {} : { scaleClient }),
      });
    }
    await stopped;
  } finally {
    signals.off('SIGHUP', onHup);
    signals.off('SIGTERM', onStop);
    signals.off('SIGINT', onStop);
    watch.close();
    await scaling?.stop();
    await agent.stop();
    await telemetry.shutdown();
  }
}
