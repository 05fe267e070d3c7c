// The reconciler's decider: what to change on one server so that each model matches its desired
// state, within the agent's policy. Pure: the runtime (runtime/reconciler.ts) feeds it the desired
// state (from the leader, fenced by epoch), what the adapter observes and can do, and the time;
// it returns actions and its next state.
// - Bounds: replicas stay within [minReplicas, maxReplicas]; a desired count outside is clamped
//   and said so. Never below the minimum.
// - Steps: at most maxStepUp / maxStepDown replicas per action, so a wrong plan cannot empty or
//   flood a server in one go.
// - Cooldowns: no replica change within cooldownMs of the last one on the same model, except a
//   scale-up when scaleUpBypassesCooldown (bursts must not wait); batching changes have their own
//   (longer) cooldown since they reload the model.
// - Rate limit: at most maxActionsPerMinute actions per server.
// - Capabilities: a change the server cannot make live (or at all) becomes a recommendation,
//   never an action; in mode `recommend` every change is a recommendation.
import type { AdapterCapabilities, ModelStatus } from '../../ports/server-adapter.js';

/** What the leader wants of one model on this server. */
export interface ModelSpec {
  readonly model: string;
  readonly replicas: number;
  readonly maxBatchSize?: number;
  readonly batchDelayMs?: number;
}

export interface DesiredState {
  /** The leader's fencing epoch this was written under. */
  readonly epoch: number;
  readonly models: readonly ModelSpec[];
}

export type ReconcileMode = 'enforce' | 'recommend';

export interface ReconcilePolicy {
  readonly mode: ReconcileMode;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly maxStepUp: number;
  readonly maxStepDown: number;
  readonly cooldownMs: number;
  readonly scaleUpBypassesCooldown: boolean;
  readonly batchCooldownMs: number;
  readonly maxActionsPerMinute: number;
}

export const DEFAULT_RECONCILE_POLICY: ReconcilePolicy = {
  mode: 'recommend',
  minReplicas: 1,
  maxReplicas: 64,
  maxStepUp: 16,
  maxStepDown: 2,
  cooldownMs: 10_000,
  scaleUpBypassesCooldown: true,
  batchCooldownMs: 60_000,
  maxActionsPerMinute: 30,
};

export type ReconcileAction =
  | { readonly kind: 'replicas'; readonly model: string; readonly from: number; readonly to: number; readonly reason: string }
  | { readonly kind: 'batching'; readonly model: string; readonly maxBatchSize: number; readonly batchDelayMs: number; readonly reason: string };

export interface ReconcileState {
  /** Last change per model and kind, ms. */
  readonly lastChange: Readonly<Record<string, number>>;
  /** Times of recent actions, for the rate limit. */
  readonly recent: readonly number[];
  /** The highest epoch seen: desired state from an older epoch is ignored. */
  readonly epoch: number;
}

export interface ReconcileInput {
  readonly nowMs: number;
  readonly desired: DesiredState;
  readonly observed: readonly ModelStatus[];
  readonly capabilities: AdapterCapabilities;
  readonly policy: ReconcilePolicy;
}

export interface ReconcileDecision {
  /** To apply now (mode enforce only). */
  readonly actions: readonly ReconcileAction[];
  /** What would be changed but is not: mode recommend, not live, cooling down, rate-limited. */
  readonly recommendations: readonly (ReconcileAction & { readonly why: string })[];
  /** Desired states that could not be honoured as written (clamped, unknown model, stale epoch). */
  readonly notes: readonly string[];
}

export function initialReconcileState(): ReconcileState {
  return { lastChange: {}, recent: [], epoch: 0 };
}

