// TF Serving's Prometheus page (C.3) → samples and per-model counters. Pure.
//
// How the exporter writes (util/prometheus_exporter.cc): names start with ':', only `# TYPE`
// lines, `{}` for no labels; counters and histogram counts are int64 printed exactly, while
// histogram `_sum` and `le` are doubles printed with six significant digits ("1.04976e+06").
import { PrometheusSyntaxError, parsePrometheusText } from '../common/prometheus.js';
import type { MetricSample, ModelCounters } from '../../src/ports/server-adapter.js';
import { MalformedBodyError } from './parse.js';

export const METRIC = {
  requestCount: ':tensorflow:serving:request_count',
  requestLatency: ':tensorflow:serving:request_latency',
  runtimeLatency: ':tensorflow:serving:runtime_latency',
  queuingLatency: ':tensorflow:serving:batching_session:queuing_latency',
  wrappedRunCount: ':tensorflow:serving:batching_session:wrapped_run_count',
} as const;

export interface TfMetrics {
  readonly samples: readonly MetricSample[];
  /** Family name → type, from the `# TYPE` lines. */
  readonly types: ReadonlyMap<string, string>;
}

const TYPE_LINE = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/;

/** The family type a sample belongs to, and which part of a histogram it is. */
function kindOf(types: ReadonlyMap<string, string>, name: string): { type?: string; part?: 'bucket' | 'sum' | 'count' } {
  const own = types.get(name);
  if (own !== undefined) return { type: own };
  for (const part of ['bucket', 'sum', 'count'] as const) {
    if (name.endsWith(`_${part}`) && types.get(name.slice(0, -part.length - 1)) === 'histogram') return { type: 'histogram', part };
  }
  return {};
}

/**
 * Parses and checks the page: counters, buckets and counts must be whole numbers ≥ 0 below 2^53
 * (beyond it a JS number is no longer exact), sums finite, `le` a number or +Inf.
 */
export function parseTfMetrics(text: string): TfMetrics {
  let samples: MetricSample[];
  try {
    samples = parsePrometheusText(text);
  } catch (err) {
    if (err instanceof PrometheusSyntaxError) throw new MalformedBodyError(`not Prometheus text: ${err.message}`, { cause: err });
    throw err;
  }
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = TYPE_LINE.exec(line.trim());
    if (m) types.set(m[1] as string, m[2] as string);
  }
  for (const s of samples) {
    const { type, part } = kindOf(types, s.name);
    const whole = type === 'counter' || part === 'bucket' || part === 'count';
    if (whole && !(Number.isSafeInteger(s.value) && s.value >= 0)) {
      const why = s.value < 0 ? 'a negative count' : Number.isInteger(s.value) && Number.isFinite(s.value) ? 'beyond 2^53, not exact' : 'not a whole number';
      throw new MalformedBodyError(`${s.name}${JSON.stringify(s.labels)}: ${s.value} is ${why}`);
    }
    if (part === 'sum' && !Number.isFinite(s.value)) throw new MalformedBodyError(`${s.name}: sum ${s.value} is not finite`);
    if (part === 'bucket') {
      const le = s.labels['le'];
      if (le === undefined || (le !== '+Inf' && !Number.isFinite(Number(le)))) throw new MalformedBodyError(`${s.name}: bad le ${JSON.stringify(le)}`);
    }
  }
  return { samples, types };
}

function has(m: TfMetrics, family: string): boolean {
  return m.types.has(family) || m.samples.some((s) => s.name === family || s.name.startsWith(`${family}_`));
}

function sumCounts(m: TfMetrics, name: string, match: (labels: Readonly<Record<string, string>>) => boolean): bigint {
  let total = 0n;
  for (const s of m.samples) if (s.name === name && match(s.labels)) total += BigInt(s.value);
  return total;
}

