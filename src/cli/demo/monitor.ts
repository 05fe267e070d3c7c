// Watches the running demo: every tick it reads the leader's status (plan, desired replicas, last
// decision) and each agent's observed replicas, and takes the load's completed queries. It keeps
// the timeline the report plots (one point a second, the simulation report's TimelinePoint shape),
// the replica changes with their times, and the last actions for the live view. It also records the
// end-to-end latencies through the Telemetry port, as a client of the pipeline would.
import type { LatencyCurve } from '../../core/model/profiles.js';
import { ProfileSet } from '../../core/model/profiles.js';
import type { ModelProfile } from '../../core/model/types.js';
import type { Telemetry } from '../../ports/telemetry.js';
import type { LeaderStatus } from '../../runtime/agent/index.js';
import type { TimelinePoint } from '../report/index.js';
import { DEMO_HARDWARE, DEMO_PIPELINE, DEMO_SLO_MS, DEMO_STAGES, reachOf } from './config.js';
import type { AgentLogLine, FleetMember } from './fleet.js';
import type { CompletedQuery } from './load.js';

export interface StageView {
  readonly stage: string;
  readonly server: string;
  readonly desired: number | undefined;
  readonly actual: number | undefined;
  readonly batch: number | undefined;
  readonly observedBatch: number | undefined;
  readonly replicasChange: string;
}

export interface DemoSnapshot {
  readonly tMs: number;
  readonly leader: string | undefined;
  readonly epoch: number;
  readonly planned: boolean;
  /** Arrivals per second over the last second. */
  readonly rateQps: number;
  /** What the actual replicas serve at the entry, at the planned batch sizes. */
  readonly capacityQps: number;
  readonly p99Ms: number;
  readonly windowMisses: number;
  readonly windowQueries: number;
  readonly stages: readonly StageView[];
  readonly lastDecision: string | undefined;
}

export interface DemoAction {
  readonly tMs: number;
  readonly text: string;
}

export interface ReplicaEvent {
  readonly tMs: number;
  readonly stage: string;
  readonly kind: 'desired' | 'actual';
  readonly from: number;
  readonly to: number;
}

const P99_WINDOW_MS = 5000;

/**
 * Counts what the agents log (each agent is a process of its own; its JSON log lines carry their
 * time): changes applied on the servers, changes only recommended, failures, and the times of the
 * tuner's scale-up decisions and of the scale-ups applied on a server.
 */
export class ActionTally {
  readonly counts = { applied: 0, recommended: 0, failed: 0 };
  /** Times of the tuner's scale-up decisions, ms since `startMs`. */
  readonly tunerScaleUps: number[] = [];
  /** Times of replica increases applied on a server, ms since `startMs`. */
  readonly appliedScaleUps: number[] = [];
  startMs = 0;

  onLog(line: AgentLogLine, fallbackMs: number): void {
    const parsed = typeof line.fields['time'] === 'string' ? Date.parse(line.fields['time']) : Number.NaN;
    const at = (Number.isFinite(parsed) ? parsed : fallbackMs) - this.startMs;
    const m = line.message;
    if (m.startsWith('applied ')) {
      this.counts.applied++;
      const r = /replicas (\d+)→(\d+)/.exec(m);
      if (r && Number(r[2]) > Number(r[1])) this.appliedScaleUps.push(at);
    } else if (m.startsWith('recommend: ')) {
      this.counts.recommended++;
    } else if (m.startsWith('change failed')) {
      this.counts.failed++;
    } else if (m.startsWith('tuner: ')) {
      const changes = line.fields['changes'];
      if (Array.isArray(changes) && changes.some((c: { from?: number; to?: number }) => (c.to ?? 0) > (c.from ?? 0))) this.tunerScaleUps.push(at);
    }
  }

  /** Forgets what happened before the load started. */
  reset(startMs: number): void {
    this.startMs = startMs;
    this.counts.applied = 0;
    this.counts.recommended = 0;
    this.counts.failed = 0;
    this.tunerScaleUps.length = 0;
    this.appliedScaleUps.length = 0;
  }
}
const MAX_ACTIONS = 200;

