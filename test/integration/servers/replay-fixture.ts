// The user's flow of `inferline replay` against a REAL server, shared by replay-real.test.ts and
// the bench's fidelity-real section: start the server with the sleep model (a batch of k sleeps
// 4 + 1·k ms; batching, queueing and HTTP are the server's own), profile it with `inferline
// profile` (batch sizes 1, 2, 4, 8, into a profile file with the hop overhead), write a one-stage
// config on that profile and a plan the server already serves, and replay an arrival spec through
// it with `inferline replay --json`. Everything runs in-process through the real program, on
// loopback ports; the server runs in its own process group and stop() ends the group.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileCommandReport } from '../../../src/cli/commands/profile.js';
import type { ReplaySummary } from '../../../src/cli/report/types.js';
import { runCli } from '../../helpers/cli.js';
import { httpRequest } from './process.js';
import { unavailableReason } from './status.js';
import type { ServerName } from './status.js';
import { SLEEP_ARCHIVE, startTorchServe } from './torchserve.js';
import { startTriton } from './triton.js';

export const SLEEP_MODEL = 'sleep';
/** What both sleep models are configured with: max batch 8, a batch delay of 2 ms, one replica. */
export const SLEEP_MAX_BATCH = 8;
export const SLEEP_BATCH_DELAY_MS = 2;
export const PROFILE_BATCH_SIZES = [1, 2, 4, 8] as const;

