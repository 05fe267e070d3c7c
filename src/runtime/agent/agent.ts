// The agent: one per model server. It attaches its adapter, registers in the fleet, samples its
// server every scrape interval and pushes the samples to the leader, watches its desired state and
// reconciles the server to it (mode enforce) or only reports what it would change (recommend), and
// campaigns to lead: while it leads it runs the Leader (leader.ts). It serves the agent HTTP API.
//
// Lifecycle: create() does no I/O; start() brings the parts up in order (API, coordinator, server,
// registration, desired-state watch, reconciler, collector, campaign) and stop() takes them down in
// the reverse order, resigning a leadership so that another agent takes over at once. A restarted
// agent reads its desired state back from the coordinator and changes nothing already true: the
// reconciler compares desired with observed before it acts.
import type { AgentConfig, InferlineConfig } from '../../config/index.js';
import { DEFAULT_RECONCILE_POLICY } from '../../core/reconcile/index.js';
import type { ReconcilePolicy } from '../../core/reconcile/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Coordinator, LeaderSnapshot, Leadership, MemberInfo, Registration, Subscription } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { ServerAdapter } from '../../ports/server-adapter.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { AgentApi } from '../agent-http.js';
import { Collector } from '../collector.js';
import type { ModelSample } from '../../core/observe/sample.js';
import { Reconciler } from '../reconciler.js';
import { ActiveProfiling, PROFILE_TIMEOUT_MS } from './active-profiling.js';
import { configDiff } from './config-diff.js';
import { DesiredJudge } from './desired-judge.js';
import { FLEET_POLICY_KEY } from './desired-spec.js';
import { Leader } from './leader.js';
import { LeaderCalls } from './leader-calls.js';
import { NoPeerError, PeerClient } from './peer-client.js';
import type { LeaderLocation } from './peer-client.js';
import { PolicyShare } from './policy-share.js';
import { ReconcileReport } from './reconcile-report.js';
import { ServerHealth } from './server-health.js';
import type { DesiredReplicasSink } from '../scaling/desired-replicas-feed.js';
import { RateLimitedLog } from '../rate-limited-log.js';

export interface AgentOptions {
  /** A config with an agent section (and its token). */
  readonly config: InferlineConfig;
  readonly adapter: ServerAdapter;
  /** Created, not started: the agent starts and stops it. */
  readonly coordinator: Coordinator;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  readonly log: Logger;
  readonly runCommand?: (argv: readonly string[], timeoutMs: number) => Promise<void>;
  /** Gets the leader's replicas per stage while this agent leads (KEDA scaler, Deployment scaler). */
  readonly desiredReplicas?: DesiredReplicasSink;
  /** Time between attempts to reach the server at start (default 1 s). */
  readonly attachRetryMs?: number;
  /**
   * When the config was last written (the file's modification time, ms since the epoch; default:
   * now). The fleet keeps the SLOs and prices of the most recently written config.
   */
  readonly configTimeMs?: number;
}

export interface ReloadOutcome {
  readonly result: 'applied' | 'rejected' | 'unchanged';
  readonly diff: readonly string[];
  readonly problems: readonly string[];
  /** Settings that changed but apply only on restart. */
  readonly needsRestart: readonly string[];
}

/** Pushes kept for the status. */
const RECENT_PUSHES = 8;

export function reconcilePolicyOf(agent: AgentConfig): ReconcilePolicy {
  const r = agent.reconcile;
  return {
    ...DEFAULT_RECONCILE_POLICY,
    mode: agent.mode, minReplicas: r.minReplicas, maxReplicas: r.maxReplicas, maxStepUp: r.maxStepUp, maxStepDown: r.maxStepDown,
    cooldownMs: r.cooldownMs, batchCooldownMs: r.batchCooldownMs, maxActionsPerMinute: r.maxActionsPerMinute,
  };
}

