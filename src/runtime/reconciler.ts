// The reconciler's actuator: on every pass it reads what the server serves and can do, asks the
// pure decider what to change, and applies the actions through the adapter. A failed management
// call is retried on later passes with doubling backoff, a capped number of times per desired
// value; its error stays in the status for the agent's /v1/status. It never computes a target.
//
// Actuation does not block the next decision: a pass starts its actions together (one per model at
// a time) and waits for them at most `actionWaitMs`. A change still running then (real Triton's
// instance removal returns only when the surplus instances are idle: seconds to minutes under
// load) stays in flight; later passes leave that model alone and change the others, and its
// completion runs a pass at once, which reports it and applies whatever that model needs next.
import { decideReconcile, initialReconcileState } from '../core/reconcile/index.js';
import type { DesiredState, ReconcileAction, ReconcileDecision, ReconcilePolicy, ReconcileState } from '../core/reconcile/index.js';
import { hasBatchControl, hasReplicaControl } from '../ports/server-adapter.js';
import type { AdapterCapabilities, ModelStatus, ServerAdapter } from '../ports/server-adapter.js';
import type { Clock } from '../ports/clock.js';
import { backedOffIntervalMs, PeriodicTask } from '../platform/periodic.js';

export interface ReconcilerOptions {
  readonly adapter: ServerAdapter;
  readonly clock: Clock;
  readonly policy: ReconcilePolicy;
  /** Time between passes (default 1 s). */
  readonly intervalMs?: number;
  /**
   * Time between passes once every pass for `idleAfterMs` found the server as desired (nothing to
   * do, nothing held back, nothing failing, the server seen): a check for drift, not a control
   * path (a new desired state runs a pass at once). Default: always intervalMs.
   */
  readonly idleIntervalMs?: number;
  /** How long passes must have found nothing to do before the idle interval applies (default 10 s). */
  readonly idleAfterMs?: number;
  /** Attempts of one failing action before giving up on that desired value (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay after a failure, doubling (default 1 s, capped at 60 s). */
  readonly retryBaseMs?: number;
  /** Every pass's outcome, for logs and metrics. */
  readonly onPass?: (pass: ReconcilePass) => void;
  /**
   * How long what the server can change is taken as known (default 30 s). Reading it may probe the
   * server (Triton: an unload of a name that does not exist, to learn the control mode), so it is
   * not read on every pass; a failed change reads it again at the next pass.
   */
  readonly capabilitiesTtlMs?: number;
  /**
   * How long a pass waits for the changes it started (default 1 s). One still running then stays in
   * flight: the pass returns, later passes change the other models, and its completion runs a pass.
   */
  readonly actionWaitMs?: number;
}

export interface ActionFailure {
  readonly action: ReconcileAction;
  readonly message: string;
  readonly attempts: number;
  readonly atMs: number;
  /** No more attempts for this desired value. */
  readonly gaveUp: boolean;
  /** What the adapter threw, for its class (telemetry's error type); not in the status. */
  readonly error?: unknown;
}

export interface ReconcilePass {
  readonly atMs: number;
  readonly decision: ReconcileDecision;
  /** Changes that completed since the last pass: this pass's own, and any that outlived theirs. */
  readonly applied: readonly ReconcileAction[];
  readonly failed: readonly ActionFailure[];
  /** Changes still running on the server; their models were left out of this pass's decision. */
  readonly inProgress: readonly ReconcileAction[];
}

