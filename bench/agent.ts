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

async function oneRun(scrape: string, measureOverhead: boolean, nodeFlags: readonly string[] = []): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-bench-agent-'));
  const { profiles } = normaliseProfiles([PROFILE], () => 'p');
  const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, reloadDelayMs: 10 });
  const file = join(dir, 'agent.json');
  writeFileSync(file, config(server, scrape));
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'dist/src/cli/main.js'), 'agent', '--config', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  let rate = RATE;
  const traffic = load(server, () => rate);
  try {
    const pid = child.pid as number;
    for (let i = 0; i < 300 && !/leads \(epoch/.test(log); i++) await sleep(100);
    if (!/leads \(epoch/.test(log)) throw new Error(`the agent did not start:\n${log}`);
    await sleep(5000); // planned, applied, steady
    if (measureOverhead) {
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
      console.log(`  agent${nodeFlags.length ? ` (node ${nodeFlags.join(' ')})` : ''} at a ${scrape} scrape, ${RATE} req/s steady, ${windowS} s: RSS ${(b.rssKiB / 1024).toFixed(1)} MB (peak ${(peakKiB / 1024).toFixed(1)} MB), CPU ${cpuPct.toFixed(2)} % of one core   (targets ≤ 80 MB, ≤ 2 %)`);
    }
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
    const after = server.engine('classify')?.replicas ?? 0;
    // When the leader decided, from its log (ISO times on the same wall clock).
    const decided = [...log.matchAll(/^(\S+) INFO {2}tuner: p cls/gm)].map((m) => Date.parse(m[1] as string)).find((t) => t >= burstWall);
    const decidedS = decided === undefined ? 'not logged' : `${((decided - burstWall) / 1000).toFixed(2)} s`;
    console.log(`  burst ×4 at a ${scrape} scrape: replicas ${before} → ${after} on the server ${changedAt === undefined ? 'NOT within 15 s' : `${((changedAt - burstAt) / 1000).toFixed(2)} s after the burst began`} (tuner decided after ${decidedS})   (target ≤ 1 s)`);
  } finally {
    writeFileSync(join(tmpdir(), `inferline-bench-agent-${scrape}.log`), log);
    await traffic.stop();
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchAgent(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  console.log('agent overhead and reaction (one built `inferline agent`, memory coordinator, emulated Triton in the bench process)');
  await oneRun('1s', true);
  await oneRun('1s', true, ['--max-semi-space-size=1']);
  await oneRun('250ms', false);
  console.log('');
}
