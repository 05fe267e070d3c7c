// Shared by the telemetry tests: a config with only the parts a test wants, a record of every
// kind through the port, and a reader of the Prometheus text format.
import type { TelemetryConfig } from '../../src/config/index.js';
import type { Telemetry } from '../../src/ports/telemetry.js';

export function telemetryConfig(parts: { prometheus?: boolean; otlp?: Partial<TelemetryConfig['otlp']> } = {}): TelemetryConfig {
  return {
    serviceName: 'inferline-test',
    prometheus: { enabled: parts.prometheus ?? false, host: '127.0.0.1', port: 0 },
    otlp: {
      enabled: parts.otlp !== undefined,
      endpoint: 'http://127.0.0.1:1/v1/metrics',
      intervalMs: 60_000,
      timeoutMs: 2_000,
      headers: {},
      ...parts.otlp,
    },
  };
}

/** One record of every kind, so that every instrument has a data point. */
export function recordOneOfEach(t: Telemetry, pipeline = 'images'): void {
  t.recordTraffic({ pipeline, arrivalRateQps: 120, envelope: [{ windowMs: 100, maxArrivals: 30 }, { windowMs: 60_000, maxArrivals: 7200 }] });
  t.recordStage({ pipeline, stage: 'classify', hardware: 'gpu', arrivalRateQps: 118, desiredReplicas: 3, actualReplicas: 2, batchSize: 8, capacityQps: 400, costPerHour: 2.7 });
  t.recordRequests({ pipeline, completed: 100, sloMisses: 2, latenciesMs: [4, 45, 180, 900] });
  t.recordLatency({ pipeline, p99Ms: 180, sloMs: 250, percentile: 99 });
  t.recordPlannerRun({ pipeline, planner: 'greedy', outcome: 'feasible', durationMs: 35, changed: true, envelope: [{ windowMs: 100, maxArrivals: 25 }] });
  t.recordTunerDecision({ pipeline, kind: 'scale_up', replan: false });
  t.recordReconcile({ pipeline, stage: 'classify', action: 'scale_replicas', mode: 'enforce' });
  t.recordReconcile({ pipeline, stage: 'classify', action: 'scale_replicas', mode: 'enforce', errorType: 'timeout' });
  t.recordAdapterRequest({ server: 'triton', endpoint: 'GET /v2/models/{model}/stats', status: 200, durationMs: 12 });
  t.recordAdapterError({ server: 'triton', endpoint: 'GET /v2/models/{model}/stats', errorType: 'timeout' });
  t.recordLeadership({ agent: 'agent-1', leader: true, epoch: 4 });
  t.recordShortfall({ pipeline, stage: 'classify', hardware: 'gpu', missing: 2 });
  t.recordConfigReload({ agent: 'agent-1', result: 'applied' });
  t.recordWorkload({ pipeline, stage: 'classify', workload: 'triton-classify', desiredReplicas: 3 });
}

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const raw = m[3] as string;
    out.push({ name: m[1] as string, labels, value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw) });
  }
  return out;
}

export async function scrape(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}`);
  return res.text();
}

/** The one sample of `name` whose labels include `labels` (fails when there is not exactly one). */
export function sampleOf(samples: readonly PromSample[], name: string, labels: Readonly<Record<string, string>> = {}): PromSample {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name}${JSON.stringify(labels)}`);
  return hits[0] as PromSample;
}