export class DemoMonitor {
  private readonly members: readonly FleetMember[];
  private readonly telemetry: Telemetry;
  private readonly curves: ProfileSet;
  private readonly reach = reachOf(DEMO_STAGES.map((s) => ({ name: s.stage, next: s.next })));
  private readonly prices = new Map<string, number>(DEMO_HARDWARE.map((h) => [h.name, h.costPerHour]));
  private startMs = 0;
  private readonly pending: CompletedQuery[] = [];
  /** Completed queries of the last P99_WINDOW_MS (completion time, latency, miss). */
  private readonly recent: { doneMs: number; latencyMs: number; miss: boolean }[] = [];
  private readonly arrivals: number[] = [];
  private readonly lastDesired = new Map<string, number>();
  private readonly lastActual = new Map<string, number>();
  private lastPointMs = 0;
  private sent = 0;
  private pointLatencies: number[] = [];
  readonly all: CompletedQuery[] = [];
  readonly timeline: TimelinePoint[] = [];
  readonly events: ReplicaEvent[] = [];
  readonly actions: DemoAction[] = [];
  plan: NonNullable<LeaderStatus['pipelines'][number]['plan']> | undefined;
  last: DemoSnapshot | undefined;

  constructor(members: readonly FleetMember[], profiles: readonly ModelProfile[], telemetry: Telemetry) {
    this.members = members;
    this.telemetry = telemetry;
    this.curves = new ProfileSet(profiles);
  }

  /** Times from now on are relative to this (the load's start). */
  begin(startMs: number): void {
    this.startMs = startMs;
    this.lastPointMs = 0;
    // What the setup's ticks recorded is on another time base: the run's timeline starts here.
    this.timeline.length = 0;
    this.pointLatencies = [];
  }

  rel(nowMs: number): number {
    return nowMs - this.startMs;
  }

  onQuery(q: CompletedQuery): void {
    this.pending.push(q);
  }

  onArrival(atMs: number): void {
    this.arrivals.push(atMs);
    this.sent++;
  }

  /** Queries sent and not yet reported back. */
  inFlight(): number {
    return this.sent - this.all.length - this.pending.length;
  }

  onLog(nowMs: number, agent: string, level: string, message: string): void {
    const m = /^(applied .*|recommend: .*|tuner: .*|planned .*|.* leads \(epoch \d+\)|change failed.*)$/s.exec(message);
    if (!m && level === 'info') return;
    const text = `${agent}: ${message.split('\n')[0] ?? ''}`;
    this.actions.push({ tMs: this.rel(nowMs), text });
    if (this.actions.length > MAX_ACTIONS) this.actions.shift();
  }

  /** The leader's view, from the last /v1/status of the agent that leads. */
  leaderStatus(): { id: string; status: LeaderStatus } | undefined {
    for (const m of this.members) {
      if (m.status?.leader?.self !== true) continue;
      const fleet = m.status.fleet as LeaderStatus | undefined;
      if (fleet) return { id: m.agentId, status: fleet };
    }
    return undefined;
  }

