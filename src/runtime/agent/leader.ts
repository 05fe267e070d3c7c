// The leader: the one agent that plans and tunes for the whole fleet, for as long as its
// Leadership lasts. It
// - keeps the live members (membership watch) and the fleet policy (SLOs, prices) from the
//   coordinator, never from its own file alone, so that every leader plans for the same SLOs;
// - takes the agents' samples: the entry stages' arrival counts, as queries (each query counted
//   once however many roots it enters, fleet/query-counting.ts), go to each pipeline's tuner (merged
//   across agents, fleet/count-merger.ts) and to its recent trace; Triton's per-batch-size
//   statistics become passive profile points for (model, hardware) pairs the config has no
//   profile for;
// - plans every pipeline at start, on its cron schedule, on demand and when the tuner signals drift,
//   on the hardware the fleet actually has, on recent traffic once enough has been seen;
// - runs a tuner loop per pipeline and places the replicas it wants onto agents of the right
//   hardware within their capacity; a shortfall is a metric, a status line, and optionally an
//   orchestrator command;
// - writes each agent's desired state fenced by its epoch, only when it changed. A StaleEpochError
//   or the Leadership's signal means it no longer leads: it stops acting at once.
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { InferlineConfig } from '../../config/index.js';
import { generateTrace, parseArrivalSpec, formatArrivalSpec } from '../../core/arrival/spec.js';
import {
  applyPolicy, bucketCounts, CountMerger, keepRunning, mergeRunning, parsePolicy, parseTrafficRecord, placeableHardware, placeReplicas, queryCounting,
  traceFromCounts, trafficIntervals, trafficRecordOf,
} from '../../core/fleet/index.js';
import { tunerPlanOf } from '../../core/tuner/tuner-plan.js';
import { countResolutionMs, lastSecondRate } from '../../core/controllers/live-loop.js';
import { compilePipeline } from '../../core/model/pipeline.js';
import { Estimator } from '../../core/sim/estimator.js';
import type { CountInterval, FleetPolicy, Placement, PlacementMember, QueryCounting, RunningStage, Shortfall, StageDemand } from '../../core/fleet/index.js';
import { normaliseProfiles, ProfileSet } from '../../core/model/profiles.js';
import type { ProfileOptions } from '../../core/model/profiles.js';
import { passiveProfile } from '../../core/profiler/table.js';
import type { Plan } from '../../core/planner/index.js';
import { passivePoints, tallyBatchSizes } from '../../core/profiler/passive.js';
import type { BatchSizeTally } from '../../core/profiler/passive.js';
import { createTuner } from '../../core/tuner/tuner.js';
import type { TunerDecision } from '../../core/tuner/tuner.js';
import type { ModelProfile, PipelineSpec } from '../../core/model/types.js';
import type { Clock } from '../../ports/clock.js';
import type { Coordinator, DesiredStateRecord, JsonValue, Leadership, MemberInfo, Subscription } from '../../ports/coordinator.js';
import type { StaleEpochError } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { PlannerRuns } from '../planner-runs.js';
import { TunerLoop } from '../tuner-loop.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { ModelSample } from '../collector.js';
import { FLEET_POLICY_KEY, FLEET_TRAFFIC_KEY, desiredSpecOf, parseDesiredSpec } from './desired-spec.js';
import type { DesiredReplicasSink, StageReplicas } from '../scaling/desired-replicas-feed.js';
import type { PlanSummary, StageRef } from './desired-spec.js';

/** Passive points need this many executions of a size before the leader plans with them. */
const PASSIVE_MIN_SAMPLES = 20;

export interface LeaderOptions {
  readonly config: InferlineConfig;
  readonly coordinator: Coordinator;
  readonly leadership: Leadership;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly log: Logger;
  /**
   * Asks an agent for an active profile of a model on its hardware (POST /v1/profile); resolves
   * with the profile, rejects with the agent's refusal or failure. Default: none is asked for.
   */
  readonly requestProfile?: (member: MemberInfo, model: string) => Promise<ProfileOptions>;
  /** Runs the orchestrator command for a shortfall (default: none is run). */
  readonly runCommand?: (argv: readonly string[], timeoutMs: number) => Promise<void>;
  /** Wall-clock ms since the epoch, for the measuredAt of passive profiles (default Date.now). */
  readonly wallClockMs?: () => number;
  /** Gets the replicas wanted per stage on every plan and tuner decision (KEDA scaler, Deployment scaler). */
  readonly desiredReplicas?: DesiredReplicasSink;
  /**
   * How often the stored desired states are read back and any that differ from what this leader
   * decided (tampered, stale, restored from a backup) rewritten, and the recent traffic stored for
   * the next leader (default: the lease duration).
   */
  readonly verifyIntervalMs?: number;
}

interface PipelineRun {
  /** The pipeline with the fleet policy's SLO. */
  spec: PipelineSpec;
  plan: Plan | undefined;
  /** The hardware each stage may be planned on in this fleet (what the last plan used). */
  placeable: string;
  /** Replicas wanted per stage now: the plan's, then the tuner's. */
  desired: Record<string, number>;
  loop: TunerLoop | undefined;
  merger: CountMerger;
  /** Recent entry-stage arrivals, for re-planning (leader clock). */
  recent: CountInterval[];
  lastReplan: { atMs: number; reason: string; outcome: string } | undefined;
  lastDecision: { atMs: number; decision: TunerDecision } | undefined;
  /** Per stage, per agent, from the last sample (leader clock): queries waiting, and arrivals per second. */
  queued: Map<string, Map<string, { queued: number; atMs: number }>>;
  rates: Map<string, Map<string, { qps: number; atMs: number }>>;
  /** Per stage, what one replica serves at the planned batch and hardware (queries/s). */
  replicaQps: Record<string, number>;
  /** How the models' request counts become the pipeline's queries and each stage's visits. */
  counting: QueryCounting;
}

