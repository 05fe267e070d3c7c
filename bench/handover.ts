// The kill -9 handover, measured (issue #15): a real etcd, three `inferline agent` processes and
// three emulated Tritons (test/integration/fleet-safety/harness.ts, the emulators in this process),
// and an open-loop Poisson load sent through the pipeline (pre → cls → post, over HTTP) by a
// SEPARATE process (bench/handover-load.ts). After a warm-up that lets the tuner scale up, the
// leader is killed with SIGKILL; with --runs N, the killed agent is restarted, the fleet warmed up
// again and the new leader killed, N times. Prints, per second around each kill, the replicas of
// each stage and the request P99 against the SLO, with the harness's health beside them: the load
// generator's send slip and event-loop delay, this process's (the emulators') event-loop delay,
// and the host's load average. A second whose harness added more than 10 % of the SLO (slip or
// either delay) is marked unhealthy: its P99 says more about the host than about the fleet.
//
//   npm run bench -- handover [--rate 260] [--warmup 25] [--after 20] [--lease 4000] [--runs 1] [--all]
// (--all prints every second from the start of the load, not only from 5 s before each kill)
//   npx tsx bench/handover.ts [same flags]
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findEtcd } from '../test/integration/etcd/etcd-process.js';
import { Fleet, SLO_MS, type FleetNode } from '../test/integration/fleet-safety/harness.js';
import type { LoadSecond } from './handover-load.js';

interface Second extends LoadSecond {
  /** This process's (the emulators') largest event-loop delay in the second. */
  readonly serverLagMs: number;
  readonly load1: number;
}

/** A second is unhealthy when the harness itself could have added this much to a latency. */
const UNHEALTHY_MS = Math.round(SLO_MS / 10);

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** The flags of this bench that take a value (bench/index.ts must not read their values as section names). */
export const HANDOVER_FLAGS = ['--rate', '--warmup', '--after', '--lease', '--runs'];

const harnessOf = (s: Second): number => Math.max(s.maxSlipMs, s.maxLagMs, s.serverLagMs);
const healthy = (s: Second): boolean => harnessOf(s) <= UNHEALTHY_MS;

