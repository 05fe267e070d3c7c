// Closed-loop load for one profile point: `concurrency` workers, each with one batch in flight at
// a time, sending the next as soon as the last one answers. Every request carries a timeout.
// Completions are recorded with the time they ended, so the runner can cut them into windows.
import type { Clock } from '../../ports/clock.js';
import type { Profilable } from '../../ports/server-adapter.js';

export interface CompletedBatch {
  /** When the answer arrived (clock ms). */
  readonly endMs: number;
  /** Client-observed latency, as the adapter measured it. */
  readonly latencyMs: number;
}

export interface ClosedLoopOptions {
  readonly adapter: Profilable;
  readonly model: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Seeds the request data; each request gets its own seed from it. */
  readonly seed?: number;
}

export class ClosedLoop {
  private readonly options: ClosedLoopOptions;
  private readonly done: CompletedBatch[] = [];
  private firstError: unknown;
  private stopping = false;
  private workers: Promise<void>[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  private sent = 0;

  constructor(options: ClosedLoopOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${options.concurrency}`);
    this.options = options;
  }

  /** Batches answered so far, in the order they ended. */
  get completed(): readonly CompletedBatch[] {
    return this.done;
  }

  /** The first failure, if a request failed (the loop stops sending then). */
  get error(): unknown {
    return this.firstError;
  }

  get failed(): boolean {
    return this.firstError !== undefined;
  }

  start(): void {
    if (this.workers.length > 0) return;
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
  }

  /**
   * Resolves once `count` batches have been answered in total, or a request failed, or the loop
   * stopped; rejects with the signal's reason when aborted first.
   */
  waitFor(count: number, signal?: AbortSignal): Promise<void> {
    if (this.done.length >= count || this.failed || this.stopping) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const waiter = {
        count,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Stops sending and waits for the requests in flight (each ends by its timeout at the latest). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    const { adapter, model, batchSize, timeoutMs, clock, seed } = this.options;
    while (!this.stopping && !this.failed) {
      const n = this.sent++;
      try {
        const r = await adapter.infer(model, { batchSize, data: 'random', seed: (seed ?? 1) * 1_000_003 + n, timeoutMs });
        if (this.firstError === undefined) this.done.push({ endMs: clock.nowMs(), latencyMs: r.latencyMs });
      } catch (err) {
        this.firstError ??= err ?? new Error('inference failed');
      }
      this.wake();
    }
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => this.stopping || this.failed || this.done.length >= w.count);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
