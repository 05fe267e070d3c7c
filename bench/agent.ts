// The agent's overhead and reaction time. One `inferline agent` process (memory coordinator, so
// it leads; mode enforce; Prometheus on; 1 s scrape) beside an emulated Triton in this process
// serving steady traffic: its RSS and CPU from /proc over a steady window. Then a burst at 4× the
// planned rate: the time from the burst's first request to the replica change on the server, for
// the 1 s scrape and for a 250 ms one. The agent runs as built (`npm run build`, dist/), as the
// container image runs it: under tsx the TypeScript compiler alone adds about 80 MB.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { normaliseProfiles } from '../src/core/profiles.js';
import { startTritonEmulator } from '../src/emulator/index.js';
import type { TritonEmulator } from '../src/emulator/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROFILE = { model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 8 }, { batchSize: 4, latencyMs: 14 }, { batchSize: 8, latencyMs: 22 }] };
const RATE = 100;
const TICKS_PER_S = 100; // USER_HZ on Linux

function config(server: TritonEmulator, scrape: string): string {
  return JSON.stringify({
    hardware: [{ name: 'gpu', costPerHour: 0.9 }],
    profiles: [PROFILE],
    pipelines: [{ name: 'p', slo: { latencyMs: 100 }, arrival: `poisson:rate=${RATE},duration=30s`, stages: [{ name: 'cls', model: 'classify', hardware: ['gpu'] }] }],
    telemetry: { prometheus: { port: 0 } },
    tuner: { scaleDownDelay: '5m' },
    agent: {
      id: 'bench', mode: 'enforce', hardware: 'gpu', capacity: 16,
      server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl },
      api: { port: 0, token: 'bench-token-0123456789' }, scrapeInterval: scrape, reconcile: { interval: '1s' },
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
      void server.engine('classify')?.submit(1).catch(() => undefined);
      next += 1000 / rate();
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait);
      else if (wait < -1000) next = performance.now();
    }
  })();
  return { stop: async () => { stopped = true; await run; } };
}

interface RunOptions {
  readonly scrapeMs: number;
  /** Measure RSS and CPU over a steady window first. */
  readonly overhead: boolean;
  readonly nodeFlags?: readonly string[];
  /** Where in the scrape interval the burst begins, as a fraction of it (the phase). */
  readonly phase: number;
}

/** One agent from start to a burst; returns the burst's time to the replica change and to the leader's decision, in s. */
async function oneRun(o: RunOptions): Promise<{ changedS: number | undefined; decidedS: number | undefined; before: number; after: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-bench-agent-'));
  const { profiles } = normaliseProfiles([PROFILE], () => 'p');
  const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, reloadDelayMs: 10 });
  const file = join(dir, 'agent.json');
  writeFileSync(file, config(server, `${o.scrapeMs}ms`));
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), join(ROOT, 'dist/src/cli/main.js'), 'agent', '--config', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
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
      const windowS = 20;
      const a = procStat(pid);
      const t0 = performance.now();
      let peakKiB = a.rssKiB;
      for (let i = 0; i < windowS; i++) {
        await sleep(1000);
        peakKiB = Math.max(peakKiB, procStat(pid).rssKiB);
      }
      const b = procStat(pid);
      const cpuPct = ((b.cpuTicks - a.cpuTicks) / TICKS_PER_S) / ((performance.now() - t0) / 1000) * 100;
      console.log(`  agent${o.nodeFlags?.length ? ` (node ${o.nodeFlags.join(' ')})` : ''} at a ${o.scrapeMs} ms scrape, ${RATE} req/s steady, ${windowS} s: RSS ${(b.rssKiB / 1024).toFixed(1)} MB (peak ${(peakKiB / 1024).toFixed(1)} MB), CPU ${cpuPct.toFixed(2)} % of one core   (targets ≤ 80 MB, ≤ 2 %)`);
    }
    // The agent's scrapes are (about) whole intervals after its start: begin the burst at the phase asked for.
    const sinceStart = performance.now() - startedAt;
    await sleep(((o.phase * o.scrapeMs) - (sinceStart % o.scrapeMs) + o.scrapeMs) % o.scrapeMs);
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
    // When the leader decided, from its log (ISO times on the same wall clock).
    const decided = [...log.matchAll(/^(\S+) INFO {2}tuner: p cls/gm)].map((m) => Date.parse(m[1] as string)).find((t) => t >= burstWall);
    return {
      changedS: changedAt === undefined ? undefined : (changedAt - burstAt) / 1000,
      decidedS: decided === undefined ? undefined : (decided - burstWall) / 1000,
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

/** Bursts at phases spread over the scrape interval, one fresh agent each. */
async function reaction(scrapeMs: number, phases: readonly number[], first?: Awaited<ReturnType<typeof oneRun>>): Promise<void> {
  const runs = first ? [first] : [];
  for (const phase of phases.slice(runs.length)) runs.push(await oneRun({ scrapeMs, overhead: false, phase }));
  const changed = runs.map((r) => r.changedS).filter((x): x is number => x !== undefined);
  const fmt = (x: number | undefined) => (x === undefined ? 'none' : `${x.toFixed(2)} s`);
  const mean = changed.length ? changed.reduce((a, b) => a + b, 0) / changed.length : undefined;
  console.log(`  burst ×4 at a ${scrapeMs} ms scrape, ${runs.length} bursts at phases ${phases.map((p) => p.toFixed(2)).join(', ')} of the interval: `
    + `replica change on the server after ${runs.map((r) => fmt(r.changedS)).join(', ')} (mean ${fmt(mean)}, max ${fmt(changed.length ? Math.max(...changed) : undefined)}; `
    + `leader decided after ${runs.map((r) => fmt(r.decidedS)).join(', ')}; replicas ${runs.map((r) => `${r.before}→${r.after}`).join(', ')})   (target ≤ 1 s)`);
}

export async function benchAgent(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  console.log('agent overhead and reaction (one built `inferline agent`, memory coordinator, emulated Triton in the bench process)');
  const phases = [0, 0.25, 0.5, 0.75];
  const first = await oneRun({ scrapeMs: 1000, overhead: true, phase: phases[0] as number });
  await oneRun({ scrapeMs: 1000, overhead: true, nodeFlags: ['--max-semi-space-size=1'], phase: 0 });
  await reaction(1000, phases, first);
  await reaction(250, phases);
  console.log('');
}
