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
