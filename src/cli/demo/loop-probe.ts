// Loaded with `node --import` into each process the demo starts (emulated servers, agents, the
// load generator): once a second it sends the parent, over the IPC channel, the P99 and the max of
// its event-loop delay since the parent's last reset, so that the demo can tell a host that cannot
// carry the run from a product that misses its SLO. It also ends its process (SIGTERM, so the
// process stops as it would under Ctrl-C) when the parent goes away, however the parent ended.
// Nothing here keeps the process alive.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What a probe sends. */
export interface LoopReport {
  readonly kind: 'loop';
  readonly pid: number;
  /** Since the last reset. */
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Over the last second: the live view's figure. */
  readonly lastP99Ms: number;
}

/** What resets a probe's histogram (the demo sends it when the load starts). */
export const PROBE_RESET = { kind: 'loop-reset' } as const;

if (typeof process.send === 'function') {
  const run = monitorEventLoopDelay({ resolution: 5 });
  const second = monitorEventLoopDelay({ resolution: 5 });
  run.enable();
  second.enable();
  const timer = setInterval(() => {
    const report: LoopReport = {
      kind: 'loop', pid: process.pid,
      p99Ms: run.percentile(99) / 1e6, maxMs: run.max / 1e6, lastP99Ms: second.percentile(99) / 1e6,
    };
    second.reset();
    try {
      if (process.connected) process.send?.(report);
    } catch { /* the parent is gone: the disconnect handler stops us */ }
  }, 1000);
  timer.unref();
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === PROBE_RESET.kind) run.reset();
  });
  process.channel?.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