export class Agent {
  private readonly o: AgentOptions;
  private config: InferlineConfig;
  private readonly agent: AgentConfig;
  private api: AgentApi | undefined;
  private readonly reconciler: Reconciler;
  private readonly collector: Collector;
  private registration: Registration | undefined;
  private readonly subscriptions: Subscription[] = [];
  private members: readonly MemberInfo[] = [];
  private leaderView: LeaderSnapshot = { leaderId: undefined, epoch: 0 };
  private leader: Leader | undefined;
  private leadership: Leadership | undefined;
  private campaign: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private started = false;
  private stoppedPromise: Promise<void> | undefined;
  private models: readonly string[] = [];
  /** The desired state enforced, and a record ignored beside it (desired-judge.ts). */
  private readonly judge: DesiredJudge;
  private readonly pushes = { pushed: 0, failed: 0, lastError: undefined as string | undefined };
  /** The last pushes (when, and why: core/observe/push-rule.ts), for the status and the reaction bench. */
  private readonly recentPushes: { atMs: number; reason: string }[] = [];
  private lastReload: (ReloadOutcome & { atMs: number }) | undefined;
  private readonly reconcileReport: ReconcileReport;
  /** This agent's SLOs and prices, shared with the fleet (policy-share.ts). */
  private readonly policyShare: PolicyShare;
  private readonly profiling: ActiveProfiling;
  /** Whether the server answers its scrapes (server-health.ts). */
  private readonly serverHealth: ServerHealth;
  /** The calls to the leader (samples, policy) and the leader's calls to agents (profiles). */
  private readonly client: PeerClient;
  /** Refused pushes, one log line per reason per interval with a count. */
  private readonly rejectedPushes: RateLimitedLog;
  /** Coordination failures that repeat while the backend is down. */
  private readonly coordinationLog: RateLimitedLog;
  /** The API calls only the leader serves (leader-calls.ts). */
  private readonly leaderCalls: LeaderCalls;

  private constructor(options: AgentOptions) {
    this.o = options;
    this.config = options.config;
    if (!options.config.agent) throw new Error(`${options.config.source}: no agent section`);
    this.agent = options.config.agent;
    const { agent } = this;
    const { clock, log, telemetry, adapter } = options;
    this.judge = new DesiredJudge({
      agentId: agent.id, log,
      leaderEpoch: () => this.leaderView.epoch,
      readLeader: () => options.coordinator.leader().catch(() => undefined),
      sawLeader: (l) => { this.leaderView = l; },
      enforce: (desired) => {
        this.reconciler.setDesired(desired);
        // Act on a new desired state now, not at the next pass: a scale-up must not wait.
        void this.reconciler.pass().catch(() => undefined);
      },
    });
    this.reconcileReport = new ReconcileReport({ agentId: agent.id, telemetry, log });
    this.reconciler = new Reconciler({
      adapter, clock, policy: reconcilePolicyOf(agent),
      intervalMs: agent.reconcile.intervalMs, idleIntervalMs: agent.reconcile.idleIntervalMs, maxAttempts: agent.reconcile.maxAttempts, retryBaseMs: agent.reconcile.retryBaseMs,
      onPass: (pass) => this.reconcileReport.report(pass, this.reconciler.currentPolicy.mode, { stages: this.judge.desired?.spec.stages, hardware: agent.hardware }, this.reconciler.status().observed),
    });
    this.rejectedPushes = new RateLimitedLog({ log, clock, intervalMs: 10_000 });
    this.coordinationLog = new RateLimitedLog({ log, clock, intervalMs: 10_000 });
    this.leaderCalls = new LeaderCalls({
      agentId: agent.id, telemetry, rejectedPushes: this.rejectedPushes,
      leader: () => this.currentLeader, leaderId: () => this.leaderView.leaderId,
      token: () => this.agent.api.token ?? '', pipelines: () => this.config.pipelines.map((p) => p.name),
    });
    this.serverHealth = new ServerHealth({ agentId: agent.id, adapter, clock, log });
    this.profiling = new ActiveProfiling({ agentId: agent.id, hardware: agent.hardware, adapter, clock, log, signal: this.stopping.signal });
    this.client = new PeerClient({ agentId: agent.id, token: agent.api.token ?? '', locate: () => this.leaderLocation() });
    this.policyShare = new PolicyShare({ agentId: agent.id, log, client: this.client, configTimeMs: options.configTimeMs ?? Date.now() });
    this.collector = new Collector({
      adapter, clock, intervalMs: agent.scrapeIntervalMs,
      ...(agent.models ? { models: agent.models } : {}),
      // Samples are pushed when the traffic changes, else every push interval (core/observe/push-rule.ts).
      push: { heartbeatMs: agent.pushIntervalMs },
      // At idle the queues (a second request per scrape) are read once per push interval.
      idleQueueReadMs: agent.pushIntervalMs,
      // Idle for a push interval: scrape at the idle interval until traffic shows again.
      idleIntervalMs: agent.idleScrapeIntervalMs,
      idleAfterMs: agent.pushIntervalMs,
      onPushDecision: (d, atMs) => {
        if (d.kind === 'hold') return;
        this.recentPushes.push({ atMs, reason: d.reason });
        if (this.recentPushes.length > RECENT_PUSHES) this.recentPushes.shift();
      },
      onSample: (samples) => this.push(samples),
      onError: (err) => {
        this.pushes.lastError = `scrape: ${err instanceof Error ? err.message : String(err)}`;
        this.serverHealth.onScrapeError(err);
      },
      onAnswered: () => this.serverHealth.onAnswered(),
    });
  }


