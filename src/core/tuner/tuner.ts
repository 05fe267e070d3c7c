// InferLine's tuner (reference/inferline.md, "Tuner"): a pure decider that keeps each stage's
// replicas matched to live traffic, with hardware and batch size as planned.
//
// Need. For stage s with planned replicas P_s, planned envelope rates p_i and live rates r_i over
// the same windows Δ_i, let k = max_i (r_i / p_i) × headroom: the live traffic is within k× the
// planning traffic at every window. The plan meets the SLO with P_s replicas up to its slack σ
// (Plan.slack), and with the replicas of its scaling curve (Plan.scaling: per stage, the replicas
// the estimator found to meet the SLO on the planning trace sped up by each factor) above it; the
// need is the curve's next point at or above k, in proportion beyond the last point, and
// ⌈P_s × k / σ⌉ below σ or without a curve. This is the reference's ⌈scaleFactor × r_i × L(b)/b⌉
// with its headroom taken from the plan itself, window by window: short windows catch a burst,
// long ones a sustained rise. The curve matters because stages differ: one whose planned count is
// set by the tail needs replicas sooner than one running a half-idle replica at a large batch,
// and many replicas absorb a rise with proportionally fewer extra than a few.
// - Scale up at once, in the tick where the need at k / (1 + tolerance) exceeds the current
//   replicas (tolerance default 0), to the need at k, by at most maxStepUp per tick. With no
//   tolerance the envelope part of the count never exceeds what the same rule gives for the whole
//   trace's envelope (the live one covers part of it, and the need grows with k), which is what
//   the static-peak baseline holds.
// - Scale down only when the need at the recent envelope's k / (1 + tolerance) (the same line,
//   so the two never chase each other; the recent envelope covers the last scaleDownWindowMs,
//   see recentEnvelopeOptions, and the windows longer than that come from the live one) has stayed below the current count for scaleDownDelayMs, no
//   sooner than scaleDownDelayMs after the last scale-up became active (its activation delay
//   included), and one step per scaleDownIntervalMs.
// - (ours) Backlog: when a stage's queue is known (the snapshot's `queued`), replicas are added
//   so that it drains within drainTimeMs at the planned per-replica throughput. With the stage's
//   scale factor and the live arrival rate, the replicas the envelope asks for drain it first
//   with what they spare beyond the arrivals, and only a whole replica of shortfall is added;
//   without them, one replica per whole replica × drainTimeMs of queued work. Only the queue that
//   persisted from the last tick counts (the smaller of the two), so a burst's queue that the
//   replicas clear within a tick adds nothing. With the stages' `downstream` visits, a queue
//   upstream counts as work headed for every stage below it, which then grows in the same tick
//   instead of once the drained queue reaches it. A step, or a burst that arrives while new
//   replicas start, leaves a queue the envelope alone does not pay back; the short queues of
//   normal batching add nothing.
// - Always within [minReplicas, maxReplicas].
// - Signal a replan when the sustained rate (the longest window) stays outside
//   [replanLow, replanHigh] × the planned mean rate for replanAfterMs.
import type { EnvelopePoint } from '../arrival/envelope.js';

export interface TunerStage {
  readonly name: string;
  readonly plannedReplicas: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Start-up time of a new replica on this stage's hardware. */
  readonly activationDelayMs: number;
  /** Queries per second one replica serves at the planned batch size and hardware. */
  readonly replicaThroughputQps: number;
  /**
   * Visits of this stage per pipeline query (the pipeline's scale factor). With it, draining a
   * backlog counts on the spare capacity the current replicas have over the live arrival rate;
   * without it the current replicas are taken as fully loaded.
   */
  readonly scaleFactor?: number;
  /**
   * Expected visits of each stage downstream of this one per visit of this one. With it, a queue
   * here counts as work headed for those stages too, so they grow in the same tick as this one
   * rather than once its drained queue reaches them.
   */
  readonly downstream?: Readonly<Record<string, number>>;
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
  /**
   * The plan's scaling curve (Plan.scaling): per stage, the replicas that meet the SLO at each
   * factor above the slack. Without it every stage scales in proportion (replicas × k / slack).
   */
  readonly scaling?: readonly TunerScalingPoint[];
}

/** At `factor` × the planned traffic, these replicas (per stage name) meet the SLO. */
export interface TunerScalingPoint {
  readonly factor: number;
  readonly replicas: Readonly<Record<string, number>>;
}

export interface TunerOptions {
  readonly headroom: number;
  /**
   * Scale up only when the live envelope exceeds what the current replicas cover by more than this
   * (default 0: at once, as the reference says; the scale-down reads the same line).
   */
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
  tolerance: 0,
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
  /** Pipeline arrivals per second over the last second, where known. */
  readonly arrivalRateQps?: number;
}

