// The demo's fleet as a miniature of a deployment: each emulated server is a process of its own
// (`inferline emulate`, through startEmulatedFleet), and so is each agent (`inferline agent
// --config FILE`, the production entry point, one config file each). The agents share the memory
// coordination backend without etcd: this process hosts the hub and serves it on loopback
// (coordination/hub-server.ts); each agent's config names it (`coordination.memory.hubUrl`).
//
// This process only watches: it reads each agent's /v1/status over HTTP, follows the agents' JSON
// log lines (their log files), and takes each child's event-loop delay from the probe loaded into
// it (loop-probe.ts). Every child leads its own process group and is stopped by stop(); a child
// also stops by itself when this process ends, however it ends (its IPC channel closes).
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';
import { createAdapter } from '../../../adapters/registry.js';
import { AGENT_NODE_FLAGS } from '../agent-node-flags.js';
import type { ModelProfile } from '../../core/model/types.js';
import { MemoryCoordinationHub, serveCoordinationHub } from '../../coordination/index.js';
import type { ServedHub } from '../../coordination/index.js';
import { sourceFile, spawnCliProcess, stopCliProcess } from '../../emulator/cli-process.js';
import type { CliProcess } from '../../emulator/cli-process.js';
import { startEmulatedFleet } from '../../emulator/fleet-processes.js';
import type { EmulatedFleetProcesses, EmulatedServerProcess, EmulatedServerSpec } from '../../emulator/fleet-processes.js';
import type { AdapterCapabilities } from '../../ports/server-adapter.js';
import { systemClock } from '../../platform/system-clock.js';
import { demoAdapterOptions } from './clients.js';
import { DEMO_STAGES, DEMO_TOKEN, demoConfigText } from './config.js';
import type { DemoStage } from './config.js';
import type { LoopReport } from './loop-probe.js';
import { PROBE_RESET } from './loop-probe.js';

/** Node options that load the event-loop probe into a child. */
export function probeExecArgv(): string[] {
  const here = new URL('.', import.meta.url);
  return ['--import', pathToFileURL(sourceFile(new URL('loop-probe.js', here).pathname)).href];
}

export interface FleetMember {
  readonly stage: DemoStage;
  readonly agentId: string;
  /** The agent's HTTP API. */
  readonly apiUrl: string;
  /** The server's inference endpoint. */
  readonly endpoint: string;
  /** The agent config's server section: what the load generator's client needs too. */
  readonly server: Readonly<Record<string, unknown>>;
  readonly serverPid: number;
  readonly agentPid: number;
  capabilities: AdapterCapabilities | undefined;
  /** The agent's last /v1/status (the full one: the demo holds the token); undefined before the first. */
  status: AgentStatusBody | undefined;
}

/** The parts of an agent's /v1/status the demo reads. */
export interface AgentStatusBody {
  readonly agent: string;
  readonly leader?: { readonly leaderId?: string; readonly epoch: number; readonly self: boolean };
  readonly observed?: readonly { readonly model: string; readonly replicas: number; readonly maxBatchSize: number }[];
  readonly fleet?: unknown;
}

