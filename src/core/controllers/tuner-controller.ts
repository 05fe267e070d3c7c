// InferLine's tuner in the closed loop: live envelopes fed by every arrival, decide() every tick.
// In `unit` mode (the coarse-grained baseline) the whole pipeline scales as one: every stage gets
// the largest replica count the tuner wants for any of them. With `batchAware`, while the tuner
// holds it periodically asks the estimator whether a larger batch with fewer replicas keeps the
// tail (tuner/batch-aware.ts); an accepted change rescales that stage's planned replicas by the
// throughput ratio (and its points on the plan's scaling curve), so the tuner's need stays right
// for the new batch size. A change the rescaled tuner would undo at once (its rule asks, on today's
// envelope, for more replicas of the larger batch than the estimator found enough) is dropped: it
// would keep the larger batch and save nothing. The recent envelope covers scaleDownWindowMs only
// (recentEnvelopeOptions); the tuner also gets the arrival rate of the last second, with which a
// backlog is drained from the spare capacity first.
//
// With `liveLoop` (core/controllers/live-loop.ts) the controller runs the loop the live agent and leader run,
// rather than an ideal one: arrivals are counted per scrape interval, and reach the tuner only when
// the push rule (core/observe/push-rule.ts) pushes them, spread evenly over their interval into envelopes of
// the live bucket width, read at the time of the last push (the leader's watermark); the queue
// lengths are those of the last push. The tuner decides at each push and on its own tick, on the
// replicas it last decided (the leader's desired state); each decision reaches the server
// `actuationDelayMs` later, a later one superseding an earlier one; a replica added then serves only
// after its hardware's activation delay (the estimator's). The batch-aware mode runs in the ideal
// loop only.
import { LiveEnvelope } from '../arrival/live-envelope.js';
import type { ControlView, Controller, ReplicaTargets } from '../sim/estimator.js';
import { createTuner, recentEnvelopeOptions } from '../tuner/tuner.js';
import type { Tuner, TunerDecision, TunerState } from '../tuner/tuner.js';
import { proposeBatchChange } from '../tuner/batch-aware.js';
import { replicaThroughput } from '../tuner/tuner-plan.js';
import type { BatchAwareInput, BatchProposal } from '../tuner/batch-aware.js';
import type { StageConfig } from '../model/types.js';
import { countResolutionMs, lastSecondRate } from './live-loop.js';
import type { CountedInterval, LiveLoopModel } from './live-loop.js';
import { decidePush, initialPushState } from '../observe/push-rule.js';
import type { PushRuleState } from '../observe/push-rule.js';

export interface BatchAwareOptions extends Omit<BatchAwareInput, 'recent' | 'config' | 'tolerance'> {
  /** How often to look for a batch change (simulated ms). */
  readonly intervalMs: number;
  /** How much recent traffic the estimator replays. */
  readonly windowMs: number;
  /** The configuration the run starts from (hardware per stage never changes). */
  readonly initial: Readonly<Record<string, StageConfig>>;
}

export interface TunerControllerOptions {
  readonly name: string;
  readonly tuner: Tuner;
  readonly tickMs: number;
  /** Scale every stage together to the largest target (coarse-grained baseline). */
  readonly unit?: boolean;
  readonly batchAware?: BatchAwareOptions;
  /** Run the live loop's delays (scrape, push rule, actuation) instead of an ideal loop that sees every arrival and acts at once. */
  readonly liveLoop?: LiveLoopModel;
}

export interface TunerController extends Controller {
  /** Every decision that was not a hold, with its time (for reports and tests). */
  readonly decisions: { readonly tMs: number; readonly decision: TunerDecision }[];
  /** Batch changes made by the batch-aware mode. */
  readonly batchChanges: { readonly tMs: number; readonly proposal: BatchProposal }[];
  /** With a live loop: each push of counts to the tuner, and each decision's replicas reaching the server. */
  readonly pushes: { readonly tMs: number; readonly reason: string }[];
  readonly applied: { readonly tMs: number; readonly targets: Readonly<Record<string, number>> }[];
}