  /** No I/O: start() connects. */
  static create(options: AgentOptions): Agent {
    return new Agent(options);
  }

  get id(): string {
    return this.agent.id;
  }

  get url(): string | undefined {
    return this.api?.url;
  }

  get isLeader(): boolean {
    return this.leader?.active === true;
  }

  get currentLeader(): Leader | undefined {
    return this.leader?.active ? this.leader : undefined;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { coordinator, log } = this.o;
    const { agent } = this;
    this.api = await AgentApi.start({ host: agent.api.host, port: agent.api.port, ...(agent.api.token ? { token: agent.api.token } : {}) }, {
      healthy: () => true,
      ready: () => this.readiness(),
      status: (authorised) => this.status(authorised),
      plan: () => this.planView(),
      replan: () => this.leaderCalls.replan(),
      samples: (body, caller) => this.leaderCalls.samples(body, caller.credential),
      policy: (body) => this.leaderCalls.policy(body),
      profile: (body) => this.profiling.onRequest(body, this.config.agent?.profiling.active === true, this.models),
    });
    await coordinator.start();
    await this.attach();
    if (this.stopping.signal.aborted) return;
    this.registration = await coordinator.register(this.memberInfo());
    // The stored policy first: sharing this agent's is decided against it.
    this.subscriptions.push(await coordinator.watchDesired(FLEET_POLICY_KEY, (r) => {
      this.policyShare.onStored(r?.spec);
    }));
    this.subscriptions.push(await coordinator.watchMembers((m) => {
      this.members = m;
      if (this.policyShare.pending) void this.policyShare.share(this.config);
    }));
    this.subscriptions.push(await coordinator.watchLeader((l) => this.onLeader(l)));
    this.subscriptions.push(await coordinator.watchDesired(agent.id, (r) => this.judge.onRecord(r)));
    this.reconciler.start();
    this.collector.start();
    this.campaign = this.campaignLoop();
    log.info(`agent ${agent.id} started: ${agent.server.kind} ${this.o.adapter.endpoint}, mode ${agent.mode}, API ${this.api.url}`, {
      agent: agent.id, models: this.models, hardware: agent.hardware, capacity: agent.capacity, backend: coordinator.backend,
    });
  }

  /** Stops in the reverse order of start(): campaign and leader (lease released), collector, reconciler, watches, registration, coordinator, API. */
  stop(deadlineMs = 5000): Promise<void> {
    this.stoppedPromise ??= this.stopOnce(deadlineMs);
    return this.stoppedPromise;
  }