/** One line an agent logged. */
export interface AgentLogLine {
  readonly agent: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The latest event-loop report of each child, by name (`emulator triton`, `agent demo-triton`, …). */
export type LoopReports = Map<string, LoopReport>;

export interface DemoFleet {
  readonly members: readonly FleetMember[];
  readonly hubUrl: string;
  /** Where the children's logs are (removed on stop). */
  readonly logDir: string;
  /** Every child: its name and process group. */
  readonly processes: readonly { readonly name: string; readonly pid: number }[];
  readonly loops: LoopReports;
  /** Reads every agent's /v1/status (in parallel, each with a short timeout); never throws. */
  poll(): Promise<void>;
  /** The agents' log lines since the last call. */
  drainLogs(): AgentLogLine[];
  /** Resets every child's event-loop histogram (the load starts). */
  resetProbes(): void;
  stop(): Promise<void>;
}

export interface FleetOptions {
  readonly profiles: readonly ModelProfile[];
  readonly planningRate: number;
  /** Messages from a child's probe, with the child's name (the load generator's come from its own owner). */
  readonly onLoop?: (name: string, report: LoopReport) => void;
}

const STATUS_TIMEOUT_MS = 1_000;
const STOP_GRACE_MS = 5_000;

/** Server options of each kind, as the demo ran them in one process before (same emulation). */
function serverSpec(stage: DemoStage, profiles: readonly ModelProfile[]): EmulatedServerSpec {
  const base = { server: stage.server, profiles, hardware: stage.hardware, maxBatch: stage.maxBatch };
  switch (stage.server) {
    case 'triton':
      return { ...base, args: ['--reload-delay', '20ms'] };
    case 'torchserve':
      // Token auth on, as TorchServe ships: the agent and the load read key_file.json.
      return { ...base, delayMs: 5, args: ['--token-auth', 'on', '--job-queue-size', '2000', '--worker-startup', '200ms'] };
    case 'tfserving':
      return { ...base, delayMs: 2 };
  }
}

function serverSection(stage: DemoStage, e: EmulatedServerProcess): Record<string, unknown> {
  switch (stage.server) {
    case 'triton': return { kind: 'triton', url: e.url, metricsUrl: e.metricsUrl, ...(e.urls['grpc'] ? { grpcUrl: e.urls['grpc'] } : {}) };
    case 'torchserve': return { kind: 'torchserve', url: e.url, managementUrl: e.managementUrl, metricsUrl: e.metricsUrl, keyFile: e.keyFile };
    case 'tfserving': return { kind: 'tfserving', url: e.url, metricsUrl: e.metricsUrl };
  }
}

export async function startDemoFleet(options: FleetOptions): Promise<DemoFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-demo-'));
  const loops: LoopReports = new Map();
  const onLoop = (name: string, m: unknown): void => {
    if (typeof m !== 'object' || m === null || (m as { kind?: unknown }).kind !== 'loop') return;
    loops.set(name, m as LoopReport);
    options.onLoop?.(name, m as LoopReport);
  };
  const hub = new MemoryCoordinationHub(systemClock);
  let served: ServedHub | undefined;
  let servers: EmulatedFleetProcesses | undefined;
  const agents: CliProcess[] = [];
  const stopAll = async (): Promise<void> => {
    // Agents first (the leader gives up its lease on the hub that still serves), then servers, then the hub.
    await Promise.all(agents.map((a) => stopCliProcess(a.pid, STOP_GRACE_MS).catch(() => undefined)));
    await servers?.stop().catch(() => undefined);
    await served?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const members: FleetMember[] = [];
  const tails: LogTail[] = [];
  try {
    served = await serveCoordinationHub(hub);
    const hubUrl = served.url;
    servers = await startEmulatedFleet(
      DEMO_STAGES.map((s) => serverSpec(s, options.profiles.filter((p) => p.model === s.model && p.hardware === s.hardware))),
      { workDir: dir, execArgv: probeExecArgv(), onMessage: (i, m) => onLoop(`server ${DEMO_STAGES[i]?.server ?? i}`, m) },
    );
    for (const [i, stage] of DEMO_STAGES.entries()) {
      const e = servers.servers[i] as EmulatedServerProcess;
      const id = `demo-${stage.server}`;
      const server = serverSection(stage, e);
      const file = join(dir, `${id}.config.json`);
      writeFileSync(file, demoConfigText(options.profiles, {
        id, mode: 'enforce', hardware: stage.hardware, capacity: stage.capacity, models: [stage.model],
        server, api: { port: 0, token: DEMO_TOKEN },
        reconcile: { interval: '250ms', cooldown: '2s', batchCooldown: '5s', maxReplicas: stage.capacity, maxStepUp: 16, maxActionsPerMinute: 60 },
      }, options.planningRate, hubUrl));
      const agent = spawnCliProcess(['agent', '--config', file, '--log-format', 'json', '--no-watch'], {
        logFile: join(dir, `${id}.log`), execArgv: [...AGENT_NODE_FLAGS, ...probeExecArgv()], onMessage: (m) => onLoop(`agent ${id}`, m),
      });
      agents.push(agent);
      const tail = new LogTail(agent.logFile, id);
      tails.push(tail);
      members.push({
        stage, agentId: id, apiUrl: '', endpoint: e.url, server, serverPid: e.pid, agentPid: agent.pid, capabilities: undefined, status: undefined,
      });
    }
    // Each agent logs its API's URL once it has started.
    await Promise.all(members.map(async (m, i) => {
      const url = await waitForApi(tails[i] as LogTail, agents[i] as CliProcess, 30_000);
      (m as { apiUrl: string }).apiUrl = url;
    }));
    await Promise.all(members.map(async (m) => {
      const adapter = createAdapter({ ...demoAdapterOptions(m.server, [m.stage.model]), clock: systemClock });
      m.capabilities = await adapter.capabilities().catch(() => undefined);
    }));
  } catch (err) {
    await stopAll();
    throw err;
  }
  // Loaded here, not with the module: every `inferline` command loads this file, and the agent has no use for axios.
  const { default: axios } = await import('axios');
  const http = axios.create({ timeout: STATUS_TIMEOUT_MS, headers: { authorization: `Bearer ${DEMO_TOKEN}` }, proxy: false });
  const processes = [
    ...servers.servers.map((s) => ({ name: `server ${s.server}`, pid: s.pid })),
    ...members.map((m) => ({ name: `agent ${m.agentId}`, pid: m.agentPid })),
  ];
  let stopping: Promise<void> | undefined;
  return {
    members,
    hubUrl: served.url,
    logDir: dir,
    processes,
    loops,
    poll: async () => {
      await Promise.all(members.map(async (m) => {
        try {
          const res = await http.get<AgentStatusBody>(`${m.apiUrl}/v1/status`);
          m.status = res.data;
        } catch {
          // An agent that does not answer keeps its last status; the view shows it as it was.
        }
      }));
    },
    drainLogs: () => tails.flatMap((t) => t.lines()),
    resetProbes: () => {
      for (const a of agents) a.send(PROBE_RESET);
      servers?.send(PROBE_RESET);
    },
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}


/** Follows a JSON-lines log file: each call returns the complete lines appended since the last. */
class LogTail {
  private offset = 0;
  private rest = '';
  private pending: AgentLogLine[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private readonly file: string;
  private readonly agent: string;

  constructor(file: string, agent: string) {
    this.file = file;
    this.agent = agent;
  }

  /** Lines to hand out again first (read while waiting for the start). */
  unread(lines: readonly AgentLogLine[]): void {
    this.pending = [...lines, ...this.pending];
  }

  lines(): AgentLogLine[] {
    const out = this.pending;
    this.pending = [];
    // Only what was appended since the last call: the demo reads a few times a second.
    let buf: Buffer;
    try {
      const fd = openSync(this.file, 'r');
      try {
        const size = fstatSync(fd).size;
        if (size <= this.offset) return out;
        buf = Buffer.alloc(size - this.offset);
        readSync(fd, buf, 0, buf.length, this.offset);
        this.offset = size;
      } finally {
        closeSync(fd);
      }
    } catch {
      return out;
    }
    const text = this.rest + this.decoder.write(buf); // a character split across reads stays whole
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as { level?: string; msg?: unknown } & Record<string, unknown>;
        const level = j.level === 'warn' || j.level === 'error' ? j.level : 'info';
        out.push({ agent: this.agent, level, message: String(j.msg ?? ''), fields: j });
      } catch { /* a line that is not JSON (a crash trace) is in the log file */ }
    }
    return out;
  }
}

async function waitForApi(tail: LogTail, child: CliProcess, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  const seen: AgentLogLine[] = [];
  for (;;) {
    for (const l of tail.lines()) {
      seen.push(l);
      const m = / API (http:\/\/\S+)$/.exec(l.message);
      if (m?.[1]) {
        tail.unread(seen);
        return m[1];
      }
    }
    const exited = child.exited();
    if (exited !== undefined) throw new Error(`agent (pid ${child.pid}) ${exited}; log ${child.logFile}:\n${readTail(child.logFile)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`agent (pid ${child.pid}) not started within ${timeoutMs} ms; log ${child.logFile}:\n${readTail(child.logFile)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
