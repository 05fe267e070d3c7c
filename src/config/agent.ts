// The agent and placement sections after the schema: the agent's id (default: host name and server
// kind), its hardware checked against the hardware list and its capacity defaulted from it, the
// bearer token read from its file, its server section resolved by that kind's settings, and paths
// resolved against the config file's folder. Also checks the planner's cron schedule.
import os from 'node:os';
import path from 'node:path';
import cron from 'node-cron';
import type { Problem } from '../core/model/errors.js';
import type { ParsedConfigFile } from './schema.js';
import type { AgentConfig, PlacementConfig } from './types.js';
import type { ReadFile } from './profile-sources.js';
import { describeReadError } from './profile-sources.js';
import { resolveServer } from '../../adapters/settings.js';

/** Default replicas one server hosts when neither the agent nor its hardware says. */
export const DEFAULT_AGENT_CAPACITY = 64;

export function resolveAgent(file: ParsedConfigFile, source: string, readFile: ReadFile): { config: AgentConfig | undefined; problems: Problem[] } {
  const problems: Problem[] = [];
  const a = file.agent;
  if (a === undefined) return { config: undefined, problems };
  const relative = (p: string): string => path.resolve(path.dirname(source), p);
  const hw = file.hardware.find((h) => h.name === a.hardware);
  if (hw === undefined) {
    problems.push({ path: 'agent.hardware', message: `"${a.hardware}" — must be one of the hardware names: ${file.hardware.map((h) => h.name).join(', ')}` });
  }
  if (a.server.kind === 'tfserving' && a.models === undefined) {
    problems.push({ path: 'agent.models', message: 'missing — required for TF Serving (its REST API cannot list models)' });
  }
  if (a.reconcile.minReplicas > a.reconcile.maxReplicas) {
    problems.push({ path: 'agent.reconcile.minReplicas', message: `${a.reconcile.minReplicas} — must be ≤ agent.reconcile.maxReplicas (${a.reconcile.maxReplicas})` });
  }
  if (a.api.token !== undefined && a.api.tokenFile !== undefined) {
    problems.push({ path: 'agent.api.tokenFile', message: 'give agent.api.token or agent.api.tokenFile, not both' });
  }
  let token = a.api.token;
  if (a.api.tokenFile !== undefined) {
    const tokenPath = relative(a.api.tokenFile);
    try {
      token = readFile(tokenPath).trim();
      if (token.length < 16) problems.push({ path: 'agent.api.tokenFile', message: `${tokenPath} holds ${token.length} characters — the token must be at least 16` });
    } catch (err) {
      problems.push({ path: 'agent.api.tokenFile', message: `cannot read ${tokenPath} (${describeReadError(err)})` });
    }
  }
  const host = a.api.host.includes(':') ? `[${a.api.host}]` : a.api.host;
  const { server } = a;
  return {
    problems,
    config: {
      id: a.id ?? `${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 50)}-${server.kind}`,
      mode: a.mode,
      hardware: a.hardware,
      capacity: a.capacity ?? hw?.capacity ?? DEFAULT_AGENT_CAPACITY,
      ...(a.models === undefined ? {} : { models: a.models }),
      // The kind's own keys, resolved by its settings (adapters/<kind>/settings.ts).
      server: resolveServer(server, { relative }),
      api: {
        host: a.api.host,
        port: a.api.port,
        ...(a.api.advertiseUrl === undefined && a.api.port === 0 ? {} : { advertiseUrl: (a.api.advertiseUrl ?? `http://${host}:${a.api.port}`).replace(/\/+$/, '') }),
        ...(token === undefined ? {} : { token }),
      },
      scrapeIntervalMs: a.scrapeInterval,
      // An idle interval shorter than the scrape interval would scrape faster at idle than with traffic.
      idleScrapeIntervalMs: Math.max(a.idleScrapeInterval, a.scrapeInterval),
      // A push interval shorter than the scrape interval would push every scrape anyway.
      pushIntervalMs: Math.max(a.pushInterval, a.scrapeInterval),
      reconcile: {
        intervalMs: a.reconcile.interval,
        idleIntervalMs: Math.max(a.reconcile.idleInterval, a.reconcile.interval),
        minReplicas: a.reconcile.minReplicas,
        maxReplicas: a.reconcile.maxReplicas,
        maxStepUp: a.reconcile.maxStepUp,
        maxStepDown: a.reconcile.maxStepDown,
        cooldownMs: a.reconcile.cooldown,
        batchCooldownMs: a.reconcile.batchCooldown,
        maxActionsPerMinute: a.reconcile.maxActionsPerMinute,
        maxAttempts: a.reconcile.maxAttempts,
        retryBaseMs: a.reconcile.retryBase,
      },
      profiling: { active: a.profiling.active, passive: a.profiling.passive },
    },
  };
}

export function resolvePlacement(file: ParsedConfigFile['placement'], defaultNamespace: string): PlacementConfig {
  return {
    backend: file.backend,
    ...(file.orchestratorCommand === undefined ? {} : { orchestratorCommand: file.orchestratorCommand }),
    commandTimeoutMs: file.commandTimeout,
    workloads: file.workloads.map((w) => ({ ...w, namespace: w.namespace ?? defaultNamespace })),
    externalScaler: { ...file.externalScaler },
  };
}

/** Workloads that name no stage of the config, the same stage twice, bounds the wrong way round; a scale backend with no workload. */
export function placementProblems(file: ParsedConfigFile): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const named = new Map<string, number>();
  file.placement.workloads.forEach((w, i) => {
    const at = `placement.workloads[${i}]`;
    const pipeline = file.pipelines.find((p) => p.name === w.pipeline);
    if (pipeline === undefined) problems.push({ path: `${at}.pipeline`, message: `"${w.pipeline}" — must be a pipeline of this config (${file.pipelines.map((p) => p.name).join(', ')})` });
    else if (!pipeline.stages.some((st) => st.name === w.stage)) problems.push({ path: `${at}.stage`, message: `"${w.stage}" — must be a stage of pipeline ${w.pipeline} (${pipeline.stages.map((st) => st.name).join(', ')})` });
    const key = `${w.pipeline}\u0000${w.stage}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.push({ path: `${at}.stage`, message: `${w.pipeline}/${w.stage} — must have one workload (also at placement.workloads[${earlier}])` });
    else seen.set(key, i);
    // Two stages on one workload would each set its replicas to their own figure, in turn.
    const workload = `${w.kind}/${w.namespace ?? file.coordination.kubernetes.namespace}/${w.name}`;
    const first = named.get(workload);
    if (first !== undefined) problems.push({ path: `${at}.name`, message: `"${w.name}" — must run one stage (${workload} is also at placement.workloads[${first}])` });
    else named.set(workload, i);
    if (w.minReplicas > w.maxReplicas) problems.push({ path: `${at}.minReplicas`, message: `${w.minReplicas} — must be ≤ maxReplicas (${w.maxReplicas})` });
  });
  if (file.placement.backend === 'kubernetes-scale' && file.placement.workloads.length === 0) {
    problems.push({ path: 'placement.workloads', message: '[] — must name at least one workload when placement.backend is kubernetes-scale' });
  }
  return problems;
}

export function scheduleProblems(schedule: string): Problem[] {
  return cron.validate(schedule) ? [] : [{ path: 'planner.schedule', message: `"${schedule}" — must be a cron expression such as "*/15 * * * *" (minute hour day month weekday)` }];
}
