// An emulated fleet as separate processes: one `inferline emulate` child per server, so that a
// load generator (a replay, a bench) never shares an event loop with the servers it measures.
//
// Each child runs node directly (with tsx's loader when this file is TypeScript), listens on free
// loopback ports it picks itself (--port 0, so no port can be taken between a probe and a bind),
// prints its URLs as JSON into its log file, and answers a health check before it counts as
// ready. Each child leads its own process group; stop() ends the groups (SIGTERM, then SIGKILL
// after a grace period) and waits until every member is gone. A child also stops by itself when
// this process ends, however it ends: it watches the IPC channel to us (--stop-on-disconnect).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnCliProcess, stopCliProcess } from './cli-process.js';
import { readProfileFile } from './common/profiles.js';
import type { ModelProfile } from '../core/model/types.js';

export type EmulatedServerKind = 'triton' | 'torchserve' | 'tfserving';

/** One emulated server to start. */
export interface EmulatedServerSpec {
  readonly server: EmulatedServerKind;
  /** A profile file (YAML or JSON, {profiles: [...]}), or the profiles themselves. */
  readonly profiles: string | readonly ModelProfile[];
  /** Serve only these models of the profiles (default: every model). */
  readonly models?: readonly string[];
  /** Serve each model's profile on this hardware (default: each model's first profile). */
  readonly hardware?: string;
  /** Replicas per model: Triton instances, TorchServe workers, TF Serving batch threads. */
  readonly instances?: number;
  /** Triton max_batch_size, TorchServe batch_size, TF Serving max_batch_size. */
  readonly maxBatch?: number;
  /** The max queue delay in ms (fractional allowed: Triton and TF Serving count microseconds). */
  readonly delayMs?: number;
  /** A fixed time (ms) added to every inference request outside the batcher (--request-overhead). */
  readonly requestOverheadMs?: number;
  /** More `inferline emulate` options, e.g. ['--token-auth', 'on']; they come last. */
  readonly args?: readonly string[];
}

