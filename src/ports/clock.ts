// Time is a value; the clock is a port. Production uses the system clock; tests a FakeClock.

export interface Clock {
  /** Milliseconds since an arbitrary epoch (monotonic where the implementation allows). */
  nowMs(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
