// Absolute deadlines on the monotonic clock, to a few microseconds, for the emulators' batch
// executions and batch-delay windows.
//
// Node's timers count whole milliseconds on a loop clock that is read once per loop turn, so a
// setTimeout(fn, 2.3) fires anywhere from ~1 ms early to late, and a chain of timers adds each
// one's slop. Here every wait is for an absolute performance.now() deadline: a coarse setTimeout
// sleeps until about SPIN_MS (1 ms) before it, then setImmediate turns poll performance.now() until
// it is reached. The polling keeps the event loop busy (one core) for about SPIN_MS before each
// deadline (less when deadlines overlap: their polls share the same loop turns), and I/O is still
// served between turns. A callback never runs inside at(), even for a deadline already past.
import { performance } from 'node:perf_hooks';

/** The scheduling port of the engine: a monotonic clock in fractional ms and one-shot deadlines. */
export interface DeadlineTimer {
  /** Monotonic milliseconds (fractional). */
  nowMs(): number;
  /** Calls `fn` once, as soon as nowMs() ≥ deadlineMs; returns a cancel function. */
  at(deadlineMs: number, fn: () => void): () => void;
}

/** The final stretch before a deadline that is polled instead of slept. */
export const SPIN_MS = 1;

/** Deadlines on performance.now(), precise to the polling period (a few µs on an idle core). */
export const preciseTimer: DeadlineTimer = {
  nowMs: () => performance.now(),
  at(deadlineMs, fn) {
    let timeout: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let done = false;
    const step = (first: boolean): void => {
      timeout = undefined;
      immediate = undefined;
      if (done) return;
      const left = deadlineMs - performance.now();
      if (left <= 0 && !first) {
        done = true;
        fn();
      } else if (left > SPIN_MS) {
        // A timer may fire up to ~1 ms early (Node's loop clock is floored to the ms) or late (a
        // busy host): step again either way, from the real clock.
        timeout = setTimeout(step, Math.max(1, Math.floor(left - SPIN_MS)), false);
      } else {
        immediate = setImmediate(step, false);
      }
    };
    step(true);
    return () => {
      done = true;
      if (timeout) clearTimeout(timeout);
      if (immediate) clearImmediate(immediate);
      timeout = undefined;
      immediate = undefined;
    };
  },
};

/** Resolves after `ms` (fractional) on the precise timer; at once for 0. */
export function pause(ms: number, timer: DeadlineTimer = preciseTimer): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    timer.at(timer.nowMs() + ms, resolve);
  });
}
