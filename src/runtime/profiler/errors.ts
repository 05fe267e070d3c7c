// Why the profiler would not start. Both are failures (exit 1), not bad input.

/** The server cannot be profiled as asked (no inference requests, no per-batch statistics, model not ready). */
export class ProfilerError extends Error {
  override readonly name = 'ProfilerError';
}

/** The server is serving traffic, and active profiling was not allowed to disturb it. */
export class LiveTrafficError extends Error {
  override readonly name = 'LiveTrafficError';
  readonly requests: number;
  readonly windowMs: number;

  constructor(requests: number, windowMs: number, models: readonly string[]) {
    super(
      `the server is serving live traffic: ${requests} request${requests === 1 ? '' : 's'} in ${(windowMs / 1000).toFixed(1)} s`
      + ` (${models.join(', ')}). Active profiling would slow that traffic down, and the traffic would skew the profile.`
      + ' Profile an idle server, observe the traffic instead (--passive, Triton), or pass --allow-live-traffic.',
    );
    this.requests = requests;
    this.windowMs = windowMs;
  }
}
