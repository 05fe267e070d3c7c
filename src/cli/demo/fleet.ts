// The demo's fleet: one emulated server per stage (Triton, TorchServe, TF Serving), one agent each
// in mode enforce, on one in-memory coordination hub, all in this process. The agents plan, tune and
// reconcile by themselves once started; the demo only watches them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdapter } from '../../../adapters/registry.js';
import { parseConfig } from '../../config/index.js';
import type { InferlineConfig } from '../../config/index.js';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../coordination/index.js';
import type { ModelProfile } from '../../core/types.js';
import { startTfServingEmulator, startTorchServeEmulator, startTritonEmulator } from '../../emulator/index.js';
import type { Logger } from '../../ports/logger.js';
import type { AdapterCapabilities, ServerAdapter } from '../../ports/server-adapter.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { Agent } from '../../runtime/agent/index.js';
import { systemClock } from '../../runtime/system-clock.js';
import { agentAdapterOptions } from '../commands/agent.js';
import { DEMO_STAGES, DEMO_TOKEN, demoConfigText } from './config.js';
import type { DemoServerKind, DemoStage } from './config.js';

export interface FleetMember {
  readonly stage: DemoStage;
  readonly agent: Agent;
  /** What the agent attaches to (its own adapter instance). */
  readonly adapter: ServerAdapter;
  /** A second adapter on the same server, for the load generator's requests. */
  readonly client: ServerAdapter;
  readonly endpoint: string;
  capabilities: AdapterCapabilities | undefined;
}

export interface DemoFleet {
  readonly members: readonly FleetMember[];
  readonly config: InferlineConfig;
  stop(): Promise<void>;
}

export interface FleetOptions {
  readonly profiles: readonly ModelProfile[];
  readonly planningRate: number;
  readonly telemetry: Telemetry;
  /** Every agent's log line, with its agent id. */
  readonly log: (agent: string, level: 'info' | 'warn' | 'error', message: string) => void;
}

interface Started {
  readonly agentServer: Record<string, unknown>;
  readonly stop: () => Promise<void>;
}

export async function startDemoFleet(options: FleetOptions): Promise<DemoFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-demo-'));
  const stops: (() => Promise<void>)[] = [];
  const members: FleetMember[] = [];
  let config: InferlineConfig | undefined;
  const hub = new MemoryCoordinationHub(systemClock);
  try {
    for (const stage of DEMO_STAGES) {
      const profiles = options.profiles.filter((p) => p.model === stage.model && p.hardware === stage.hardware);
      const started = await startServer(stage.server, profiles, stage, dir);
      stops.push(started.stop);
      const id = `demo-${stage.server}`;
      const agentConfig = parseConfig(demoConfigText(options.profiles, {
        id, mode: 'enforce', hardware: stage.hardware, capacity: stage.capacity, models: [stage.model],
        server: started.agentServer,
        api: { port: 0, token: DEMO_TOKEN }, scrapeInterval: '250ms',
        reconcile: { interval: '250ms', cooldown: '2s', batchCooldown: '5s', maxReplicas: stage.capacity, maxStepUp: 16, maxActionsPerMinute: 60 },
      }, options.planningRate), `<embedded demo: ${id}>`);
      config ??= agentConfig;
      const section = agentConfig.agent as NonNullable<InferlineConfig['agent']>;
      const adapter = createAdapter({ ...agentAdapterOptions(section), clock: systemClock, telemetry: options.telemetry });
      const client = createAdapter({ ...agentAdapterOptions({ ...section, server: { ...section.server, timeoutMs: 10_000 } }), clock: systemClock });
      const log: Logger = {
        info: (m) => options.log(id, 'info', m),
        warn: (m) => options.log(id, 'warn', m),
        error: (m) => options.log(id, 'error', m),
      };
      const coordinator = await MemoryCoordinator.create({ identity: id, hub, timing: agentConfig.coordination.timing, memberTtlMs: agentConfig.coordination.memberTtlMs });
      const agent = Agent.create({ config: agentConfig, adapter, coordinator, clock: systemClock, telemetry: options.telemetry, log, attachRetryMs: 200 });
      members.push({ stage, agent, adapter, client, endpoint: adapter.endpoint, capabilities: undefined });
    }
    await Promise.all(members.map((m) => m.agent.start()));
    await Promise.all(members.map(async (m) => { m.capabilities = await m.adapter.capabilities().catch(() => undefined); }));
  } catch (err) {
    await Promise.all(members.map((m) => m.agent.stop()));
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    members,
    config: config as InferlineConfig,
    stop: async () => {
      await Promise.all(members.map((m) => m.agent.stop()));
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startServer(kind: DemoServerKind, profiles: readonly ModelProfile[], stage: DemoStage, dir: string): Promise<Started> {
  switch (kind) {
    case 'triton': {
      const e = await startTritonEmulator({ profiles, hardware: stage.hardware, port: 0, metricsPort: 0, reloadDelayMs: 20, maxBatchSize: stage.maxBatch });
      return { agentServer: { kind, url: e.url, metricsUrl: e.metricsUrl }, stop: () => e.stop() };
    }
    case 'torchserve': {
      // Token auth on, as TorchServe ships: the agent and the load read key_file.json.
      const keyFile = join(dir, 'key_file.json');
      const e = await startTorchServeEmulator({
        profiles, hardware: stage.hardware, inferencePort: 0, managementPort: 0, metricsPort: 0, tokenAuth: true, keyFile,
        metricsMode: 'prometheus', batchSize: 1, maxBatchDelayMs: 5, jobQueueSize: 2000, workerStartupMs: 200,
      });
      return {
        agentServer: { kind, url: e.inferenceUrl, managementUrl: e.managementUrl, metricsUrl: e.metricsUrl, keyFile },
        stop: () => e.stop(),
      };
    }
    case 'tfserving': {
      const e = await startTfServingEmulator({ profiles, hardware: stage.hardware, port: 0, monitoring: true, enableBatching: true, maxBatchSize: stage.maxBatch, batchTimeoutMs: 2 });
      return { agentServer: { kind, url: e.url, metricsUrl: e.metricsUrl }, stop: () => e.stop() };
    }
  }
}
