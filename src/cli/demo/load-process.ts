// The demo's load generator as a process of its own (started by the demo with the event-loop
// probe loaded), so that it shares an event loop with neither the servers nor the agents. It
// talks to the demo over its IPC channel:
//   demo → here: {kind:'start', …} the trace and the stages; {kind:'go'}; {kind:'stop'}
//   here → demo: {kind:'hello'} once it listens; {kind:'ready'}; {kind:'progress', arrivals, queries} every 200 ms;
//                {kind:'stopped', slip, sent} at the end.
// It builds a client per stage from the agent config's server section, sends the trace open-loop
// (load.ts) and ends when told to, or when the demo goes away.
import { createAdapter } from '../../../adapters/registry.js';
import type { Profilable } from '../../ports/server-adapter.js';
import { systemClock } from '../../platform/system-clock.js';
import { percentileOfSorted, sortedCopy } from '../../core/math/percentiles.js';
import { demoAdapterOptions } from './clients.js';
import { LoadGenerator } from './load.js';
import type { LoadProgressMessage, LoadStartMessage, LoadStoppedMessage, WireQuery } from './load-wire.js';

function send(m: unknown): void {
  try {
    if (process.connected) process.send?.(m);
  } catch { /* the demo is gone */ }
}

let load: LoadGenerator | undefined;
let arrivals: number[] = [];
let queries: WireQuery[] = [];
let flushTimer: NodeJS.Timeout | undefined;
let slipsSeen = 0;

const flush = (): void => {
  if (arrivals.length === 0 && queries.length === 0) return;
  const slips = load?.slipsMs ?? [];
  let slipMaxMs = 0;
  for (let i = slipsSeen; i < slips.length; i++) slipMaxMs = Math.max(slipMaxMs, slips[i] as number);
  slipsSeen = slips.length;
  send({ kind: 'progress', arrivals, queries, slipMaxMs } satisfies LoadProgressMessage);
  arrivals = [];
  queries = [];
};

async function start(m: LoadStartMessage): Promise<void> {
  const stages = m.stages.map((s) => ({
    name: s.name, model: s.model, next: s.next,
    client: createAdapter({ ...demoAdapterOptions(s.server, [s.model]), clock: systemClock }) as unknown as Profilable,
  }));
  // A few queries each, so that connections and the servers' first answers are not in the run.
  for (const s of stages) for (let i = 0; i < 3; i++) await s.client.infer(s.model, { batchSize: 1, data: 'zero', timeoutMs: m.timeoutMs }).catch(() => undefined);
  load = new LoadGenerator({
    stages, entry: m.entry, trace: Float64Array.from(m.trace), clock: systemClock, seed: m.seed, timeoutMs: m.timeoutMs,
    onComplete: (q) => { queries.push([q.atMs, q.ok ? q.latencyMs : -1, q.ok]); },
    onArrival: (at) => { arrivals.push(at); },
  });
  send({ kind: 'ready' });
}

async function stop(): Promise<void> {
  const l = load;
  if (l) await Promise.race([l.stop(), new Promise((r) => setTimeout(r, 2_000))]);
  if (flushTimer) clearInterval(flushTimer);
  flush();
  const slip = sortedCopy(Float64Array.from(l?.slipsMs ?? []));
  const pick = (p: number): number => (slip.length === 0 ? 0 : percentileOfSorted(slip, p));
  send({ kind: 'stopped', sent: l?.sent ?? 0, slip: { p50Ms: pick(50), p99Ms: pick(99), maxMs: slip.length ? (slip[slip.length - 1] as number) : 0 } } satisfies LoadStoppedMessage);
  process.disconnect?.();
  process.exitCode = 0;
  setTimeout(() => process.exit(0), 200).unref();
}

// The probe leaves the channel unreferenced; this process lives for the demo's messages.
process.channel?.ref();
process.on('message', (raw: unknown) => {
  const m = raw as { kind?: string };
  if (m.kind === 'start') {
    start(raw as LoadStartMessage).catch((err: unknown) => {
      send({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
    });
  } else if (m.kind === 'go' && load) {
    flushTimer = setInterval(flush, 200);
    void load.start();
  } else if (m.kind === 'stop') {
    void stop();
  }
});
// Messages sent before this module listened went to the probe only: the demo waits for this.
send({ kind: 'hello' });