/** One real server serving the sleep model. */
export interface SleepServer {
  readonly kind: ServerName;
  /** `inferline profile` flags that reach it (--server, --url and the rest). */
  readonly profileArgs: readonly string[];
  /** The fleet entry `inferline replay` needs for the stage (YAML flow map). */
  readonly fleetEntry: string;
  /** The server's process group, for the record. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Why `kind` cannot be started here, or undefined. */
export function sleepServerUnavailable(kind: ServerName): string | undefined {
  return unavailableReason(kind);
}

/** Starts the real server with the sleep model at max batch 8, batch delay 2 ms, one replica. */
export async function startSleepServer(kind: ServerName): Promise<SleepServer> {
  if (kind === 'triton') {
    // config.pbtxt already says max_batch_size 8, max_queue_delay_microseconds 2000, count 1.
    const t = await startTriton({ models: [SLEEP_MODEL] });
    return {
      kind,
      profileArgs: ['--server', 'triton', '--url', t.httpUrl, '--metrics-url', t.metricsUrl],
      fleetEntry: `{ server: triton, url: "${t.httpUrl}", metricsUrl: "${t.metricsUrl}" }`,
      pid: t.pid,
      stop: () => t.stop(),
    };
  }
  // Token authorization off: replay's fleet entries carry no TorchServe keys.
  const ts = await startTorchServe({ tokenAuth: false, archives: [SLEEP_ARCHIVE] });
  try {
    const r = await httpRequest(
      `${ts.managementUrl}/models?url=${SLEEP_MODEL}.mar&batch_size=${SLEEP_MAX_BATCH}&max_batch_delay=${SLEEP_BATCH_DELAY_MS}&initial_workers=1&synchronous=true`,
      { method: 'POST', timeoutMs: 120_000 },
    );
    if (r.status !== 200) throw new Error(`register ${SLEEP_MODEL}.mar: ${r.status} ${r.text}`);
  } catch (e) {
    await ts.stop();
    throw e;
  }
  return {
    kind,
    profileArgs: ['--server', 'torchserve', '--url', ts.inferenceUrl, '--management-url', ts.managementUrl, '--metrics-url', ts.metricsUrl],
    fleetEntry: `{ server: torchserve, url: "${ts.inferenceUrl}", managementUrl: "${ts.managementUrl}", metricsUrl: "${ts.metricsUrl}" }`,
    pid: ts.pid,
    stop: () => ts.stop(),
  };
}

export interface ProfiledServer {
  /** The profile file `inferline profile --out` wrote. */
  readonly file: string;
  readonly report: ProfileCommandReport;
  readonly wallMs: number;
}

/** `inferline profile` of the sleep model at batch sizes 1, 2, 4, 8, written to `<dir>/profile-<kind>.yaml`. */
export async function profileSleepServer(server: SleepServer, dir: string, windowMs = 500): Promise<ProfiledServer> {
  const file = join(dir, `profile-${server.kind}.yaml`);
  const t0 = Date.now();
  const r = await runCli([
    'profile', ...server.profileArgs, '--model', SLEEP_MODEL, '--hardware', 'cpu',
    '--batch-sizes', PROFILE_BATCH_SIZES.join(','), '--window', `${windowMs}ms`, '--out', file, '--json', '--progress', 'none',
  ]);
  if (r.code !== 0) throw new Error(`inferline profile (${server.kind}) exited ${r.code}: ${r.stderr}`);
  return { file, report: JSON.parse(r.stdout) as ProfileCommandReport, wallMs: Date.now() - t0 };
}

export interface ReplayFiles {
  readonly config: string;
  readonly plan: string;
  readonly fleet: string;
}

/** One stage of a replayed pipeline: its name, the server serving it, and that server's profile file. */
export interface ReplayStage {
  readonly name: string;
  readonly server: SleepServer;
  readonly profileFile: string;
}

/**
 * A one-stage pipeline `real` (stage `s`, model sleep on cpu) on the profile file, the plan the
 * server already serves (batch 8, delay 2 ms, one replica), and the fleet file naming the server.
 */
export function writeReplayFiles(dir: string, server: SleepServer, profileFile: string, sloMs = 500): ReplayFiles {
  return writePipelineFiles(dir, server.kind, [{ name: 's', server, profileFile }], 1, sloMs);
}

/**
 * A chain of stages (each the sleep model on its own server, as hardware `cpu-<kind>` so that each
 * stage has its own profile), where `fraction` of the queries leaving a stage go on to the next;
 * the plan every server already serves, and the fleet file. Files are named `<tag>`.
 */
export function writePipelineFiles(dir: string, tag: string, stages: readonly ReplayStage[], fraction: number, sloMs = 500): ReplayFiles {
  const hw = (st: ReplayStage): string => (stages.length === 1 ? 'cpu' : `cpu-${st.server.kind}`);
  const profiles = stages.map((st) => {
    // A pipeline over two servers needs each stage's profile under its own hardware name.
    if (stages.length === 1) return `  - "${st.profileFile}"`;
    const file = join(dir, `profile-${tag}-${st.name}.yaml`);
    writeFileSync(file, readFileSync(st.profileFile, 'utf8').replace(/^( {4}hardware:) cpu$/m, `$1 ${hw(st)}`));
    return `  - "${file}"`;
  });
  const config = join(dir, `config-${tag}.yaml`);
  writeFileSync(config, [
    'hardware:',
    ...[...new Set(stages.map(hw))].map((h) => `  - { name: ${h}, costPerHour: 0.1 }`),
    'profiles:',
    ...profiles,
    'pipelines:',
    '  - name: real',
    `    slo: { latencyMs: ${sloMs}, percentile: 99 }`,
    '    stages:',
    ...stages.map((st, i) => {
      const next = stages[i + 1];
      return `      - { name: ${st.name}, model: ${SLEEP_MODEL}, hardware: [${hw(st)}]${next ? `, next: [{ stage: ${next.name}, fraction: ${fraction} }]` : ''} }`;
    }),
    '',
  ].join('\n'));
  const plan = join(dir, `plan-${tag}.json`);
  writeFileSync(plan, JSON.stringify({
    pipeline: 'real', sloMs, percentile: 99, feasible: true, seed: 1,
    stages: Object.fromEntries(stages.map((st) => [st.name, { hardware: hw(st), batchSize: SLEEP_MAX_BATCH, replicas: 1, batchDelayMs: SLEEP_BATCH_DELAY_MS }])),
    envelope: [{ windowMs: 1000, maxArrivals: 100, rateQps: 100 }],
  }, null, 2));
  const fleet = join(dir, `fleet-${tag}.yaml`);
  writeFileSync(fleet, `stages:\n${stages.map((st) => `  ${st.name}: ${st.server.fleetEntry}\n`).join('')}`);
  return { config, plan, fleet };
}

export interface ReplayRun {
  readonly code: number;
  readonly summary: ReplaySummary;
  readonly stderr: string;
  readonly wallMs: number;
}

/** `inferline replay --json` of `arrival` (e.g. 'poisson:rate=100,duration=15s,seed=3') through the fleet. */
export async function replaySleepServer(files: ReplayFiles, arrival: string): Promise<ReplayRun> {
  const t0 = Date.now();
  const r = await runCli(['replay', '--config', files.config, '--plan', files.plan, '--fleet', files.fleet, '--arrival', arrival, '--json']);
  if (r.code !== 0 && r.code !== 1) throw new Error(`inferline replay exited ${r.code}: ${r.stderr}`);
  return { code: r.code, summary: JSON.parse(r.stdout) as ReplaySummary, stderr: r.stderr, wallMs: Date.now() - t0 };
}

/** The profile's figures per batch size, one line, for the logs. */
export function profileLine(p: ProfiledServer): string {
  const prof = p.report.profiles[0];
  const pts = (prof?.points ?? []).map((x) => `L(${x.batchSize})=${x.latencyMs}${x.p99LatencyMs !== undefined ? `/p99 ${x.p99LatencyMs}` : ''}`);
  return `${pts.join(' ')} hop ${prof?.hopOverheadMs ?? '—'} ms (profiled in ${(p.wallMs / 1000).toFixed(1)} s)`;
}
