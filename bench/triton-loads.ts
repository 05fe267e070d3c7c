// Triton loads over HTTP against gRPC, on REAL Triton 2.51 (installed by .ci/install-servers.sh):
// the sleep model (a batch of k sleeps 25 + k ms), open-loop 100 q/s over HTTP inference while the
// adapter takes the instances 4 → 1 → 4 → 1, once with its loads over HTTP and once over gRPC, on
// a fresh server each. Prints per path: how long each change took, the requests slower than
// 300 ms, the slowest answer, failures, and the host's load. An HTTP load holds the Triton HTTP
// thread that received it until it returns, so the inference requests on that thread's
// connections wait as long (docs/scale-down.md); over gRPC none should.
//
//   npm run bench -- triton-loads          (INFERLINE_BENCH_HTTP_THREADS=N: tritonserver's --http-thread-count)
import { loadavg } from 'node:os';
import { TritonAdapter } from '../adapters/triton/index.js';
import { httpRequest } from '../test/integration/servers/process.js';
import { scaleUnderLoad } from '../test/integration/servers/scale-under-load.js';
import { unavailableReason } from '../test/integration/servers/status.js';
import { startTriton } from '../test/integration/servers/triton.js';
import type { TritonHandle } from '../test/integration/servers/triton.js';

const SLOW_MS = 300;

async function withSlowSleep(t: TritonHandle): Promise<void> {
  const config = JSON.parse((await httpRequest(`${t.httpUrl}/v2/models/sleep/config`, { timeoutMs: 10_000 })).text) as Record<string, unknown>;
  const parameters = { ...(config['parameters'] as Record<string, unknown>), base_ms: { string_value: '25' } };
  const r = await httpRequest(`${t.httpUrl}/v2/repository/models/sleep/load`, {
    method: 'POST', timeoutMs: 120_000, body: JSON.stringify({ parameters: { config: JSON.stringify({ ...config, parameters }) } }),
  });
  if (r.status !== 200) throw new Error(`reloading sleep with base_ms 25: ${r.status} ${r.text}`);
}

async function runPath(via: 'http' | 'grpc', httpThreads: string | undefined): Promise<void> {
  const t = await startTriton({ models: ['sleep'], extraArgs: httpThreads ? [`--http-thread-count=${httpThreads}`] : [] });
  try {
    await withSlowSleep(t);
    const adapter = new TritonAdapter({ url: t.httpUrl, metricsUrl: t.metricsUrl, grpcUrl: via === 'grpc' ? `127.0.0.1:${t.grpcPort}` : 'none', timeoutMs: 60_000 });
    await adapter.setReplicas('sleep', 4);
    const latencies: number[] = [];
    const load0 = loadavg()[0] ?? 0;
    const r = await scaleUnderLoad({
      // Removals finish only when the instance is idle: the load stops after 150 s, mid-change or not.
      rateQps: 100, steps: [4, 1, 4, 1], holdMs: 1500, maxOutstanding: 400, budgetMs: 150_000,
      send: () => {
        const start = performance.now();
        return adapter.infer('sleep', { batchSize: 1, data: 'zero', timeoutMs: 60_000 }).finally(() => latencies.push(performance.now() - start));
      },
      setReplicas: (n) => adapter.setReplicas('sleep', n),
    });
    const slow = latencies.filter((l) => l > SLOW_MS).length;
    console.log(`  loads over ${via.padEnd(4)}  changes ${r.changeMs.map((c) => `${c} ms`).join(', ')}${r.outOfBudget ? ' (load stopped at 150 s, mid-change)' : ''}`);
    console.log(`                   ${r.sent} sent, ${r.failed} failed, ${slow} over ${SLOW_MS} ms, slowest ${r.slowestMs} ms; load average ${load0.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}`);
  } finally {
    await t.stop();
  }
}

export async function benchTritonLoads(): Promise<void> {
  console.log('\n== Triton loads over HTTP and gRPC: inference requests while instances go 4 → 1 → 4 → 1 (real Triton 2.51, sleep model 25 + k ms, 100 q/s) ==');
  const missing = unavailableReason('triton');
  if (missing) {
    console.log(`  skipped: real Triton is not installed (${missing}); run bash .ci/install-servers.sh`);
    return;
  }
  const threads = process.env['INFERLINE_BENCH_HTTP_THREADS'];
  if (threads) console.log(`  tritonserver --http-thread-count=${threads}`);
  await runPath('http', threads);
  await runPath('grpc', threads);
}
