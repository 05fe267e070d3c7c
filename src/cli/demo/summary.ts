// The demo's summary: what the run measured (P99, misses, cost integrated over the run, scaling
// actions) and how the tuner met the burst (the bottleneck stage's replicas before and during it,
// and the time from its start to the first scale-up). Plain data: printed as text, or as --json.
import type { BurstReaction, TimelinePoint } from '../report/index.js';
import type { DemoHealth } from './health.js';
import { DEMO_SLO_MS } from './config.js';
import type { CompletedQuery } from './load.js';
import type { ReplicaEvent } from './monitor.js';
import { p99 } from './monitor.js';

export interface DemoPhase {
  readonly name: 'calm' | 'burst' | 'step';
  readonly fromMs: number;
  readonly toMs: number;
  readonly spec: string;
}

export interface PhaseSummary {
  readonly phase: string;
  readonly fromS: number;
  readonly toS: number;
  readonly queries: number;
  readonly p99Ms: number | null;
  readonly sloMissRate: number;
  readonly meanRateQps: number;
  /** Mean actual replicas per stage. */
  readonly replicas: Record<string, number>;
}

export interface DemoSummary {
  readonly queries: number;
  readonly completed: number;
  readonly failed: number;
  readonly p99Ms: number | null;
  readonly sloMs: number;
  readonly sloMissRate: number;
  readonly meanCostPerHour: number;
  /** Dollars over the run. */
  readonly cost: number;
  /** Replica and batch changes applied on the servers by the agents. */
  readonly scalingActions: number;
  readonly scaleUps: number;
  readonly scaleDowns: number;
  /** Changes the agents recommended but could not apply (TF Serving). */
  readonly recommendations: number;
  readonly failedChanges: number;
  readonly tunerScaleUpDecisions: number;
  readonly burst: BurstReaction;
  readonly phases: readonly PhaseSummary[];
  /** Whether the host carried the run; when not, the figures above measure the host, not the product. */
  readonly health: DemoHealth;
}