export async function benchHandover(): Promise<void> {
  const rate = arg('rate', 260);
  const warmupS = arg('warmup', 25);
  const afterS = arg('after', 20);
  const leaseMs = arg('lease', 4000);
  const runs = Math.round(arg('runs', 1));
  const found = findEtcd();
  if (!('bin' in found)) throw new Error(found.why);
  console.log(`\n## handover: kill -9 of the leader under load (3 agents, 3 emulated Tritons, real etcd)\n`);
  const fleet = await Fleet.start(found.bin, { leaseMs });
  const child = fork(fileURLToPath(new URL('./handover-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const serverLag: number[] = [];
  const loads: number[] = [];
  let lagTimer: NodeJS.Timeout | undefined;
  const verdicts: string[] = [];
  try {
    const { node } = await fleet.until('a leader', () => fleet.leader(), 60_000);
    const plan = await fleet.until('a plan', async () => (await fleet.status(node))?.fleet?.pipelines[0]?.plan, 20_000);
    await sleep(3000);
    const order = ['preprocess', 'classify', 'postprocess'].map((m) => fleet.nodes.find((n) => n.model === m) as FleetNode);
    const seconds: Second[] = [];
    child.on('message', (m) => {
      const l = m as LoadSecond;
      seconds.push({ ...l, serverLagMs: serverLag[l.t] ?? 0, load1: loads[l.t] ?? loadavg()[0] as number });
    });
    const samples: { t: number; replicas: Record<string, number> }[] = [];
    const t0 = Date.now();
    // This process's second t ends at t0 + (t + 1) s, as the load process's does (both start now).
    lag.reset();
    lagTimer = setInterval(() => {
      serverLag.push(Math.round(lag.max / 1e6));
      loads.push(loadavg()[0] as number);
      lag.reset();
    }, 1000);
    child.send({ urls: order.map((n) => n.server.url), rate, seed: 15 });
    const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, replicas: fleet.replicas() }), 250);
    console.log(`plan (for the configured 150 q/s): ${Object.entries(plan.stages).map(([st, c]) => `${st} ${c.hardware}/${c.batchSize}×${c.replicas}`).join(', ')}; load ${rate} q/s open-loop; lease ${leaseMs} ms; SLO P99 ${SLO_MS} ms; a second is unhealthy when the harness's send slip or event-loop delay (load generator or emulators) exceeds ${UNHEALTHY_MS} ms`);
    for (let run = 1; run <= runs; run++) {
      await sleep(warmupS * 1000);
      const leader = await fleet.until('the leader', () => fleet.leader(), 30_000);
      const killAt = (Date.now() - t0) / 1000;
      fleet.kill(leader.node);
      const rest = fleet.nodes.filter((n) => n !== leader.node);
      const next = await fleet.until('a new leader', async () => {
        const l = await fleet.leader(rest);
        return l && l.node !== leader.node ? l : undefined;
      }, 30_000);
      const newLeaderAt = (Date.now() - t0) / 1000;
      await sleep(Math.max(0, afterS * 1000 - (Date.now() - t0 - killAt * 1000)) + 1500);
      const at = (t: number) => samples.filter((x) => x.t >= t - 0.25 && x.t < t + 0.75).at(-1)?.replicas;
      const stages: Record<string, string> = { preprocess: 'pre', classify: 'cls', postprocess: 'post' };
      console.log(`\nrun ${run}: kill -9 of ${leader.node.id} (epoch ${leader.epoch}) at t=${killAt.toFixed(1)} s; ${next.node.id} leads (epoch ${next.epoch}) at t=${newLeaderAt.toFixed(1)} s (${((newLeaderAt - killAt) * 1000).toFixed(0)} ms)`);
      console.log('  t(s)  pre cls post   sent  done err   p99(ms)  slip  gen-lag  emu-lag  load1  harness');
      const shown = seconds.filter((x) => x.t >= (process.argv.includes('--all') ? 0 : Math.floor(killAt) - 5) && x.t < killAt + afterS);
      for (const sec of shown) {
        const r = at(sec.t) ?? {};
        const mark = Math.floor(killAt) === sec.t ? ' ← kill -9' : Math.floor(newLeaderAt) === sec.t ? ' ← new leader' : '';
        const over = sec.p99Ms !== null && sec.p99Ms > SLO_MS ? '*' : ' ';
        console.log(`  ${String(sec.t).padStart(4)}  ${String(r['preprocess'] ?? '-').padStart(3)} ${String(r['classify'] ?? '-').padStart(3)} ${String(r['postprocess'] ?? '-').padStart(4)}  ${String(sec.sent).padStart(5)} ${String(sec.done).padStart(5)} ${String(sec.errors).padStart(3)}  ${sec.p99Ms === null ? '      -' : sec.p99Ms.toFixed(1).padStart(8)}${over} ${String(sec.maxSlipMs).padStart(5)}  ${String(sec.maxLagMs).padStart(7)}  ${String(sec.serverLagMs).padStart(7)}  ${sec.load1.toFixed(1).padStart(5)}  ${healthy(sec) ? 'ok' : 'UNHEALTHY'}${mark}`);
      }
      const before = at(Math.floor(killAt) - 1) ?? {};
      const afterKill = samples.filter((x) => x.t >= killAt && x.t < killAt + afterS);
      const lowest = Object.fromEntries(Object.keys(before).map((m) => [m, Math.min(...afterKill.map((x) => x.replicas[m] ?? Infinity))]));
      const drops = Object.keys(before).filter((m) => (lowest[m] ?? 0) < (before[m] ?? 0)).map((m) => stages[m]);
      const window = seconds.filter((x) => x.t >= Math.floor(killAt) && x.t < killAt + afterS);
      const over = window.filter((x) => x.p99Ms !== null && x.p99Ms > SLO_MS);
      const okSeconds = window.filter(healthy);
      const overHealthy = over.filter(healthy);
      const worst = (xs: Second[]) => Math.max(0, ...xs.map((x) => x.p99Ms ?? 0));
      const errors = window.reduce((sum, x) => sum + x.errors, 0);
      console.log(`replicas 1 s before the kill ${JSON.stringify(before)}; lowest in the ${afterS} s after ${JSON.stringify(lowest)}; drops: ${drops.join(', ') || 'none'}`);
      console.log(`per-second P99 in the ${afterS} s from the kill: over the SLO in ${over.length} of ${window.length} s (${over.map((x) => `t=${x.t} ${x.p99Ms?.toFixed(0)} ms, harness ${harnessOf(x)} ms`).join('; ') || 'none'}); healthy seconds ${okSeconds.length} of ${window.length}, over the SLO among them ${overHealthy.length}; worst ${worst(window).toFixed(1)} ms, worst healthy ${worst(okSeconds).toFixed(1)} ms; failed queries ${errors}`);
      // What the leaders decided around the kill: a drop is either the old leader's tuner (a
      // scale-down it decided before it died) or the new leader's (the handover itself).
      for (const [who, n] of [['old leader', leader.node], ['new leader', next.node]] as const) {
        const lines = readFileSync(n.logFile, 'utf8').split('\n').filter((l) => /handover:|tuner: |planned |stored traffic/.test(l));
        console.log(`${who} ${n.id}, its last decisions:`);
        for (const l of lines.slice(-8)) console.log(`    ${l.slice(0, 240)}`);
      }
      verdicts.push(`run ${run}: drops ${drops.join(', ') || 'none'}; over SLO ${over.length}/${window.length} s, of them in healthy seconds ${overHealthy.length} (healthy ${okSeconds.length}/${window.length}); takeover ${((newLeaderAt - killAt) * 1000).toFixed(0)} ms`);
      if (run < runs) {
        fleet.startAgent(leader.node);
        await fleet.until('the killed agent back', async () => (await fleet.status(leader.node)) !== undefined, 30_000);
      }
    }
    clearInterval(sampler);
    child.send('stop');
    console.log(`\nsummary (${runs} run${runs === 1 ? '' : 's'}, load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${process.platform}, ${cpus().length} cores):`);
    for (const v of verdicts) console.log(`  ${v}`);
  } finally {
    clearInterval(lagTimer);
    lag.disable();
    child.kill();
    await fleet.stop();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await benchHandover();