export interface ReconcilerStatus {
  readonly desired: DesiredState | undefined;
  readonly observed: readonly ModelStatus[];
  readonly lastPass: ReconcilePass | undefined;
  /** Actions failing now (retrying or given up). */
  readonly failures: readonly ActionFailure[];
  readonly error: string | undefined;
}

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly task: PeriodicTask;
  private state: ReconcileState = initialReconcileState();
  private desired: DesiredState | undefined;
  private observed: readonly ModelStatus[] = [];
  private lastPass: ReconcilePass | undefined;
  private error: string | undefined;
  private readonly failures = new Map<string, ActionFailure & { nextAtMs: number }>();
  private policy: ReconcilePolicy;
  private capabilities: { value: AdapterCapabilities; atMs: number } | undefined;
  /** Passes run one at a time, whoever asks (the periodic task, or a new desired state). */
  private chain: Promise<unknown> = Promise.resolve();
  /** The pass asked for and not begun yet: later asks join it (it reads the newest desired state). */
  private waiting: Promise<ReconcilePass | undefined> | undefined;
  /** Since when every pass has found nothing to do (undefined: the last one had something). */
  private quietSinceMs: number | undefined;
  /** The change running on each model (at most one a model). */
  private readonly inFlight = new Map<string, ReconcileAction>();
  /** Changes that completed after their pass returned, for the next pass to report. */
  private readonly settledLate: { applied: ReconcileAction[]; failed: ActionFailure[] } = { applied: [], failed: [] };
  private stopped = false;

  constructor(options: ReconcilerOptions) {
    this.options = options;
    this.policy = options.policy;
    this.task = new PeriodicTask({
      name: 'reconcile', intervalMs: options.intervalMs ?? 1000, clock: options.clock,
      ...(options.idleIntervalMs !== undefined ? { nextIntervalMs: () => this.nextIntervalMs() } : {}),
    }, async () => { await this.pass(); });
  }

  /** The time to the next periodic pass: the idle interval once passes have found nothing to do for long enough. */
  nextIntervalMs(): number {
    const { intervalMs = 1000, idleIntervalMs, idleAfterMs = 10_000, clock } = this.options;
    return backedOffIntervalMs({ intervalMs, idleIntervalMs, idleAfterMs, quietSinceMs: this.quietSinceMs, nowMs: clock.nowMs() });
  }

  /** A new desired state (from the leader); older epochs are ignored by the decider. */
  setDesired(desired: DesiredState): void {
    this.desired = desired;
  }

  /** A new policy (a reloaded config: mode, bounds, steps, cooldowns); the next pass uses it. */
  setPolicy(policy: ReconcilePolicy): void {
    this.policy = policy;
  }

  get currentPolicy(): ReconcilePolicy {
    return this.policy;
  }

  start(): void {
    this.stopped = false;
    this.task.start();
  }

  /** Stops the passes; a change in flight on the server is left to finish there, and no pass follows it. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.task.stop();
  }

  status(): ReconcilerStatus {
    return {
      desired: this.desired,
      observed: this.observed,
      lastPass: this.lastPass && { ...this.lastPass, failed: this.lastPass.failed.map(({ error: _error, ...f }) => f) },
      failures: [...this.failures.values()].map(({ nextAtMs: _next, error: _error, ...f }) => f),
      error: this.error,
    };
  }

  /**
   * One pass now, after any pass in progress; the periodic task calls this too. Asks made while a
   * pass runs coalesce into one pass after it, which applies the newest desired state: a slow
   * management call (a load that waits for its instances) delays the next change by one call, never
   * by a queue of superseded ones.
   */
  pass(): Promise<ReconcilePass | undefined> {
    if (this.waiting) return this.waiting;
    const next = this.chain.then(() => {
      this.waiting = undefined;
      return this.passOnce();
    });
    this.waiting = next;
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async passOnce(): Promise<ReconcilePass | undefined> {
    const { adapter, clock } = this.options;
    const policy = this.policy;
    const desired = this.desired;
    if (!desired) return undefined;
    const now = clock.nowMs();
    let capabilities: AdapterCapabilities;
    try {
      const cached = this.capabilities !== undefined && now - this.capabilities.atMs < (this.options.capabilitiesTtlMs ?? 30_000) ? this.capabilities.value : undefined;
      [this.observed, capabilities] = await Promise.all([adapter.models(), cached ?? adapter.capabilities()]);
      this.capabilities = { value: capabilities, atMs: cached === undefined ? now : (this.capabilities as { atMs: number }).atMs };
      this.error = undefined;
    } catch (err) {
      // Cannot see the server: change nothing.
      this.error = err instanceof Error ? err.message : String(err);
      this.quietSinceMs = undefined;
      return undefined;
    }
    // A model with a change in flight is left out: its next change waits for the server's answer.
    const open = this.inFlight.size === 0 ? desired : { ...desired, models: desired.models.filter((m) => !this.inFlight.has(m.model)) };
    const { decision, state } = decideReconcile({ nowMs: now, desired: open, observed: this.observed, capabilities, policy }, this.state);
    this.state = state;
    const applied: ReconcileAction[] = this.settledLate.applied.splice(0);
    const failed: ActionFailure[] = this.settledLate.failed.splice(0);
    // A failure is forgotten once the desired value it was for is no longer wanted at all.
    const wanted = new Set([...decision.actions, ...decision.recommendations, ...this.inFlight.values()].map(keyOf));
    for (const k of [...this.failures.keys()]) if (!wanted.has(k)) this.failures.delete(k);
    // The models' changes run together; one model's run one after another, in the decider's order.
    const byModel = new Map<string, { action: ReconcileAction; priorAttempts: number }[]>();
    for (const action of decision.actions) {
      const prior = this.failures.get(keyOf(action));
      if (prior && (prior.gaveUp || now < prior.nextAtMs)) continue;
      const list = byModel.get(action.model) ?? [];
      list.push({ action, priorAttempts: prior?.attempts ?? 0 });
      byModel.set(action.model, list);
    }
    const mine = { applied, failed, returned: false };
    const started = [...byModel.values()].map(async (list) => {
      for (const { action, priorAttempts } of list) await this.runChange(action, priorAttempts, mine);
    });
    if (started.length > 0) await this.waitAtMost(Promise.all(started), this.options.actionWaitMs ?? 1000);
    mine.returned = true;
    const pass: ReconcilePass = { atMs: now, decision, applied, failed, inProgress: [...this.inFlight.values()] };
    const quiet = decision.actions.length === 0 && decision.recommendations.length === 0 && this.failures.size === 0 && this.inFlight.size === 0;
    if (!quiet) this.quietSinceMs = undefined;
    else this.quietSinceMs ??= now;
    this.lastPass = pass;
    this.options.onPass?.(pass);
    return pass;
  }

  /**
   * Starts one change and settles it: into its pass's lists while that pass still waits, else into
   * the next pass's (and runs that pass at once, unless stopped).
   */
  private async runChange(action: ReconcileAction, priorAttempts: number, pass: { applied: ReconcileAction[]; failed: ActionFailure[]; returned: boolean }): Promise<void> {
    const key = keyOf(action);
    this.inFlight.set(action.model, action);
    let failure: ActionFailure | undefined;
    try {
      await this.apply(action);
      this.failures.delete(key);
    } catch (err) {
      const now = this.options.clock.nowMs();
      const attempts = priorAttempts + 1;
      const gaveUp = attempts >= (this.options.maxAttempts ?? 5);
      const delay = Math.min(60_000, (this.options.retryBaseMs ?? 1000) * 2 ** (attempts - 1));
      failure = { action, message: err instanceof Error ? err.message : String(err), attempts, atMs: now, gaveUp, error: err };
      this.failures.set(key, { ...failure, nextAtMs: now + delay });
      this.capabilities = undefined; // the server may have changed mode: read it again
    } finally {
      this.inFlight.delete(action.model);
    }
    const into = pass.returned ? this.settledLate : pass;
    if (failure) into.failed.push(failure);
    else into.applied.push(action);
    if (pass.returned && !this.stopped) this.pass().catch(() => undefined);
  }

  /** Waits for `work`, or `ms` on the clock, whichever ends first. */
  private async waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
    const abort = new AbortController();
    const timeout = this.options.clock.sleep(ms, abort.signal).catch(() => undefined);
    try {
      await Promise.race([work, timeout]);
    } finally {
      abort.abort();
    }
  }

  private async apply(action: ReconcileAction): Promise<void> {
    const { adapter } = this.options;
    if (action.kind === 'replicas') {
      if (!hasReplicaControl(adapter)) throw new Error(`${adapter.kind} adapter cannot change replicas`);
      await adapter.setReplicas(action.model, action.to);
    } else {
      if (!hasBatchControl(adapter)) throw new Error(`${adapter.kind} adapter cannot change batching`);
      await adapter.setBatching(action.model, { maxBatchSize: action.maxBatchSize, batchDelayMs: action.batchDelayMs });
    }
  }
}

/** One key per model and kind of change, and per desired value: a new value resets the retries. */
function keyOf(a: ReconcileAction): string {
  return a.kind === 'replicas' ? `${a.model}/replicas/${a.to}` : `${a.model}/batching/${a.maxBatchSize}/${a.batchDelayMs}`;
}
