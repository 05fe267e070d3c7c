// A fleet for the fleet-safety tests and the handover measurement: a real etcd, N `inferline
// agent` processes (each in its own process group, killed by pid), each beside an emulated Triton
// server in this process; helpers to read statuses (with the token), find the leader, and tamper
// with etcd directly (a zombie's record, a restored backup) through a plain etcd3 client.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { normaliseProfiles } from '../../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../../src/emulator/index.js';
import type { TritonEmulator } from '../../../src/emulator/index.js';
import { startEtcd, type EtcdHandle } from '../etcd/etcd-process.js';
import { freePorts, logTail, spawnGroup, stopGroup, type GroupProcess } from '../servers/process.js';
import { REPO_ROOT } from '../servers/status.js';

export const FLEET_TOKEN = 'fleet-safety-token-0123456789';

export const PROFILES = [
  { model: 'preprocess', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 3 }, { batchSize: 4, latencyMs: 6 }, { batchSize: 8, latencyMs: 10 }] },
  { model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 12 }, { batchSize: 4, latencyMs: 20 }, { batchSize: 8, latencyMs: 32 }] },
  { model: 'postprocess', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 6 }] },
];

export const SLO_MS = 150;

export interface FleetNode {
  readonly id: string;
  readonly model: string;
  readonly hardware: string;
  server: TritonEmulator;
  readonly configFile: string;
  readonly logFile: string;
  readonly apiUrl: string;
  proc: GroupProcess | undefined;
}

export interface NodeStatus {
  agent: string;
  leader: { leaderId?: string; epoch: number; self: boolean };
  desired?: { epoch: number; revision: string; models: { model: string; replicas: number; maxBatchSize?: number }[]; enforced?: boolean };
  desiredIgnored?: { epoch: number; revision: string; writtenBy: string; reason: string; models?: { model: string; replicas: number }[] };
  fleet?: { pipelines: { plan?: { sloMs: number; stages: Record<string, { hardware: string; batchSize: number; replicas: number }> }; desired: Record<string, number> }[]; repairs: number };
}

export interface FleetOptions {
  readonly leaseMs?: number;
  readonly extraConfig?: Record<string, unknown>;
  readonly agentExtra?: Record<string, unknown>;
}

export function configText(node: { id: string; hardware: string; serverUrl: string; metricsUrl: string; apiPort: number }, etcd: string, prefix: string, o: FleetOptions = {}): string {
  const leaseMs = o.leaseMs ?? 3000;
  return JSON.stringify({
    hardware: [{ name: 'cpu', costPerHour: 0.2 }, { name: 'gpu', costPerHour: 0.9 }],
    profiles: PROFILES,
    pipelines: [{
      name: 'images', slo: { latencyMs: SLO_MS }, arrival: 'poisson:rate=150,duration=20s',
      stages: [
        { name: 'pre', model: 'preprocess', hardware: ['cpu'], next: [{ stage: 'cls', fraction: 1 }] },
        { name: 'cls', model: 'classify', hardware: ['gpu'], next: [{ stage: 'post', fraction: 1 }] },
        { name: 'post', model: 'postprocess', hardware: ['cpu'] },
      ],
    }],
    coordination: {
      backend: 'etcd', leaseDuration: `${leaseMs}ms`, renewDeadline: `${Math.round(leaseMs * 2 / 3)}ms`, retryPeriod: '500ms', memberTtl: '3s',
      etcd: { endpoints: [etcd], prefix, requestTimeout: '2s' },
    },
    telemetry: { prometheus: { enabled: false } },
    agent: {
      id: node.id, mode: 'enforce', hardware: node.hardware, capacity: 8,
      server: { kind: 'triton', url: node.serverUrl, metricsUrl: node.metricsUrl },
      api: { port: node.apiPort, token: FLEET_TOKEN },
      scrapeInterval: '500ms',
      reconcile: { interval: '500ms', cooldown: '0s', batchCooldown: '0s', maxAttempts: 3, retryBase: '200ms' },
      ...o.agentExtra,
    },
    ...o.extraConfig,
  }, null, 2);
}

export class Fleet {
  readonly nodes: FleetNode[] = [];
  readonly prefix = `/inferline-safety-${process.pid}-${Date.now()}/`;
  dir = '';
  etcd: EtcdHandle | undefined;
  private client: Etcd3 | undefined;

