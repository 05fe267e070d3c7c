// The agent's overhead and reaction time. One `inferline agent` process (memory coordinator, so
// it leads; mode enforce; Prometheus on; the default scrape and push intervals) beside an emulated
// Triton in this process: its RSS and CPU from /proc over a window of steady traffic and one of no
// traffic. Then bursts at 4× the planned rate, one fresh agent each, at phases spread over the
// scrape interval: the time from the burst's first request to the first push after it (the
// agent's /v1/status keeps its last pushes), to the leader's decision (its log), and to the
// replica change on the server (the emulator's instance count, polled every 5 ms here), as median
// and p95. The same with the former settings (1 s scrape, a push every scrape) for the ratio. The
// agent runs as built (`npm run build`, dist/), as the container image runs it: under tsx the
// TypeScript compiler alone adds about 80 MB. With the Node flags the image and the systemd unit
// launch it with (src/cli/agent-node-flags.ts), and once without them. Host load and this process's event-loop lag are
// printed beside the figures: on a loaded host the reaction times are the host's too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { normaliseProfiles } from '../src/core/model/profiles.js';
import { DEFAULT_LIVE_LOOP } from '../src/core/controllers/live-loop.js';
import { AGENT_NODE_FLAGS } from '../src/cli/agent-node-flags.js';
import { startTritonEmulator } from '../src/emulator/index.js';
import type { TritonEmulator } from '../src/emulator/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROFILE = { model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 8 }, { batchSize: 4, latencyMs: 14 }, { batchSize: 8, latencyMs: 22 }] };
const RATE = 100;
const TICKS_PER_S = 100; // USER_HZ on Linux
const TOKEN = 'bench-token-0123456789';

/** The agent's sampling: its defaults, or explicit intervals. */
interface Sampling {
  readonly label: string;
  readonly scrapeMs: number;
  readonly agent: { readonly scrapeInterval?: string; readonly pushInterval?: string };
}
const DEFAULTS: Sampling = {
  label: `default settings (${DEFAULT_LIVE_LOOP.scrapeIntervalMs} ms scrape, push on change or every ${DEFAULT_LIVE_LOOP.pushIntervalMs / 1000} s)`,
  scrapeMs: DEFAULT_LIVE_LOOP.scrapeIntervalMs, agent: {},
};
const FORMER: Sampling = { label: 'former settings (1 s scrape, a push every scrape)', scrapeMs: 1000, agent: { scrapeInterval: '1s', pushInterval: '1s' } };

function config(server: TritonEmulator, sampling: Sampling): string {
  return JSON.stringify({
    hardware: [{ name: 'gpu', costPerHour: 0.9 }],
    profiles: [PROFILE],
    pipelines: [{ name: 'p', slo: { latencyMs: 100 }, arrival: `poisson:rate=${RATE},duration=30s`, stages: [{ name: 'cls', model: 'classify', hardware: ['gpu'] }] }],
    telemetry: { prometheus: { port: 0 } },
    tuner: { scaleDownDelay: '5m' },
    agent: {
      id: 'bench', mode: 'enforce', hardware: 'gpu', capacity: 16,
      server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl },
      api: { port: 0, token: TOKEN }, ...sampling.agent, reconcile: { interval: '1s' },
    },
  });
}

function procStat(pid: number): { cpuTicks: number; rssKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(f[11]) + Number(f[12]); // utime + stime
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuTicks, rssKiB: Number(rss?.[1] ?? 0) };
}

/** Sends `rate` requests per second (evenly spaced) until stopped. */
function load(server: TritonEmulator, rate: () => number): { stop: () => Promise<void> } {
  let stopped = false;
  const run = (async () => {
    let next = performance.now();
    while (!stopped) {
      const r = rate();
      if (r <= 0) {
        await sleep(50);
        next = performance.now();
        continue;
      }
      void server.engine('classify')?.submit(1).catch(() => undefined);
      next += 1000 / r;
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait);
      else if (wait < -1000) next = performance.now();
    }
  })();
  return { stop: async () => { stopped = true; await run; } };
}

interface RunOptions {
  readonly sampling: Sampling;
  /** Measure RSS and CPU over a steady window first. */
  readonly overhead: boolean;
  /** Node flags of the agent process (default: AGENT_NODE_FLAGS, as the image and the unit launch it). */
  readonly nodeFlags?: readonly string[];
  /** Where in the scrape interval the burst begins, as a fraction of it (the phase). */
  readonly phase: number;
}

