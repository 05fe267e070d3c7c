// The emulated TF Serving's Prometheus metrics: request counts by status, request and runtime
// latency, and with batching the batching session's queuing latency and batch sizes.
import type { BatchRecord, InferenceOutcome } from '../engine/index.js';
import { TfHistogram, escapeLabel } from '../common/prometheus.js';

const THREAD_POOL = 'model_server_batch_threads';

export class TfServingMetrics {
  private readonly requestCount = new Map<string, number>();
  private readonly requestLatency = new TfHistogram(10, 1.8, 33);
  private readonly runtimeLatency = new TfHistogram(10, 1.8, 33);
  private readonly queuingLatency = new TfHistogram(100, 1.2, 52);
  private readonly inputBatchSize = new TfHistogram(1, 2, 14);
  private readonly processedBatchSize = new TfHistogram(1, 2, 14);
  private wrappedRuns = 0;

  constructor(private readonly batching: boolean) {}

  /** One execution of a model's engine (counted only with batching). */
  onBatch(b: BatchRecord): void {
    if (!this.batching) return;
    this.wrappedRuns++;
    this.processedBatchSize.observe([], b.size);
    for (const q of b.queueNs) this.queuingLatency.observe([['thread_pool_name', THREAD_POOL]], Number(q) / 1000);
  }

  /** A predict task of `batch` instances entering the batcher. */
  onTask(batch: number): void {
    if (this.batching) this.inputBatchSize.observe([], batch);
  }

  /** A predict served. */
  onServed(model: string, method: string, outcome: InferenceOutcome): void {
    this.requestLatency.observe([['model_name', model], ['API', method], ['entrypoint', 'REST']], Number(outcome.totalNs) / 1000);
    this.runtimeLatency.observe([['model_name', model], ['API', 'Predict'], ['runtime', 'TF1']], Number(outcome.computeNs) / 1000);
  }

  /** A REST request's final status code ('OK' or a TF code); requests without a model are not counted. */
  count(model: string, code: string): void {
    if (model === '') return;
    const key = `${model}\u0000${code}`;
    this.requestCount.set(key, (this.requestCount.get(key) ?? 0) + 1);
  }

  text(): string {
    const lines = ['# TYPE :tensorflow:serving:request_count counter'];
    for (const [key, n] of this.requestCount) {
      const [model = '', code = ''] = key.split('\u0000');
      lines.push(`:tensorflow:serving:request_count{model_name="${escapeLabel(model)}",status="${code}"} ${n}`);
    }
    lines.push(...this.requestLatency.lines(':tensorflow:serving:request_latency'));
    lines.push(...this.runtimeLatency.lines(':tensorflow:serving:runtime_latency'));
    if (this.batching) {
      lines.push(...this.queuingLatency.lines(':tensorflow:serving:batching_session:queuing_latency'));
      lines.push(...this.inputBatchSize.lines(':tensorflow:serving:batching_session:input_batch_size'));
      lines.push(...this.processedBatchSize.lines(':tensorflow:serving:batching_session:processed_batch_size'));
      lines.push('# TYPE :tensorflow:serving:batching_session:wrapped_run_count counter');
      lines.push(`:tensorflow:serving:batching_session:wrapped_run_count{} ${this.wrappedRuns}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
