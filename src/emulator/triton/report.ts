// What the emulated Triton reports from its engines' counters: the statistics extension's JSON
// (A.9 / fixture F1, plus the newer optional fields) and the Prometheus text of the metrics port
// (A.10 names, HELP strings and labels).
import { totalmem, freemem } from 'node:os';
import { FAILURE_REASONS } from '../engine/index.js';
import type { EngineCounters } from '../engine/index.js';
import { escapeLabel } from '../common/prometheus.js';
import { TRITON_MODEL_VERSION } from './config.js';

const ZERO = { count: 0n, ns: 0n };

/** One entry of `model_stats`. */
export function modelStatJson(name: string, c: EngineCounters): Record<string, unknown> {
  const perRequest = (ns: bigint) => ({ count: c.success.count, ns });
  return {
    name,
    version: TRITON_MODEL_VERSION,
    last_inference: c.lastInferenceMs,
    inference_count: c.inferenceCount,
    execution_count: c.executionCount,
    inference_stats: {
      success: { ...c.success },
      fail: { ...c.failure },
      queue: { ...c.queue },
      // The whole service time is inference; the emulator spends none on input or output.
      compute_input: perRequest(0n),
      compute_infer: { ...c.compute },
      compute_output: perRequest(0n),
      cache_hit: { ...ZERO },
      cache_miss: { ...ZERO },
    },
    response_stats: {},
    batch_stats: c.batchStats.map((b) => ({
      batch_size: b.batchSize,
      compute_input: { count: b.count, ns: 0n },
      compute_infer: { count: b.count, ns: b.ns },
      compute_output: { count: b.count, ns: 0n },
    })),
    memory_usage: [],
  };
}

/** One loaded model's series. */
export interface ModelMetrics {
  readonly name: string;
  /** Cumulative counters since the model was loaded (they survive a background reload). */
  readonly counters: EngineCounters;
  readonly pending: number;
  /** Set when the model's instances are on a GPU. */
  readonly gpuUuid?: string;
}

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
}

const F = (name: string, type: Family['type'], help: string): Family => ({ name, type, help });

const SUCCESS = F('nv_inference_request_success', 'counter', 'Number of successful inference requests, all batch sizes');
const FAILURE = F('nv_inference_request_failure', 'counter', 'Number of failed inference requests, all batch sizes');
const COUNT = F('nv_inference_count', 'counter', 'Number of inferences performed (does not include cached requests)');
const EXEC = F('nv_inference_exec_count', 'counter', 'Number of model executions performed (does not include cached requests)');
const PENDING = F('nv_inference_pending_request_count', 'gauge', 'Instantaneous number of pending requests awaiting execution per-model.');
const REQUEST_US = F('nv_inference_request_duration_us', 'counter', 'Cumulative inference request duration in microseconds (includes cached requests)');
const QUEUE_US = F('nv_inference_queue_duration_us', 'counter', 'Cumulative inference queuing duration in microseconds (includes cached requests)');
const INPUT_US = F('nv_inference_compute_input_duration_us', 'counter', 'Cumulative compute input duration in microseconds (does not include cached requests)');
const INFER_US = F('nv_inference_compute_infer_duration_us', 'counter', 'Cumulative compute inference duration in microseconds (does not include cached requests)');
const OUTPUT_US = F('nv_inference_compute_output_duration_us', 'counter', 'Cumulative inference compute output duration in microseconds (does not include cached requests)');

/** The metrics port's text: per-model families for every loaded model, then CPU metrics. */
export function metricsText(models: readonly ModelMetrics[]): string {
  const lines: string[] = [];
  const family = (f: Family, samples: readonly string[]) => {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...samples);
  };
  // prometheus-cpp keeps labels in a sorted map: gpu_uuid, model, reason, version.
  const labels = (m: ModelMetrics, instance: boolean, extra: Record<string, string> = {}) => {
    const all: Record<string, string> = { ...(instance && m.gpuUuid ? { gpu_uuid: m.gpuUuid } : {}), model: m.name, ...extra, version: TRITON_MODEL_VERSION };
    return `{${Object.keys(all).sort().map((k) => `${k}="${escapeLabel(all[k] as string)}"`).join(',')}}`;
  };
  const per = (f: Family, value: (m: ModelMetrics) => bigint | number, instance = true) =>
    family(f, models.map((m) => `${f.name}${labels(m, instance)} ${num(value(m))}`));

  per(SUCCESS, (m) => m.counters.success.count);
  // Failures are reported by the model-level reporter (no gpu_uuid), one series per reason.
  family(FAILURE, models.flatMap((m) => FAILURE_REASONS.map((r) => `${FAILURE.name}${labels(m, false, { reason: r })} ${num(m.counters.failuresByReason[r])}`)));
  per(COUNT, (m) => m.counters.inferenceCount);
  per(EXEC, (m) => m.counters.executionCount);
  per(PENDING, (m) => m.pending, false);
  per(REQUEST_US, (m) => m.counters.success.ns / 1000n);
  per(QUEUE_US, (m) => m.counters.queue.ns / 1000n);
  per(INPUT_US, () => 0);
  per(INFER_US, (m) => m.counters.compute.ns / 1000n);
  per(OUTPUT_US, () => 0);

  const total = totalmem();
  family(F('nv_cpu_utilization', 'gauge', 'CPU utilization rate [0.0 - 1.0]'), ['nv_cpu_utilization 0']);
  family(F('nv_cpu_memory_total_bytes', 'gauge', 'CPU total memory (RAM), in bytes'), [`nv_cpu_memory_total_bytes ${total}`]);
  family(F('nv_cpu_memory_used_bytes', 'gauge', 'CPU used memory (RAM), in bytes'), [`nv_cpu_memory_used_bytes ${total - freemem()}`]);
  return `${lines.join('\n')}\n`;
}

/** Sums counters of successive copies of a model (a background reload keeps the series going). */
export function sumCounters(list: readonly EngineCounters[]): EngineCounters {
  const add = (a: { count: bigint; ns: bigint }, b: { count: bigint; ns: bigint }) => ({ count: a.count + b.count, ns: a.ns + b.ns });
  const sizes = new Map<number, { count: bigint; ns: bigint }>();
  let out: EngineCounters = {
    success: ZERO, failure: ZERO, queue: ZERO, compute: ZERO,
    failuresByReason: { REJECTED: 0n, CANCELED: 0n, BACKEND: 0n, OTHER: 0n },
    inferenceCount: 0n, executionCount: 0n, batchStats: [], lastInferenceMs: 0,
  };
  for (const c of list) {
    for (const b of c.batchStats) sizes.set(b.batchSize, add(sizes.get(b.batchSize) ?? ZERO, b));
    const reasons = { ...out.failuresByReason };
    for (const r of FAILURE_REASONS) reasons[r] += c.failuresByReason[r];
    out = {
      success: add(out.success, c.success),
      failure: add(out.failure, c.failure),
      queue: add(out.queue, c.queue),
      compute: add(out.compute, c.compute),
      failuresByReason: reasons,
      inferenceCount: out.inferenceCount + c.inferenceCount,
      executionCount: out.executionCount + c.executionCount,
      batchStats: [],
      lastInferenceMs: Math.max(out.lastInferenceMs, c.lastInferenceMs),
    };
  }
  return { ...out, batchStats: [...sizes.entries()].sort(([a], [b]) => a - b).map(([batchSize, s]) => ({ batchSize, ...s })) };
}

function num(v: bigint | number): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}
