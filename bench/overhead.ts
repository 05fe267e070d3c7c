// Per-request overhead of the real servers and of the emulators, at batch 1, on loopback: the
// client's round trip minus what the server itself reports as queue + compute time. Real
// TorchServe 0.12 and Triton 2.51 come from .ci/venv (bash .ci/install-servers.sh); a server that
// is not installed is skipped with the reason. The emulators run as separate processes
// (startEmulatedFleet), like the real servers. Requests go one at a time (no queueing), from Node's
// fetch with keep-alive, the same client for every server; a real server and its emulator take
// turns in rounds, so that a change in the host's load hits both alike.
//
//   npm run bench -- overhead            (about 1–2 min: a JVM, a Triton and a reload)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startEmulatedFleet } from '../src/emulator/index.js';
import type { EmulatedServerKind } from '../src/emulator/index.js';
import type { ModelProfile } from '../src/core/model/types.js';
import { unavailableReason } from '../test/integration/servers/status.js';
import { startTorchServe } from '../test/integration/servers/torchserve.js';
import { startTriton } from '../test/integration/servers/triton.js';

const ROUNDS = 5;
const PER_ROUND = Number(process.env.INFERLINE_OVERHEAD_N ?? 100);
const WARMUP = 20;

/** Server-side totals so far (ms): requests, queue + model compute, and the whole request inside. */
interface Totals { readonly count: number; readonly serverMs: number; readonly insideMs: number }

interface Target {
  readonly name: string;
  readonly note: string;
  send(): Promise<void>;
  totals(): Promise<Totals>;
}

interface Row {
  readonly name: string;
  readonly note: string;
  readonly rtt: number[];
  serverMs: number;
  insideMs: number;
  count: number;
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function post(url: string, body: string): Promise<string> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return text;
}

/** Rounds of PER_ROUND sequential requests to each target in turn. */
async function compare(targets: readonly Target[]): Promise<Row[]> {
  const rows: Row[] = targets.map((t) => ({ name: t.name, note: t.note, rtt: [], serverMs: 0, insideMs: 0, count: 0 }));
  for (const t of targets) for (let i = 0; i < WARMUP; i++) await t.send();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      const row = rows[i] as Row;
      const before = await t.totals();
      for (let k = 0; k < PER_ROUND; k++) {
        const t0 = performance.now();
        await t.send();
        row.rtt.push(performance.now() - t0);
      }
      const after = await t.totals();
      row.count += after.count - before.count;
      row.serverMs += after.serverMs - before.serverMs;
      row.insideMs += after.insideMs - before.insideMs;
    }
  }
  return rows;
}

// --- Triton ------------------------------------------------------------------------------------

const TRITON_BODY = JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: [[1, 2, 3, 4]] }] });

function tritonTarget(name: string, url: string, note: string): Target {
  return {
    name,
    note,
    send: async () => { await post(`${url}/v2/models/matmul/infer`, TRITON_BODY); },
    totals: async () => {
      const body = await (await fetch(`${url}/v2/models/matmul/stats`)).json() as {
        model_stats: { inference_stats: Record<string, { count: number; ns: number }> }[];
      };
      const s = body.model_stats[0]?.inference_stats ?? {};
      const ms = (k: string): number => (s[k]?.ns ?? 0) / 1e6;
      return { count: s['success']?.count ?? 0, serverMs: ms('queue') + ms('compute_input') + ms('compute_infer') + ms('compute_output'), insideMs: ms('success') };
    },
  };
}

// --- TorchServe --------------------------------------------------------------------------------

async function tsMetrics(metricsUrl: string): Promise<{ requests: number; latencyMs: number; queueMs: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const sum = (name: string): number => text.split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { requests: sum('ts_inference_requests_total'), latencyMs: sum('ts_inference_latency_microseconds') / 1000, queueMs: sum('ts_queue_latency_microseconds') / 1000 };
}

/** Real TorchServe: compute is what the handler measured and returned (the frontend reports none). */
function realTorchServeTarget(url: string, metricsUrl: string): Target & { handlerMs(): number } {
  let handlerMs = 0;
  let handled = 0;
  return {
    name: 'TorchServe 0.12 (real)',
    note: 'batch_size 1, 1 worker, reps 0',
    send: async () => {
      handlerMs += (JSON.parse(await post(`${url}/predictions/matmul`, '{"reps": 0}')) as { computeMs: number }).computeMs;
      handled++;
    },
    totals: async () => {
      const m = await tsMetrics(metricsUrl);
      return { count: m.requests, serverMs: m.queueMs + handlerMs, insideMs: m.latencyMs };
    },
    handlerMs: () => handlerMs / Math.max(1, handled),
  };
}

