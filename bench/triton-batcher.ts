// How REAL Triton 2.51's dynamic batcher forms batches, from its own per-request trace: the sleep
// model (a batch of k sleeps 4 + 1·k ms, max batch 8, max_queue_delay 2 ms, one instance), Poisson
// open-loop at each rate, every request traced (--trace-config level=TIMESTAMPS, rate=1). Prints
// the measured mean queue (COMPUTE_START − QUEUE_START) and batch size, how late each batch
// started against "when the instance was free and the oldest request of the batch had waited the
// delay", how many batches started while an earlier request was left for a later batch, and the
// estimator on the same server-side arrivals, with the measured compute per batch size as L(k) and
// no hop, by two of its rules:
//   - oldest-request: a free replica takes every queued request (up to the max batch) once the
//     oldest has waited the delay;
//   - payload (core/sim/batch-delay.ts), Triton's batcher as read in its dynamic_batch_scheduler.cc
//     (docs/replay-real-servers.md): a batch is fixed when its delay runs out even while the
//     instance is busy, and a request that arrives while it waits joins it only when it wakes the
//     batcher (its queued count reaching next_preferred_batch_size, 0 after a new payload and
//     max batch − k once the batcher waited for a delay); the next payload begins when the waiting
//     one starts executing. The estimator simulates Triton stages by it, and the emulated Triton
//     follows it (wakeOnPreferred); this bench checks it against the real server.
//
//   npm run bench -- triton-batcher          (INFERLINE_BENCH_RATES=40,100,200 INFERLINE_BENCH_DURATION_S=15)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePipeline } from '../src/core/model/pipeline.js';
import { normaliseProfiles, ProfileSet } from '../src/core/model/profiles.js';
import { Estimator } from '../src/core/sim/estimator.js';
import type { DelayOrigin } from '../src/core/sim/estimator.js';
import { httpRequest } from '../test/integration/servers/process.js';
import { unavailableReason } from '../test/integration/servers/status.js';
import { startTriton } from '../test/integration/servers/triton.js';

const DELAY_MS = 2;
const MAX_BATCH = 8;
type Stamps = Record<string, number>;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const quantile = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;

/** Sends Poisson arrivals at `rate` for `seconds` (seeded), open-loop; resolves when all answered. */
async function poisson(url: URL, rate: number, seconds: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const body = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
  const send = (): Promise<void> => new Promise((done) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', done);
    });
    req.on('error', () => done());
    req.end(body);
  });
  let state = 12345;
  const uniform = (): number => { state = (state * 1103515245 + 12345) % 2147483648; return (state + 0.5) / 2147483648; };
  const t0 = performance.now();
  let at = 0;
  const sent: Promise<void>[] = [];
  while (at < seconds * 1000) {
    at += (-Math.log(uniform()) * 1000) / rate;
    const wait = t0 + at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(send());
  }
  await Promise.all(sent);
  agent.destroy();
}

/** The traced requests (all timestamps in ms), in queue order. */
function readTrace(dir: string): Stamps[] {
  const byId = new Map<number, Stamps>();
  for (const f of readdirSync(dir).filter((n) => n.startsWith('trace.json'))) {
    for (const e of JSON.parse(readFileSync(join(dir, f), 'utf8')) as { id: number; timestamps?: { name: string; ns: number }[] }[]) {
      const m = byId.get(e.id) ?? {};
      for (const t of e.timestamps ?? []) m[t.name] = t.ns / 1e6;
      byId.set(e.id, m);
    }
  }
  return [...byId.values()].filter((m) => m['QUEUE_START'] !== undefined && m['COMPUTE_START'] !== undefined)
    .sort((a, b) => (a['QUEUE_START'] as number) - (b['QUEUE_START'] as number));
}

/**
 * The estimator on the server's own arrivals (QUEUE_START, ms) through one replica of a model whose
 * L(k) is the compute the trace measured, no hop: by `rule`. Mean queue and batch.
 */
function estimate(arrivals: readonly number[], compute: ReadonlyMap<number, readonly number[]>, rule: DelayOrigin): { queueMs: number; batch: number } {
  const points = [...compute.entries()].filter(([, d]) => d.length > 3).sort((a, b) => a[0] - b[0]).map(([k, d]) => ({ batchSize: k, latencyMs: mean(d) }));
  const { profiles, problems } = normaliseProfiles([{ model: 'sleep', hardware: 'cpu', points }], () => 'traced compute');
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('; '));
  const pipeline = compilePipeline({ name: 'traced', slo: { latencyMs: 1000, percentile: 99 }, stages: [{ name: 'sleep', model: 'sleep', hardware: ['cpu'], next: [], server: 'triton' }] });
  const e = new Estimator(pipeline, new ProfileSet(profiles)).estimate(
    { sleep: { hardware: 'cpu', batchSize: MAX_BATCH, replicas: 1, batchDelayMs: DELAY_MS } },
    Float64Array.from(arrivals, (ms) => ms / 1000),
    { seed: 1, sloMs: 1000, percentile: 99, delayOrigin: { sleep: rule } },
  );
  const stage = e.stages[0];
  return { queueMs: stage?.meanQueueDelayMs ?? Number.NaN, batch: stage?.meanBatchSize ?? Number.NaN };
}

