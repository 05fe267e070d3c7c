// The one helper every background loop runs on (scrape, tune, renew, export): it never overlaps a
// run with the previous one (a slow run makes the next tick wait, not pile up), applies a timeout
// to each run, counts failures instead of throwing, and sleeps on the Clock port so tests drive it
// with a FakeClock. stop() is idempotent and waits for the current run, up to a deadline.
import type { Clock } from '../ports/clock.js';

export interface PeriodicOptions {
  readonly name: string;
  readonly intervalMs: number;
  /** The interval to the next run, asked after each run (default: always intervalMs). The timeout stays as set. */
  readonly nextIntervalMs?: () => number;
  /** Abort a run that takes longer (default: the interval). */
  readonly timeoutMs?: number;
  readonly clock: Clock;
  /** Called with each failure (a thrown error or a timeout); the loop goes on. */
  readonly onError?: (err: unknown) => void;
}

export interface PeriodicStats {
  readonly runs: number;
  readonly failures: number;
  readonly timeouts: number;
}

/**
 * A loop's interval with a back-off: `idleIntervalMs` (never below `intervalMs`) once it has been
 * quiet since `quietSinceMs` for `idleAfterMs`, else `intervalMs`. Undefined quietSinceMs: not quiet.
 */
export function backedOffIntervalMs(o: {
  readonly intervalMs: number; readonly idleIntervalMs: number | undefined; readonly idleAfterMs: number;
  readonly quietSinceMs: number | undefined; readonly nowMs: number;
}): number {
  if (o.idleIntervalMs === undefined || o.quietSinceMs === undefined) return o.intervalMs;
  return o.nowMs - o.quietSinceMs >= o.idleAfterMs ? Math.max(o.intervalMs, o.idleIntervalMs) : o.intervalMs;
}

/** A run that outlasted its timeout (it was aborted). */
export class PeriodicTimeoutError extends Error {
  override readonly name = 'PeriodicTimeoutError';
  readonly task: string;

  constructor(task: string, timeoutMs: number) {
    super(`${task} timed out after ${timeoutMs} ms`);
    this.task = task;
  }
}

/** Why a run's timeout timer is cancelled: one shared reason, since abort() without one builds a DOMException (a stack trace) every tick. */
const RUN_ENDED = new Error('run ended');

export class PeriodicTask {
  private readonly options: PeriodicOptions;
  private readonly job: (signal: AbortSignal) => Promise<void> | void;
  private stopping: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private stats = { runs: 0, failures: 0, timeouts: 0 };

  constructor(options: PeriodicOptions, job: (signal: AbortSignal) => Promise<void> | void) {
    this.options = options;
    this.job = job;
  }

  get counters(): PeriodicStats {
    return { ...this.stats };
  }

  start(): void {
    if (this.loop) return;
    this.stopping = new AbortController();
    this.loop = this.run(this.stopping.signal);
  }

  /** Stops the loop; resolves once the current run has ended or `deadlineMs` has passed. */
  async stop(deadlineMs = 5000): Promise<void> {
    if (!this.loop || !this.stopping) return;
    this.stopping.abort(new Error(`${this.options.name} stopped`));
    const loop = this.loop;
    this.loop = undefined;
    const deadline = new AbortController();
    await Promise.race([loop, this.options.clock.sleep(deadlineMs, deadline.signal).catch(() => undefined)]);
    deadline.abort();
  }

  private async run(stop: AbortSignal): Promise<void> {
    const { clock, intervalMs } = this.options;
    const timeoutMs = this.options.timeoutMs ?? intervalMs;
    let next = clock.nowMs() + intervalMs;
    while (!stop.aborted) {
      try {
        await clock.sleep(Math.max(0, next - clock.nowMs()), stop);
      } catch {
        return; // stopped while sleeping
      }
      await this.once(stop, timeoutMs);
      // The next tick is one interval after the last one that was due, skipping ticks a slow run
      // overlapped, so runs never pile up.
      const now = clock.nowMs();
      const interval = Math.max(1, this.options.nextIntervalMs?.() ?? intervalMs);
      next += interval;
      if (next <= now) next = now + interval - ((now - next) % interval);
    }
  }

  private async once(stop: AbortSignal, timeoutMs: number): Promise<void> {
    const controller = new AbortController();
    const onStop = (): void => controller.abort(stop.reason);
    stop.addEventListener('abort', onStop, { once: true });
    const timer = new AbortController();
    let timedOut = false;
    const timeout = this.options.clock.sleep(timeoutMs, timer.signal).then(() => {
      timedOut = true;
      controller.abort(new PeriodicTimeoutError(this.options.name, timeoutMs));
    }, () => undefined);
    this.stats.runs++;
    try {
      await Promise.race([Promise.resolve().then(() => this.job(controller.signal)), timeout.then(() => {
        if (timedOut) throw controller.signal.reason;
      })]);
    } catch (err) {
      if (timedOut) this.stats.timeouts++;
      this.stats.failures++;
      this.options.onError?.(err);
    } finally {
      timer.abort(RUN_ENDED);
      stop.removeEventListener('abort', onStop);
    }
  }
}