export function tunerController(options: TunerControllerOptions): TunerController {
  let tuner = options.tuner;
  const windowsMs = tuner.plan.envelope.map((p) => p.windowMs);
  const loop = options.liveLoop;
  // Fed by pushed counts, the envelopes take them as the live leader's do (runtime/tuner-loop.ts).
  const coarse = loop ? { resolutionMs: countResolutionMs(loop.scrapeIntervalMs), evenWithinBucket: true } : {};
  const live = new LiveEnvelope({ windowsMs, horizonMs: 60_000, ...coarse });
  const recent = new LiveEnvelope({ ...recentEnvelopeOptions(tuner.plan, tuner.options), ...coarse });
  let state: TunerState | undefined;
  const decisions: { tMs: number; decision: TunerDecision }[] = [];
  const batchChanges: { tMs: number; proposal: BatchProposal }[] = [];
  const ba = options.batchAware;
  const batch: Record<string, number> = {};
  if (ba) for (const [name, c] of Object.entries(ba.initial)) batch[name] = c.batchSize;
  const arrivals = new RecentArrivals();
  let lastBatchCheck = -Infinity;
  let pendingBatch: Record<string, number> | undefined;
  const lastTicks: number[] = [];
  const ticksPerSecond = Math.max(1, Math.round(1000 / options.tickMs));

  const throughput = (stage: number, name: string, batchSize: number): number => {
    const c = ba?.initial[name] as StageConfig;
    return replicaThroughput((ba as BatchAwareOptions).estimator, stage, { ...c, batchSize });
  };

  const tryBatch = (view: ControlView, replicas: Record<string, number>): ReplicaTargets | undefined => {
    if (!ba || view.nowMs - lastBatchCheck < ba.intervalMs) return undefined;
    lastBatchCheck = view.nowMs;
    const recentTrace = arrivals.traceSince(view.nowMs - ba.windowMs);
    const config: Record<string, StageConfig> = {};
    for (const [name, c] of Object.entries(ba.initial)) {
      config[name] = { hardware: c.hardware, batchSize: batch[name] as number, replicas: replicas[name] as number };
    }
    const p = proposeBatchChange({ ...ba, recent: recentTrace, config });
    if (!p) return undefined;
    const s = ba.estimator.pipeline.stageNames.indexOf(p.stage);
    const factor = throughput(s, p.stage, batch[p.stage] as number) / throughput(s, p.stage, p.batchSize);
    const rescaled = rescaledTuner(tuner, p.stage, factor);
    // A change the tuner's own rule would undo at once (it asks for more replicas of the larger
    // batch on today's envelope than the estimator found enough) saves nothing: keep the batch.
    if ((rescaled.replicasFor(live.snapshot(view.nowMs))[p.stage] as number) > p.replicas) return undefined;
    batchChanges.push({ tMs: view.nowMs, proposal: p });
    batch[p.stage] = p.batchSize;
    pendingBatch = { [p.stage]: p.batchSize };
    tuner = rescaled;
    return { [p.stage]: p.replicas };
  };

  const decideOn = (nowMs: number, replicas: Record<string, number>, queued: Record<string, number>, arrivalRateQps: number | undefined, envelopeAtMs: number): TunerDecision => {
    state ??= tuner.initialState(nowMs);
    const out = tuner.decide({
      nowMs,
      envelope: live.snapshot(envelopeAtMs),
      recentEnvelope: recent.snapshot(envelopeAtMs),
      replicas,
      queued,
      ...(arrivalRateQps !== undefined && Number.isFinite(arrivalRateQps) ? { arrivalRateQps } : {}),
    }, state);
    state = out.state;
    if (out.decision.kind === 'scale' || out.decision.replan) decisions.push({ tMs: nowMs, decision: out.decision });
    return out.decision;
  };

  const targetsOf = (decision: TunerDecision, stages: readonly string[]): Record<string, number> => decisionTargets(decision, stages, options.unit === true);

  const pushes: { tMs: number; reason: string }[] = [];
  const applied: { tMs: number; targets: Readonly<Record<string, number>> }[] = [];
  const liveTick = loop ? liveLoopTicker(loop, options.tickMs, { decideOn, targetsOf, live, recent, pushes, applied }) : undefined;

  return {
    name: options.name,
    tickMs: liveTick ? liveTick.tickMs : options.tickMs,
    decisions,
    batchChanges,
    pushes,
    applied,
    ...(liveTick ? { nextTickMs: (nowMs: number) => liveTick.next(nowMs) } : {}),
    observeArrival(tMs: number): void {
      if (liveTick) liveTick.count(tMs);
      else {
        live.addArrival(tMs);
        recent.addArrival(tMs);
      }
      if (ba) arrivals.add(tMs);
    },
    tick(view: ControlView): ReplicaTargets | undefined {
      if (liveTick) return liveTick.tick(view);
      lastTicks.push(view.arrivals);
      if (lastTicks.length > ticksPerSecond) lastTicks.shift();
      const replicas: Record<string, number> = {};
      const queued: Record<string, number> = {};
      for (const s of view.stages) {
        replicas[s.stage] = s.provisioned;
        queued[s.stage] = s.queueLength;
      }
      const rate = lastTicks.reduce((a, b) => a + b, 0) / ((lastTicks.length * options.tickMs) / 1000);
      const decision = decideOn(view.nowMs, replicas, queued, rate, view.nowMs);
      if (decision.kind === 'hold') return tryBatch(view, replicas);
      return targetsOf(decision, view.stages.map((s) => s.stage));
    },
    batchTargets(): Readonly<Record<string, number>> | undefined {
      const b = pendingBatch;
      pendingBatch = undefined;
      return b;
    },
  };
}

