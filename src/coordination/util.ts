// Small helpers the backends share: a timeout on the Clock port, and a deadline for stop().
import type { Clock } from '../ports/clock.js';

/**
 * Runs `fn` with a signal that aborts after `ms` on `clock` (or when `outer` aborts), and rejects
 * with a timeout error at that moment even if `fn` ignores its signal.
 */
export async function withTimeout<T>(clock: Clock, ms: number, what: string, fn: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  const timer = new AbortController();
  const controller = new AbortController();
  const onOuter = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) throw outer.reason;
  outer?.addEventListener('abort', onOuter, { once: true });
  const expired = clock.sleep(ms, timer.signal).then(() => {
    const err = new Error(`${what} timed out after ${ms} ms`);
    controller.abort(err);
    throw err;
  }, () => new Promise<never>(() => undefined)); // cancelled: never settles
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    return await Promise.race([fn(controller.signal), expired, aborted]);
  } finally {
    timer.abort();
    outer?.removeEventListener('abort', onOuter);
  }
}

/** Waits for `work` at most `deadlineMs` on `clock`; never rejects. */
export async function settleWithin(clock: Clock, work: Promise<unknown>, deadlineMs: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([work.catch(() => undefined), clock.sleep(deadlineMs, timer.signal).catch(() => undefined)]);
  timer.abort();
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
