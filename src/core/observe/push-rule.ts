// When a sidecar pushes its samples to the leader. Pure. The agent samples its server often (every
// scrape interval, 100 ms by default) but pushes only when the traffic changed, or when it has been
// silent for the push interval (a heartbeat, 1 s by default): a burst reaches the leader one scrape
// after it shows, while steady traffic costs one push a second.
//
// "Changed" is judged per model on arrival counts, against the rate of the last push: a scrape
// that counts n arrivals in w ms where m = rate × w were expected changed when
// |n − m| > sigmas × √m + slack. Arrivals of steady traffic are about Poisson, whose count has a
// standard deviation √m: three of them (the default) is crossed by chance in about 0.3 % of scrapes
// (a spare push every ~30 s at 100 ms), while a ×4 burst over half a 100 ms scrape at 100 q/s
// (n ≈ 25, m = 10) is seen at once. The same test runs on everything held since the last push, so
// a shift too small for one scrape (the rest of a burst after the scrape it began in) is pushed as
// soon as it adds up. The slack keeps an idle model (m = 0) from pushing on one or two requests. A
// counter reset pushes at once: the leader must not read it as traffic.
// The same rule runs in the agent (runtime/collector.ts) and in the closed-loop model of the live
// loop (core/controllers/tuner-controller.ts), so the simulation pushes when the agent would.

export interface PushRuleOptions {
  /** The longest an agent stays silent: a push at least this often, changed or not. */
  readonly heartbeatMs: number;
  /** How many standard deviations of a Poisson count make a change (default 3). */
  readonly sigmas?: number;
  /** Arrivals of difference always allowed, over the deviations (default 2). */
  readonly slack?: number;
}

export const DEFAULT_PUSH_SIGMAS = 3;
export const DEFAULT_PUSH_SLACK = 2;

/** One scrape of one model: arrivals counted over the interval it covers. */
export interface ScrapeCount {
  readonly model: string;
  readonly windowMs: number;
  readonly arrivals: number;
  /** The counters went down (a restart, a reload): the leader must hear of it now. */
  readonly reset?: boolean;
}

export interface PushRuleState {
  /** When the last push was (ms), or undefined before the first. */
  readonly lastPushMs: number | undefined;
  /** Per model: the arrival rate the leader was last told (q/s), and what was held since. */
  readonly models: Readonly<Record<string, { readonly rateQps: number; readonly heldArrivals: number; readonly heldMs: number }>>;
}

export type PushReason = 'first' | 'heartbeat' | 'change' | 'reset';

export type PushDecision =
  | { readonly kind: 'push'; readonly reason: PushReason; readonly model?: string }
  | { readonly kind: 'hold' };

export function initialPushState(): PushRuleState {
  return { lastPushMs: undefined, models: {} };
}

/** Whether this scrape's count departs from the expected one by more than chance. */
export function countChanged(arrivals: number, expected: number, options: Pick<PushRuleOptions, 'sigmas' | 'slack'> = {}): boolean {
  const sigmas = options.sigmas ?? DEFAULT_PUSH_SIGMAS;
  const slack = options.slack ?? DEFAULT_PUSH_SLACK;
  return Math.abs(arrivals - expected) > sigmas * Math.sqrt(Math.max(0, expected)) + slack;
}

/**
 * Decides, after one scrape at `nowMs`, whether the agent pushes now. On a push the rate each model
 * is judged against becomes the one just told: the scrape's own after a change (the new level), the
 * whole held span's after a heartbeat (steady: the longer span is the better estimate).
 */
export function decidePush(nowMs: number, scrapes: readonly ScrapeCount[], state: PushRuleState, options: PushRuleOptions): { decision: PushDecision; state: PushRuleState } {
  const held: Record<string, { rateQps: number; heldArrivals: number; heldMs: number }> = {};
  let decision = { kind: 'hold' } as PushDecision;
  const want = (d: PushDecision): void => {
    if (decision.kind === 'hold') decision = d;
  };
  if (state.lastPushMs === undefined) want({ kind: 'push', reason: 'first' });
  for (const s of scrapes) {
    const prev = state.models[s.model];
    const window = Math.max(0, s.windowMs);
    const arrivals = Math.max(0, s.arrivals);
    const h = { rateQps: prev?.rateQps ?? 0, heldArrivals: (prev?.heldArrivals ?? 0) + arrivals, heldMs: (prev?.heldMs ?? 0) + window };
    held[s.model] = h;
    if (s.reset === true) want({ kind: 'push', reason: 'reset', model: s.model });
    else if (prev === undefined) want({ kind: 'push', reason: 'first', model: s.model });
    // This scrape alone (a step), or everything held since the push (a shift too small for one scrape).
    else if (countChanged(arrivals, (prev.rateQps * window) / 1000, options) || countChanged(h.heldArrivals, (prev.rateQps * h.heldMs) / 1000, options)) {
      want({ kind: 'push', reason: 'change', model: s.model });
    }
  }
  // Models not in this scrape keep what they had.
  for (const [model, m] of Object.entries(state.models)) held[model] ??= { ...m };
  if (decision.kind === 'hold' && state.lastPushMs !== undefined && nowMs - state.lastPushMs >= options.heartbeatMs) {
    want({ kind: 'push', reason: 'heartbeat' });
  }
  const final = decision as PushDecision;
  if (final.kind === 'hold') return { decision: final, state: { lastPushMs: state.lastPushMs, models: held } };
  const reason = final.reason;
  const told: Record<string, { rateQps: number; heldArrivals: number; heldMs: number }> = {};
  for (const [model, m] of Object.entries(held)) {
    const s = scrapes.find((x) => x.model === model);
    const steady = reason === 'heartbeat' || s === undefined || s.windowMs <= 0;
    const rateQps = steady ? (m.heldMs > 0 ? (m.heldArrivals * 1000) / m.heldMs : m.rateQps) : (Math.max(0, s.arrivals) * 1000) / s.windowMs;
    told[model] = { rateQps, heldArrivals: 0, heldMs: 0 };
  }
  return { decision: final, state: { lastPushMs: nowMs, models: told } };
}
