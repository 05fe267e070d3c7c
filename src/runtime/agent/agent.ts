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
import { parsePolicy, policyDiff, policyOf } from '../../core/fleet/index.js';
import type { ProfileOptions } from '../../core/model/profiles.js';
import { activeProfile } from '../../core/profiler/table.js';
import { runActiveProfile } from '../profiler/index.js';
import type { FleetPolicy } from '../../core/fleet/index.js';
import { DEFAULT_RECONCILE_POLICY, judgeDesired } from '../../core/reconcile/index.js';
import type { DesiredState, ReconcilePolicy } from '../../core/reconcile/index.js';
import type { Clock } from '../../ports/clock.js';
import type { Coordinator, DesiredStateRecord, LeaderSnapshot, Leadership, MemberInfo, Registration, Subscription } from '../../ports/coordinator.js';
import type { Logger } from '../../ports/logger.js';
import type { AdapterError, ServerAdapter } from '../../ports/server-adapter.js';
import type { Telemetry } from '../../ports/telemetry.js';
import { AgentApi, HttpProblem } from '../agent-http.js';
import { Collector } from '../collector.js';
import type { ModelSample } from '../collector.js';
import { Reconciler } from '../reconciler.js';
import type { ReconcilePass } from '../reconciler.js';
import { configDiff } from './config-diff.js';
import { FLEET_POLICY_KEY, parseDesiredSpec } from './desired-spec.js';
import type { AgentDesiredSpec } from './desired-spec.js';
import { Leader } from './leader.js';
import { parsePushedSamples } from './samples.js';
import type { DesiredReplicasSink } from '../scaling/desired-replicas-feed.js';
import { agentCredential, credentialMatches, CREDENTIAL_HEADER } from './credential.js';
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