async function warmUp(url: string, count: number): Promise<void> {
  const body = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] });
  for (let w = 0; w < count; w++) await httpRequest(url, { method: 'POST', body, timeoutMs: 10_000 });
}

async function atRate(rate: number, seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferline-triton-trace-'));
  const t = await startTriton({ models: ['sleep'], extraArgs: [`--trace-config=triton,file=${join(dir, 'trace.json')}`, '--trace-config=level=TIMESTAMPS', '--trace-config=rate=1', '--trace-config=count=-1'] });
  try {
    // The flag does not take a log frequency; without one the trace is written only at exit.
    await httpRequest(`${t.httpUrl}/v2/trace/setting`, { method: 'POST', body: JSON.stringify({ log_frequency: '200' }) });
    const url = `${t.httpUrl}/v2/models/sleep/infer`;
    await warmUp(url, 50);
    await poisson(new URL(url), rate, seconds);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await t.stop();
  }
  const reqs = readTrace(dir).slice(50);
  rmSync(dir, { recursive: true, force: true });
  const groups = new Map<number, Stamps[]>();
  for (const r of reqs) {
    const key = Math.round((r['COMPUTE_START'] as number) * 1000);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const batches = [...groups.values()].sort((a, b) => (a[0]?.['COMPUTE_START'] as number) - (b[0]?.['COMPUTE_START'] as number));
  const compute = new Map<number, number[]>();
  const late: number[] = [];
  let prevEnd = -Infinity;
  let leftBehind = 0;
  for (const b of batches) {
    const startMs = b[0]?.['COMPUTE_START'] as number;
    const endMs = Math.max(...b.map((r) => r['COMPUTE_END'] as number));
    const oldest = Math.min(...b.map((r) => r['QUEUE_START'] as number));
    compute.set(b.length, [...(compute.get(b.length) ?? []), endMs - startMs]);
    late.push(startMs - Math.max(prevEnd, b.length >= MAX_BATCH ? oldest : oldest + DELAY_MS));
    if (reqs.some((r) => (r['QUEUE_START'] as number) < startMs - 0.01 && (r['COMPUTE_START'] as number) > startMs + 0.01)) leftBehind++;
    prevEnd = endMs;
  }
  const arrivals = reqs.map((r) => (r['QUEUE_START'] as number) - (reqs[0]?.['QUEUE_START'] as number));
  const greedy = estimate(arrivals, compute, 'oldest-request');
  const payload = estimate(arrivals, compute, 'payload');
  const measured = mean(reqs.map((r) => (r['COMPUTE_START'] as number) - (r['QUEUE_START'] as number)));
  console.log(`  ${rate} q/s: ${reqs.length} requests in ${batches.length} batches (host load ${loadavg()[0]?.toFixed(2)})`);
  console.log(`    measured           queue ${measured.toFixed(2)} ms, batch ${(reqs.length / batches.length).toFixed(2)}; compute ${[...compute.entries()].sort((a, b) => a[0] - b[0]).slice(0, 4).map(([k, d]) => `L(${k}) ${mean(d).toFixed(2)}`).join(', ')} ms`);
  console.log(`    batch start − (instance free, oldest + delay): mean ${mean(late).toFixed(3)} ms, p50 ${quantile(late, 0.5).toFixed(3)}, p99 ${quantile(late, 0.99).toFixed(3)}; batches that left an earlier request for a later one: ${leftBehind} of ${batches.length}`);
  console.log(`    estimator, oldest-request rule  queue ${greedy.queueMs.toFixed(2)} ms, batch ${greedy.batch.toFixed(2)} (on the same arrivals and compute)`);
  console.log(`    estimator, payload rule         queue ${payload.queueMs.toFixed(2)} ms, batch ${payload.batch.toFixed(2)}`);
}

export async function benchTritonBatcher(): Promise<void> {
  const why = unavailableReason('triton');
  if (why !== undefined) {
    console.log(`triton-batcher: real Triton unavailable (${why}); skipped`);
    return;
  }
  const rates = (process.env['INFERLINE_BENCH_RATES'] ?? '40,100,200').split(',').map(Number).filter((r) => r > 0);
  const seconds = Number(process.env['INFERLINE_BENCH_DURATION_S'] ?? 15);
  console.log(`real Triton 2.51's dynamic batcher, traced (sleep model: max batch ${MAX_BATCH}, delay ${DELAY_MS} ms, one instance; Poisson ${seconds} s per rate)`);
  for (const rate of rates) await atRate(rate, seconds);
  console.log('');
}