export function summarise(input: {
  queries: readonly CompletedQuery[];
  timeline: readonly TimelinePoint[];
  events: readonly ReplicaEvent[];
  phases: readonly DemoPhase[];
  stages: readonly string[];
  counts: { applied: number; recommended: number; failed: number };
  tunerScaleUps: readonly number[];
  /** Times of replica increases applied on a server (from the agents' logs), ms since the load started. */
  appliedScaleUps?: readonly number[];
  endMs: number;
  health: DemoHealth;
  /** Queries sent (some may not have come back). */
  sent?: number;
}): DemoSummary {
  const { queries, timeline, events, phases, stages } = input;
  const latencies = queries.map((q) => (q.ok ? q.latencyMs : Number.POSITIVE_INFINITY));
  const misses = queries.filter((q) => !q.ok || q.latencyMs > DEMO_SLO_MS).length;
  const lostCount = Math.max(0, (input.sent ?? queries.length) - queries.length);
  for (let i = 0; i < lostCount; i++) latencies.push(Number.POSITIVE_INFINITY);
  // Cost: each point's rate holds until the next point (the last one to the end of the run).
  let cost = 0;
  timeline.forEach((p, i) => {
    const until = timeline[i + 1]?.tMs ?? Math.max(p.tMs, input.endMs);
    cost += (p.costPerHour * (until - p.tMs)) / 3_600_000;
  });
  const spanMs = timeline.length > 0 ? Math.max(1, Math.max(input.endMs, (timeline.at(-1) as TimelinePoint).tMs) - (timeline[0] as TimelinePoint).tMs) : 1;
  const burst = phases.find((p) => p.name === 'burst') as DemoPhase;
  const actual = events.filter((e) => e.kind === 'actual');
  const desired = events.filter((e) => e.kind === 'desired');
  const replicasAt = (stage: string, tMs: number): number => {
    let v = timeline[0]?.replicas[stage] ?? 0;
    for (const p of timeline) if (p.tMs <= tMs && p.replicas[stage] !== undefined) v = p.replicas[stage] as number;
    for (const e of actual) if (e.stage === stage && e.tMs <= tMs) v = e.to;
    return v;
  };
  const maxDuring = (list: readonly ReplicaEvent[], stage: string, start: number): number => {
    let v = start;
    for (const e of list) if (e.stage === stage && e.tMs >= burst.fromMs && e.tMs < burst.toMs) v = Math.max(v, e.to);
    return v;
  };
  const reactions = stages.map((stage) => {
    const before = replicasAt(stage, burst.fromMs);
    const desiredBefore = [...desired].reverse().find((e) => e.stage === stage && e.tMs < burst.fromMs)?.to ?? before;
    return { stage, before, during: maxDuring(actual, stage, before), desiredDuring: maxDuring(desired, stage, desiredBefore) };
  });
  const top = reactions.reduce((a, b) => (b.desiredDuring - b.before > a.desiredDuring - a.before ? b : a), reactions[0] as (typeof reactions)[number]);
  const firstUp = (list: readonly ReplicaEvent[]): number | null => {
    const e = list.find((x) => x.tMs >= burst.fromMs && x.to > x.from);
    return e ? Math.round(e.tMs - burst.fromMs) : null;
  };
  // The agents' own log times where there are some: the status is only read a few times a second.
  const firstAt = (times: readonly number[] | undefined): number | null | undefined => {
    if (times === undefined) return undefined;
    const t = times.find((x) => x >= burst.fromMs);
    return t === undefined ? null : Math.round(t - burst.fromMs);
  };
  const decidedMs = input.tunerScaleUps.length > 0 ? firstAt(input.tunerScaleUps) ?? null : firstUp(desired);
  const appliedMs = firstAt(input.appliedScaleUps) ?? firstUp(actual);
  // Queries sent that never came back are failures too.
  const lost = Math.max(0, (input.sent ?? queries.length) - queries.length);
  return {
    queries: queries.length + lost,
    completed: queries.filter((q) => q.ok).length,
    failed: queries.filter((q) => !q.ok).length + lost,
    p99Ms: finite(p99(latencies)),
    sloMs: DEMO_SLO_MS,
    sloMissRate: queries.length + lost === 0 ? 0 : (misses + lost) / (queries.length + lost),
    meanCostPerHour: (cost * 3_600_000) / spanMs,
    cost,
    scalingActions: input.counts.applied,
    scaleUps: actual.filter((e) => e.to > e.from).length,
    scaleDowns: actual.filter((e) => e.to < e.from).length,
    recommendations: input.counts.recommended,
    failedChanges: input.counts.failed,
    tunerScaleUpDecisions: input.tunerScaleUps.length,
    burst: {
      stage: top.stage, burstStartS: burst.fromMs / 1000, burstEndS: burst.toMs / 1000,
      replicasBefore: top.before, replicasDuringMax: top.during, desiredDuringMax: top.desiredDuring,
      firstScaleUpMs: decidedMs, firstAppliedScaleUpMs: appliedMs,
    },
    health: input.health,
    phases: phases.map((ph) => {
      const qs = queries.filter((q) => q.atMs >= ph.fromMs && q.atMs < ph.toMs);
      const pts = timeline.filter((p) => p.tMs > ph.fromMs && p.tMs <= ph.toMs);
      const replicas: Record<string, number> = {};
      for (const s of stages) {
        const vs = pts.map((p) => p.replicas[s]).filter((v): v is number => v !== undefined);
        replicas[s] = vs.length === 0 ? 0 : Math.round((vs.reduce((a, b) => a + b, 0) / vs.length) * 10) / 10;
      }
      return {
        phase: ph.name, fromS: ph.fromMs / 1000, toS: ph.toMs / 1000, queries: qs.length,
        p99Ms: finite(p99(qs.map((q) => (q.ok ? q.latencyMs : Number.POSITIVE_INFINITY)))),
        sloMissRate: qs.length === 0 ? 0 : qs.filter((q) => !q.ok || q.latencyMs > DEMO_SLO_MS).length / qs.length,
        meanRateQps: qs.length / Math.max(0.001, (ph.toMs - ph.fromMs) / 1000),
        replicas,
      };
    }),
  };
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}