/** Recent arrivals for the batch-aware replays: a growable buffer, trimmed to the window. */
class RecentArrivals {
  private arrivals = new Float64Array(1024);
  private head = 0;
  private tail = 0;

  add(tMs: number): void {
    if (this.tail === this.arrivals.length) {
      const keep = this.arrivals.subarray(this.head, this.tail);
      const grown = new Float64Array(Math.max(1024, keep.length * 2));
      grown.set(keep);
      this.arrivals = grown;
      this.tail -= this.head;
      this.head = 0;
    }
    this.arrivals[this.tail++] = tMs;
  }

  /** Drops the arrivals before `fromMs`; the rest as a trace (seconds). */
  traceSince(fromMs: number): Float64Array {
    while (this.head < this.tail && (this.arrivals[this.head] as number) < fromMs) this.head++;
    return this.arrivals.slice(this.head, this.tail).map((t) => t / 1000);
  }
}

/** The tuner with `stage`'s planned replicas (and its points on the scaling curve) × factor and its replica throughput / factor. */
function rescaledTuner(tuner: Tuner, stage: string, factor: number): Tuner {
  const rescale = (replicas: Readonly<Record<string, number>>) => ({ ...replicas, [stage]: (replicas[stage] as number) * factor });
  return createTuner({
    ...tuner.plan,
    stages: tuner.plan.stages.map((st) => (st.name === stage
      ? { ...st, plannedReplicas: st.plannedReplicas * factor, replicaThroughputQps: st.replicaThroughputQps / factor }
      : st)),
    ...(tuner.plan.scaling ? { scaling: tuner.plan.scaling.map((pt) => ({ factor: pt.factor, replicas: rescale(pt.replicas) })) } : {}),
  }, tuner.options);
}

/** The replicas a decision sets per stage (none for a hold); in `unit` mode every stage gets the largest. */
function decisionTargets(decision: TunerDecision, stages: readonly string[], unit: boolean): Record<string, number> {
  const targets: Record<string, number> = {};
  if (decision.kind !== 'scale') return targets;
  if (unit) {
    const to = Math.max(...decision.changes.map((c) => c.to));
    for (const s of stages) targets[s] = to;
  } else {
    for (const c of decision.changes) targets[c.stage] = c.to;
  }
  return targets;
}

interface LoopParts {
  decideOn(nowMs: number, replicas: Record<string, number>, queued: Record<string, number>, arrivalRateQps: number | undefined, envelopeAtMs: number): TunerDecision;
  targetsOf(decision: TunerDecision, stages: readonly string[]): Record<string, number>;
  readonly live: LiveEnvelope;
  readonly recent: LiveEnvelope;
  readonly pushes: { tMs: number; reason: string }[];
  readonly applied: { tMs: number; targets: Readonly<Record<string, number>> }[];
}

/**
 * The live loop around the tuner: scrapes every scrapeIntervalMs from the first arrival (shifted by
 * the scrape phase), pushes by the push rule, decides on each push and every tuner tick, and applies
 * each decision actuationDelayMs later. Ticks come exactly at those times (nextTickMs).
 */