  /** One observation; `point` adds a timeline point (about once a second). */
  tick(nowMs: number): DemoSnapshot {
    const t = this.rel(nowMs);
    const leader = this.leaderStatus();
    const run = leader?.status.pipelines.find((p) => p.name === DEMO_PIPELINE);
    if (run?.plan) this.plan = run.plan;
    // Completed queries: telemetry, the P99 window, the timeline's interval.
    const done = this.pending.splice(0);
    const latencies: number[] = [];
    let misses = 0;
    for (const q of done) {
      const miss = !q.ok || q.latencyMs > DEMO_SLO_MS;
      if (miss) misses++;
      if (q.ok) latencies.push(q.latencyMs);
      this.recent.push({ doneMs: t, latencyMs: q.ok ? q.latencyMs : Number.POSITIVE_INFINITY, miss });
      this.pointLatencies.push(q.ok ? q.latencyMs : Number.POSITIVE_INFINITY);
      this.all.push(q);
    }
    if (done.length > 0) this.telemetry.recordRequests({ pipeline: DEMO_PIPELINE, completed: done.length, sloMisses: misses, latenciesMs: latencies });
    while (this.recent.length > 0 && (this.recent[0] as { doneMs: number }).doneMs < t - P99_WINDOW_MS) this.recent.shift();
    const p99Ms = p99(this.recent.map((r) => r.latencyMs));
    this.telemetry.recordLatency({ pipeline: DEMO_PIPELINE, sloMs: DEMO_SLO_MS, percentile: 99, ...(Number.isNaN(p99Ms) ? {} : { p99Ms }) });
    while (this.arrivals.length > 0 && (this.arrivals[0] as number) < t - 1000) this.arrivals.shift();
    const rateQps = this.arrivals.length;

    const stages: StageView[] = [];
    let capacityQps = Number.POSITIVE_INFINITY;
    let costPerHour = 0;
    const replicas: Record<string, number> = {};
    for (const m of this.members) {
      const s = m.stage;
      const observed = (m.status?.observed ?? []).find((o) => o.model === s.model);
      const desired = run?.desired[s.stage];
      const batch = this.plan?.stages[s.stage]?.batchSize;
      const actual = observed?.replicas;
      this.note(t, s.stage, 'desired', desired, this.lastDesired);
      this.note(t, s.stage, 'actual', actual, this.lastActual);
      const mode = m.capabilities?.replicas ?? '?';
      stages.push({ stage: s.stage, server: m.stage.server, desired, actual, batch, observedBatch: observed?.maxBatchSize, replicasChange: mode });
      // The stage series on the demo's own /metrics (each agent serves its own too).
      this.telemetry.recordStage({
        pipeline: DEMO_PIPELINE, stage: s.stage, hardware: s.hardware,
        ...(desired !== undefined ? { desiredReplicas: desired } : {}), ...(actual !== undefined ? { actualReplicas: actual } : {}),
      });
      if (actual !== undefined) {
        replicas[s.stage] = actual;
        costPerHour += actual * (this.prices.get(s.hardware) ?? 0);
        const curve: LatencyCurve | undefined = this.curves.get(s.model, s.hardware);
        const k = Math.max(1, Math.min(batch ?? observed?.maxBatchSize ?? 1, observed?.maxBatchSize ?? 1));
        const reach = this.reach[s.stage] ?? 1;
        if (curve && reach > 0) capacityQps = Math.min(capacityQps, (actual * curve.throughputQps(k)) / reach);
      }
    }
    if (!Number.isFinite(capacityQps)) capacityQps = 0;
    if (t >= 0 && t - this.lastPointMs >= 1000) {
      this.timeline.push({ tMs: t, arrivalRateQps: rateQps, capacityQps, replicas, p99Ms: p99(this.pointLatencies), costPerHour });
      this.pointLatencies = [];
      this.lastPointMs = t;
    }
    const d = run?.lastDecision;
    const snapshot: DemoSnapshot = {
      tMs: t, leader: leader?.id, epoch: leader?.status.epoch ?? 0, planned: this.plan !== undefined,
      rateQps, capacityQps, p99Ms, windowMisses: this.recent.filter((r) => r.miss).length, windowQueries: this.recent.length,
      stages, lastDecision: d ? `${d.kind}: ${d.reason}` : undefined,
    };
    this.last = snapshot;
    return snapshot;
  }

  private note(t: number, stage: string, kind: 'desired' | 'actual', value: number | undefined, last: Map<string, number>): void {
    if (value === undefined) return;
    const before = last.get(stage);
    if (before !== undefined && before !== value) this.events.push({ tMs: t, stage, kind, from: before, to: value });
    last.set(stage, value);
  }
}

export function p99(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number;
}
