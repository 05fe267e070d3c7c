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
// This class composes its parts: leader/observations.ts (samples in, rates and queues out),
// leader/pipeline-run.ts (plan, tuner, decisions), leader/profiles.ts (passive and active),
// leader/desired-writer.ts (placement, fenced writes, shortfalls) and leader/handover-store.ts.
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { InferlineConfig } from '../../config/index.js';
import { applyPolicy, mergeRunning, parsePolicy } from '../../core/fleet/index.js';
import type { FleetPolicy, Placement, Shortfall } from '../../core/fleet/index.js';
import type { ProfileOptions } from '../../core/model/profiles.js';
import type { ModelProfile, PipelineSpec } from '../../core/model/types.js';
import type { Clock } from '../../ports/clock.js';
import type { Coordinator, JsonValue, Leadership, MemberInfo, Subscription } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { PlannerRuns } from '../planner-runs.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { ModelSample } from '../../core/observe/sample.js';
import { FLEET_POLICY_KEY } from './desired-spec.js';
import type { DesiredReplicasSink, StageReplicas } from '../scaling/desired-replicas-feed.js';
import type { PlanSummary } from './desired-spec.js';
import { DesiredWriter, shortfallLine } from './leader/desired-writer.js';
import { runningStages, storeTraffic, takeOverTraffic } from './leader/handover-store.js';
import type { HandoverContext } from './leader/handover-store.js';
import { PipelineRun } from './leader/pipeline-run.js';
import type { FleetSnapshot, Handover, LastReplan, RunPort } from './leader/pipeline-run.js';
import { FleetProfiles } from './leader/profiles.js';
import type { ProfileRequest } from './leader/profiles.js';

export type { ProfileRequest } from './leader/profiles.js';

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