  static async start(etcdBin: string, o: FleetOptions = {}): Promise<Fleet> {
    const f = new Fleet();
    f.etcd = await startEtcd(etcdBin);
    f.dir = mkdtempSync(join(tmpdir(), 'inferline-safety-'));
    const { profiles } = normaliseProfiles(PROFILES, () => 'p');
    const specs = [
      { id: 'agent-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'agent-cls', model: 'classify', hardware: 'gpu' },
      { id: 'agent-post', model: 'postprocess', hardware: 'cpu' },
    ];
    const ports = await freePorts(specs.length);
    for (const [i, s] of specs.entries()) {
      const server = await startTritonEmulator({ profiles: profiles.filter((p) => p.model === s.model), hardware: s.hardware, port: 0, metricsPort: 0, instances: 1, reloadDelayMs: 10 });
      const apiPort = ports[i] as number;
      const configFile = join(f.dir, `${s.id}.json`);
      writeFileSync(configFile, configText({ id: s.id, hardware: s.hardware, serverUrl: server.url, metricsUrl: server.metricsUrl, apiPort }, f.etcd.endpoint, f.prefix, o));
      f.nodes.push({ ...s, server, configFile, logFile: join(f.dir, `${s.id}.log`), apiUrl: `http://127.0.0.1:${apiPort}`, proc: undefined });
    }
    for (const n of f.nodes) f.startAgent(n);
    return f;
  }

  startAgent(n: FleetNode): void {
    n.proc = spawnGroup(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'agent', '--config', n.configFile], {
      cwd: REPO_ROOT, env: { ...process.env }, logFile: n.logFile,
    });
  }

  /** kill -9 of the agent's whole process group. */
  kill(n: FleetNode): void {
    if (n.proc) process.kill(-n.proc.pid, 'SIGKILL');
  }

  async stopAgent(n: FleetNode): Promise<void> {
    if (n.proc) await stopGroup(n.proc.pid, 5000);
    n.proc = undefined;
  }

  get etcdClient(): Etcd3 {
    this.client ??= new Etcd3({ hosts: [(this.etcd as EtcdHandle).endpoint] });
    return this.client;
  }

  /** Writes a desired-state record straight into etcd, around the fencing transaction (a zombie's replay, a restored backup). */
  async tamper(agentId: string, spec: unknown, epoch: number, writtenBy = 'zombie'): Promise<void> {
    await this.etcdClient.put(`${this.prefix}desired/${agentId}`).value(JSON.stringify({ spec, epoch, writtenBy }));
  }

  async storedRecord(agentId: string): Promise<{ spec: { models: { model: string; replicas: number }[] }; epoch: number; writtenBy: string } | undefined> {
    const text = await this.etcdClient.get(`${this.prefix}desired/${agentId}`).string();
    return text === null ? undefined : JSON.parse(text) as never;
  }

  async status(n: FleetNode): Promise<NodeStatus | undefined> {
    try {
      const res = await fetch(`${n.apiUrl}/v1/status`, { headers: { authorization: `Bearer ${FLEET_TOKEN}` }, signal: AbortSignal.timeout(1500) });
      return res.ok ? await res.json() as NodeStatus : undefined;
    } catch {
      return undefined;
    }
  }

  async leader(live: readonly FleetNode[] = this.nodes.filter((n) => n.proc)): Promise<{ node: FleetNode; epoch: number } | undefined> {
    const all = await Promise.all(live.map((n) => this.status(n)));
    if (all.some((s) => s === undefined)) return undefined;
    const ids = new Set(all.map((s) => s?.leader.leaderId));
    const self = live.filter((_, i) => all[i]?.leader.self);
    if (ids.size !== 1 || self.length !== 1 || [...ids][0] !== self[0]?.id) return undefined;
    return { node: self[0] as FleetNode, epoch: all.find((s) => s?.leader.self)?.leader.epoch as number };
  }

  replicas(): Record<string, number> {
    return Object.fromEntries(this.nodes.map((n) => [n.model, n.server.engine(n.model)?.replicas ?? -1]));
  }

  async until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.nodes.map((n) => `--- ${n.id}\n${logTail(n.logFile, 15)}`).join('\n')}`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) if (n.proc) await stopGroup(n.proc.pid, 5000).catch(() => undefined);
    for (const n of this.nodes) await n.server.stop().catch(() => undefined);
    this.client?.close();
    await this.etcd?.dispose();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