/** Emulated TorchServe: its inference latency is exactly queue + engine compute. */
function emulatedTorchServeTarget(url: string, metricsUrl: string, note: string): Target {
  return {
    name: 'TorchServe (emulated)',
    note,
    send: async () => { await post(`${url}/predictions/matmul`, '{"reps": 0}'); },
    totals: async () => {
      const m = await tsMetrics(metricsUrl);
      return { count: m.requests, serverMs: m.latencyMs, insideMs: m.latencyMs };
    },
  };
}

function flat(model: string, ms: number): ModelProfile {
  return { model, hardware: 'cpu', points: [{ batchSize: 1, latencyMs: ms, throughputQps: 1000 / ms }, { batchSize: 8, latencyMs: ms * 8, throughputQps: 1000 / ms }] };
}

async function emulated<T>(server: EmulatedServerKind, computeMs: number, use: (url: string, metricsUrl: string) => Promise<T>): Promise<T> {
  const fleet = await startEmulatedFleet([{ server, profiles: [flat('matmul', computeMs)], maxBatch: server === 'torchserve' ? 1 : 8, delayMs: 0 }]);
  try {
    const s = fleet.servers[0];
    if (!s) throw new Error('no server');
    return await use(s.url, s.metricsUrl);
  } finally {
    await fleet.stop();
  }
}

function print(r: Row): void {
  const server = r.serverMs / r.count;
  const inside = r.insideMs / r.count;
  const med = quantile(r.rtt, 0.5);
  console.log(`  ${r.name.padEnd(24)} rtt median ${med.toFixed(3)} p90 ${quantile(r.rtt, 0.9).toFixed(3)} | queue+compute ${server.toFixed(3)}, whole request inside ${inside.toFixed(3)}`
    + ` | overhead: median rtt − queue+compute ${(med - server).toFixed(3)}, − inside ${(med - inside).toFixed(3)} — ${r.note}`);
}

async function torchServeRows(): Promise<Row[] | string> {
  const why = unavailableReason('torchserve');
  if (why !== undefined) return why;
  const ts = await startTorchServe({ tokenAuth: false, loadModels: ['matmul.mar'] });
  try {
    const real = realTorchServeTarget(ts.inferenceUrl, `${ts.metricsUrl}/metrics`);
    for (let i = 0; i < WARMUP; i++) await real.send();
    const computeMs = Math.max(0.001, real.handlerMs());
    return await emulated('torchserve', computeMs, (url, metricsUrl) =>
      compare([real, emulatedTorchServeTarget(url, metricsUrl, `L(1) = ${computeMs.toFixed(3)} ms (the real handler's mean)`)]));
  } finally {
    await ts.stop();
  }
}

async function tritonRows(): Promise<Row[] | string> {
  const why = unavailableReason('triton');
  if (why !== undefined) return why;
  const t = await startTriton();
  try {
    // As little work as the model can do (reps 0) and no batching delay: what is left is overhead.
    const config = await (await fetch(`${t.httpUrl}/v2/models/matmul/config`)).json() as Record<string, unknown>;
    const edited = {
      ...config,
      parameters: { reps: { string_value: '0' } },
      dynamic_batching: { ...(config['dynamic_batching'] as object), max_queue_delay_microseconds: 0 },
    };
    await post(`${t.httpUrl}/v2/repository/models/matmul/load`, JSON.stringify({ parameters: { config: JSON.stringify(edited) } }));
    const real = tritonTarget('Triton 2.51 (real)', t.httpUrl, 'python backend, reps 0, max_queue_delay 0');
    for (let i = 0; i < WARMUP; i++) await real.send();
    const before = await real.totals();
    for (let i = 0; i < WARMUP; i++) await real.send();
    const after = await real.totals();
    const computeMs = Math.max(0.001, (after.serverMs - before.serverMs) / Math.max(1, after.count - before.count));
    return await emulated('triton', computeMs, (url) =>
      compare([real, tritonTarget('Triton (emulated)', url, `L(1) = ${computeMs.toFixed(3)} ms (the real queue+compute mean)`)]));
  } finally {
    await t.stop();
  }
}

export async function benchOverhead(): Promise<void> {
  console.log(`per-request overhead at batch 1 on loopback: round trip − server-reported times (ms; ${ROUNDS} rounds of ${PER_ROUND} sequential requests per server, after ${WARMUP})`);
  console.log(`  host load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const [what, run] of [['TorchServe', torchServeRows], ['Triton', tritonRows]] as const) {
    const rows = await run().catch((e: unknown) => `failed: ${(e as Error).message.split('\n')[0] ?? ''}`);
    if (typeof rows === 'string') console.log(`  SKIP real ${what}: ${rows}`);
    else for (const r of rows) print(r);
    console.log(`  host load: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  }
  console.log('');
}
