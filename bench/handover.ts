// The kill -9 handover, measured (issue #15): a real etcd, three `inferline agent` processes and
// three emulated Tritons (test/integration/fleet-safety/harness.ts), and an open-loop Poisson load
// sent through the pipeline (pre → cls → post, over HTTP) by a SEPARATE process. After a warm-up
// that lets the tuner scale up, the leader is killed with SIGKILL. Prints, per second around the
// kill, the replicas of each stage and the request P99 against the SLO, with the host's load
// average and the load generator's send slip beside them.
//
//   npx tsx bench/handover.ts [--rate 200] [--warmup 25] [--after 20] [--lease 4000]
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findEtcd } from '../test/integration/etcd/etcd-process.js';
import { Fleet, SLO_MS, type FleetNode } from '../test/integration/fleet-safety/harness.js';

interface Second {
  readonly t: number;
  readonly sent: number;
  readonly done: number;
  readonly errors: number;
  readonly p99Ms: number | null;
  readonly maxSlipMs: number;
}

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

/** The load generator (child): open-loop Poisson arrivals, each query through the three servers in turn; one JSON line per second. */
async function generate(urls: readonly string[], rate: number, seed: number): Promise<void> {
  let s = seed >>> 0;
  const random = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const body = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
  const models = ['preprocess', 'classify', 'postprocess'];
  const query = async (): Promise<void> => {
    for (const [i, url] of urls.entries()) {
      const res = await fetch(`${url}/v2/models/${models[i]}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(String(res.status));
    }
  };
  const t0 = performance.now();
  let next = t0;
  let second = { sent: 0, done: 0, errors: 0, latencies: [] as number[], maxSlipMs: 0 };
  let secondStart = t0;
  let stopped = false;
  process.on('message', () => { stopped = true; });
  while (!stopped) {
    const now = performance.now();
    if (now - secondStart >= 1000) {
      const sorted = second.latencies.sort((a, b) => a - b);
      const p99 = sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number;
      process.send?.({ t: Math.round((secondStart - t0) / 1000), sent: second.sent, done: second.done, errors: second.errors, p99Ms: p99, maxSlipMs: Math.round(second.maxSlipMs) } satisfies Second);
      second = { sent: 0, done: 0, errors: 0, latencies: [], maxSlipMs: 0 };
      secondStart += 1000;
    }
    if (now < next) {
      await sleep(Math.min(5, next - now));
      continue;
    }
    // Every arrival that is due is sent now; how late it went out is the send slip.
    while (next <= performance.now()) {
      const slip = performance.now() - next;
      second.maxSlipMs = Math.max(second.maxSlipMs, slip);
      const started = next;
      second.sent++;
      // Completions count in the second they complete in, with their latency from the scheduled send.
      void query().then(() => { second.done++; second.latencies.push(performance.now() - started); }, () => { second.errors++; });
      next += -Math.log(1 - random()) * (1000 / rate);
    }
  }
  process.exit(0);
}

async function main(): Promise<void> {
  const rate = arg('rate', 200);
  const warmupS = arg('warmup', 25);
  const afterS = arg('after', 20);
  const leaseMs = arg('lease', 4000);
  const found = findEtcd();
  if (!('bin' in found)) throw new Error(found.why);
  const fleet = await Fleet.start(found.bin, { leaseMs });
  const child = fork(fileURLToPath(import.meta.url), ['--generate'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { node } = await fleet.until('a leader', () => fleet.leader(), 60_000);
    const plan = await fleet.until('a plan', async () => (await fleet.status(node))?.fleet?.pipelines[0]?.plan, 20_000);
    await sleep(3000);
    const order = ['preprocess', 'classify', 'postprocess'].map((m) => fleet.nodes.find((n) => n.model === m) as FleetNode);
    const seconds: Second[] = [];
    child.on('message', (m) => seconds.push(m as Second));
    const samples: { t: number; replicas: Record<string, number> }[] = [];
    const t0 = Date.now();
    child.send({ urls: order.map((n) => n.server.url), rate, seed: 15 });
    const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, replicas: fleet.replicas() }), 250);
    await sleep(warmupS * 1000);
    const leader = await fleet.until('the leader', () => fleet.leader(), 10_000);
    const killAt = (Date.now() - t0) / 1000;
    fleet.kill(leader.node);
    const rest = fleet.nodes.filter((n) => n !== leader.node);
    const next = await fleet.until('a new leader', async () => {
      const l = await fleet.leader(rest);
      return l && l.node !== leader.node ? l : undefined;
    }, 30_000);
    const newLeaderAt = (Date.now() - t0) / 1000;
    await sleep(Math.max(0, afterS * 1000 - (Date.now() - t0 - killAt * 1000)));
    clearInterval(sampler);
    child.send('stop');
    await sleep(1500);
    const at = (t: number) => samples.filter((s) => s.t >= t - 0.25 && s.t < t + 0.75).at(-1)?.replicas;
    const stages: Record<string, string> = { preprocess: 'pre', classify: 'cls', postprocess: 'post' };
    console.log(`plan (for ${plan.stages['pre'] ? 'the configured 150 q/s' : '?'}): ${Object.entries(plan.stages).map(([s, c]) => `${s} ${c.hardware}/${c.batchSize}×${c.replicas}`).join(', ')}; load ${rate} q/s open-loop; lease ${leaseMs} ms; SLO P99 ${SLO_MS} ms`);
    console.log(`kill -9 of ${leader.node.id} (epoch ${leader.epoch}) at t=${killAt.toFixed(1)} s; ${next.node.id} leads (epoch ${next.epoch}) at t=${newLeaderAt.toFixed(1)} s (${((newLeaderAt - killAt) * 1000).toFixed(0)} ms)`);
    console.log('  t(s)  pre cls post   sent  done err   p99(ms)  slip(ms)  load1');
    for (const sec of seconds) {
      const t = sec.t;
      const r = at(t) ?? {};
      const mark = Math.floor(killAt) === t ? ' ← kill -9' : Math.floor(newLeaderAt) === t ? ' ← new leader' : '';
      console.log(`  ${String(t).padStart(4)}  ${String(r['preprocess'] ?? '-').padStart(3)} ${String(r['classify'] ?? '-').padStart(3)} ${String(r['postprocess'] ?? '-').padStart(4)}  ${String(sec.sent).padStart(5)} ${String(sec.done).padStart(5)} ${String(sec.errors).padStart(3)}  ${sec.p99Ms === null ? '      -' : sec.p99Ms.toFixed(1).padStart(8)}  ${String(sec.maxSlipMs).padStart(8)}${mark}`);
    }
    const before = at(Math.floor(killAt) - 1) ?? {};
    const afterKill = samples.filter((s) => s.t >= killAt);
    const lowest = Object.fromEntries(Object.keys(before).map((m) => [m, Math.min(...afterKill.map((s) => s.replicas[m] ?? Infinity))]));
    const window = (from: number, to: number) => seconds.filter((s) => s.t >= from && s.t < to);
    const worst = (xs: Second[]) => Math.max(...xs.map((s) => s.p99Ms ?? 0));
    console.log(`replicas 1 s before the kill ${JSON.stringify(before)}; lowest after it ${JSON.stringify(lowest)}; drops: ${Object.keys(before).filter((m) => (lowest[m] ?? 0) < (before[m] ?? 0)).map((m) => stages[m]).join(', ') || 'none'}`);
    console.log(`per-second P99: worst in the 10 s before the kill ${worst(window(killAt - 10, killAt)).toFixed(1)} ms, worst in the ${afterS} s after ${worst(window(killAt, killAt + afterS)).toFixed(1)} ms (SLO ${SLO_MS} ms)`);
    console.log(`send slip: max ${Math.max(...seconds.map((s) => s.maxSlipMs))} ms; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${process.platform} with ${(await import('node:os')).cpus().length} cores`);
  } finally {
    child.kill();
    await fleet.stop();
  }
}

if (process.argv.includes('--generate')) {
  process.once('message', (m) => {
    const { urls, rate, seed } = m as { urls: string[]; rate: number; seed: number };
    void generate(urls, rate, seed);
  });
} else {
  await main();
}