export function decideReconcile(input: ReconcileInput, state: ReconcileState): { decision: ReconcileDecision; state: ReconcileState } {
  const { nowMs, desired, policy, capabilities } = input;
  const notes: string[] = [];
  if (desired.epoch < state.epoch) {
    notes.push(`desired state of epoch ${desired.epoch} is older than epoch ${state.epoch}: ignored`);
    return { decision: { actions: [], recommendations: [], notes }, state };
  }
  const observed = new Map(input.observed.map((m) => [m.model, m]));
  const actions: ReconcileAction[] = [];
  const recommendations: (ReconcileAction & { why: string })[] = [];
  const lastChange: Record<string, number> = { ...state.lastChange };
  let recent = state.recent.filter((t) => nowMs - t < 60_000);
  const budget = (): boolean => recent.length < policy.maxActionsPerMinute;
  const take = (a: ReconcileAction, key: string): void => {
    actions.push(a);
    lastChange[key] = nowMs;
    recent = [...recent, nowMs];
  };
  const hold = (a: ReconcileAction, why: string): void => {
    recommendations.push({ ...a, why });
  };

  for (const spec of desired.models) {
    const cur = observed.get(spec.model);
    if (!cur) {
      notes.push(`model "${spec.model}" is in the desired state but not on the server`);
      continue;
    }
    // Replicas.
    const wanted = Math.round(spec.replicas);
    const target = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, wanted));
    if (target !== wanted) notes.push(`${spec.model}: desired ${wanted} replicas clamped to ${target} (bounds [${policy.minReplicas}, ${policy.maxReplicas}])`);
    if (target !== cur.replicas) {
      const up = target > cur.replicas;
      const to = up ? Math.min(target, cur.replicas + policy.maxStepUp) : Math.max(target, cur.replicas - policy.maxStepDown);
      const a: ReconcileAction = {
        kind: 'replicas', model: spec.model, from: cur.replicas, to,
        reason: `desired ${target}${to !== target ? ` (step of ${up ? policy.maxStepUp : policy.maxStepDown})` : ''}`,
      };
      const key = `${spec.model}/replicas`;
      const since = nowMs - (lastChange[key] ?? -Infinity);
      if (policy.mode === 'recommend') hold(a, 'mode is recommend');
      else if (capabilities.replicas !== 'live') hold(a, `replicas change by ${capabilities.replicas} on this server, not live${capabilities.warnings.length ? `: ${capabilities.warnings.join('; ')}` : ''}`);
      else if (since < policy.cooldownMs && !(up && policy.scaleUpBypassesCooldown)) hold(a, `cooling down (${Math.round(since)} of ${policy.cooldownMs} ms)`);
      else if (!budget()) hold(a, `rate limit of ${policy.maxActionsPerMinute} actions per minute reached`);
      else take(a, key);
    }
    // Batching.
    if (spec.maxBatchSize !== undefined) {
      const delay = spec.batchDelayMs ?? cur.batchDelayMs ?? 0;
      if (spec.maxBatchSize !== cur.maxBatchSize || (spec.batchDelayMs !== undefined && spec.batchDelayMs !== (cur.batchDelayMs ?? 0))) {
        const a: ReconcileAction = { kind: 'batching', model: spec.model, maxBatchSize: spec.maxBatchSize, batchDelayMs: delay, reason: `desired batch ${spec.maxBatchSize}, delay ${delay} ms` };
        const key = `${spec.model}/batching`;
        const since = nowMs - (lastChange[key] ?? -Infinity);
        if (policy.mode === 'recommend') hold(a, 'mode is recommend');
        else if (capabilities.batching !== 'live' && capabilities.batching !== 'reload') hold(a, `batching changes by ${capabilities.batching} on this server`);
        else if (since < policy.batchCooldownMs) hold(a, `cooling down (${Math.round(since)} of ${policy.batchCooldownMs} ms)`);
        else if (!budget()) hold(a, `rate limit of ${policy.maxActionsPerMinute} actions per minute reached`);
        else take(a, key);
      }
    }
  }
  return { decision: { actions, recommendations, notes }, state: { lastChange, recent, epoch: Math.max(state.epoch, desired.epoch) } };
}