export interface LeaderStatus {
  readonly epoch: number;
  readonly members: readonly MemberInfo[];
  readonly policy: FleetPolicy | undefined;
  readonly pipelines: readonly {
    readonly name: string;
    readonly sloMs: number;
    readonly plan: PlanSummary | undefined;
    readonly desired: Readonly<Record<string, number>>;
    readonly lastReplan: LastReplan | undefined;
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

export class Leader {
  private readonly o: LeaderOptions;
  private config: InferlineConfig;
  private readonly runs = new Map<string, PipelineRun>();
  private members: readonly MemberInfo[] = [];
  private policy: FleetPolicy | undefined;
  private readonly subscriptions: Subscription[] = [];
  private schedule: ScheduledTask | undefined;
  private readonly writer: DesiredWriter;
  private readonly profileStore: FleetProfiles;
  /** What each pipeline run needs of this leader. */
  private readonly runPort: RunPort;
  private stopped = false;
  private readonly stageTelemetry: PeriodicTask;
  private readonly verifier: PeriodicTask;
  /**
   * What ran when this leadership started, kept by every plan made before its tuner could have
   * scaled down on its own live samples (tuner.scaleDownDelay from the start): a re-plan in that
   * time (drift, schedule) does not undo the handover.
   */
  private handover: Handover | undefined;

  private constructor(options: LeaderOptions) {
    this.o = options;
    this.config = options.config;
    const { clock, log, telemetry } = options;
    this.runPort = {
      clock, log, telemetry, plannerRuns: new PlannerRuns({ clock, telemetry }),
      stopped: () => this.stopped,
      active: () => this.active,
      publishDesired: () => this.publishDesired(),
      write: () => void this.writeAll(),
      replan: (run, reason) => this.planOne(run, reason),
    };
    this.writer = new DesiredWriter({
      coordinator: options.coordinator, log, telemetry, epoch: options.leadership.epoch,
      ...(options.runCommand ? { runCommand: options.runCommand } : {}),
      active: () => this.active,
      stepDown: () => this.stop(),
      snapshot: () => ({ config: this.config, members: this.members, runs: [...this.runs.values()] }),
    });
    this.profileStore = new FleetProfiles({
      log, wallClockMs: () => this.wallClockMs(), active: () => this.active,
      measured: (model, hardware) => {
        for (const run of this.runs.values()) if (run.spec.stages.some((st) => st.model === model)) this.planOne(run, `new profile of ${model} on ${hardware}`);
        void this.writeAll();
      },
    });
    this.stageTelemetry = new PeriodicTask({ name: 'leader-telemetry', intervalMs: 1000, clock }, () => this.recordStages());
    const verifyMs = options.verifyIntervalMs ?? options.config.coordination.timing.leaseDurationMs;
    this.verifier = new PeriodicTask({ name: 'leader-verify', intervalMs: verifyMs, timeoutMs: Math.max(verifyMs, 5000), clock }, async () => {
      await this.writeAll(true);
      if (this.active) await storeTraffic(this.handoverContext(), this.runs);
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
    const stored = await takeOverTraffic(this.handoverContext(), [...this.runs.values()], this.config.planner.traceWindowMs);
    const running = mergeRunning(await runningStages(this.handoverContext(), this.members), stored);
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

  private handoverContext(): HandoverContext {
    return { coordinator: this.o.coordinator, log: this.o.log, epoch: this.epoch, clock: this.o.clock, wallClockMs: () => this.wallClockMs() };
  }

  private wallClockMs(): number {
    return this.o.wallClockMs?.() ?? Date.now();
  }

  /** Stops every loop at once; idempotent. Writes in flight are fenced by the backend anyway. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.o.desiredReplicas?.withdraw(this.epoch);
    this.schedule?.stop();
    await Promise.all([...this.runs.values()].map((r) => r.stop()));
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
    for (const run of this.runs.values()) run.observations.retime(config.agent);
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
      if (member) this.profileStore.tally(s, member.hardware);
      const endsBeforeMs = Math.max(0, (lastTo.get(s.model) ?? s.toMs) - s.toMs);
      for (const run of this.runs.values()) run.observations.take(run.spec.stages, agentId, s, now, endsBeforeMs);
    }
    for (const run of this.runs.values()) run.feed(now, this.config.planner.traceWindowMs);
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
    return names.map((n) => (this.runs.get(n) as PipelineRun).summary(this.epoch)).filter((s): s is PlanSummary => s !== undefined);
  }

  status(): LeaderStatus {
    const { placement } = this.writer;
    return {
      epoch: this.epoch,
      members: this.members,
      policy: this.policy,
      pipelines: [...this.runs.entries()].map(([name, r]) => ({
        name,
        sloMs: r.spec.slo.latencyMs,
        plan: r.summary(this.epoch),
        desired: { ...r.desired },
        lastReplan: r.lastReplan,
        lastDecision: r.lastDecision && {
          atMs: r.lastDecision.atMs,
          kind: r.lastDecision.decision.kind,
          reason: r.lastDecision.decision.kind === 'hold' ? r.lastDecision.decision.reason : r.lastDecision.decision.changes.map((c) => `${c.stage} ${c.from}→${c.to}: ${c.reason}`).join('; '),
        },
      })),
      placement: placement.assignments,
      shortfalls: placement.shortfalls.map((s) => ({ ...s, line: shortfallLine(s) })),
      writeErrors: [...this.writer.writeErrors],
      repairs: this.writer.repairs,
      profileRequests: this.profileStore.requested(),
    };
  }

  // --- planning

  private newRun(p: PipelineSpec): PipelineRun {
    return new PipelineRun(p, this.config.agent, this.runPort);
  }

  private fleet(): FleetSnapshot {
    return { config: this.config, policy: this.policy, members: this.members };
  }

  private planAll(reason: string): void {
    const known = this.profileStore.all(this.config);
    for (const run of this.runs.values()) this.planOne(run, reason, known);
  }

  private planOne(run: PipelineRun, reason: string, known: readonly ModelProfile[] = this.profileStore.all(this.config)): void {
    run.replanWith(reason, this.fleet(), known, this.handover);
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
        if (c) stages.push({ pipeline: run.spec.name, stage: s.name, model: s.model, hardware: c.hardware, desired: run.replicasOf(s.name, c.replicas) });
      }
    }
    sink.publishLeader(this.epoch, stages);
  }

  /** Asks agents for an active profile of each planned model with no profile on their hardware, once each. */
  private requestMissingProfiles(): void {
    const ask = this.o.requestProfile;
    if (!ask || !this.active) return;
    this.profileStore.requestMissing(this.config, this.members, ask);
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
    const known = this.profileStore.all(this.config);
    for (const run of this.runs.values()) {
      if (run.placeableChanged(this.fleet(), known)) this.planOne(run, 'fleet hardware changed', known);
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

  // --- desired state

  /** Places and writes the desired states (desired-writer.ts); with `verify`, what is stored is read back first. */
  private writeAll(verify = false): Promise<void> {
    return this.writer.write(verify);
  }

  private recordStages(): void {
    if (!this.active) return;
    const hardware = new Map(applyPolicy([], this.config.hardware, this.policy).hardware.map((h) => [h.name, h]));
    const now = this.o.clock.nowMs();
    for (const run of this.runs.values()) {
      if (!run.plan) continue;
      const rates = run.observations.stageRatesNow(now);
      for (const [stage, c] of Object.entries(run.plan.stages)) {
        const replicas = run.replicasOf(stage, c.replicas);
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
