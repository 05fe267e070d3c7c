// One pipeline as the leader runs it: its plan (made on the hardware the fleet has and, once enough
// has been seen, on recent traffic), the tuner loop that scales it between plans, the replicas it
// wants now, and its last re-plan and decision. What it needs of the leader comes through a narrow
// port (RunPort); what it plans with comes in as a snapshot of the fleet (FleetSnapshot).
import type { InferlineConfig } from '../../../config/index.js';
import { formatArrivalSpec, generateTrace, parseArrivalSpec } from '../../../core/arrival/spec.js';
import { countResolutionMs } from '../../../core/controllers/live-loop.js';
import { applyPolicy, bucketCounts, keepRunning, placeableHardware, queryCounting, traceFromCounts } from '../../../core/fleet/index.js';
import type { FleetPolicy, RunningStage } from '../../../core/fleet/index.js';
import { compilePipeline } from '../../../core/model/pipeline.js';
import { ProfileSet } from '../../../core/model/profiles.js';
import type { ModelProfile, PipelineSpec } from '../../../core/model/types.js';
import { samplesOfSpec } from '../../../core/planner/index.js';
import type { Plan, PlanningSamples } from '../../../core/planner/index.js';
import { Estimator } from '../../../core/sim/estimator.js';
import { createTuner } from '../../../core/tuner/tuner.js';
import type { TunerDecision } from '../../../core/tuner/tuner.js';
import { tunerPlanOf } from '../../../core/tuner/tuner-plan.js';
import type { Clock } from '../../../ports/clock.js';
import type { MemberInfo } from '../../../ports/coordinator.js';
import type { Logger } from '../../../ports/logger.js';
import type { Telemetry } from '../../../ports/telemetry.js';
import type { PlannerRuns } from '../../planner-runs.js';
import { TunerLoop } from '../../tuner-loop.js';
import type { PlanSummary } from '../desired-spec.js';
import { PipelineObservations } from './observations.js';

/**
 * The tuner's tick while a pipeline has no traffic (no arrivals in the last second, nothing
 * queued): counts that arrive tick it at once, so this only thins decisions with nothing to decide.
 */
export const IDLE_TUNER_TICK_MS = 1000;

/** What the leader plans with: its config, the fleet's policy and live members. */
export interface FleetSnapshot {
  readonly config: InferlineConfig;
  readonly policy: FleetPolicy | undefined;
  readonly members: readonly MemberInfo[];
}

/** What ran when this leadership started, kept by every plan made before `untilMs` (leader clock). */
export interface Handover {
  readonly running: ReadonlyMap<string, RunningStage>;
  readonly untilMs: number;
}

/** What a pipeline run needs of the leader that runs it. */
export interface RunPort {
  readonly clock: Clock;
  readonly log: Logger;
  readonly telemetry: Telemetry;
  readonly plannerRuns: PlannerRuns;
  /** The leader has stopped: no tuner starts. */
  stopped(): boolean;
  /** The leader acts: not stopped and still leading. */
  active(): boolean;
  /** The replicas wanted changed: hand them to what scales workloads, at once. */
  publishDesired(): void;
  /** Places and writes the desired states (in the background). */
  write(): void;
  /** The tuner saw drift: re-plan this run now. */
  replan(run: PipelineRun, reason: string): void;
}

export interface LastReplan {
  readonly atMs: number;
  readonly reason: string;
  readonly outcome: string;
}

export class PipelineRun {
  /** The pipeline with the fleet policy's SLO. */
  spec: PipelineSpec;
  private current: Plan | undefined;
  /** The hardware each stage may be planned on in this fleet (what the last plan used). */
  private placeableKey = '';
  /** Replicas wanted per stage now: the plan's, then the tuner's. */
  private wanted: Record<string, number> = {};
  private loop: TunerLoop | undefined;
  private replanned: LastReplan | undefined;
  private decided: { atMs: number; decision: TunerDecision } | undefined;
  /** Per stage, what one replica serves at the planned batch and hardware (queries/s). */
  private perReplicaQps: Record<string, number> = {};
  readonly observations: PipelineObservations;
  private readonly port: RunPort;

