// One pipeline's observations at the leader: its agents' samples in; out, the one arrival rate the
// tuner takes (the pipeline's queries in the last second, from the merged counts), each stage's own
// rate and queue (its visits, summed over the agents heard from within the freshness window), and
// the recent trace it re-plans on. The rules themselves are core/fleet/observation-rules.ts; the
// counts of several agents are merged by core/fleet/count-merger.ts.
import { lastSecondRate } from '../../../core/controllers/live-loop.js';
import { CountMerger } from '../../../core/fleet/count-merger.js';
import type { CountInterval } from '../../../core/fleet/count-merger.js';
import { countStaleAfterMs, freshnessWindowMs, freshSums, queueOf, stageRateQps } from '../../../core/fleet/observation-rules.js';
import type { PushTiming } from '../../../core/fleet/observation-rules.js';
import type { QueryCounting } from '../../../core/fleet/query-counting.js';
import type { PipelineSpec } from '../../../core/model/types.js';
import type { ModelSample } from '../../../core/observe/sample.js';

interface Reading {
  readonly value: number;
  readonly atMs: number;
}

export class PipelineObservations {
  private readonly merger: CountMerger;
  private readonly counting: QueryCounting;
  /** Recent entry-stage arrivals, for re-planning (leader clock). */
  private recentTrace: CountInterval[] = [];
  /** Per stage, per agent, from the last sample (leader clock): queries waiting, and arrivals per second. */
  private readonly queued = new Map<string, Map<string, Reading>>();
  private readonly rates = new Map<string, Map<string, Reading>>();
  private freshMs: number;

  constructor(counting: QueryCounting, timing: PushTiming | undefined) {
    this.counting = counting;
    this.merger = new CountMerger({ staleAfterMs: countStaleAfterMs(timing) });
    this.freshMs = freshnessWindowMs(timing);
  }

  /** A new config's push timing: readings are judged fresh by it from now on. */
  retime(timing: PushTiming | undefined): void {
    this.freshMs = freshnessWindowMs(timing);
  }

  get recent(): readonly CountInterval[] {
    return this.recentTrace;
  }

  /** The previous leader's recent traffic, as this one's recent trace (handover). */
  replaceRecent(intervals: CountInterval[]): void {
    this.recentTrace = intervals;
  }

  /**
   * One sample of `agentId`'s, received at `nowMs` and re-timed to end `endsBeforeMs` before it
   * (a push's earlier samples lie end to end before its last one).
   */
  take(stages: PipelineSpec['stages'], agentId: string, s: ModelSample, nowMs: number, endsBeforeMs: number): void {
    const q = queueOf(s);
    for (const stage of stages.filter((st) => st.model === s.model)) {
      // A model serving several stages: each is charged its share of the model's visits.
      const share = this.counting.stageShare.get(stage.name) ?? 1;
      setReading(this.rates, stage.name, agentId, { value: stageRateQps(share, s.arrivals, s.fromMs, s.toMs), atMs: nowMs });
      if (q === undefined || !Number.isFinite(q)) continue;
      setReading(this.queued, stage.name, agentId, { value: share * q, atMs: nowMs });
    }
    // Queries, not visits: a root model's requests weighed by core/fleet/query-counting.ts.
    const weight = this.counting.queryWeight.get(s.model);
    if (weight === undefined) return;
    this.merger.add(`${agentId}/${s.model}`, s.toMs - s.fromMs, s.reset ? 0 : weight * s.arrivals, nowMs - endsBeforeMs);
  }

  /** Moves the merged counts up to the watermark into the recent trace (kept for `traceWindowMs`); returns them. */
  drain(nowMs: number, traceWindowMs: number): readonly CountInterval[] {
    const { intervals } = this.merger.drain(nowMs);
    if (intervals.length === 0) return intervals;
    this.recentTrace.push(...intervals);
    const horizon = nowMs - traceWindowMs;
    while (this.recentTrace.length > 0 && (this.recentTrace[0] as CountInterval).toMs < horizon) this.recentTrace.shift();
    return intervals;
  }

  /** The pipeline's arrival rate: its queries in the last second before the watermark. */
  arrivalRateQps(): number | undefined {
    return lastSecondRate(this.recentTrace, this.merger.watermarkMs);
  }

  /** When the live envelopes are read: the watermark, never before `startedMs`. */
  envelopeAtMs(startedMs: number): number {
    const wm = this.merger.watermarkMs;
    return Number.isFinite(wm) ? Math.max(wm, startedMs) : startedMs;
  }

  /** Per stage, the queries waiting, summed over the agents heard from within the freshness window. */
  queuedNow(nowMs: number): Record<string, number> {
    return freshSums(this.queued, (r) => r.value, nowMs, this.freshMs);
  }

  /** Per stage, its arrivals per second (visits), summed over the agents heard from within the freshness window. */
  stageRatesNow(nowMs: number): Record<string, number> {
    return freshSums(this.rates, (r) => r.value, nowMs, this.freshMs);
  }
}

function setReading(byStage: Map<string, Map<string, Reading>>, stage: string, agentId: string, r: Reading): void {
  const byAgent = byStage.get(stage) ?? new Map<string, Reading>();
  byAgent.set(agentId, r);
  byStage.set(stage, byAgent);
}