function liveLoopTicker(loop: LiveLoopModel, tunerTickMs: number, parts: LoopParts) {
  const scrapeMs = loop.scrapeIntervalMs;
  if (!(scrapeMs > 0) || !(loop.pushIntervalMs > 0) || !(loop.actuationDelayMs >= 0)) {
    throw new RangeError('live loop: the scrape and push intervals must be > 0 ms and the actuation delay ≥ 0 ms');
  }
  const phase = Math.min(1, Math.max(0, loop.scrapePhase ?? 0));
  let started = false;
  let nextScrape = Infinity;
  let nextTune = Infinity;
  // The scrape interval being counted, and what was scraped and held since the last push.
  let scrapeFrom = 0;
  let scrapeCount = 0;
  let heldFrom = 0;
  let heldCount = 0;
  let pushState: PushRuleState = initialPushState();
  let watermark = Number.NEGATIVE_INFINITY;
  const delivered: CountedInterval[] = [];
  let queuedAtPush: Record<string, number> = {};
  let desired: Record<string, number> | undefined;
  const pending: { dueMs: number; targets: Record<string, number> }[] = [];

  const start = (t: number): void => {
    if (started) return;
    started = true;
    scrapeFrom = t;
    heldFrom = t;
    nextScrape = t + (phase > 0 ? phase : 1) * scrapeMs;
    nextTune = t + tunerTickMs;
  };

  const deliver = (iv: CountedInterval): void => {
    if (iv.count > 0) {
      parts.live.addCount(iv.fromMs, iv.toMs, iv.count);
      parts.recent.addCount(iv.fromMs, iv.toMs, iv.count);
    }
    delivered.push(iv);
  };

  return {
    tickMs: Math.min(scrapeMs, tunerTickMs),
    count(tMs: number): void {
      start(tMs);
      scrapeCount++;
    },
    next(nowMs: number): number {
      start(nowMs);
      const due = pending[0]?.dueMs ?? Infinity;
      return Math.min(nextScrape, nextTune, due);
    },
    tick(view: ControlView): ReplicaTargets | undefined {
      const now = view.nowMs;
      start(now);
      const stages = view.stages.map((s) => s.stage);
      desired ??= Object.fromEntries(view.stages.map((s) => [s.stage, s.provisioned]));
      let decide = false;
      if (now >= nextScrape) {
        const { decision, state } = decidePush(now, [{ model: 'entry', windowMs: now - scrapeFrom, arrivals: scrapeCount }], pushState, { heartbeatMs: loop.pushIntervalMs });
        pushState = state;
        if (decision.kind === 'push') {
          if (heldFrom < scrapeFrom) deliver({ fromMs: heldFrom, toMs: scrapeFrom, count: heldCount });
          deliver({ fromMs: scrapeFrom, toMs: now, count: scrapeCount });
          while (delivered.length > 0 && (delivered[0] as CountedInterval).toMs <= now - 1000) delivered.shift();
          watermark = now;
          queuedAtPush = Object.fromEntries(view.stages.map((s) => [s.stage, s.queueLength]));
          parts.pushes.push({ tMs: now, reason: decision.reason });
          heldFrom = now;
          heldCount = 0;
          decide = true;
        } else {
          heldCount += scrapeCount;
        }
        scrapeFrom = now;
        scrapeCount = 0;
        while (nextScrape <= now) nextScrape += scrapeMs;
      }
      if (now >= nextTune) {
        decide = true;
        while (nextTune <= now) nextTune += tunerTickMs;
      }
      // Before the first push the leader has nothing to decide on.
      if (decide && watermark > Number.NEGATIVE_INFINITY) {
        const d = parts.decideOn(now, { ...desired }, queuedAtPush, lastSecondRate(delivered, watermark), Math.min(now, watermark));
        const targets = parts.targetsOf(d, stages);
        if (Object.keys(targets).length > 0) {
          Object.assign(desired, targets);
          pending.push({ dueMs: now + loop.actuationDelayMs, targets });
        }
      }
      // Decisions reach the server in order; a later one supersedes an earlier one stage by stage.
      let out: Record<string, number> | undefined;
      while (pending.length > 0 && (pending[0] as { dueMs: number }).dueMs <= now) {
        const p = pending.shift() as { dueMs: number; targets: Record<string, number> };
        out = { ...out, ...p.targets };
        parts.applied.push({ tMs: now, targets: p.targets });
      }
      return out;
    },
  };
}