const PUSH_TIMEOUT_MS = 2000;
/** Pushes kept for the status. */
const RECENT_PUSHES = 8;
/** Scrapes in a row the server must leave unanswered before it counts as not answering. */
const SILENT_AFTER_SCRAPES = 3;
/** An active profile at the leader's request: the profiler's budget, plus time to start and restore. */
const PROFILE_BUDGET_MS = 120_000;
const PROFILE_TIMEOUT_MS = PROFILE_BUDGET_MS + 60_000;

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
  private attached = false;
  private attachError: string | undefined;
  private models: readonly string[] = [];
  private desired: { record: DesiredStateRecord; spec: AgentDesiredSpec } | undefined;
  private desiredProblem: string | undefined;
  /** The last record read from the coordinator, and the one ignored (stale, unreadable, unconfirmed) if it is not enforced. */
  private latestRecord: DesiredStateRecord | undefined;
  private ignored: { epoch: number; revision: string; writtenBy: string; models: AgentDesiredSpec['models'] | undefined; reason: string } | undefined;
  private judging: Promise<void> = Promise.resolve();
  private readonly pushes = { pushed: 0, failed: 0, lastError: undefined as string | undefined };
  /** The last pushes (when, and why: core/observe/push-rule.ts), for the status and the reaction bench. */
  private readonly recentPushes: { atMs: number; reason: string }[] = [];
  private lastReload: (ReloadOutcome & { atMs: number }) | undefined;
  private readonly recommended = new Set<string>();
  private storedPolicy: FleetPolicy | undefined;
  /** When this agent's config was written: its policy's timestamp. */
  private configTimeMs: number;
  /** This agent's policy is newer than the fleet's and not yet stored. */
  private policyPending = true;
  private profiling: string | undefined;
  /** Since when the server has not answered a scrape (unreachable or timed out), and why. */
  private serverSilent: { sinceMs: number; message: string } | undefined;
  /** Scrapes in a row the server did not answer, since when. */
  private unanswered: { sinceMs: number; count: number } | undefined;
  /** Refused pushes, one log line per reason per interval with a count. */
  private readonly rejectedPushes: RateLimitedLog;
  /** Coordination failures that repeat while the backend is down. */
  private readonly coordinationLog: RateLimitedLog;

  private constructor(options: AgentOptions) {
    this.o = options;
    this.config = options.config;
    this.configTimeMs = options.configTimeMs ?? Date.now();
    if (!options.config.agent) throw new Error(`${options.config.source}: no agent section`);
    this.agent = options.config.agent;
    const { agent } = this;
    this.reconciler = new Reconciler({
      adapter: options.adapter, clock: options.clock, policy: reconcilePolicyOf(agent),
      intervalMs: agent.reconcile.intervalMs, idleIntervalMs: agent.reconcile.idleIntervalMs, maxAttempts: agent.reconcile.maxAttempts, retryBaseMs: agent.reconcile.retryBaseMs,
      onPass: (pass) => this.onPass(pass),
    });
    this.rejectedPushes = new RateLimitedLog({ log: options.log, clock: options.clock, intervalMs: 10_000 });
    this.coordinationLog = new RateLimitedLog({ log: options.log, clock: options.clock, intervalMs: 10_000 });
    this.collector = new Collector({
      adapter: options.adapter, clock: options.clock, intervalMs: agent.scrapeIntervalMs,
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
        if (notAnswering(err)) this.onServerSilent(err);
      },
      onAnswered: () => this.onServerAnswered(),
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
      replan: () => this.onReplanCall(),
      samples: (body, caller) => this.onSamplesCall(body, caller.credential),
      policy: (body) => this.onPolicyCall(body),
      profile: (body) => this.onProfileCall(body),
    });
    await coordinator.start();
    await this.attach();
    if (this.stopping.signal.aborted) return;
    this.registration = await coordinator.register(this.memberInfo());
    // The stored policy first: sharing this agent's is decided against it.
    this.subscriptions.push(await coordinator.watchDesired(FLEET_POLICY_KEY, (r) => {
      this.storedPolicy = r === undefined ? undefined : parsePolicy(r.spec).policy;
    }));
    this.subscriptions.push(await coordinator.watchMembers((m) => {
      this.members = m;
      if (this.policyPending) void this.sharePolicy();
    }));
    this.subscriptions.push(await coordinator.watchLeader((l) => this.onLeader(l)));
    this.subscriptions.push(await coordinator.watchDesired(agent.id, (r) => this.onDesired(r)));
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
    const retryMs = this.o.attachRetryMs ?? 1000;
    while (!this.stopping.signal.aborted) {
      try {
        const all = await this.o.adapter.models();
        const known = new Set(all.map((m) => m.model));
        const wanted = this.agent.models ?? [...known].sort();
        const missing = wanted.filter((m) => !known.has(m));
        if (missing.length > 0) this.o.log.warn(`models not on the server (yet): ${missing.join(', ')}`, { agent: this.id });
        this.models = wanted;
        this.attached = true;
        this.attachError = undefined;
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (this.attachError !== message) this.o.log.warn(`cannot reach the server yet: ${message}`, { agent: this.id });
        this.attachError = message;
      }
      await this.o.clock.sleep(retryMs, this.stopping.signal).catch(() => undefined);
    }
  }

  private memberInfo(): MemberInfo {
    const endpoint = this.agent.api.advertiseUrl ?? this.api?.url;
    return {
      agentId: this.id, serverKind: this.agent.server.kind, hardware: this.agent.hardware, models: this.models, capacity: this.agent.capacity,
      ...(endpoint === undefined ? {} : { endpoint }),
    };
  }

  /**
   * A scrape the server did not answer. Once it has answered none for SILENT_AFTER_SCRAPES scrapes
   * (one slow scrape on a busy host is not a dead server), that is said once, not once per scrape,
   * and /readyz turns 503.
   */
  private onServerSilent(err: unknown): void {
    const now = this.o.clock.nowMs();
    const message = err instanceof Error ? err.message : String(err);
    this.unanswered ??= { sinceMs: now, count: 0 };
    this.unanswered.count++;
    if (this.serverSilent !== undefined || this.unanswered.count < SILENT_AFTER_SCRAPES) return;
    this.serverSilent = { sinceMs: this.unanswered.sinceMs, message };
    this.o.log.error(`server ${this.o.adapter.endpoint} is not answering: ${message}`, { agent: this.id });
  }

  private onServerAnswered(): void {
    this.unanswered = undefined;
    const silent = this.serverSilent;
    if (silent === undefined) return;
    this.serverSilent = undefined;
    this.o.log.info(`server ${this.o.adapter.endpoint} answers again (after ${Math.round((this.o.clock.nowMs() - silent.sinceMs) / 1000)} s)`, { agent: this.id });
  }

  private readiness(): { ready: boolean; reason?: string } {
    if (!this.attached) return { ready: false, reason: `not attached to the server${this.attachError ? `: ${this.attachError}` : ''}` };
    if (this.serverSilent !== undefined) return { ready: false, reason: `the server is not answering: ${this.serverSilent.message}` };
    if (this.registration === undefined) return { ready: false, reason: 'not registered with the coordinator' };
    return { ready: true };
  }

  // --- leadership

  private onLeader(l: LeaderSnapshot): void {
    // Epochs only grow: a backend that reports an older one (no leader after a restart) lowers no fence.
    this.leaderView = { leaderId: l.leaderId, epoch: Math.max(l.epoch, this.leaderView.epoch) };
    if (this.ignored !== undefined && this.latestRecord !== undefined) this.onDesired(this.latestRecord);
    // Leading is holding a Leadership whose signal has not fired (the Leader may still be starting).
    const leading = l.leaderId === this.id && this.leadership !== undefined && !this.leadership.signal.aborted;
    this.o.telemetry.recordLeadership({ agent: this.id, leader: leading, epoch: l.epoch });
    if (this.policyPending && l.leaderId !== undefined && !leading) void this.sharePolicy();
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
          requestProfile: (member, model) => this.requestProfile(member, model),
        });
        if (this.policyPending) await this.sharePolicy();
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

  // --- desired state and reconciling

  /**
   * A record read from the coordinator. It replaces the enforced desired state only when the fence
   * lets it (core/reconcile/fence.ts): never below the newest leader epoch this agent has read, nor
   * below the record it enforces. An ignored record is kept beside the enforced one, for the status,
   * and judged again when the leader changes; the enforced one stays enforced meanwhile.
   */
  private onDesired(record: DesiredStateRecord | undefined): void {
    this.latestRecord = record;
    this.judging = this.judging.then(() => this.judge()).catch((err: unknown) => {
      this.o.log.error(`desired state not judged: ${err instanceof Error ? err.message : String(err)}`, { agent: this.id });
    });
  }

  private async judge(): Promise<void> {
    const record = this.latestRecord;
    if (record === undefined || record.revision === this.desired?.record.revision) return;
    const { spec, problem } = parseDesiredSpec(record.spec);
    if (problem !== undefined || spec === undefined) {
      // Never act on a record we cannot read; keep the last good one.
      this.ignore(record, undefined, `unreadable: ${problem ?? 'not a desired state'}`);
      return;
    }
    let verdict = judgeDesired({ recordEpoch: record.epoch, leaderEpoch: this.leaderView.epoch, enforcedEpoch: this.desired?.record.epoch ?? 0 });
    if (verdict.kind === 'confirm' || verdict.kind === 'wait') {
      // Read the leader now rather than trust a record ahead of the watch (a new leader's first write).
      const now = await this.o.coordinator.leader().catch(() => undefined);
      if (now !== undefined && now.epoch > this.leaderView.epoch) this.leaderView = now;
      if (this.latestRecord !== record) return; // a newer record came meanwhile: it is judged next
      verdict = judgeDesired({ recordEpoch: record.epoch, leaderEpoch: this.leaderView.epoch, enforcedEpoch: this.desired?.record.epoch ?? 0 });
    }
    if (verdict.kind !== 'apply') {
      this.ignore(record, spec, verdict.reason);
      return;
    }
    this.desiredProblem = undefined;
    this.ignored = undefined;
    this.desired = { record, spec };
    const desired: DesiredState = { epoch: record.epoch, models: spec.models };
    this.reconciler.setDesired(desired);
    // Act on a new desired state now, not at the next pass: a scale-up must not wait.
    void this.reconciler.pass().catch(() => undefined);
  }

  private ignore(record: DesiredStateRecord, spec: AgentDesiredSpec | undefined, reason: string): void {
    const first = this.ignored?.revision !== record.revision || this.ignored.reason !== reason;
    this.ignored = { epoch: record.epoch, revision: record.revision, writtenBy: record.writtenBy, models: spec?.models, reason };
    this.desiredProblem = `desired state revision ${record.revision} (epoch ${record.epoch}) ignored: ${reason}${this.desired ? `; enforcing revision ${this.desired.record.revision} (epoch ${this.desired.record.epoch})` : ''}`;
    if (first) this.o.log.warn(this.desiredProblem, { agent: this.id, epoch: record.epoch, writtenBy: record.writtenBy });
  }

  private onPass(pass: ReconcilePass): void {
    const mode = this.reconciler.currentPolicy.mode;
    const refsOf = (model: string) => this.desired?.spec.stages[model] ?? [{ pipeline: '', stage: model, hardware: this.agent.hardware }];
    const actionName = (kind: string) => (kind === 'replicas' ? 'scale_replicas' : 'set_batch');
    for (const a of pass.applied) {
      for (const r of refsOf(a.model)) this.o.telemetry.recordReconcile({ pipeline: r.pipeline, stage: r.stage, action: actionName(a.kind), mode: 'enforce' });
      this.o.log.info(`applied ${a.kind === 'replicas' ? `${a.model} replicas ${a.from}→${a.to}` : `${a.model} batch ${a.maxBatchSize}, delay ${a.batchDelayMs} ms`} (${a.reason})`, { agent: this.id });
    }
    for (const f of pass.failed) {
      for (const r of refsOf(f.action.model)) {
        this.o.telemetry.recordReconcile({ pipeline: r.pipeline, stage: r.stage, action: actionName(f.action.kind), mode, errorType: errorType(f.message) });
      }
      this.o.log.error(`change failed (attempt ${f.attempts}${f.gaveUp ? ', giving up on this value' : ''}): ${f.message}`, { agent: this.id, model: f.action.model });
    }
    // A recommendation is counted once per distinct change, not once per pass.
    const now = new Set<string>();
    for (const rec of pass.decision.recommendations) {
      const key = JSON.stringify([rec.kind, rec.model, rec.kind === 'replicas' ? rec.to : [rec.maxBatchSize, rec.batchDelayMs]]);
      now.add(key);
      if (this.recommended.has(key)) continue;
      for (const r of refsOf(rec.model)) this.o.telemetry.recordReconcile({ pipeline: r.pipeline, stage: r.stage, action: actionName(rec.kind), mode: 'recommend' });
      this.o.log.info(`recommend: ${rec.kind === 'replicas' ? `${rec.model} replicas ${rec.from}→${rec.to}` : `${rec.model} batch ${rec.maxBatchSize}`} — ${rec.why}`, { agent: this.id });
    }
    this.recommended.clear();
    for (const k of now) this.recommended.add(k);
    for (const m of this.reconciler.status().observed) {
      for (const r of this.desired?.spec.stages[m.model] ?? []) {
        this.o.telemetry.recordStage({ pipeline: r.pipeline, stage: r.stage, hardware: r.hardware, actualReplicas: m.replicas });
      }
    }
  }

  // --- samples

  private async push(samples: readonly ModelSample[]): Promise<void> {
    const leader = this.currentLeader;
    if (leader) {
      leader.onSamples(this.id, samples);
      this.pushes.pushed++;
      return;
    }
    const leaderId = this.leaderView.leaderId;
    const endpoint = this.members.find((m) => m.agentId === leaderId)?.endpoint;
    if (leaderId === undefined || endpoint === undefined) {
      this.pushes.failed++;
      this.pushes.lastError = leaderId === undefined ? 'no leader to push samples to' : `leader ${leaderId} has no endpoint`;
      return;
    }
    try {
      await this.post(endpoint, '/v1/samples', { agentId: this.id, samples });
      this.pushes.pushed++;
      this.pushes.lastError = undefined;
    } catch (err) {
      this.pushes.failed++;
      this.pushes.lastError = `push to ${leaderId}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async post(base: string, path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', authorization: `Bearer ${this.agent.api.token ?? ''}`,
        [CREDENTIAL_HEADER]: agentCredential(this.agent.api.token ?? '', this.id),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`POST ${path} → ${res.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`);
    return text === '' ? undefined : JSON.parse(text) as unknown;
  }

  // --- API handlers

  /**
   * Samples an agent pushed: only a live member, only as itself (its credential, credential.ts),
   * only for models it hosts. Anything else is refused (403) and counted; the refusal names no
   * secret and echoes nothing the caller sent but the id it claimed.
   */
  private onSamplesCall(body: unknown, credential: string | undefined): void {
    const leader = this.currentLeader;
    if (!leader) throw new HttpProblem(409, `${this.id} is not the leader${this.leaderView.leaderId ? `; the leader is ${this.leaderView.leaderId}` : ''}`);
    const { agentId, samples } = parsePushedSamples(body);
    const refuse = (reason: 'unknown-member' | 'bad-credential' | 'foreign-model', message: string): never => {
      this.o.telemetry.recordRejectedPush({ reason });
      this.rejectedPushes.warn(reason, `samples refused (${reason}): ${message}`);
      throw new HttpProblem(403, message);
    };
    const member = leader.member(agentId);
    if (member === undefined) return refuse('unknown-member', `agent ${JSON.stringify(agentId.slice(0, 100))} is not a member of the fleet`);
    if (!credentialMatches(this.agent.api.token ?? '', agentId, credential)) return refuse('bad-credential', `the credential for agent ${agentId} is missing or wrong`);
    const foreign = samples.filter((s) => !member.models.includes(s.model)).map((s) => s.model);
    if (foreign.length > 0) return refuse('foreign-model', `agent ${agentId} does not host ${[...new Set(foreign)].slice(0, 5).join(', ')}`);
    leader.onSamples(agentId, samples);
  }

  private onReplanCall(): Promise<unknown> {
    const leader = this.currentLeader;
    if (!leader) throw new HttpProblem(409, `${this.id} is not the leader${this.leaderView.leaderId ? `; the leader is ${this.leaderView.leaderId}` : ''}`);
    return Promise.resolve({ plans: leader.replan('POST /v1/replan') });
  }

  private async onPolicyCall(body: unknown): Promise<void> {
    const leader = this.currentLeader;
    if (!leader) throw new HttpProblem(409, `${this.id} is not the leader`);
    const { policy, problem } = parsePolicy(body);
    if (problem !== undefined || policy === undefined) throw new HttpProblem(400, `bad fleet policy: ${problem ?? 'unreadable'}`);
    const unknown = Object.keys(policy.slos).filter((p) => !this.config.pipelines.some((x) => x.name === p));
    if (unknown.length > 0) throw new HttpProblem(400, `bad fleet policy: unknown pipelines ${unknown.join(', ')}`);
    if (!(await leader.publishPolicy(policy))) throw new HttpProblem(409, `the fleet's policy was written later than ${new Date(policy.atMs).toISOString()}: kept`);
  }

  /** POST /v1/profile {model}: an active sweep of one model on this server, when agent.profiling.active allows it. */
  private async onProfileCall(body: unknown): Promise<unknown> {
    const model = (body as { model?: unknown } | null)?.model;
    if (typeof model !== 'string' || model === '') throw new HttpProblem(400, 'bad profile request: model must be a model name');
    if (!this.config.agent?.profiling.active) throw new HttpProblem(403, `${this.id} does not profile actively (agent.profiling.active is false)`);
    if (!this.models.includes(model)) throw new HttpProblem(404, `${this.id} does not manage model "${model}" (it manages: ${this.models.join(', ')})`);
    if (this.profiling !== undefined) throw new HttpProblem(409, `${this.id} is already profiling ${this.profiling}`);
    this.profiling = model;
    try {
      this.o.log.info(`active profile of ${model} on ${this.agent.hardware}, at the leader's request`, { agent: this.id, model });
      const r = await runActiveProfile(this.o.adapter, { model, hardware: [{ name: this.agent.hardware }], budgetMs: PROFILE_BUDGET_MS }, { clock: this.o.clock, signal: this.stopping.signal });
      const hw = r.hardware[0];
      const profile = hw ? activeProfile(model, this.agent.hardware, hw.points) : undefined;
      if (profile === undefined) throw new HttpProblem(500, `profiling ${model} measured nothing${hw?.error ? `: ${hw.error}` : ''}`);
      return { profile };
    } catch (err) {
      if (err instanceof HttpProblem) throw err;
      // Live traffic, a server that refuses: the leader reports it and plans without this pair.
      throw new HttpProblem(409, `profiling ${model} did not run: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.profiling = undefined;
    }
  }

  /** The leader's side: asks `member` for an active profile of `model`. */
  private async requestProfile(member: MemberInfo, model: string): Promise<ProfileOptions> {
    if (member.endpoint === undefined) throw new Error(`${member.agentId} has no endpoint`);
    const res = await fetch(`${member.endpoint}/v1/profile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.agent.api.token ?? ''}` },
      body: JSON.stringify({ model }),
      signal: AbortSignal.any([AbortSignal.timeout(PROFILE_TIMEOUT_MS), this.stopping.signal]),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /v1/profile → ${res.status}: ${text.trim().slice(0, 300)}`);
    const profile = (JSON.parse(text) as { profile?: ProfileOptions }).profile;
    if (!profile || !Array.isArray(profile.points) || profile.points.length === 0) throw new Error('POST /v1/profile answered no points');
    return profile;
  }

  private planView(): unknown {
    const leader = this.currentLeader;
    if (leader) return leader.status().pipelines.map((p) => p.plan).filter((p) => p !== undefined);
    return this.desired?.spec.plans;
  }

  /**
   * The agent's status. The config part (its source and last reload) and the fleet part (members'
   * endpoints, the policy, the leader's view) only with `full` (the caller showed the token).
   */
  status(full = true): unknown {
    const r = this.reconciler.status();
    return {
      agent: this.id,
      server: {
        kind: this.agent.server.kind, endpoint: this.o.adapter.endpoint, attached: this.attached, error: this.attachError, models: this.models,
        answering: this.serverSilent === undefined, ...(this.serverSilent ? { silentSinceMs: this.serverSilent.sinceMs, silentReason: this.serverSilent.message } : {}),
      },
      hardware: this.agent.hardware,
      capacity: this.agent.capacity,
      mode: this.reconciler.currentPolicy.mode,
      leader: { leaderId: this.leaderView.leaderId, epoch: this.leaderView.epoch, self: this.isLeader },
      // The enforced desired state, and beside it the stored record that was not enforced, if any.
      desired: this.desired ? { epoch: this.desired.record.epoch, revision: this.desired.record.revision, writtenBy: this.desired.record.writtenBy, models: this.desired.spec.models, enforced: true } : undefined,
      desiredIgnored: this.ignored,
      desiredProblem: this.desiredProblem,
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
    const before = policyOf(previous.pipelines, previous.hardware, this.id, this.configTimeMs);
    const after = policyOf(config.pipelines, config.hardware, this.id, next.timeMs ?? Date.now());
    if (policyDiff(before, after).length > 0) {
      this.configTimeMs = next.timeMs ?? Date.now();
      this.policyPending = true;
      void this.sharePolicy();
    }
    const outcome: ReloadOutcome = { result: 'applied', diff, problems: [], needsRestart };
    this.lastReload = { ...outcome, atMs: now };
    this.o.telemetry.recordConfigReload({ agent: this.id, result: 'applied' });
    this.o.log.info(`config reloaded:\n  ${diff.join('\n  ')}${needsRestart.length ? `\n  (these apply on restart: ${needsRestart.join('; ')})` : ''}`, { agent: this.id });
    return outcome;
  }

  /**
   * Sends this agent's SLOs and prices to the fleet (the leader writes them, fenced) when they
   * differ from the stored ones and this agent's config was written later: the fleet keeps the
   * most recently written config's, so an agent restarted on a stale file changes nothing. Tried
   * again on the next change of leader or members until it is stored.
   */
  private async sharePolicy(): Promise<void> {
    const policy = policyOf(this.config.pipelines, this.config.hardware, this.id, this.configTimeMs);
    const stored = this.storedPolicy;
    if (stored && (policyDiff(stored, policy).length === 0 || stored.atMs >= policy.atMs)) {
      this.policyPending = false;
      return;
    }
    try {
      const leader = this.currentLeader;
      if (leader) {
        await leader.publishPolicy(policy);
      } else {
        const endpoint = this.members.find((m) => m.agentId === this.leaderView.leaderId)?.endpoint;
        if (endpoint === undefined) return; // no leader yet: the next leader or member change tries again
        await this.post(endpoint, '/v1/policy', policy);
      }
      this.policyPending = false;
    } catch (err) {
      this.o.log.error(`fleet policy not shared: ${err instanceof Error ? err.message : String(err)}`, { agent: this.id });
      if (/→ 409/.test(String(err))) this.policyPending = false; // the fleet's is newer
    }
  }
}

/** The server did not answer at all (as opposed to answering with an error). By name: adapters may be loaded with their own copy of the classes. */
function notAnswering(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'PeriodicTimeoutError') return true;
  const kind = (err as Partial<AdapterError>).kind;
  return err.name === 'AdapterError' && (kind === 'unreachable' || kind === 'timeout');
}

function errorType(message: string): string {
  const m = /→ (\d{3})/.exec(message);
  if (m) return 'http';
  if (/timed? ?out/i.test(message)) return 'timeout';
  if (/ECONNREFUSED|unreachable|cannot reach/i.test(message)) return 'unreachable';
  return 'error';
}
