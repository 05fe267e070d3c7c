// Emulator timing: how far past L(k) a batch ends, and past the delay a batch window closes, as the
// engine itself measures them (monotonic clock), with the CPU the event loop spent meanwhile. For
// comparison, the same batches on a plain setTimeout(L) (the engine before deadline timers).
import { LatencyCurve } from '../src/core/model/profiles.js';
import { ModelEngine } from '../src/emulator/engine/index.js';
import { preciseTimer } from '../src/emulator/engine/deadline-timer.js';
import type { DeadlineTimer } from '../src/emulator/engine/deadline-timer.js';
import { loadavg } from 'node:os';

const SERVICE_MS = [0.7, 2.3, 8.6, 40];
const DELAY_MS = [0.5, 2.3];

/** The old way: one setTimeout for the whole wait (Node rounds and fires on its loop clock). */
const plainTimer: DeadlineTimer = {
  nowMs: () => performance.now(),
  at(deadline, fn) {
    const t = setTimeout(fn, Math.max(0, deadline - performance.now()));
    return () => clearTimeout(t);
  },
};

interface Figures {
  readonly n: number;
  readonly meanMs: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** CPU time of this process over wall time (1 = one core busy). */
  readonly cpu: number;
}

function summarise(overrunsMs: number[], cpuUs: number, wallMs: number): Figures {
  const sorted = [...overrunsMs].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    n: sorted.length,
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    medianMs: at(0.5),
    p99Ms: at(0.99),
    maxMs: sorted[sorted.length - 1] ?? NaN,
    cpu: cpuUs / 1000 / wallMs,
  };
}

/** Back-to-back batches of one item on one replica, each taking `ms`. */
async function batches(ms: number, timer: DeadlineTimer): Promise<Figures> {
  const n = Math.max(30, Math.min(1000, Math.round(1500 / ms)));
  const overruns: number[] = [];
  const flat = new LatencyCurve({ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: ms, throughputQps: 1000 / ms }] });
  const engine = new ModelEngine({ name: 'm', curve: flat, replicas: 1, maxBatch: 1, maxQueueDelayMs: 0, timer, onBatch: (b) => overruns.push(Number(b.computeNs) / 1e6 - ms) });
  await engine.submit(1); // warm-up
  overruns.length = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => engine.submit(1)));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  engine.stop();
  return summarise(overruns, cpu.user + cpu.system, wall);
}

/** Single requests on an idle replica with a batch delay of `ms`: the wait past the delay. */
async function windows(ms: number, timer: DeadlineTimer): Promise<Figures> {
  const n = 200;
  const overruns: number[] = [];
  const flat = new LatencyCurve({ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 0.1, throughputQps: 10_000 }, { batchSize: 4, latencyMs: 0.1, throughputQps: 40_000 }] });
  const engine = new ModelEngine({ name: 'm', curve: flat, replicas: 1, maxBatch: 4, maxQueueDelayMs: ms, timer });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) overruns.push(Number((await engine.submit(1)).queueNs) / 1e6 - ms);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  engine.stop();
  return summarise(overruns, cpu.user + cpu.system, wall);
}

const f = (x: number, d = 3): string => x.toFixed(d);

export async function benchEmulator(): Promise<void> {
  console.log('emulator');
  console.log(`  host load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min), ${process.version}`);
  console.log('  batch end past L (ms): deadline timer (setTimeout + setImmediate polling of the last ms) | plain setTimeout(L)');
  for (const ms of SERVICE_MS) {
    const p = await batches(ms, preciseTimer);
    const o = await batches(ms, plainTimer);
    console.log(`  L=${String(ms).padEnd(4)} n=${String(p.n).padEnd(4)} mean ${f(p.meanMs)} (${f((100 * p.meanMs) / ms, 2)} %) median ${f(p.medianMs)} p99 ${f(p.p99Ms)} max ${f(p.maxMs)} cpu ${f(p.cpu, 2)}`
      + ` | mean ${f(o.meanMs)} (${f((100 * o.meanMs) / ms, 1)} %) median ${f(o.medianMs)} p99 ${f(o.p99Ms)} cpu ${f(o.cpu, 2)}`);
  }
  console.log('  batch window closing past the delay (ms), a lone request on an idle replica');
  for (const ms of DELAY_MS) {
    const p = await windows(ms, preciseTimer);
    const o = await windows(ms, plainTimer);
    console.log(`  delay=${String(ms).padEnd(4)} n=${p.n} mean ${f(p.meanMs)} median ${f(p.medianMs)} p99 ${f(p.p99Ms)} max ${f(p.maxMs)} cpu ${f(p.cpu, 2)} | mean ${f(o.meanMs)} median ${f(o.medianMs)} p99 ${f(o.p99Ms)}`);
  }
  console.log(`  host load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('');
}
