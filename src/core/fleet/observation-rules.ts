// What the leader reads from its agents' samples, one rule per quantity. Pure. One freshness rule
// (how long an agent's last reading counts, and from it how long a silent source holds the count
// merger's watermark back), one stage arrival rate (a sample's requests per second, charged to a
// stage by its share of the model's visits) and one queue figure (what waits at a model's server).

/** The agent settings freshness is judged by. */
export interface PushTiming {
  readonly pushIntervalMs?: number;
  readonly scrapeIntervalMs?: number;
}

/** What a sample says of a model's queue and the requests it answered. */
export interface QueueReading {
  readonly queued?: number;
  readonly pending?: number;
  readonly rates: { readonly requestsPerS: number; readonly meanQueueMs?: number | null };
}

/** The longest an agent may stay silent (its push interval, at least 1 s): what freshness is judged by. */
export function pushGapMs(agent: PushTiming | undefined): number {
  return Math.max(1000, agent?.pushIntervalMs ?? 1000, agent?.scrapeIntervalMs ?? 1000);
}

/** How long an agent's last reading counts: three push gaps. */
export function freshnessWindowMs(agent: PushTiming | undefined): number {
  return 3 * pushGapMs(agent);
}

/** A source of counts silent this long no longer holds the count merger's watermark back. */
export function countStaleAfterMs(agent: PushTiming | undefined): number {
  return freshnessWindowMs(agent) + 1000;
}

/** Per key, the sum of the readings no older than `windowMs` at `nowMs`. */
export function freshSums<T extends { readonly atMs: number }>(
  byKey: ReadonlyMap<string, ReadonlyMap<string, T>>, value: (t: T) => number, nowMs: number, windowMs: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, readings] of byKey) {
    let sum = 0;
    for (const r of readings.values()) if (nowMs - r.atMs <= windowMs) sum += value(r);
    out[key] = sum;
  }
  return out;
}

/** A stage's arrivals per second in a sample of its model: the stage's share of the model's requests over the sample's window. */
export function stageRateQps(share: number, arrivals: number, fromMs: number, toMs: number): number {
  return (share * arrivals * 1000) / Math.max(1, toMs - fromMs);
}

/**
 * The model's queue, for the tuner's backlog term: what the server says is queued, else
 * Little's law on the answered requests (rate × mean queue time), which lags a burst. Undefined
 * (or not finite) when the sample says nothing of it.
 */
export function queueOf(s: QueueReading): number | undefined {
  const little = s.rates.meanQueueMs === null || s.rates.meanQueueMs === undefined ? undefined : (s.rates.requestsPerS * s.rates.meanQueueMs) / 1000;
  return s.queued ?? s.pending ?? little;
}