export interface EmulatedFleetOptions {
  /** Per server, from spawn to healthy. Default 30 s. */
  readonly startupTimeoutMs?: number;
  /** SIGTERM to SIGKILL on stop. Default 5 s. */
  readonly stopGraceMs?: number;
  /** Where the logs and generated profile files go. Default: a new temp dir, removed on stop. */
  readonly workDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Node options of every server, e.g. ['--import', probe] (the demo's event-loop probe). */
  readonly execArgv?: readonly string[];
  /** Messages a server sends over its IPC channel, with its index in the specs. */
  readonly onMessage?: (index: number, message: unknown) => void;
}

/** A running emulated server process. */
export interface EmulatedServerProcess {
  readonly spec: EmulatedServerSpec;
  readonly server: EmulatedServerKind;
  /** The leader of its process group. */
  readonly pid: number;
  /** The inference endpoint: Triton HTTP, TorchServe inference, TF Serving REST. */
  readonly url: string;
  /** Prometheus text (TorchServe in metrics_mode=prometheus, TF Serving with monitoring on). */
  readonly metricsUrl: string;
  /** TorchServe's management API; undefined for the others. */
  readonly managementUrl: string | undefined;
  /** TorchServe's key_file.json (with --token-auth on); undefined for the others. */
  readonly keyFile: string | undefined;
  /** Every URL `inferline emulate --json` printed, by its key. */
  readonly urls: Readonly<Record<string, string>>;
  /** Models served, with the max batch each was started with. */
  readonly models: readonly { readonly name: string; readonly hardware: string; readonly maxBatch: number }[];
  readonly logFile: string;
}

export interface EmulatedFleetProcesses {
  readonly servers: readonly EmulatedServerProcess[];
  /** Sends a message to every server over its IPC channel (read by a module given in execArgv). */
  send(message: unknown): void;
  /** Ends every server's process group and waits until they are gone. Idempotent. */
  stop(): Promise<void>;
}

/** Defaults that make a fleet usable as a fleet: no TorchServe token, metrics on. */
const DEFAULT_ARGS: Readonly<Record<EmulatedServerKind, readonly string[]>> = {
  triton: [],
  torchserve: ['--token-auth', 'off', '--metrics-mode', 'prometheus'],
  tfserving: ['--monitoring'],
};

/**
 * Starts one `inferline emulate` process per spec, in parallel, and resolves when every one
 * answers its health check; if any fails, the others are stopped and the error names its log.
 */
export async function startEmulatedFleet(specs: readonly EmulatedServerSpec[], options: EmulatedFleetOptions = {}): Promise<EmulatedFleetProcesses> {
  const ownDir = options.workDir === undefined;
  const dir = options.workDir ?? mkdtempSync(path.join(tmpdir(), 'inferline-fleet-'));
  const started: EmulatedServerProcess[] = [];
  const pids: number[] = [];
  const children: Child[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(pids.map((pid) => stopCliProcess(pid, options.stopGraceMs ?? 5_000)));
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const results = await Promise.allSettled(specs.map(async (spec, i) => {
    const child = spawnEmulator(spec, i, dir, options);
    pids.push(child.pid);
    children.push(child);
    return waitReady(spec, child, options.startupTimeoutMs ?? 30_000);
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop().catch(() => undefined);
    throw failed.reason;
  }
  for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
  return { servers: started, stop, send: (m) => { for (const c of children) c.send(m); } };
}

interface Child {
  readonly pid: number;
  readonly logFile: string;
  readonly keyFile: string | undefined;
  exited(): string | undefined;
  send(message: unknown): boolean;
}

function spawnEmulator(spec: EmulatedServerSpec, index: number, dir: string, options: EmulatedFleetOptions): Child {
  const name = `${index}-${spec.server}`;
  const profileFile = typeof spec.profiles === 'string' && spec.models === undefined
    ? path.resolve(spec.profiles) // the child runs elsewhere
    : writeProfiles(path.join(dir, `${name}.profiles.json`), spec);
  const keyFile = spec.server === 'torchserve' ? path.join(dir, `${name}.key_file.json`) : undefined;
  const args = [
    'emulate', '--server', spec.server, '--port', '0', '--profiles', profileFile, '--json', '--stop-on-disconnect',
    ...(spec.hardware !== undefined ? ['--hardware', spec.hardware] : []),
    ...(spec.instances !== undefined ? ['--instances', String(spec.instances)] : []),
    ...(spec.maxBatch !== undefined ? ['--max-batch', String(spec.maxBatch)] : []),
    ...(spec.delayMs !== undefined ? ['--delay', `${spec.delayMs}ms`] : []),
    ...(spec.requestOverheadMs !== undefined ? ['--request-overhead', `${spec.requestOverheadMs}ms`] : []),
    ...(keyFile !== undefined ? ['--key-file', keyFile] : []),
    ...DEFAULT_ARGS[spec.server],
    ...(spec.args ?? []),
  ];
  const onMessage = options.onMessage;
  const child = spawnCliProcess(args, {
    logFile: path.join(dir, `${name}.log`),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.execArgv !== undefined ? { execArgv: options.execArgv } : {}),
    ...(onMessage !== undefined ? { onMessage: (m: unknown) => onMessage(index, m) } : {}),
  });
  return { pid: child.pid, logFile: child.logFile, keyFile, exited: child.exited, send: child.send };
}

function writeProfiles(file: string, spec: EmulatedServerSpec): string {
  const profiles = typeof spec.profiles === 'string' ? readProfileFile(spec.profiles) : spec.profiles;
  const models = spec.models;
  const chosen = models === undefined ? profiles : profiles.filter((p) => models.includes(p.model));
  if (models !== undefined) {
    const missing = models.filter((m) => !chosen.some((p) => p.model === m));
    if (missing.length > 0) throw new RangeError(`no profile for ${missing.join(', ')}`);
  }
  writeFileSync(file, JSON.stringify({ profiles: chosen }));
  return file;
}

interface Report {
  readonly urls: Record<string, string>;
  readonly models: EmulatedServerProcess['models'];
}

async function waitReady(spec: EmulatedServerSpec, child: Child, timeoutMs: number): Promise<EmulatedServerProcess> {
  const t0 = Date.now();
  const fail = (why: string): Error => new Error(`emulated ${spec.server} (pid ${child.pid}) ${why}; log ${child.logFile}:\n${tail(child.logFile)}`);
  let report: Report | undefined;
  for (;;) {
    const exited = child.exited();
    if (exited !== undefined) throw fail(exited);
    if (Date.now() - t0 > timeoutMs) throw fail(`not ready within ${timeoutMs} ms`);
    report ??= readReport(child.logFile);
    if (report && await healthy(spec.server, report)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const u = report.urls;
  const url = u['http'] ?? u['inference'] ?? u['rest'];
  if (url === undefined) throw fail(`printed no inference URL: ${JSON.stringify(u)}`);
  return {
    spec,
    server: spec.server,
    pid: child.pid,
    url,
    metricsUrl: u['metrics'] ?? '',
    managementUrl: u['management'],
    keyFile: child.keyFile,
    urls: u,
    models: report.models,
    logFile: child.logFile,
  };
}

/** The JSON report `inferline emulate --json` prints once it listens, or undefined until then. */
function readReport(logFile: string): Report | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start)) as Report;
  } catch {
    return undefined; // not all written yet
  }
}

async function healthy(server: EmulatedServerKind, r: Report): Promise<boolean> {
  const url = server === 'triton' ? `${r.urls['http']}/v2/health/ready`
    : server === 'torchserve' ? `${r.urls['inference']}/ping`
      : `${r.urls['rest']}/v1/models/${r.models[0]?.name ?? ''}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    // TorchServe with token auth on answers /ping 400 without the key: it is up all the same.
    return res.status === 200 || (server === 'torchserve' && res.status === 400);
  } catch {
    return false;
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