interface Reaction {
  /** From the burst's first request, in ms: the first push after it, the leader's decision, the change on the server. */
  readonly pushedMs: number | undefined;
  readonly pushReason: string | undefined;
  readonly decidedMs: number | undefined;
  readonly appliedMs: number | undefined;
  readonly before: number;
  readonly after: number;
}

/** One agent from start to a burst. */
async function oneRun(o: RunOptions): Promise<Reaction> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-bench-agent-'));
  const { profiles } = normaliseProfiles([PROFILE], () => 'p');
  const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, reloadDelayMs: 10 });
  const file = join(dir, 'agent.json');
  writeFileSync(file, config(server, o.sampling));
  const nodeFlags = o.nodeFlags ?? AGENT_NODE_FLAGS;
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'dist/src/cli/main.js'), 'agent', '--config', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  let rate = RATE;
  const traffic = load(server, () => rate);
  try {
    const pid = child.pid as number;
    for (let i = 0; i < 300 && !/leads \(epoch/.test(log); i++) await sleep(100);
    if (!/leads \(epoch/.test(log)) throw new Error(`the agent did not start:\n${log}`);
    const startedAt = performance.now();
    await sleep(5000); // planned, applied, steady
    if (o.overhead) {
      const measure = async (what: string, windowS: number): Promise<void> => {
        const a = procStat(pid);
        const t0 = performance.now();
        let peakKiB = a.rssKiB;
        for (let i = 0; i < windowS; i++) {
          await sleep(1000);
          peakKiB = Math.max(peakKiB, procStat(pid).rssKiB);
        }
        const b = procStat(pid);
        const cpuPct = ((b.cpuTicks - a.cpuTicks) / TICKS_PER_S) / ((performance.now() - t0) / 1000) * 100;
        console.log(`  agent (node ${nodeFlags.length > 0 ? nodeFlags.join(' ') : 'without flags'}), ${o.sampling.label}, ${what}, ${windowS} s: RSS ${(b.rssKiB / 1024).toFixed(1)} MB (peak ${(peakKiB / 1024).toFixed(1)} MB), CPU ${cpuPct.toFixed(2)} % of one core   (targets ≤ 80 MB, ≤ 2 %; load ${loadavg()[0]?.toFixed(1)})`);
      };
      await measure(`${RATE} req/s steady`, 20);
      rate = 0;
      await sleep(2000);
      await measure('no traffic', 20);
      // Traffic again after 22 s of none: how late the agent sees it (its first push after),
      // which the idle scrape interval (agent.idleScrapeInterval) bounds.
      const resumedWall = Date.now();
      rate = RATE;
      // Read soon (the status keeps the last 8 pushes), then settle.
      await sleep(1500);
      // The first push that carries the change (a heartbeat may fall first, with no traffic in it yet).
      const firstPush = (await pushesSince(log, resumedWall)).find((x) => x.reason === 'change');
      await sleep(1500);
      console.log(`    traffic after 22 s of none → the agent's first push on the change: ${firstPush === undefined ? 'none within 1.5 s' : `${Math.round(firstPush.atMs - resumedWall)} ms`}`);
    }
    // The agent's scrapes are (about) whole intervals after its start: begin the burst at the phase asked for.
    const scrapeMs = o.sampling.scrapeMs;
    const sinceStart = performance.now() - startedAt;
    await sleep(((o.phase * scrapeMs) - (sinceStart % scrapeMs) + scrapeMs) % scrapeMs);
    const before = server.engine('classify')?.replicas ?? 0;
    const burstWall = Date.now();
    const burstAt = performance.now();
    rate = RATE * 4;
    let changedAt: number | undefined;
    while (performance.now() - burstAt < 15_000) {
      if ((server.engine('classify')?.replicas ?? 0) > before) {
        changedAt = performance.now();
        break;
      }
      await sleep(5);
    }
    const appliedWall = changedAt === undefined ? undefined : burstWall + (changedAt - burstAt);
    // When the leader decided, from its log (ISO times on the same wall clock).
    const decided = [...log.matchAll(/^(\S+) INFO {2}tuner: p cls/gm)].map((m) => Date.parse(m[1] as string)).find((t) => t >= burstWall);
    // The first push after the burst began, from the agent's status.
    const pushed = (await pushesSince(log, burstWall))[0];
    return {
      pushedMs: pushed === undefined ? undefined : pushed.atMs - burstWall,
      pushReason: pushed?.reason,
      decidedMs: decided === undefined ? undefined : decided - burstWall,
      appliedMs: appliedWall === undefined ? undefined : appliedWall - burstWall,
      before, after: server.engine('classify')?.replicas ?? 0,
    };
  } finally {
    await traffic.stop();
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The q-th quantile (nearest rank) of the defined values, or undefined. */
/** The agent's pushes at or after `wallMs` (its status lists the recent ones), oldest first. */
async function pushesSince(log: string, wallMs: number): Promise<{ atMs: number; reason: string }[]> {
  const api = /API (http:\/\/\S+)/.exec(log)?.[1];
  if (!api) return [];
  const status = await fetch(`${api}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json()) as { samples?: { recent?: { atMs: number; reason: string }[] } };
  return (status.samples?.recent ?? []).filter((p) => p.atMs >= wallMs);
}

function quantile(xs: readonly (number | undefined)[], q: number): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
}

/** Bursts at phases spread over the scrape interval, one fresh agent each; prints the split and returns the medians. */
async function reaction(sampling: Sampling, bursts: number): Promise<{ applied: number | undefined; decided: number | undefined }> {
  const runs: Reaction[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const loads: number[] = [];
  for (let i = runs.length; i < bursts; i++) {
    loads.push(loadavg()[0] ?? 0);
    runs.push(await oneRun({ sampling, overhead: false, phase: i / bursts }));
  }
  lag.disable();
  const fmt = (x: number | undefined) => (x === undefined ? 'none' : `${Math.round(x)}`);
  const line = (name: string, xs: (number | undefined)[]) => `    ${name.padEnd(28)} median ${fmt(quantile(xs, 0.5)).padStart(5)} ms   p95 ${fmt(quantile(xs, 0.95)).padStart(5)} ms   (${xs.map(fmt).join(', ')})`;
  const pushed = runs.map((r) => r.pushedMs);
  const decided = runs.map((r) => r.decidedMs);
  const applied = runs.map((r) => r.appliedMs);
  const toServer = runs.map((r) => (r.appliedMs === undefined || r.decidedMs === undefined ? undefined : r.appliedMs - r.decidedMs));
  const missed = runs.filter((r) => r.appliedMs === undefined).length;
  // A fresh agent sometimes holds more than the planned replicas when the burst comes; then the
  // burst needs less (or nothing) at once and the first change is not the reaction to it.
  const planned = Math.min(...runs.map((r) => r.before));
  const fromPlan = runs.filter((r) => r.before === planned);
  console.log(`  burst ×4, ${sampling.label}: ${runs.length} bursts at phases spread over the scrape interval, one fresh agent each`
    + ` (host load ${Math.min(...loads, loadavg()[0] ?? 0).toFixed(1)}–${Math.max(...loads, loadavg()[0] ?? 0).toFixed(1)}, bench event-loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms)`);
  console.log(line('burst → first push after it', pushed) + `   reasons: ${runs.map((r) => r.pushReason ?? '-').join(', ')}`);
  console.log(line('burst → tuner decision', decided));
  console.log(line('burst → applied on the server', applied) + `   (targets: median ≤ 250 ms, p95 ≤ 500 ms)${missed > 0 ? `; ${missed} never applied within 15 s` : ''}`);
  console.log(line('decision → applied', toServer));
  if (fromPlan.length < runs.length) {
    console.log(line(`applied, the ${fromPlan.length} from ${planned} replica${planned === 1 ? '' : 's'}`, fromPlan.map((r) => r.appliedMs))
      + `   (${runs.length - fromPlan.length} began above the planned ${planned}: the burst needed less at once)`);
  }
  console.log(`    replicas ${runs.map((r) => `${r.before}→${r.after}`).join(', ')}`);
  return { applied: quantile(applied, 0.5), decided: quantile(decided, 0.5) };
}

export async function benchAgent(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  console.log(`agent overhead and reaction (one built \`inferline agent\`, memory coordinator, emulated Triton in the bench process; host load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
  // The overhead runs end in a burst too, after their windows of no traffic: not counted as reactions.
  await oneRun({ sampling: DEFAULTS, overhead: true, phase: 0 });
  await oneRun({ sampling: FORMER, overhead: true, phase: 0 });
  // Without the launch flags, for what they save.
  await oneRun({ sampling: DEFAULTS, overhead: true, nodeFlags: [], phase: 0 });
  const now = await reaction(DEFAULTS, 10);
  const former = await reaction(FORMER, 4);
  if (now.applied !== undefined && former.applied !== undefined) {
    console.log(`  median burst → applied, former ÷ default settings (same run): ${(former.applied / now.applied).toFixed(1)}×`);
  }
  console.log('');
}