  private async stopOnce(deadlineMs: number): Promise<void> {
    this.stopping.abort(new Error('agent stopping'));
    await this.leader?.stop();
    await this.leadership?.resign().catch(() => undefined);
    await this.campaign?.catch(() => undefined);
    await this.collector.stop();
    await this.reconciler.stop();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.close().catch(() => undefined)));
    await this.registration?.deregister().catch(() => undefined);
    await this.o.coordinator.stop(deadlineMs).catch(() => undefined);
    await this.api?.stop();
    this.o.telemetry.recordLeadership({ agent: this.id, leader: false, epoch: this.leaderView.epoch });
    this.o.log.info(`agent ${this.id} stopped`);
  }

  // --- attaching and registering

  private async attach(): Promise<void> {
    const models = await this.serverHealth.attach(this.agent.models, this.o.attachRetryMs ?? 1000, this.stopping.signal);
    if (models !== undefined) this.models = models;
  }

  private memberInfo(): MemberInfo {
    const endpoint = this.agent.api.advertiseUrl ?? this.api?.url;
    return {
      agentId: this.id, serverKind: this.agent.server.kind, hardware: this.agent.hardware, models: this.models, capacity: this.agent.capacity,
      ...(endpoint === undefined ? {} : { endpoint }),
    };
  }

  private readiness(): { ready: boolean; reason?: string } {
    const reason = this.serverHealth.notReadyReason();
    if (reason !== undefined) return { ready: false, reason };
    if (this.registration === undefined) return { ready: false, reason: 'not registered with the coordinator' };
    return { ready: true };
  }

  // --- leadership

  private onLeader(l: LeaderSnapshot): void {
    // Epochs only grow: a backend that reports an older one (no leader after a restart) lowers no fence.
    this.leaderView = { leaderId: l.leaderId, epoch: Math.max(l.epoch, this.leaderView.epoch) };
    this.judge.onLeaderChange();
    // Leading is holding a Leadership whose signal has not fired (the Leader may still be starting).
    const leading = l.leaderId === this.id && this.leadership !== undefined && !this.leadership.signal.aborted;
    this.o.telemetry.recordLeadership({ agent: this.id, leader: leading, epoch: l.epoch });
    if (this.policyShare.pending && l.leaderId !== undefined && !leading) void this.policyShare.share(this.config);
  }

  private async campaignLoop(): Promise<void> {
    const { coordinator, log } = this.o;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      let leadership: Leadership;
      try {
        leadership = await coordinator.campaign({ signal });
      } catch (err) {
        if (signal.aborted) return;
        this.coordinationLog.warn(`campaign/${err instanceof Error ? err.name : 'error'}`, `campaign failed: ${err instanceof Error ? err.message : String(err)}; retrying`, { agent: this.id });
        await this.o.clock.sleep(this.config.coordination.timing.retryPeriodMs, signal).catch(() => undefined);
        continue;
      }
      this.leadership = leadership;
      log.info(`${this.id} leads (epoch ${leadership.epoch})`, { agent: this.id, epoch: leadership.epoch });
      this.o.telemetry.recordLeadership({ agent: this.id, leader: true, epoch: leadership.epoch });
      try {
        this.leader = await Leader.start({
          config: this.config, coordinator, leadership, clock: this.o.clock, telemetry: this.o.telemetry, log,
          ...(this.o.runCommand ? { runCommand: this.o.runCommand } : {}),
          ...(this.o.desiredReplicas ? { desiredReplicas: this.o.desiredReplicas } : {}),
          requestProfile: (member, model) => this.client.requestProfile(member, model, AbortSignal.any([AbortSignal.timeout(PROFILE_TIMEOUT_MS), this.stopping.signal])),
        });
        if (this.policyShare.pending) await this.policyShare.share(this.config);
      } catch (err) {
        log.error(`leader failed to start: ${err instanceof Error ? err.message : String(err)}; resigning`, { agent: this.id });
        await leadership.resign().catch(() => undefined);
      }
      await new Promise<void>((resolve) => {
        if (leadership.signal.aborted) resolve();
        else leadership.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await this.leader?.stop();
      this.leader = undefined;
      this.leadership = undefined;
      const reason = leadership.signal.reason instanceof Error ? leadership.signal.reason.message : String(leadership.signal.reason);
      log.warn(`${this.id} no longer leads: ${reason}`, { agent: this.id, epoch: leadership.epoch });
      this.o.telemetry.recordLeadership({ agent: this.id, leader: false, epoch: leadership.epoch });
    }
  }

  // --- samples

  /** Pushes samples to the leader: in-process while this agent leads, else over its API (peer-client.ts). */
  private async push(samples: readonly ModelSample[]): Promise<void> {
    const leaderId = this.leaderView.leaderId;
    try {
      const via = await this.client.pushSamples(samples);
      this.pushes.pushed++;
      if (via === 'remote') this.pushes.lastError = undefined;
    } catch (err) {
      this.pushes.failed++;
      const message = err instanceof Error ? err.message : String(err);
      this.pushes.lastError = err instanceof NoPeerError ? message : `push to ${leaderId}: ${message}`;
    }
  }

  /** Where the leader is now: this agent's own, or the member the leader watch names. */
  private leaderLocation(): LeaderLocation {
    const leader = this.currentLeader;
    if (leader) return { kind: 'local', leader };
    const leaderId = this.leaderView.leaderId;
    return { kind: 'remote', leaderId, endpoint: this.members.find((m) => m.agentId === leaderId)?.endpoint };
  }

  // --- API handlers

  private planView(): unknown {
    const leader = this.currentLeader;
    if (leader) return leader.status().pipelines.map((p) => p.plan).filter((p) => p !== undefined);
    return this.judge.desired?.spec.plans;
  }

  /**
   * The agent's status. The config part (its source and last reload) and the fleet part (members'
   * endpoints, the policy, the leader's view) only with `full` (the caller showed the token).
   */
  status(full = true): unknown {
    const r = this.reconciler.status();
    const silent = this.serverHealth.silence;
    const desired = this.judge.desired;
    return {
      agent: this.id,
      server: {
        kind: this.agent.server.kind, endpoint: this.o.adapter.endpoint, attached: this.serverHealth.attached, error: this.serverHealth.attachError, models: this.models,
        answering: silent === undefined, ...(silent ? { silentSinceMs: silent.sinceMs, silentReason: silent.message } : {}),
      },
      hardware: this.agent.hardware,
      capacity: this.agent.capacity,
      mode: this.reconciler.currentPolicy.mode,
      leader: { leaderId: this.leaderView.leaderId, epoch: this.leaderView.epoch, self: this.isLeader },
      // The enforced desired state, and beside it the stored record that was not enforced, if any.
      desired: desired ? { epoch: desired.record.epoch, revision: desired.record.revision, writtenBy: desired.record.writtenBy, models: desired.spec.models, enforced: true } : undefined,
      desiredIgnored: this.judge.ignored,
      desiredProblem: this.judge.problem,
      observed: r.observed,
      reconcile: { lastPass: r.lastPass, failures: r.failures, error: r.error },
      samples: { ...this.pushes, recent: [...this.recentPushes] },
      ...(full ? {
        config: { source: this.config.source, lastReload: this.lastReload },
        fleet: this.currentLeader?.status(),
      } : { restricted: 'config and fleet need "Authorization: Bearer <token>"' }),
    };
  }

  // --- config reload

  /** A new config (already loaded and validated, or the problems that rejected it), written at `timeMs` (default now). */
  reload(next: { config?: InferlineConfig; problems?: readonly string[]; timeMs?: number }): ReloadOutcome {
    const now = this.o.clock.nowMs();
    if (next.config === undefined) {
      const outcome: ReloadOutcome = { result: 'rejected', diff: [], problems: next.problems ?? [], needsRestart: [] };
      this.lastReload = { ...outcome, atMs: now };
      this.o.telemetry.recordConfigReload({ agent: this.id, result: 'rejected' });
      this.o.log.error(`config change rejected; the previous config stays in force:\n  ${outcome.problems.join('\n  ')}`, { agent: this.id });
      return outcome;
    }
    const config = next.config;
    const diff = configDiff(this.config, config);
    if (diff.length === 0) {
      this.o.telemetry.recordConfigReload({ agent: this.id, result: 'unchanged' });
      return { result: 'unchanged', diff, problems: [], needsRestart: [] };
    }
    const restartOnly = [
      'agent.id', 'agent.server', 'agent.api', 'agent.hardware', 'agent.capacity', 'agent.models', 'agent.scrapeIntervalMs', 'agent.pushIntervalMs', 'coordination', 'telemetry',
      'placement.backend', 'placement.workloads', 'placement.externalScaler',
    ];
    const needsRestart = diff.filter((line) => restartOnly.some((k) => line.startsWith(k)));
    const previous = this.config;
    this.config = config;
    if (config.agent) this.reconciler.setPolicy(reconcilePolicyOf(config.agent));
    this.currentLeader?.updateConfig(config);
    this.policyShare.onConfigChange(previous, config, next.timeMs);
    const outcome: ReloadOutcome = { result: 'applied', diff, problems: [], needsRestart };
    this.lastReload = { ...outcome, atMs: now };
    this.o.telemetry.recordConfigReload({ agent: this.id, result: 'applied' });
    this.o.log.info(`config reloaded:\n  ${diff.join('\n  ')}${needsRestart.length ? `\n  (these apply on restart: ${needsRestart.join('; ')})` : ''}`, { agent: this.id });
    return outcome;
  }
}