/** Sums a histogram's `_sum` series (µs) as ns. The sums are six-digit doubles: approximate. */
function sumMicrosAsNs(m: TfMetrics, name: string, match: (labels: Readonly<Record<string, string>>) => boolean): bigint {
  let total = 0n;
  for (const s of m.samples) {
    if (s.name !== name || !match(s.labels)) continue;
    if (s.value < 0) throw new MalformedBodyError(`${name}${JSON.stringify(s.labels)}: negative latency sum ${s.value}`);
    total += BigInt(Math.round(s.value * 1000));
  }
  return total;
}

/**
 * Counters of `models` from one scrape.
 * - requests: successful inference requests, `request_latency_count` (recorded only for
 *   predict/classify/regress that succeed). `request_count{status="OK"}` also counts model status
 *   and metadata calls (C.3), our own polling included, so it is the fallback only when the server
 *   has no request_latency family at all.
 * - failures: `request_count` with any status but OK (status and metadata failures included).
 * - computeNs: `runtime_latency_sum` (time inside the TF runtime; with batching on it includes the
 *   wait in the batch queue). Servers built or configured without the runtime family (older
 *   releases, some builds) still export `request_latency`: then its `_sum`, the whole request as
 *   the server saw it (parsing and serialising included), so the latency is an upper bound rather
 *   than none (latencyOf).
 * - The batching_session metrics have no model label (C.3). They are attributed (executions =
 *   wrapped_run_count, queueNs = queuing_latency_sum) only when the server serves exactly one
 *   model as far as we can see: one configured model and no other model_name in the scrape.
 *   Otherwise they stay server-wide, in metrics() only.
 */
export function countersFromMetrics(m: TfMetrics, models: readonly string[], servedModels: readonly string[]): ModelCounters[] {
  const byModel = (model: string) => (l: Readonly<Record<string, string>>) => l['model_name'] === model;
  // Models seen serving: successful requests only (a NOT_FOUND for a wrong name is no model).
  const seen = new Set<string>();
  for (const s of m.samples) {
    const name = s.labels['model_name'];
    if (name === undefined) continue;
    const latency = [METRIC.requestLatency, METRIC.runtimeLatency].some((f) => s.name.startsWith(`${f}_`));
    if (latency || (s.name === METRIC.requestCount && s.labels['status'] === 'OK')) seen.add(name);
  }
  const only = servedModels.length === 1 ? servedModels[0] : undefined;
  const soleModel = only !== undefined && [...seen].every((n) => n === only) ? only : undefined;
  const latencyFamily = has(m, METRIC.requestLatency);
  return models.map((model) => {
    const mine = byModel(model);
    const requests = latencyFamily
      ? sumCounts(m, `${METRIC.requestLatency}_count`, mine)
      : sumCounts(m, METRIC.requestCount, (l) => mine(l) && l['status'] === 'OK');
    const failures = sumCounts(m, METRIC.requestCount, (l) => mine(l) && l['status'] !== 'OK');
    const serverWide = model === soleModel;
    return {
      model,
      requests,
      failures,
      ...latencyOf(m, mine),
      ...(serverWide && has(m, METRIC.wrappedRunCount) ? { executions: sumCounts(m, METRIC.wrappedRunCount, () => true) } : {}),
      ...(serverWide && has(m, METRIC.queuingLatency) ? { queueNs: sumMicrosAsNs(m, `${METRIC.queuingLatency}_sum`, () => true) } : {}),
    };
  });
}

/** Where the server's latency of a model comes from: runtime_latency, else request_latency (see countersFromMetrics). */
export type LatencySource = 'runtime_latency' | 'request_latency';

export function latencySource(m: TfMetrics): LatencySource | undefined {
  if (has(m, METRIC.runtimeLatency)) return 'runtime_latency';
  if (has(m, METRIC.requestLatency)) return 'request_latency';
  return undefined;
}

function latencyOf(m: TfMetrics, match: (labels: Readonly<Record<string, string>>) => boolean): { computeNs?: bigint } {
  const source = latencySource(m);
  if (source === undefined) return {};
  const family = source === 'runtime_latency' ? METRIC.runtimeLatency : METRIC.requestLatency;
  return { computeNs: sumMicrosAsNs(m, `${family}_sum`, match) };
}
