// InferLine's tuner (reference/inferline.md, "Tuner"): a pure decider that keeps each stage's
// replicas matched to live traffic, with hardware and batch size as planned.
//
// Need. For stage s with planned replicas P_s, planned envelope rates p_i and live rates r_i over
// the same windows Δ_i, the replicas needed are ⌈P_s × max_i (r_i / p_i) × headroom / σ⌉. This is
// the reference's ⌈scaleFactor × r_i × L(b)/b⌉ with its headroom taken from the plan's own slack,
// evaluated window by window: the plan meets the SLO with P_s replicas on the planning traffic
// sped up by its slack σ (Plan.slack), so a window whose live rate is k× the planned one needs
// k/σ× the replicas. It covers both a short burst (short windows) and a sustained rise (long
// windows).
// - Scale up at once, in the tick the live envelope exceeds what the current replicas cover by more
//   than the tolerance (default 10 %, as the HPA's), by at most maxStepUp per tick.
// - Scale down only when the fewest replicas covering the recent envelope (the last
//   scaleDownWindowMs) within the tolerance has stayed below the current count for scaleDownDelayMs, no sooner than scaleDownDelayMs after
//   the last scale-up became active (its activation delay included), and one step per
//   scaleDownIntervalMs.
// - (ours) Backlog: when a stage's queue is known (the snapshot's `queued`), the need adds one
//   replica per whole replica × drainTimeMs of queued work at the planned per-replica throughput.
//   A burst that arrives while new replicas start leaves a queue the envelope alone does not pay
//   back; without this the tail stays above the SLO for seconds after capacity has caught up with
//   the rate. The short queues of normal batching stay under one replica's worth and add nothing.
// - Always within [minReplicas, maxReplicas].
// - Signal a replan when the sustained rate (the longest window) stays outside
//   [replanLow, replanHigh] × the planned mean rate for replanAfterMs.
import type { EnvelopePoint } from '../envelope.js';

export interface TunerStage {
  readonly name: string;
  readonly plannedReplicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Start-up time of a new replica on this stage's hardware. */
  readonly activationDelayMs: number;
  /** Queries per second one replica serves at the planned batch size and hardware. */
  readonly replicaThroughputQps: number;
}

export interface TunerPlan {
  readonly stages: readonly TunerStage[];
  /** The planned envelope (from the plan file). */
  readonly envelope: readonly EnvelopePoint[];
  /** Mean arrival rate of the planning trace. */
  readonly plannedRateQps: number;
  /**
   * The plan's slack (Plan.slack): it meets the SLO on the planning traffic sped up by this
   * factor. Live traffic k× the planned needs replicas × k / slack. Default 1.
   */
  readonly slack?: number;
}

export interface TunerOptions {
  readonly headroom: number;
  /** Scale up only when the live envelope exceeds what the current replicas cover by more than this. */
  readonly tolerance: number;
  readonly maxStepUp: number;
  readonly maxStepDown: number;
  readonly scaleDownDelayMs: number;
  readonly scaleDownIntervalMs: number;
  readonly scaleDownWindowMs: number;
  readonly replanLow: number;
  readonly replanHigh: number;
  readonly replanAfterMs: number;
  /** Drain a stage's backlog within this time on scale-up (0: ignore queues). */
  readonly drainTimeMs: number;
}

export const DEFAULT_TUNER_OPTIONS: TunerOptions = {
  headroom: 1,
  tolerance: 0.1,
  maxStepUp: 64,
  maxStepDown: 1,
  scaleDownDelayMs: 30_000,
  scaleDownIntervalMs: 5_000,
  scaleDownWindowMs: 30_000,
  replanLow: 0.5,
  replanHigh: 2,
  replanAfterMs: 300_000,
  drainTimeMs: 500,
};

