// A small fleet in one process for the agent tests: emulated Triton servers, one agent each on a
// private in-memory coordination hub (real clock, short election timings), and helpers to wait for
// the fleet to settle.
import { parseConfig } from '../../../src/config/index.js';
import type { InferlineConfig } from '../../../src/config/index.js';
import { createAdapter } from '../../../adapters/registry.js';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../../src/coordination/index.js';
import { normaliseProfiles } from '../../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../../src/emulator/index.js';
import type { TritonEmulator } from '../../../src/emulator/index.js';
import { Agent } from '../../../src/runtime/agent/index.js';
import { agentAdapterOptions } from '../../../src/cli/commands/agent.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import type { Logger } from '../../../src/ports/logger.js';
import type { Coordinator } from '../../../src/ports/coordinator.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';
import { DesiredReplicasFeed } from '../../../src/runtime/scaling/index.js';

export const TOKEN = 'test-token-0123456789';

export const PROFILES = [
  { model: 'preprocess', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 3 }, { batchSize: 4, latencyMs: 6 }, { batchSize: 8, latencyMs: 10 }] },
  { model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 12 }, { batchSize: 4, latencyMs: 20 }, { batchSize: 8, latencyMs: 32 }] },
];

export interface ServerSpec {
  readonly id: string;
  readonly model: string;
  readonly hardware: string;
}

export function fleetConfigText(agent: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    hardware: [{ name: 'cpu', costPerHour: 0.2 }, { name: 'gpu', costPerHour: 0.9 }],
    profiles: PROFILES,
    pipelines: [{
      name: 'images', slo: { latencyMs: 150 }, arrival: 'poisson:rate=150,duration=20s',
      stages: [
        { name: 'pre', model: 'preprocess', hardware: ['cpu'], next: [{ stage: 'cls', fraction: 1 }] },
        { name: 'cls', model: 'classify', hardware: ['gpu'], maxReplicas: 8 },
      ],
    }],
    coordination: { leaseDuration: '1500ms', renewDeadline: '1000ms', retryPeriod: '300ms', memberTtl: '1500ms' },
    tuner: { scaleDownDelay: '60s' },
    agent,
    ...extra,
  });
}

export interface FleetMember {
  readonly spec: ServerSpec;
  readonly config: InferlineConfig;
  readonly server: TritonEmulator;
  readonly agent: Agent;
  readonly telemetry: FakeTelemetry;
  readonly logs: string[];
  /** The feed its Leader publishes the replicas per stage to (when FleetOptions.desiredReplicas). */
  readonly feed?: DesiredReplicasFeed;
  /** Its coordinator (a MemoryCoordinator unless FleetOptions.coordinatorOf gives another backend). */
  readonly coordinator: Coordinator;
}

export interface FleetOptions {
  readonly mode?: 'enforce' | 'recommend';
  /** Top-level config keys over the fixture's (profiles, pipelines, …). */
  readonly extra?: Record<string, unknown>;
  /** Agent-section keys over the fixture's, per agent id. */
  readonly agentExtra?: Readonly<Record<string, Record<string, unknown>>>;
  /** The orchestrator command runner every agent gets (default: none). */
  readonly runCommand?: (argv: readonly string[], timeoutMs: number) => Promise<void>;
  /** Give every agent a DesiredReplicasFeed (member.feed). */
  readonly desiredReplicas?: boolean;
  /** Called with every log line as it is written, with its agent id. */
  readonly onLog?: (agentId: string, line: string) => void;
  /** Wraps an agent's coordinator (a fake around the real one), per agent id. */
  readonly wrapCoordinator?: (agentId: string, coordinator: Coordinator) => Coordinator;
  /** Another backend than the private memory hub (e.g. Kubernetes on a fake API server), per agent. */
  readonly coordinatorOf?: (agentId: string, config: InferlineConfig) => Promise<Coordinator>;
}

export async function startFleet(specs: readonly ServerSpec[], options: FleetOptions = {}): Promise<{ hub: MemoryCoordinationHub; members: FleetMember[]; stop: () => Promise<void> }> {
  const hub = new MemoryCoordinationHub(systemClock);
  const { profiles } = normaliseProfiles(PROFILES, () => 'p');
  const members: FleetMember[] = [];
  for (const spec of specs) {
    const server = await startTritonEmulator({ profiles: profiles.filter((p) => p.model === spec.model), hardware: spec.hardware, port: 0, metricsPort: 0, reloadDelayMs: 10 });
    const config: InferlineConfig = parseConfig(fleetConfigText({
      id: spec.id, mode: options.mode ?? 'enforce', hardware: spec.hardware, capacity: 8,
      server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl },
      api: { port: 0, token: TOKEN }, scrapeInterval: '250ms', reconcile: { interval: '250ms', cooldown: '0s', batchCooldown: '0s' },
      ...options.agentExtra?.[spec.id],
    }, options.extra), `/fleet/${spec.id}.json`);
    const logs: string[] = [];
    const log: Logger = {
      info: (m) => { logs.push(`info ${m}`); options.onLog?.(spec.id, `info ${m}`); },
      warn: (m) => { logs.push(`warn ${m}`); options.onLog?.(spec.id, `warn ${m}`); },
      error: (m) => { logs.push(`error ${m}`); options.onLog?.(spec.id, `error ${m}`); },
    };
    const telemetry = new FakeTelemetry();
    const memory = options.coordinatorOf
      ? await options.coordinatorOf(spec.id, config)
      : await MemoryCoordinator.create({ identity: spec.id, hub, timing: config.coordination.timing, memberTtlMs: config.coordination.memberTtlMs });
    const coordinator = options.wrapCoordinator?.(spec.id, memory) ?? memory;
    const adapter = createAdapter(agentAdapterOptions(config.agent as NonNullable<InferlineConfig['agent']>));
    const feed = options.desiredReplicas ? new DesiredReplicasFeed() : undefined;
    const agent = Agent.create({
      config, adapter, coordinator, clock: systemClock, telemetry, log, ...(options.runCommand ? { runCommand: options.runCommand } : {}),
      ...(feed ? { desiredReplicas: feed } : {}),
    });
    members.push({ spec, config, server, agent, telemetry, logs, coordinator: memory, ...(feed ? { feed } : {}) });
  }
  await Promise.all(members.map((m) => m.agent.start()));
  return {
    hub,
    members,
    stop: async () => {
      await Promise.all(members.map((m) => m.agent.stop()));
      await Promise.all(members.map((m) => m.server.stop()));
    },
  };
}

export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