export interface LeaderStatus {
  readonly epoch: number;
  readonly members: readonly MemberInfo[];
  readonly policy: FleetPolicy | undefined;
  readonly pipelines: readonly {
    readonly name: string;
    readonly sloMs: number;
    readonly plan: PlanSummary | undefined;
    readonly desired: Readonly<Record<string, number>>;
    readonly lastReplan: PipelineRun['lastReplan'];
    readonly lastDecision: { readonly atMs: number; readonly kind: string; readonly reason: string } | undefined;
  }[];
  readonly placement: Placement['assignments'];
  readonly shortfalls: readonly (Shortfall & { readonly line: string })[];
  readonly writeErrors: readonly string[];
  /** Stored desired states rewritten because they differed from what this leader decided. */
  readonly repairs: number;
  /** Active profiles asked of agents for (model, hardware) pairs with no profile. */
  readonly profileRequests: readonly ProfileRequest[];
}

export interface ProfileRequest {
  readonly agentId: string;
  readonly model: string;
  readonly hardware: string;
  readonly state: 'running' | 'done' | 'failed';
  readonly detail?: string;
}

export class Leader {
  private readonly o: LeaderOptions;
  private config: InferlineConfig;
  private readonly runs = new Map<string, PipelineRun>();
  private readonly plannerRuns: PlannerRuns;
  private members: readonly MemberInfo[] = [];
  private policy: FleetPolicy | undefined;
  private readonly subscriptions: Subscription[] = [];
  private schedule: ScheduledTask | undefined;
  private readonly lastWritten = new Map<string, string>();
  private placement: Placement = { perAgent: {}, assignments: [], shortfalls: [] };
  private shortfallKey = '';
  private readonly writeErrors: string[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly passive = new Map<string, BatchSizeTally[]>();
  /** Active profiles agents measured at the leader's request, by model and hardware. */
  private readonly measured = new Map<string, ProfileOptions>();
  private readonly profileRequests = new Map<string, ProfileRequest>();
  private stopped = false;
  private readonly stageTelemetry: PeriodicTask;
  private readonly verifier: PeriodicTask;
  /** Stored records rewritten because they differed from what this leader decided. */
  private repairs = 0;
  /**
   * What ran when this leadership started, kept by every plan made before its tuner could have
   * scaled down on its own live samples (tuner.scaleDownDelay from the start): a re-plan in that
   * time (drift, schedule) does not undo the handover.
   */
  private handover: { running: ReadonlyMap<string, RunningStage>; untilMs: number } | undefined;

  private constructor(options: LeaderOptions) {
    this.o = options;
    this.config = options.config;
    this.plannerRuns = new PlannerRuns({ clock: options.clock, telemetry: options.telemetry });
    this.stageTelemetry = new PeriodicTask({ name: 'leader-telemetry', intervalMs: 1000, clock: options.clock }, () => this.recordStages());
    const verifyMs = options.verifyIntervalMs ?? options.config.coordination.timing.leaseDurationMs;
    this.verifier = new PeriodicTask({ name: 'leader-verify', intervalMs: verifyMs, timeoutMs: Math.max(verifyMs, 5000), clock: options.clock }, async () => {
      await this.writeAll(true);
      await this.storeTraffic();
    });
  }

  get epoch(): number {
    return this.o.leadership.epoch;
  }

  /** Reads members and policy, plans every pipeline, writes the desired states, starts the loops. */
  static async start(options: LeaderOptions): Promise<Leader> {
    const leader = new Leader(options);
    await leader.begin();
    return leader;
  }

  private async begin(): Promise<void> {
    const { coordinator, leadership } = this.o;
    leadership.signal.addEventListener('abort', () => { void this.stop(); }, { once: true });
    this.members = await coordinator.members();
    const record = await coordinator.readDesired(FLEET_POLICY_KEY);
    this.policy = this.checkedPolicy(record?.spec);
    for (const p of this.config.pipelines) this.runs.set(p.name, this.newRun(p));
    // A handover the servers do not feel (core/fleet/handover.ts): the recent traffic the previous
    // leader stored is this one's planning trace, and the fleet's current desired state is kept:
    // no stage lowered below what runs (the tuner scales down from there, on live samples, under
    // its usual rules), its batch size and delay unchanged until a later re-plan.
    const stored = await this.takeOverTraffic();
    const running = mergeRunning(await this.runningStages(), stored);
    this.handover = { running, untilMs: this.o.clock.nowMs() + this.config.tuner.scaleDownDelayMs };
    this.planAll('leader elected');
    await this.writeAll(true);
    this.requestMissingProfiles();
    this.subscriptions.push(await coordinator.watchMembers((members) => this.onMembers(members)));
    this.subscriptions.push(await coordinator.watchDesired(FLEET_POLICY_KEY, (r) => this.onPolicy(r?.spec)));
    // Leadership lost while starting: stop() has run; what is started after it would never stop.
    if (this.stopped) {
      await Promise.all(this.subscriptions.splice(0).map((s) => s.close().catch(() => undefined)));
      return;
    }
    this.startSchedule();
    this.stageTelemetry.start();
    this.verifier.start();
  }

  /**
   * Per pipeline and stage, what the stored desired states run: replicas (summed over agents),
   * batch size and delay, from the records of the newest epoch below this leader's (the previous
   * leadership's); older ones are stale or tampered and count for nothing, as do records this
   * epoch did not write yet claims.
   */
  private async runningStages(): Promise<Map<string, RunningStage>> {
    const records = await Promise.all(this.members.map((m) => this.o.coordinator.readDesired(m.agentId).catch(() => undefined)));
    const valid = records.filter((r): r is DesiredStateRecord => r !== undefined && r.epoch < this.epoch);
    const newest = Math.max(0, ...valid.map((r) => r.epoch));
    const out = new Map<string, RunningStage>();
    for (const r of valid.filter((x) => x.epoch === newest)) {
      const { spec } = parseDesiredSpec(r.spec);
      if (spec === undefined) continue;
      for (const m of spec.models) {
        const refs = spec.stages[m.model] ?? [];
        // A model that stands for several stages cannot be split between them: it sets nothing.
        if (refs.length !== 1) continue;
        const ref = refs[0] as StageRef;
        const key = `${ref.pipeline}\u0000${ref.stage}`;
        const prev = out.get(key);
        if (prev !== undefined && prev.hardware !== ref.hardware) continue;
        out.set(key, {
          hardware: ref.hardware, replicas: (prev?.replicas ?? 0) + m.replicas,
          ...(m.maxBatchSize === undefined ? {} : { batchSize: m.maxBatchSize }),
          ...(m.batchDelayMs === undefined ? {} : { batchDelayMs: m.batchDelayMs }),
        });
      }
    }
    return out;
  }

  /** Keeps what runs (replicas as a floor, batch size and delay as they are); the tuner restarts on the kept plan. */
  private keepRunning(run: PipelineRun, running: ReadonlyMap<string, RunningStage>): void {
    if (!run.plan) return;
    const mine = new Map<string, RunningStage>();
    for (const stage of Object.keys(run.plan.stages)) {
      const r = running.get(`${run.spec.name}\u0000${stage}`);
      if (r !== undefined) mine.set(stage, r);
    }
    const { stages, desired, kept } = keepRunning(run.plan.stages, run.desired, mine);
    if (kept.length === 0) return;
    run.desired = desired;
    for (const k of kept) {
      const what = k.setting === 'replicas' ? `kept at the ${k.running} replicas running (the plan has ${k.planned}); the tuner scales down on live traffic`
        : k.setting === 'batchSize' ? `kept at the running batch size ${k.running} (the plan has ${k.planned}) until a later re-plan`
          : `kept at the running batching delay ${k.running} ms (the plan has ${k.planned} ms) until a later re-plan`;
      this.o.log.info(`handover: ${run.spec.name}/${k.stage} ${what}`, {
        pipeline: run.spec.name, stage: k.stage, setting: k.setting, running: k.running, planned: k.planned,
      });
    }
    if (kept.some((k) => k.setting !== 'replicas')) {
      // The tuner's per-replica throughput depends on the batch size: restart it on the kept plan.
      run.plan = { ...run.plan, stages };
      this.startTuner(run, new ProfileSet(this.profiles()), applyPolicy([], this.config.hardware, this.policy).hardware);
    }
    this.publishDesired();
  }

  /**
   * The recent traffic the previous leader stored becomes each pipeline's recent trace (re-timed to
   * end now); returns the stages as it wanted them run (by pipeline and stage), for the floor.
   */
  private async takeOverTraffic(): Promise<Map<string, RunningStage>> {
    const stages = new Map<string, RunningStage>();
    const stored = await this.o.coordinator.readDesired(FLEET_TRAFFIC_KEY).catch(() => undefined);
    if (stored === undefined || stored.epoch >= this.epoch) return stages;
    const { record, problem } = parseTrafficRecord(stored.spec);
    if (record === undefined) {
      this.o.log.warn(`stored traffic of epoch ${stored.epoch} ignored: ${problem ?? 'unreadable'}`);
      return stages;
    }
    // Traffic older than the trace window is not recent (a leader long gone, a restored backup).
    const ageMs = (this.o.wallClockMs?.() ?? Date.now()) - record.atWallMs;
    if (ageMs > this.config.planner.traceWindowMs) {
      this.o.log.info(`stored traffic of epoch ${stored.epoch} is ${Math.round(ageMs / 1000)} s old: not used`);
      return stages;
    }
    for (const [pipeline, byStage] of Object.entries(record.stages ?? {})) {
      for (const [stage, st] of Object.entries(byStage)) stages.set(`${pipeline}\u0000${stage}`, st);
    }
    const now = this.o.clock.nowMs();
    for (const run of this.runs.values()) {
      run.recent = trafficIntervals(record, run.spec.name, now, this.config.planner.traceWindowMs);
      if (run.recent.length === 0) continue;
      const first = run.recent[0] as CountInterval;
      this.o.log.info(`handover: ${run.spec.name} plans on the ${Math.round((now - first.fromMs) / 1000)} s of traffic epoch ${stored.epoch} stored`, { pipeline: run.spec.name, storedEpoch: stored.epoch });
    }
    return stages;
  }

  /** Stores each pipeline's recent traffic, fenced by the epoch, for the next leader. */
  private async storeTraffic(): Promise<void> {
    if (!this.active) return;
    const now = this.o.clock.nowMs();
    const recent = new Map([...this.runs.entries()].map(([name, r]) => [name, r.recent]));
    const stages: Record<string, Record<string, RunningStage>> = {};
    for (const [name, run] of this.runs) {
      if (!run.plan) continue;
      stages[name] = Object.fromEntries(Object.entries(run.plan.stages).map(([stage, c]) => [stage, {
        hardware: c.hardware, replicas: run.desired[stage] ?? c.replicas, batchSize: c.batchSize, ...(c.batchDelayMs === undefined ? {} : { batchDelayMs: c.batchDelayMs }),
      }]));
    }
    const record = trafficRecordOf(recent, now, this.o.wallClockMs?.() ?? Date.now(), stages);
    if (Object.keys(record.pipelines).length === 0 && Object.keys(stages).length === 0) return;
    // A failed write only costs the next leader its head start; the verifier reports coordination trouble.
    await this.o.coordinator.writeDesired(FLEET_TRAFFIC_KEY, record as unknown as JsonValue, this.epoch).catch(() => undefined);
  }

  /** Stops every loop at once; idempotent. Writes in flight are fenced by the backend anyway. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.o.desiredReplicas?.withdraw(this.epoch);
    this.schedule?.stop();
    await Promise.all([...this.runs.values()].map((r) => r.loop?.stop()));
    await this.stageTelemetry.stop();
    await this.verifier.stop();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close().catch(() => undefined)));
  }

  get active(): boolean {
    return !this.stopped && !this.o.leadership.signal.aborted;
  }

  /** A valid new config of this agent's: tuner options, schedule, placement; SLOs come through the policy. */
  updateConfig(config: InferlineConfig): void {
    this.config = config;
    this.startSchedule();
    for (const p of config.pipelines) if (!this.runs.has(p.name)) this.runs.set(p.name, this.newRun(p));
    this.planAll('config changed');
    void this.writeAll();
  }

  /**
   * Stores a policy (this agent's config, or one another agent sent), fenced by the epoch, unless
   * the stored one was written later (the fleet keeps the most recent config's); false then.
   */
  async publishPolicy(policy: FleetPolicy): Promise<boolean> {
    const stored = this.checkedPolicy((await this.o.coordinator.readDesired(FLEET_POLICY_KEY))?.spec);
    if (stored !== undefined && stored.atMs > policy.atMs) return false;
    await this.o.coordinator.writeDesired(FLEET_POLICY_KEY, policy as unknown as JsonValue, this.epoch);
    return true;
  }

  /** The live member with this id, as the membership watch last gave it. */
  member(agentId: string): MemberInfo | undefined {
    return this.members.find((m) => m.agentId === agentId);
  }

  /** Samples pushed by an agent (or by this one). */
  onSamples(agentId: string, samples: readonly ModelSample[]): void {
    if (!this.active) return;
    const now = this.o.clock.nowMs();
    const member = this.members.find((m) => m.agentId === agentId);
    // A push may carry several consecutive samples of a model (what was held, then the scrape
    // that changed): each is re-timed to end as long before now as it ended before the push's
    // last one, so they lie end to end rather than all ending now.
    const lastTo = new Map<string, number>();
    for (const s of samples) lastTo.set(s.model, Math.max(lastTo.get(s.model) ?? Number.NEGATIVE_INFINITY, s.toMs));
    for (const s of samples) {
      if (member && s.batchSizes && s.batchSizes.length > 0) {
        const key = pairKey(s.model, member.hardware);
        this.passive.set(key, tallyBatchSizes(this.passive.get(key) ?? [], s.batchSizes));
      }
      // The model's queue, for the tuner's backlog term: what the server says is queued, else
      // Little's law on the answered requests (rate × mean queue time), which lags a burst.
      const little = s.rates.meanQueueMs === null || s.rates.meanQueueMs === undefined ? undefined : (s.rates.requestsPerS * s.rates.meanQueueMs) / 1000;
      const q = s.queued ?? s.pending ?? little;
      for (const run of this.runs.values()) {
        for (const stage of run.spec.stages.filter((st) => st.model === s.model)) {
          // A model serving several stages: each is charged its share of the model's visits.
          const share = run.counting.stageShare.get(stage.name) ?? 1;
          const rates = run.rates.get(stage.name) ?? new Map<string, { qps: number; atMs: number }>();
          rates.set(agentId, { qps: (share * s.arrivals * 1000) / Math.max(1, s.toMs - s.fromMs), atMs: now });
          run.rates.set(stage.name, rates);
          if (q === undefined || !Number.isFinite(q)) continue;
          const byAgent = run.queued.get(stage.name) ?? new Map<string, { queued: number; atMs: number }>();
          byAgent.set(agentId, { queued: share * q, atMs: now });
          run.queued.set(stage.name, byAgent);
        }
        // Queries, not visits: a root model's requests weighed by core/fleet/query-counting.ts.
        const weight = run.counting.queryWeight.get(s.model);
        if (weight === undefined) continue;
        run.merger.add(`${agentId}/${s.model}`, s.toMs - s.fromMs, s.reset ? 0 : weight * s.arrivals, now - Math.max(0, (lastTo.get(s.model) ?? s.toMs) - s.toMs));
      }
    }
    for (const run of this.runs.values()) this.feed(run, now);
  }

  /** Re-plans one pipeline or all, now; returns the new plans. */
  replan(reason: string, pipeline?: string): PlanSummary[] {
    if (!this.active) throw new Error('not the leader any more');
    const names = pipeline === undefined ? [...this.runs.keys()] : [pipeline];
    for (const name of names) {
      const run = this.runs.get(name);
      if (!run) throw new Error(`no pipeline "${name}" — the pipelines are: ${[...this.runs.keys()].join(', ')}`);
      this.planOne(run, reason);
    }
    void this.writeAll();
    return names.map((n) => this.summaryOf(this.runs.get(n) as PipelineRun)).filter((s): s is PlanSummary => s !== undefined);
  }

  status(): LeaderStatus {
    return {
      epoch: this.epoch,
      members: this.members,
      policy: this.policy,
      pipelines: [...this.runs.entries()].map(([name, r]) => ({
        name,
        sloMs: r.spec.slo.latencyMs,
        plan: this.summaryOf(r),
        desired: { ...r.desired },
        lastReplan: r.lastReplan,
        lastDecision: r.lastDecision && {
          atMs: r.lastDecision.atMs,
          kind: r.lastDecision.decision.kind,
          reason: r.lastDecision.decision.kind === 'hold' ? r.lastDecision.decision.reason : r.lastDecision.decision.changes.map((c) => `${c.stage} ${c.from}→${c.to}: ${c.reason}`).join('; '),
        },
      })),
      placement: this.placement.assignments,
      shortfalls: this.placement.shortfalls.map((s) => ({ ...s, line: shortfallLine(s) })),
      writeErrors: [...this.writeErrors],
      repairs: this.repairs,
      profileRequests: [...this.profileRequests.values()],
    };
  }

  // --- planning

  private newRun(p: PipelineSpec): PipelineRun {
    const compiled = compilePipeline(p);
    return {
      spec: p, plan: undefined, placeable: '', desired: {}, loop: undefined,
      merger: new CountMerger({ staleAfterMs: 3 * this.pushGapMs() + 1000 }),
      recent: [], lastReplan: undefined, lastDecision: undefined, queued: new Map(), rates: new Map(), replicaQps: {},
      counting: queryCounting(compiled),
    };
  }

  private planAll(reason: string): void {
    const known = this.profiles();
    for (const run of this.runs.values()) this.planOne(run, reason, known);
  }

  /** The pipeline as it can be planned in this fleet: the policy's SLO, each stage on hardware some agent has. */
  private fleetSpec(run: PipelineRun, profiles: readonly ModelProfile[]): PipelineSpec {
    const base = this.config.pipelines.find((p) => p.name === run.spec.name) ?? run.spec;
    const { pipelines } = applyPolicy([base], this.config.hardware, this.policy);
    const spec = pipelines[0] as PipelineSpec;
    const members = this.placementMembers();
    const profiled = new Set(profiles.map((p) => pairKey(p.model, p.hardware)));
    return {
      ...spec,
      stages: spec.stages.map((s) => {
        const hw = placeableHardware(s.model, s.hardware, members).filter((h) => profiled.has(pairKey(s.model, h)));
        return hw.length > 0 ? { ...s, hardware: hw } : s;
      }),
    };
  }

  private planOne(run: PipelineRun, reason: string, known: readonly ModelProfile[] = this.profiles()): void {
    const { config } = this;
    const spec = this.fleetSpec(run, known);
    const hardware = applyPolicy([], config.hardware, this.policy).hardware;
    const now = this.o.clock.nowMs();
    const { trace, workload } = this.planningTrace(run, spec, now);
    const profiles = new ProfileSet(known);
    let plan: Plan;
    try {
      plan = this.plannerRuns.run({
        pipeline: spec, hardware, profiles, trace, workload, planner: 'greedy',
        options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage },
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      run.lastReplan = { atMs: now, reason, outcome: `error: ${message}` };
      this.o.log.error(`planner failed for ${spec.name}; the previous plan stays`, { pipeline: spec.name, reason, error: message });
      return;
    }
    if (!plan.feasible && run.plan !== undefined) {
      run.lastReplan = { atMs: now, reason, outcome: `infeasible (P99 ${plan.estimatedP99Ms.toFixed(0)} ms > ${spec.slo.latencyMs} ms): the previous plan stays` };
      this.o.log.warn(`no plan of ${spec.name} meets its SLO; the previous plan stays`, { pipeline: spec.name, reason, p99Ms: plan.estimatedP99Ms });
      return;
    }
    run.spec = spec;
    run.plan = plan;
    run.placeable = placeableKey(spec);
    run.desired = Object.fromEntries(Object.entries(plan.stages).map(([s, c]) => [s, c.replicas]));
    run.lastReplan = { atMs: now, reason, outcome: plan.feasible ? 'feasible' : 'infeasible' };
    this.o.log.info(`planned ${spec.name} (${reason}): $${plan.costPerHour.toFixed(3)}/h, P99 ${plan.estimatedP99Ms.toFixed(1)} ms ≤ ${spec.slo.latencyMs} ms`, {
      pipeline: spec.name, reason, feasible: plan.feasible, workload,
      stages: Object.fromEntries(Object.entries(plan.stages).map(([s, c]) => [s, `${c.hardware}/${c.batchSize}×${c.replicas}`])),
    });
    this.startTuner(run, profiles, hardware);
    if (this.handover !== undefined && now < this.handover.untilMs) this.keepRunning(run, this.handover.running);
    this.publishDesired();
  }

  /** Hands the replicas wanted per stage to what scales workloads (at once: a burst must not wait for a write). */
  private publishDesired(): void {
    const sink = this.o.desiredReplicas;
    if (!sink || !this.active) return;
    const stages: StageReplicas[] = [];
    for (const run of this.runs.values()) {
      if (!run.plan) continue;
      for (const s of run.spec.stages) {
        const c = run.plan.stages[s.name];
        if (c) stages.push({ pipeline: run.spec.name, stage: s.name, model: s.model, hardware: c.hardware, desired: run.desired[s.name] ?? c.replicas });
      }
    }
    sink.publishLeader(this.epoch, stages);
  }

  private planningTrace(run: PipelineRun, spec: PipelineSpec, now: number): { trace: Float64Array; workload: string } {
    const { planner } = this.config;
    const first = run.recent[0];
    const seen = first === undefined ? 0 : now - first.fromMs;
    if (seen >= planner.minTraceMs) {
      const trace = traceFromCounts(run.recent);
      if (trace.length > 0) return { trace, workload: `recent traffic (last ${Math.round(seen / 1000)} s, ${trace.length} queries)` };
    }
    const parsed = parseArrivalSpec(spec.arrival ?? planner.arrival);
    return { trace: generateTrace(parsed, planner.seed), workload: formatArrivalSpec(parsed) };
  }

  /**
   * Config profiles, then for pairs the config has none for: active ones agents measured at the
   * leader's request, else passive ones from Triton's per-batch-size statistics.
   */
  private profiles(): ModelProfile[] {
    const out = [...this.config.profiles];
    const have = new Set(out.map((p) => pairKey(p.model, p.hardware)));
    const extra: ProfileOptions[] = [];
    for (const [key, p] of this.measured) {
      if (have.has(key)) continue;
      have.add(key);
      extra.push(p);
    }
    for (const [key, tally] of this.passive) {
      if (have.has(key)) continue;
      const [model, hardware] = key.split('\u0000') as [string, string];
      const p = passiveProfile(model, hardware, passivePoints(tally, PASSIVE_MIN_SAMPLES).filter((x) => x.enough), this.o.wallClockMs?.() ?? Date.now());
      if (p) extra.push(p);
    }
    const { profiles, problems } = normaliseProfiles(extra, (i) => `measured profile ${i}`);
    for (const pr of problems) this.o.log.warn(`measured profile ignored: ${pr.path} ${pr.message}`);
    return [...out, ...profiles];
  }

  /** Asks agents for an active profile of each planned model with no profile on their hardware, once each. */
  private requestMissingProfiles(): void {
    const ask = this.o.requestProfile;
    if (!ask || !this.active) return;
    const known = new Set(this.profiles().map((p) => pairKey(p.model, p.hardware)));
    for (const m of this.members) {
      for (const model of m.models) {
        const usable = this.config.pipelines.some((p) => p.stages.some((st) => st.model === model && st.hardware.includes(m.hardware)));
        const key = `${m.agentId}\u0000${model}`;
        if (!usable || known.has(pairKey(model, m.hardware)) || this.profileRequests.has(key)) continue;
        this.profileRequests.set(key, { agentId: m.agentId, model, hardware: m.hardware, state: 'running' });
        this.o.log.info(`no profile of ${model} on ${m.hardware}: asking ${m.agentId} for an active profile`, { agent: m.agentId, model });
        ask(m, model).then((profile) => {
          this.measured.set(pairKey(model, m.hardware), { ...profile, model, hardware: m.hardware });
          this.profileRequests.set(key, { agentId: m.agentId, model, hardware: m.hardware, state: 'done', detail: `${profile.points.length} points` });
          if (!this.active) return;
          for (const run of this.runs.values()) if (run.spec.stages.some((st) => st.model === model)) this.planOne(run, `new profile of ${model} on ${m.hardware}`);
          void this.writeAll();
        }, (err: unknown) => {
          const detail = err instanceof Error ? err.message : String(err);
          this.profileRequests.set(key, { agentId: m.agentId, model, hardware: m.hardware, state: 'failed', detail });
          this.o.log.warn(`no active profile of ${model} from ${m.agentId}: ${detail}`, { agent: m.agentId, model });
        });
      }
    }
  }

  private startTuner(run: PipelineRun, profiles: ProfileSet, hardware: InferlineConfig['hardware']): void {
    if (this.stopped) return;
    const plan = run.plan as Plan;
    void run.loop?.stop();
    const compiled = compilePipeline(run.spec);
    const tunerPlan = tunerPlanOf(
      { stages: plan.stages, envelope: plan.envelope, plannedRateQps: plan.workload.meanRateQps, slack: plan.slack, scaling: plan.scaling },
      compiled, new Estimator(compiled, profiles), hardware, this.config.planner.maxReplicasPerStage,
    );
    run.replicaQps = Object.fromEntries(tunerPlan.stages.map((st) => [st.name, st.replicaThroughputQps]));
    const tuner = createTuner(tunerPlan, this.config.tuner);
    const startedMs = this.o.clock.nowMs();
    const loop: TunerLoop = new TunerLoop({
      tuner, clock: this.o.clock, tickMs: this.config.tuner.tickMs,
      // Counts come per scrape interval, spread evenly: finer buckets would only cost memory.
      countResolutionMs: countResolutionMs(this.config.agent?.scrapeIntervalMs ?? 1000),
      replicas: () => run.desired,
      queued: () => this.queuedOf(run),
      arrivalRateQps: () => lastSecondRate(run.recent, run.merger.watermarkMs),
      envelopeAtMs: () => (Number.isFinite(run.merger.watermarkMs) ? Math.max(run.merger.watermarkMs, startedMs) : startedMs),
      act: (decision, nowMs) => this.onDecision(run, loop, decision, nowMs),
      onError: (err) => this.o.log.error('tuner tick failed', { pipeline: run.spec.name, error: String(err) }),
      telemetry: { port: this.o.telemetry, pipeline: run.spec.name },
    });
    run.loop = loop;
    loop.start();
  }

  private onDecision(run: PipelineRun, loop: TunerLoop, decision: TunerDecision, nowMs: number): void {
    if (!this.active || run.loop !== loop) return;
    run.lastDecision = { atMs: nowMs, decision };
    if (decision.kind === 'scale') {
      for (const c of decision.changes) run.desired[c.stage] = c.to;
      this.publishDesired();
      this.o.log.info(`tuner: ${run.spec.name} ${decision.changes.map((c) => `${c.stage} ${c.from}→${c.to}`).join(', ')}`, {
        pipeline: run.spec.name, changes: decision.changes.map((c) => ({ ...c })),
      });
      void this.writeAll();
    }
    if (decision.replan !== undefined) {
      this.planOne(run, `drift: ${decision.replan}`);
      void this.writeAll();
    }
  }

  /** Moves merged counts into the tuner's envelopes and the recent trace, then ticks at once. */
  private feed(run: PipelineRun, now: number): void {
    const { intervals } = run.merger.drain(now);
    if (intervals.length === 0) return;
    run.recent.push(...intervals);
    const horizon = now - this.config.planner.traceWindowMs;
    while (run.recent.length > 0 && (run.recent[0] as CountInterval).toMs < horizon) run.recent.shift();
    const loop = run.loop;
    if (!loop) return;
    for (const b of bucketCounts(intervals, loop.resolutionMs)) loop.observeCount(b.fromMs, b.toMs, b.count);
    // A burst must not wait for the next tick: decide as soon as new counts are in.
    void loop.tick().catch((err: unknown) => this.o.log.error('tuner tick failed', { pipeline: run.spec.name, error: String(err) }));
  }

  private queuedOf(run: PipelineRun): Record<string, number> {
    return this.freshSums(run.queued, (q) => q.queued);
  }

  /** Per stage, the sum over agents of their last reading, leaving out agents silent for three scrape intervals. */
  private freshSums<T extends { atMs: number }>(byStage: Map<string, Map<string, T>>, value: (t: T) => number): Record<string, number> {
    const now = this.o.clock.nowMs();
    const fresh = 3 * this.pushGapMs();
    const out: Record<string, number> = {};
    for (const [stage, byAgent] of byStage) {
      let sum = 0;
      for (const q of byAgent.values()) if (now - q.atMs <= fresh) sum += value(q);
      out[stage] = sum;
    }
    return out;
  }

  /** The longest an agent may stay silent (its push interval, at least 1 s): what freshness is judged by. */
  private pushGapMs(): number {
    return Math.max(1000, this.config.agent?.pushIntervalMs ?? 1000, this.config.agent?.scrapeIntervalMs ?? 1000);
  }

  private startSchedule(): void {
    this.schedule?.stop();
    if (this.stopped) return;
    this.schedule = cron.schedule(this.config.planner.schedule, () => {
      if (!this.active) return;
      this.planAll(`schedule ${this.config.planner.schedule}`);
      void this.writeAll();
    });
  }

  // --- membership and policy

  private onMembers(members: readonly MemberInfo[]): void {
    if (!this.active) return;
    this.members = members;
    // New hardware (or hardware gone) changes what can be planned; otherwise only placement changes.
    const known = this.profiles();
    for (const run of this.runs.values()) {
      if (placeableKey(this.fleetSpec(run, known)) !== run.placeable) this.planOne(run, 'fleet hardware changed', known);
    }
    void this.writeAll();
    this.requestMissingProfiles();
  }

  private onPolicy(spec: JsonValue | undefined): void {
    if (!this.active || spec === undefined) return;
    const next = this.checkedPolicy(spec);
    if (next === undefined) return;
    const before = this.policy;
    this.policy = next;
    if (JSON.stringify(before?.slos) === JSON.stringify(next.slos) && JSON.stringify(before?.prices) === JSON.stringify(next.prices)) return;
    this.planAll(`fleet policy from ${next.from} changed`);
    void this.writeAll();
  }

  private checkedPolicy(spec: JsonValue | undefined): FleetPolicy | undefined {
    if (spec === undefined) return undefined;
    const { policy, problem } = parsePolicy(spec);
    if (problem !== undefined) this.o.log.error(`fleet policy in the coordinator ignored: ${problem}`);
    return policy;
  }

  // --- placement and desired state

  private placementMembers(): PlacementMember[] {
    return this.members.map((m) => ({ agentId: m.agentId, hardware: m.hardware, models: m.models, capacity: m.capacity }));
  }

  /**
   * Places every pipeline's wanted replicas and writes what changed, one write pass at a time. With
   * `verify`, what is stored is read back first and every record that differs from what this leader
   * decided, or carries another epoch, is rewritten: a record changed behind its back (a zombie's
   * replayed write, a restored backup, a hand edit) does not outlive the next verification.
   */
  private writeAll(verify = false): Promise<void> {
    this.writing = this.writing.then(() => this.writeOnce(verify)).catch((err: unknown) => {
      this.o.log.error('writing desired state failed', { error: String(err) });
    });
    return this.writing;
  }

  private async writeOnce(verify: boolean): Promise<void> {
    if (!this.active) return;
    const demands: StageDemand[] = [];
    const refs: Record<string, StageRef[]> = {};
    for (const run of this.runs.values()) {
      if (!run.plan) continue;
      for (const s of run.spec.stages) {
        const c = run.plan.stages[s.name];
        if (!c) continue;
        demands.push({
          pipeline: run.spec.name, stage: s.name, model: s.model, hardware: c.hardware, replicas: run.desired[s.name] ?? c.replicas, batchSize: c.batchSize,
          ...(c.batchDelayMs !== undefined ? { batchDelayMs: c.batchDelayMs } : {}),
        });
        (refs[s.model] ??= []).push({ pipeline: run.spec.name, stage: s.name, hardware: c.hardware });
      }
    }
    const placement = placeReplicas(demands, this.placementMembers());
    this.placement = placement;
    this.reportShortfalls(placement.shortfalls);
    const summaries = [...this.runs.values()].map((r) => this.summaryOf(r)).filter((s): s is PlanSummary => s !== undefined);
    this.writeErrors.length = 0;
    for (const m of this.members) {
      const models = placement.perAgent[m.agentId] ?? [];
      const spec = desiredSpecOf(models, refs, summaries);
      const text = JSON.stringify(spec);
      if (verify) {
        const stored = await this.o.coordinator.readDesired(m.agentId).catch(() => undefined);
        const same = stored !== undefined && stored.epoch === this.epoch && JSON.stringify(stored.spec) === text;
        if (same) {
          this.lastWritten.set(m.agentId, text);
          continue;
        }
        if (stored !== undefined && this.lastWritten.get(m.agentId) === text) {
          this.repairs++;
          this.o.log.warn(`desired state of ${m.agentId} differs from what epoch ${this.epoch} wrote (stored: epoch ${stored.epoch}, by ${stored.writtenBy}, revision ${stored.revision}): rewriting it`, {
            agent: m.agentId, storedEpoch: stored.epoch, writtenBy: stored.writtenBy,
          });
        }
        this.lastWritten.delete(m.agentId);
      }
      if (this.lastWritten.get(m.agentId) === text) continue;
      try {
        await this.o.coordinator.writeDesired(m.agentId, spec, this.epoch);
        this.lastWritten.set(m.agentId, text);
      } catch (err) {
        // By name: a backend loaded on demand may carry its own copy of the error classes.
        if (err instanceof Error && err.name === 'StaleEpochError') {
          this.o.log.warn(`desired state of ${m.agentId} refused: epoch ${this.epoch} is stale; stepping down`, { currentEpoch: (err as StaleEpochError).currentEpoch });
          await this.stop();
          return;
        }
        this.writeErrors.push(`${m.agentId}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!this.active) return;
    }
  }

  private reportShortfalls(shortfalls: readonly Shortfall[]): void {
    for (const run of this.runs.values()) {
      if (!run.plan) continue;
      for (const [stage, c] of Object.entries(run.plan.stages)) {
        const s = shortfalls.find((x) => x.pipeline === run.spec.name && x.stage === stage);
        this.o.telemetry.recordShortfall({ pipeline: run.spec.name, stage, hardware: c.hardware, missing: s ? s.wanted - s.placed : 0 });
      }
    }
    const key = JSON.stringify(shortfalls);
    if (key === this.shortfallKey) return;
    this.shortfallKey = key;
    for (const s of shortfalls) {
      this.o.log.warn(shortfallLine(s), { pipeline: s.pipeline, stage: s.stage, hardware: s.hardware, missing: s.wanted - s.placed });
      const command = this.config.placement.orchestratorCommand;
      // The kubernetes-scale backend gets the figures through desiredReplicas instead.
      if (command && this.o.runCommand && this.config.placement.backend === 'command') {
        const argv = command.map((a) => a.replaceAll('{pipeline}', s.pipeline).replaceAll('{stage}', s.stage).replaceAll('{hardware}', s.hardware)
          .replaceAll('{model}', s.model).replaceAll('{missing}', String(s.wanted - s.placed)));
        this.o.runCommand(argv, this.config.placement.commandTimeoutMs).catch((err: unknown) => {
          this.o.log.error(`orchestrator command failed: ${argv.join(' ')}`, { error: err instanceof Error ? err.message : String(err) });
        });
      }
    }
  }

  private summaryOf(run: PipelineRun): PlanSummary | undefined {
    const p = run.plan;
    if (!p) return undefined;
    return {
      pipeline: p.pipeline, sloMs: p.sloMs, percentile: p.percentile, feasible: p.feasible, estimatedP99Ms: p.estimatedP99Ms,
      costPerHour: p.costPerHour, stages: Object.fromEntries(Object.entries(p.stages).map(([s, c]) => [s, { ...c }])),
      workload: p.workload.source, epoch: this.epoch,
    };
  }

  private recordStages(): void {
    if (!this.active) return;
    const hardware = new Map(applyPolicy([], this.config.hardware, this.policy).hardware.map((h) => [h.name, h]));
    for (const run of this.runs.values()) {
      if (!run.plan) continue;
      const rates = this.freshSums(run.rates, (r) => r.qps);
      for (const [stage, c] of Object.entries(run.plan.stages)) {
        const replicas = run.desired[stage] ?? c.replicas;
        const perReplica = run.replicaQps[stage];
        this.o.telemetry.recordStage({
          pipeline: run.spec.name, stage, hardware: c.hardware, desiredReplicas: replicas, batchSize: c.batchSize,
          costPerHour: replicas * (hardware.get(c.hardware)?.costPerHour ?? 0),
          ...(rates[stage] === undefined ? {} : { arrivalRateQps: rates[stage] }),
          ...(perReplica === undefined ? {} : { capacityQps: replicas * perReplica }),
        });
      }
    }
  }
}

function pairKey(model: string, hardware: string): string {
  return `${model}\u0000${hardware}`;
}

function placeableKey(spec: PipelineSpec): string {
  return spec.stages.map((s) => `${s.name}:${s.hardware.join(',')}`).join(';');
}

function shortfallLine(s: Shortfall): string {
  return `shortfall: ${s.pipeline}/${s.stage} wants ${s.wanted} replicas of ${s.model} on ${s.hardware}, ${s.placed} placed (${s.reason})`;
}
