// The live loop's delays, as one value: what the agent and leader do by default, and what the
// closed-loop model (core/controllers/tuner-controller.ts) replays so that a simulation predicts a
// live run. Pure data; docs/live-control.md explains each delay and how it was measured.

export interface LiveLoopModel {
  /** How often the sidecar reads its server's counters (agent.scrapeInterval). */
  readonly scrapeIntervalMs: number;
  /** The longest a sidecar stays silent: it pushes on a change, else at least this often (agent.pushInterval). */
  readonly pushIntervalMs: number;
  /** From the tuner's decision to the replica change applied on the server (desired-state write, reconcile pass, management call). */
  readonly actuationDelayMs: number;
  /** Where the first scrape falls after the first arrival, as a fraction of the scrape interval (default 0). */
  readonly scrapePhase?: number;
}

/**
 * The live agent's defaults. The actuation delay is the median decision-to-applied time of the
 * agent bench (`npm run bench -- agent`) against the emulated Triton: a desired-state write, the
 * reconcile pass that reads the server and its load call.
 */
export const DEFAULT_LIVE_LOOP: LiveLoopModel = Object.freeze({
  scrapeIntervalMs: 100,
  pushIntervalMs: 1000,
  actuationDelayMs: 30,
});

/**
 * How often an agent reads its server once the server has been idle for a push interval
 * (agent.idleScrapeInterval): the agent's footprint at no traffic. Not part of the model above:
 * the simulated loops have traffic throughout.
 */
export const DEFAULT_IDLE_SCRAPE_INTERVAL_MS = 500;

/**
 * The live envelope's bucket width for counts pushed every scrape interval: a quarter of it, within
 * [1, 250] ms. Counts are spread evenly within their interval, so finer buckets would only cost memory.
 */
export function countResolutionMs(scrapeIntervalMs: number): number {
  return Math.min(250, Math.max(1, scrapeIntervalMs / 4));
}

/** A count of arrivals over [fromMs, toMs). */
export interface CountedInterval {
  readonly fromMs: number;
  readonly toMs: number;
  readonly count: number;
}

/**
 * Arrivals per second in the last second before `atMs`, from counted intervals in time order,
 * each spread evenly over its span (undefined before any). What the tuner's backlog rule takes as
 * the arrival rate in the live loop.
 */
export function lastSecondRate(intervals: readonly CountedInterval[], atMs: number): number | undefined {
  if (intervals.length === 0 || !Number.isFinite(atMs)) return undefined;
  let sum = 0;
  for (let i = intervals.length - 1; i >= 0; i--) {
    const iv = intervals[i] as CountedInterval;
    if (iv.toMs <= atMs - 1000) break;
    const lo = Math.max(iv.fromMs, atMs - 1000);
    const hi = Math.min(iv.toMs, atMs);
    if (hi > lo) sum += iv.toMs > iv.fromMs ? (iv.count * (hi - lo)) / (iv.toMs - iv.fromMs) : iv.count;
  }
  return sum;
}

/**
 * The loop a live agent with these settings runs (an agent config's scrapeIntervalMs and
 * pushIntervalMs; absent ones take the defaults), for the closed-loop harness to replay.
 */
export function liveLoopOf(agent: { readonly scrapeIntervalMs?: number; readonly pushIntervalMs?: number } | undefined, overrides: Partial<LiveLoopModel> = {}): LiveLoopModel {
  const scrapeIntervalMs = overrides.scrapeIntervalMs ?? agent?.scrapeIntervalMs ?? DEFAULT_LIVE_LOOP.scrapeIntervalMs;
  const pushIntervalMs = overrides.pushIntervalMs ?? agent?.pushIntervalMs ?? DEFAULT_LIVE_LOOP.pushIntervalMs;
  return {
    scrapeIntervalMs,
    // As the agent does: pushing less often than it scrapes is pushing every scrape.
    pushIntervalMs: Math.max(pushIntervalMs, scrapeIntervalMs),
    actuationDelayMs: overrides.actuationDelayMs ?? DEFAULT_LIVE_LOOP.actuationDelayMs,
    ...(overrides.scrapePhase !== undefined ? { scrapePhase: overrides.scrapePhase } : {}),
  };
}