export interface StageTunerState {
  /** When the last scale-up becomes active (its activation delay included). */
  readonly activeAfterMs: number;
  readonly lastScaleDownMs: number;
  /** Since when the recent need has stayed below the current count. */
  readonly belowSinceMs: number | null;
  /** The stage's queue at the last tick. */
  readonly queued?: number;
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
  /**
   * Per stage, the replicas the tuner's rule gives for traffic with this envelope (the planned
   * windows): the scaling curve at its ratio to the planned one, with the headroom, within
   * [minReplicas, maxReplicas], no tolerance. The static baselines provision with it.
   */
  replicasFor(envelope: readonly EnvelopePoint[]): Record<string, number>;
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

/**
 * The recent envelope the scale-down reads: the planned windows that fit in scaleDownWindowMs,
 * over that horizon (a LiveEnvelope's horizon is at least its longest window, so a 60 s window
 * would make "recent" the last 60 s). The shortest window is kept when none fits.
 */
export function recentEnvelopeOptions(plan: TunerPlan, options: TunerOptions): { windowsMs: number[]; horizonMs: number } {
  const all = plan.envelope.map((p) => p.windowMs);
  const fit = all.filter((w) => w <= options.scaleDownWindowMs);
  return fit.length > 0 ? { windowsMs: fit, horizonMs: options.scaleDownWindowMs } : { windowsMs: all.slice(0, 1), horizonMs: Math.max(options.scaleDownWindowMs, all[0] ?? 0) };
}

// Up to the slack the planned replicas hold, and below it they shrink in proportion; above it,
// the curve's next point at or above k (a configuration the estimator checked at a load at
// least as high), and in proportion beyond the last point.
function replicasAt(stage: TunerStage, k: number, planSlack: number, curve: readonly TunerScalingPoint[]): number {
  let f0 = planSlack;
  let r0 = stage.plannedReplicas;
  if (k <= f0) return (r0 * k) / f0;
  for (const p of curve) {
    const r1 = p.replicas[stage.name];
    if (r1 === undefined) break;
    if (k <= p.factor) return r1;
    f0 = p.factor;
    r0 = r1;
  }
  return (r0 * k) / f0;
}

// Replicas to add so that a stage's queue drains within drainTimeMs. The `replicas` that the
// envelope asks for serve the arrivals; what they can spare beyond the live arrival rate drains
// the queue first. Only a whole replica's worth of shortfall counts, so the short queues of
// normal batching add none. Without the stage's scale factor or the live rate, the replicas are
// taken as fully loaded: one replica per whole replica × drainTimeMs of queued work.
function backlogReplicas(stage: TunerStage, queued: number, replicas: number, arrivalRateQps: number | undefined, drainTimeMs: number): number {
  const mu = stage.replicaThroughputQps;
  if (!(drainTimeMs > 0 && mu > 0 && queued > 0)) return 0;
  const drain = queued / (mu * (drainTimeMs / 1000));
  if (stage.scaleFactor === undefined || arrivalRateQps === undefined) return Math.floor(drain);
  const load = (stage.scaleFactor * arrivalRateQps) / mu;
  return Math.max(0, Math.floor(load + drain - replicas + 1e-9));
}

// Queries queued at a stage, and (with the stages' `downstream`) the visits of it that the
// queues upstream of it will bring.
function headedFor(plan: TunerPlan, queued: Readonly<Record<string, number>> | undefined, name: string): number {
  let q = queued?.[name] ?? 0;
  for (const u of plan.stages) q += (queued?.[u.name] ?? 0) * (u.downstream?.[name] ?? 0);
  return q;
}

// Drift: the sustained rate far from the planned one for long enough asks for a replan.
function drift(
  plan: TunerPlan, o: TunerOptions, envelope: readonly EnvelopePoint[], since: number | null, now: number,
): { driftSinceMs: number | null; replan: string | undefined } {
  let driftSinceMs = since;
  let replan: string | undefined;
  const sustained = envelope[plan.envelope.length - 1]?.rateQps ?? 0;
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
  return { driftSinceMs, replan };
}

export function createTuner(plan: TunerPlan, options: Partial<TunerOptions> = {}): Tuner {
  const o: TunerOptions = { ...DEFAULT_TUNER_OPTIONS, ...options };
  const planSlack = plan.slack ?? 1;
  const curve = [...(plan.scaling ?? [])].filter((p) => p.factor > planSlack).sort((a, b) => a.factor - b.factor);
  // The replicas for live traffic `ratio`× the planned; `tolerance` divides the load.
  const need = (stage: TunerStage, ratio: number, tolerance = 1): number => {
    const raw = Math.ceil(replicasAt(stage, (ratio * o.headroom) / tolerance, planSlack, curve) - 1e-9);
    return Math.min(stage.maxReplicas, Math.max(stage.minReplicas, raw));
  };

  return {
    plan,
    options: o,
    initialState(nowMs) {
      const stages: Record<string, StageTunerState> = {};
      for (const s of plan.stages) stages[s.name] = { activeAfterMs: nowMs, lastScaleDownMs: nowMs, belowSinceMs: null };
      return { stages, driftSinceMs: null };
    },
    replicasFor(envelope) {
      const ratio = envelopeRatio(envelope, plan.envelope).ratio;
      const out: Record<string, number> = {};
      for (const s of plan.stages) out[s.name] = need(s, ratio);
      return out;
    },
    decide(snapshot, state) {
      const now = snapshot.nowMs;
      const up = envelopeRatio(snapshot.envelope, plan.envelope);
      // Windows longer than the recent envelope's horizon are not in it: those come from the live
      // envelope, so the scale-down line is never above the scale-up one at any window.
      const down = envelopeRatio([...snapshot.recentEnvelope, ...snapshot.envelope.slice(snapshot.recentEnvelope.length)], plan.envelope);
      const changes: ScaleChange[] = [];
      const next: Record<string, StageTunerState> = {};
      let waiting = '';
      for (const stage of plan.stages) {
        const cur = snapshot.replicas[stage.name] ?? stage.plannedReplicas;
        const st = state.stages[stage.name] ?? { activeAfterMs: now, lastScaleDownMs: now, belowSinceMs: null };
        // Within the tolerance the current replicas are deemed to cover the live envelope: the
        // maxima of a bursty trace over one horizon vary from the planned ones by chance.
        const upNeed = need(stage, up.ratio);
        const envelopeNeed = need(stage, up.ratio, 1 + o.tolerance) > cur ? upNeed : Math.min(cur, upNeed);
        const queued = headedFor(plan, snapshot.queued, stage.name);
        // Only the queue that was there at the last tick too counts: what a burst leaves and the
        // replicas clear within a tick needs no more of them.
        const backlog = backlogReplicas(stage, Math.min(queued, st.queued ?? 0), envelopeNeed, snapshot.arrivalRateQps, o.drainTimeMs);
        const wantUp = Math.min(stage.maxReplicas, envelopeNeed + backlog);
        if (wantUp > cur || cur < stage.minReplicas) {
          const to = Math.min(Math.max(wantUp, stage.minReplicas), cur + o.maxStepUp);
          const why = `live rate ${up.ratio.toFixed(2)}× planned over ${up.windowMs} ms${backlog > 0 ? `, +${backlog} to drain ${Math.round(queued)} queued or headed here` : ''}`;
          changes.push({ stage: stage.name, from: cur, to, reason: why });
          next[stage.name] = { activeAfterMs: now + stage.activationDelayMs, lastScaleDownMs: st.lastScaleDownMs, belowSinceMs: null, queued };
          continue;
        }
        if (cur > stage.maxReplicas) {
          changes.push({ stage: stage.name, from: cur, to: stage.maxReplicas, reason: `above maxReplicas ${stage.maxReplicas}` });
          next[stage.name] = { ...st, lastScaleDownMs: now, belowSinceMs: null, queued };
          continue;
        }
        // The fewest replicas that cover the recent envelope within the tolerance: the same line
        // the scale-up test draws, so the two never chase each other.
        const wantDown = need(stage, down.ratio, 1 + o.tolerance);
        if (wantDown >= cur) {
          next[stage.name] = { ...st, belowSinceMs: null, queued };
          continue;
        }
        const belowSince = st.belowSinceMs ?? now;
        const quietFrom = Math.max(st.activeAfterMs, belowSince);
        if (now - quietFrom >= o.scaleDownDelayMs && now - st.lastScaleDownMs >= o.scaleDownIntervalMs) {
          const to = Math.max(wantDown, cur - o.maxStepDown);
          changes.push({ stage: stage.name, from: cur, to, reason: `recent need ${wantDown} < ${cur} for ${Math.round((now - belowSince) / 1000)} s` });
          next[stage.name] = { ...st, lastScaleDownMs: now, belowSinceMs: belowSince, queued };
        } else {
          next[stage.name] = { ...st, belowSinceMs: belowSince, queued };
          waiting ||= `${stage.name}: need ${wantDown} < ${cur}, waiting out the scale-down delay`;
        }
      }

      const { driftSinceMs, replan } = drift(plan, o, snapshot.envelope, state.driftSinceMs, now);
      const newState: TunerState = { stages: next, driftSinceMs };
      const extra = replan ? { replan } : {};
      if (changes.length > 0) return { decision: { kind: 'scale', changes, ...extra }, state: newState };
      return { decision: { kind: 'hold', reason: waiting || `within the planned envelope (${up.ratio.toFixed(2)}×)`, ...extra }, state: newState };
    },
  };
}
