// The load generator of bench/handover.ts, in a process of its own so that the agents' and the
// emulators' work does not delay its sends: open-loop Poisson arrivals, each query through the
// three servers in turn. One message per second to the parent: queries sent, completed, failed,
// their P99 (from the scheduled send), and this process's health: the largest send slip (how late
// a due arrival went out) and the largest event-loop delay in the second (a late completion
// callback inflates a measured latency by as much).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadSecond {
  readonly t: number;
  readonly sent: number;
  readonly done: number;
  readonly errors: number;
  readonly p99Ms: number | null;
  readonly maxSlipMs: number;
  readonly maxLagMs: number;
}

export interface LoadStart {
  readonly urls: readonly string[];
  readonly rate: number;
  readonly seed: number;
}

async function generate({ urls, rate, seed }: LoadStart): Promise<void> {
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
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
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
      process.send?.({
        t: Math.round((secondStart - t0) / 1000), sent: second.sent, done: second.done, errors: second.errors, p99Ms: p99,
        maxSlipMs: Math.round(second.maxSlipMs), maxLagMs: Math.round(lag.max / 1e6),
      } satisfies LoadSecond);
      lag.reset();
      second = { sent: 0, done: 0, errors: 0, latencies: [], maxSlipMs: 0 };
      secondStart += 1000;
    }
    if (now < next) {
      await sleep(Math.min(5, next - now));
      continue;
    }
    // Every arrival due by now is sent now; how late it went out is the send slip. (Only those due
    // by `now`: on a starved host, sending can take longer than the arrivals' spacing, and the
    // loop must still come back to report the second.)
    while (next <= now) {
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

process.once('message', (m) => { void generate(m as LoadStart); });