export interface TunerSnapshot {
  readonly nowMs: number;
  /** Live envelope over the last 60 s, same windows as the planned one. */
  readonly envelope: readonly EnvelopePoint[];
  /** Live envelope over the last scaleDownWindowMs. */
  readonly recentEnvelope: readonly EnvelopePoint[];
  /** Replicas provisioned per stage now (including ones still starting). */
  readonly replicas: Readonly<Record<string, number>>;
  /** Queries waiting in each stage's queue, where the servers say. */
  readonly queued?: Readonly<Record<string, number>>;
}

export interface StageTunerState {
  /** When the last scale-up becomes active (its activation delay included). */
  readonly activeAfterMs: number;
  readonly lastScaleDownMs: number;
  /** Since when the recent need has stayed below the current count. */
  readonly belowSinceMs: number | null;
}

export interface TunerState {
  readonly stages: Readonly<Record<string, StageTunerState>>;
  readonly driftSinceMs: number | null;
}

export interface ScaleChange {
  readonly stage: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export type TunerDecision =
  | { readonly kind: 'scale'; readonly changes: readonly ScaleChange[]; readonly replan?: string }
  | { readonly kind: 'hold'; readonly reason: string; readonly replan?: string };

export interface Tuner {
  readonly plan: TunerPlan;
  readonly options: TunerOptions;
  initialState(nowMs: number): TunerState;
  decide(snapshot: TunerSnapshot, state: TunerState): { decision: TunerDecision; state: TunerState };
}

/** The highest ratio of live to planned rate over the windows, and the window where it is. */
export function envelopeRatio(live: readonly EnvelopePoint[], planned: readonly EnvelopePoint[]): { ratio: number; windowMs: number } {
  let ratio = 0;
  let windowMs = 0;
  const n = Math.min(live.length, planned.length);
  for (let i = 0; i < n; i++) {
    const p = planned[i] as EnvelopePoint;
    const l = live[i] as EnvelopePoint;
    if (p.windowMs !== l.windowMs) throw new RangeError(`envelope windows differ: live ${l.windowMs} ms, planned ${p.windowMs} ms`);
    if (!(p.rateQps > 0)) continue;
    const r = l.rateQps / p.rateQps;
    if (r > ratio) {
      ratio = r;
      windowMs = p.windowMs;
    }
  }
  return { ratio, windowMs };
}

export function createTuner(plan: TunerPlan, options: Partial<TunerOptions> = {}): Tuner {
  const o: TunerOptions = { ...DEFAULT_TUNER_OPTIONS, ...options };
  const planSlack = plan.slack ?? 1;
  const need = (stage: TunerStage, ratio: number, tolerance = 1): number => {
    const raw = Math.ceil((stage.plannedReplicas * ratio * o.headroom) / (planSlack * tolerance) - 1e-9);
    return Math.min(stage.maxReplicas, Math.max(stage.minReplicas, raw));
  };
  const longest = plan.envelope.length - 1;

  return {
    plan,
    options: o,
    initialState(nowMs) {
      const stages: Record<string, StageTunerState> = {};
      for (const s of plan.stages) stages[s.name] = { activeAfterMs: nowMs, lastScaleDownMs: nowMs, belowSinceMs: null };
      return { stages, driftSinceMs: null };
    },
    decide(snapshot, state) {
      const now = snapshot.nowMs;
      const up = envelopeRatio(snapshot.envelope, plan.envelope);
      const down = envelopeRatio(snapshot.recentEnvelope, plan.envelope);
      const changes: ScaleChange[] = [];
      const next: Record<string, StageTunerState> = {};
      let waiting = '';
      for (const stage of plan.stages) {
        const cur = snapshot.replicas[stage.name] ?? stage.plannedReplicas;
        const st = state.stages[stage.name] ?? { activeAfterMs: now, lastScaleDownMs: now, belowSinceMs: null };
        // Within the tolerance the current replicas are deemed to cover the live envelope: the
        // maxima of a bursty trace over one horizon vary from the planned ones by chance.
        const covered = (cur / Math.max(stage.plannedReplicas, 1e-9)) * planSlack * (1 + o.tolerance);
        const envelopeNeed = up.ratio * o.headroom > covered ? need(stage, up.ratio) : Math.min(cur, need(stage, up.ratio));
        const queued = snapshot.queued?.[stage.name] ?? 0;
        // Whole replica-drain-times of backlog only: the short queues of normal batching add none.
        const backlog = o.drainTimeMs > 0 && stage.replicaThroughputQps > 0
          ? Math.floor(queued / (stage.replicaThroughputQps * (o.drainTimeMs / 1000))) : 0;
        const wantUp = Math.min(stage.maxReplicas, envelopeNeed + backlog);
        if (wantUp > cur || cur < stage.minReplicas) {
          const to = Math.min(Math.max(wantUp, stage.minReplicas), cur + o.maxStepUp);
          const why = `live rate ${up.ratio.toFixed(2)}× planned over ${up.windowMs} ms${backlog > 0 ? `, +${backlog} to drain ${queued} queued` : ''}`;
          changes.push({ stage: stage.name, from: cur, to, reason: why });
          next[stage.name] = { activeAfterMs: now + stage.activationDelayMs, lastScaleDownMs: st.lastScaleDownMs, belowSinceMs: null };
          continue;
        }
        if (cur > stage.maxReplicas) {
          changes.push({ stage: stage.name, from: cur, to: stage.maxReplicas, reason: `above maxReplicas ${stage.maxReplicas}` });
          next[stage.name] = { ...st, lastScaleDownMs: now, belowSinceMs: null };
          continue;
        }
        // The fewest replicas that cover the recent envelope within the tolerance: the same line
        // the scale-up test draws, so the two never chase each other.
        const wantDown = need(stage, down.ratio, 1 + o.tolerance);
        if (wantDown >= cur) {
          next[stage.name] = { ...st, belowSinceMs: null };
          continue;
        }
        const belowSince = st.belowSinceMs ?? now;
        const quietFrom = Math.max(st.activeAfterMs, belowSince);
        if (now - quietFrom >= o.scaleDownDelayMs && now - st.lastScaleDownMs >= o.scaleDownIntervalMs) {
          const to = Math.max(wantDown, cur - o.maxStepDown);
          changes.push({ stage: stage.name, from: cur, to, reason: `recent need ${wantDown} < ${cur} for ${Math.round((now - belowSince) / 1000)} s` });
          next[stage.name] = { ...st, lastScaleDownMs: now, belowSinceMs: belowSince };
        } else {
          next[stage.name] = { ...st, belowSinceMs: belowSince };
          waiting ||= `${stage.name}: need ${wantDown} < ${cur}, waiting out the scale-down delay`;
        }
      }

      // Drift: the sustained rate far from the planned one for long enough asks for a replan.
      let driftSinceMs = state.driftSinceMs;
      let replan: string | undefined;
      const sustained = snapshot.envelope[longest]?.rateQps ?? 0;
      const ratio = plan.plannedRateQps > 0 ? sustained / plan.plannedRateQps : 1;
      if (ratio < o.replanLow || ratio > o.replanHigh) {
        driftSinceMs ??= now;
        if (now - driftSinceMs >= o.replanAfterMs) {
          replan = `sustained rate ${sustained.toFixed(1)} qps is ${ratio.toFixed(2)}× the planned ${plan.plannedRateQps.toFixed(1)} qps for ${Math.round((now - driftSinceMs) / 1000)} s`;
          driftSinceMs = now;
        }
      } else {
        driftSinceMs = null;
      }

      const newState: TunerState = { stages: next, driftSinceMs };
      const extra = replan ? { replan } : {};
      if (changes.length > 0) return { decision: { kind: 'scale', changes, ...extra }, state: newState };
      return { decision: { kind: 'hold', reason: waiting || `within the planned envelope (${up.ratio.toFixed(2)}×)`, ...extra }, state: newState };
    },
  };
}
