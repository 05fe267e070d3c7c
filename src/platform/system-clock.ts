// The real clock: monotonic milliseconds, and an abortable sleep whose timer does not keep the
// process alive.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../ports/clock.js';

export const systemClock: Clock = {
  nowMs: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) => new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    timer.unref();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  }),
};