  constructor(spec: PipelineSpec, timing: InferlineConfig['agent'], port: RunPort) {
    this.spec = spec;
    this.port = port;
    // How the models' request counts become the pipeline's queries and each stage's visits.
    this.observations = new PipelineObservations(queryCounting(compilePipeline(spec)), timing);
  }

  get plan(): Plan | undefined {
    return this.current;
  }

  get placeable(): string {
    return this.placeableKey;
  }

  get desired(): Readonly<Record<string, number>> {
    return this.wanted;
  }

  get replicaQps(): Readonly<Record<string, number>> {
    return this.perReplicaQps;
  }

  get lastReplan(): LastReplan | undefined {
    return this.replanned;
  }

  get lastDecision(): { readonly atMs: number; readonly decision: TunerDecision } | undefined {
    return this.decided;
  }

  /** Replicas wanted for a stage: the tuner's, else the plan's. */
  replicasOf(stage: string, planned: number): number {
    return this.wanted[stage] ?? planned;
  }

  /** Plans the pipeline for this fleet; a failed or infeasible plan leaves the previous one in force. */
  replanWith(reason: string, fleet: FleetSnapshot, known: readonly ModelProfile[], handover: Handover | undefined): void {
    const { config } = fleet;
    const spec = fleetSpecOf(this.spec, fleet, known);
    const hardware = applyPolicy([], config.hardware, fleet.policy).hardware;
    const now = this.port.clock.nowMs();
    const { trace, workload, samples } = this.planningTrace(spec, config, now);
    const profiles = new ProfileSet(known);
    let plan: Plan;
    try {
      plan = this.port.plannerRuns.run({
        pipeline: spec, hardware, profiles, trace, workload, planner: 'greedy',
        options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage },
        ...(samples ? { samples } : {}),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.replanned = { atMs: now, reason, outcome: `error: ${message}` };
      this.port.log.error(`planner failed for ${spec.name}; the previous plan stays`, { pipeline: spec.name, reason, error: message });
      return;
    }
    if (!plan.feasible && this.current !== undefined) {
      this.replanned = { atMs: now, reason, outcome: `infeasible (P99 ${plan.estimatedP99Ms.toFixed(0)} ms > ${spec.slo.latencyMs} ms): the previous plan stays` };
      this.port.log.warn(`no plan of ${spec.name} meets its SLO; the previous plan stays`, { pipeline: spec.name, reason, p99Ms: plan.estimatedP99Ms });
      return;
    }
    this.spec = spec;
    this.current = plan;
    this.placeableKey = placeableKeyOf(spec);
    this.wanted = Object.fromEntries(Object.entries(plan.stages).map(([s, c]) => [s, c.replicas]));
    this.replanned = { atMs: now, reason, outcome: plan.feasible ? 'feasible' : 'infeasible' };
    this.port.log.info(`planned ${spec.name} (${reason}): $${plan.costPerHour.toFixed(3)}/h, P99 ${plan.estimatedP99Ms.toFixed(1)} ms ≤ ${spec.slo.latencyMs} ms`, {
      pipeline: spec.name, reason, feasible: plan.feasible, workload,
      stages: Object.fromEntries(Object.entries(plan.stages).map(([s, c]) => [s, `${c.hardware}/${c.batchSize}×${c.replicas}`])),
    });
    this.startTuner(profiles, hardware, config);
    if (handover !== undefined && now < handover.untilMs) this.keepRunning(handover.running, profiles, hardware, config);
    this.port.publishDesired();
  }

  /** Whether the hardware this pipeline may be planned on in this fleet differs from what its last plan used. */
  placeableChanged(fleet: FleetSnapshot, known: readonly ModelProfile[]): boolean {
    return placeableKeyOf(fleetSpecOf(this.spec, fleet, known)) !== this.placeableKey;
  }

  /** Recent traffic once enough was seen (one trace); before, the planning workload and its other samples. */
  private planningTrace(spec: PipelineSpec, config: InferlineConfig, now: number): { trace: Float64Array; workload: string; samples?: PlanningSamples } {
    const { planner } = config;
    const recent = this.observations.recent;
    const first = recent[0];
    const seen = first === undefined ? 0 : now - first.fromMs;
    if (seen >= planner.minTraceMs) {
      const trace = traceFromCounts(recent);
      if (trace.length > 0) return { trace, workload: `recent traffic (last ${Math.round(seen / 1000)} s, ${trace.length} queries)` };
    }
    const parsed = parseArrivalSpec(spec.arrival ?? planner.arrival);
    const samples = samplesOfSpec(parsed, planner.seed, planner.samples, planner.sampleQuantile);
    return { trace: generateTrace(parsed, planner.seed), workload: formatArrivalSpec(parsed), ...(samples ? { samples } : {}) };
  }

  /** Keeps what runs (replicas as a floor, batch size and delay as they are); the tuner restarts on the kept plan. */
  private keepRunning(running: ReadonlyMap<string, RunningStage>, profiles: ProfileSet, hardware: InferlineConfig['hardware'], config: InferlineConfig): void {
    if (!this.current) return;
    const mine = new Map<string, RunningStage>();
    for (const stage of Object.keys(this.current.stages)) {
      const r = running.get(stageKey(this.spec.name, stage));
      if (r !== undefined) mine.set(stage, r);
    }
    const { stages, desired, kept } = keepRunning(this.current.stages, this.wanted, mine);
    if (kept.length === 0) return;
    this.wanted = desired;
    for (const k of kept) {
      const what = k.setting === 'replicas' ? `kept at the ${k.running} replicas running (the plan has ${k.planned}); the tuner scales down on live traffic`
        : k.setting === 'batchSize' ? `kept at the running batch size ${k.running} (the plan has ${k.planned}) until a later re-plan`
          : `kept at the running batching delay ${k.running} ms (the plan has ${k.planned} ms) until a later re-plan`;
      this.port.log.info(`handover: ${this.spec.name}/${k.stage} ${what}`, {
        pipeline: this.spec.name, stage: k.stage, setting: k.setting, running: k.running, planned: k.planned,
      });
    }
    if (kept.some((k) => k.setting !== 'replicas')) {
      // The tuner's per-replica throughput depends on the batch size: restart it on the kept plan.
      this.current = { ...this.current, stages };
      this.startTuner(profiles, hardware, config);
    }
    this.port.publishDesired();
  }

  private startTuner(profiles: ProfileSet, hardware: InferlineConfig['hardware'], config: InferlineConfig): void {
    if (this.port.stopped()) return;
    const plan = this.current as Plan;
    void this.loop?.stop();
    const compiled = compilePipeline(this.spec);
    const tunerPlan = tunerPlanOf(
      { stages: plan.stages, envelope: plan.envelope, plannedRateQps: plan.workload.meanRateQps, slack: plan.slack, scaling: plan.scaling },
      compiled, new Estimator(compiled, profiles), hardware, config.planner.maxReplicasPerStage,
    );
    this.perReplicaQps = Object.fromEntries(tunerPlan.stages.map((st) => [st.name, st.replicaThroughputQps]));
    const tuner = createTuner(tunerPlan, config.tuner);
    const { clock, log } = this.port;
    const startedMs = clock.nowMs();
    const obs = this.observations;
    const loop: TunerLoop = new TunerLoop({
      tuner, clock, tickMs: config.tuner.tickMs, idleTickMs: IDLE_TUNER_TICK_MS,
      // Counts come per scrape interval, spread evenly: finer buckets would only cost memory.
      countResolutionMs: countResolutionMs(config.agent?.scrapeIntervalMs ?? 1000),
      replicas: () => this.wanted,
      queued: () => obs.queuedNow(clock.nowMs()),
      arrivalRateQps: () => obs.arrivalRateQps(),
      envelopeAtMs: () => obs.envelopeAtMs(startedMs),
      act: (decision, nowMs) => this.onDecision(loop, decision, nowMs),
      onError: (err) => log.error('tuner tick failed', { pipeline: this.spec.name, error: String(err) }),
      telemetry: { port: this.port.telemetry, pipeline: this.spec.name },
    });
    this.loop = loop;
    loop.start();
  }

  private onDecision(loop: TunerLoop, decision: TunerDecision, nowMs: number): void {
    if (!this.port.active() || this.loop !== loop) return;
    this.decided = { atMs: nowMs, decision };
    if (decision.kind === 'scale') {
      for (const c of decision.changes) this.wanted[c.stage] = c.to;
      this.port.publishDesired();
      this.port.log.info(`tuner: ${this.spec.name} ${decision.changes.map((c) => `${c.stage} ${c.from}→${c.to}`).join(', ')}`, {
        pipeline: this.spec.name, changes: decision.changes.map((c) => ({ ...c })),
      });
      this.port.write();
    }
    if (decision.replan !== undefined) {
      this.port.replan(this, `drift: ${decision.replan}`);
      this.port.write();
    }
  }

  /** Moves merged counts into the tuner's envelopes and the recent trace, then ticks at once. */
  feed(now: number, traceWindowMs: number): void {
    const intervals = this.observations.drain(now, traceWindowMs);
    if (intervals.length === 0) return;
    const loop = this.loop;
    if (!loop) return;
    for (const b of bucketCounts(intervals, loop.resolutionMs)) loop.observeCount(b.fromMs, b.toMs, b.count);
    // A burst must not wait for the next tick: decide as soon as new counts are in.
    void loop.tick().catch((err: unknown) => this.port.log.error('tuner tick failed', { pipeline: this.spec.name, error: String(err) }));
  }

  stop(): Promise<void> | undefined {
    return this.loop?.stop();
  }

  /** The plan in force, as agents and GET /v1/plan see it. */
  summary(epoch: number): PlanSummary | undefined {
    const p = this.current;
    if (!p) return undefined;
    return {
      pipeline: p.pipeline, sloMs: p.sloMs, percentile: p.percentile, feasible: p.feasible, estimatedP99Ms: p.estimatedP99Ms,
      costPerHour: p.costPerHour, stages: Object.fromEntries(Object.entries(p.stages).map(([s, c]) => [s, { ...c }])),
      workload: p.samples === undefined ? p.workload.source
        : `${p.workload.source} (the sample of seed ${p.samples.seed}; the plan meets the SLO on ${p.samples.meets} of ${p.samples.count} samples)`,
      epoch,
    };
  }
}

/** The pipeline as it can be planned in this fleet: the policy's SLO, each stage on hardware some agent has. */
function fleetSpecOf(current: PipelineSpec, fleet: FleetSnapshot, profiles: readonly ModelProfile[]): PipelineSpec {
  const base = fleet.config.pipelines.find((p) => p.name === current.name) ?? current;
  const { pipelines } = applyPolicy([base], fleet.config.hardware, fleet.policy);
  const spec = pipelines[0] as PipelineSpec;
  const members = fleet.members.map((m) => ({ agentId: m.agentId, hardware: m.hardware, models: m.models, capacity: m.capacity }));
  const profiled = new Set(profiles.map((p) => pairKey(p.model, p.hardware)));
  return {
    ...spec,
    stages: spec.stages.map((s) => {
      const hw = placeableHardware(s.model, s.hardware, members).filter((h) => profiled.has(pairKey(s.model, h)));
      return hw.length > 0 ? { ...s, hardware: hw } : s;
    }),
  };
}

function placeableKeyOf(spec: PipelineSpec): string {
  return spec.stages.map((s) => `${s.name}:${s.hardware.join(',')}`).join(';');
}

/** The key of a (pipeline, stage) pair in the maps of what runs (handover-store.ts). */
export function stageKey(pipeline: string, stage: string): string {
  return `${pipeline}\u0000${stage}`;
}

/** The key of a (model, hardware) pair. */
export function pairKey(model: string, hardware: string): string {
  return `${model}\u0000${hardware}`;
}
