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
import { LiveEnvelope } from '../live-envelope.js';
import type { ControlView, Controller, ReplicaTargets } from '../estimator.js';
import { createTuner, recentEnvelopeOptions } from '../tuner/tuner.js';
import type { Tuner, TunerDecision, TunerState } from '../tuner/tuner.js';
import { proposeBatchChange } from '../tuner/batch-aware.js';
import { replicaThroughput } from '../tuner/tuner-plan.js';
import type { BatchAwareInput, BatchProposal } from '../tuner/batch-aware.js';
import type { StageConfig } from '../types.js';

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
}

export interface TunerController extends Controller {
  /** Every decision that was not a hold, with its time (for reports and tests). */
  readonly decisions: { readonly tMs: number; readonly decision: TunerDecision }[];
  /** Batch changes made by the batch-aware mode. */
  readonly batchChanges: { readonly tMs: number; readonly proposal: BatchProposal }[];
}

export function tunerController(options: TunerControllerOptions): TunerController {
  let tuner = options.tuner;
  const windowsMs = tuner.plan.envelope.map((p) => p.windowMs);
  const live = new LiveEnvelope({ windowsMs, horizonMs: 60_000 });
  const recent = new LiveEnvelope(recentEnvelopeOptions(tuner.plan, tuner.options));
  let state: TunerState | undefined;
  const decisions: { tMs: number; decision: TunerDecision }[] = [];
  const batchChanges: { tMs: number; proposal: BatchProposal }[] = [];
  const ba = options.batchAware;
  const batch: Record<string, number> = {};
  if (ba) for (const [name, c] of Object.entries(ba.initial)) batch[name] = c.batchSize;
  // Recent arrivals for the batch-aware replays: a growable buffer, trimmed to the window.
  let arrivals = new Float64Array(1024);
  let head = 0;
  let tail = 0;
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
    while (head < tail && (arrivals[head] as number) < view.nowMs - ba.windowMs) head++;
    const recentTrace = arrivals.slice(head, tail).map((t) => t / 1000);
    const config: Record<string, StageConfig> = {};
    for (const [name, c] of Object.entries(ba.initial)) {
      config[name] = { hardware: c.hardware, batchSize: batch[name] as number, replicas: replicas[name] as number };
    }
    const p = proposeBatchChange({ ...ba, recent: recentTrace, config });
    if (!p) return undefined;
    const s = ba.estimator.pipeline.stageNames.indexOf(p.stage);
    const factor = throughput(s, p.stage, batch[p.stage] as number) / throughput(s, p.stage, p.batchSize);
    const rescale = (replicas: Readonly<Record<string, number>>) => ({ ...replicas, [p.stage]: (replicas[p.stage] as number) * factor });
    const rescaled = createTuner({
      ...tuner.plan,
      stages: tuner.plan.stages.map((st) => (st.name === p.stage
        ? { ...st, plannedReplicas: st.plannedReplicas * factor, replicaThroughputQps: st.replicaThroughputQps / factor }
        : st)),
      ...(tuner.plan.scaling ? { scaling: tuner.plan.scaling.map((pt) => ({ factor: pt.factor, replicas: rescale(pt.replicas) })) } : {}),
    }, tuner.options);
    // A change the tuner's own rule would undo at once (it asks for more replicas of the larger
    // batch on today's envelope than the estimator found enough) saves nothing: keep the batch.
    if ((rescaled.replicasFor(live.snapshot(view.nowMs))[p.stage] as number) > p.replicas) return undefined;
    batchChanges.push({ tMs: view.nowMs, proposal: p });
    batch[p.stage] = p.batchSize;
    pendingBatch = { [p.stage]: p.batchSize };
    tuner = rescaled;
    return { [p.stage]: p.replicas };
  };

  return {
    name: options.name,
    tickMs: options.tickMs,
    decisions,
    batchChanges,
    observeArrival(tMs: number): void {
      live.addArrival(tMs);
      recent.addArrival(tMs);
      if (ba) {
        if (tail === arrivals.length) {
          const keep = arrivals.subarray(head, tail);
          const grown = new Float64Array(Math.max(1024, keep.length * 2));
          grown.set(keep);
          arrivals = grown;
          tail -= head;
          head = 0;
        }
        arrivals[tail++] = tMs;
      }
    },
    tick(view: ControlView): ReplicaTargets | undefined {
      state ??= tuner.initialState(view.nowMs);
      lastTicks.push(view.arrivals);
      if (lastTicks.length > ticksPerSecond) lastTicks.shift();
      const replicas: Record<string, number> = {};
      const queued: Record<string, number> = {};
      for (const s of view.stages) {
        replicas[s.stage] = s.provisioned;
        queued[s.stage] = s.queueLength;
      }
      const out = tuner.decide({
        nowMs: view.nowMs,
        envelope: live.snapshot(view.nowMs),
        recentEnvelope: recent.snapshot(view.nowMs),
        replicas,
        queued,
        arrivalRateQps: lastTicks.reduce((a, b) => a + b, 0) / ((lastTicks.length * options.tickMs) / 1000),
      }, state);
      state = out.state;
      if (out.decision.kind === 'hold') {
        if (out.decision.replan) decisions.push({ tMs: view.nowMs, decision: out.decision });
        return tryBatch(view, replicas);
      }
      decisions.push({ tMs: view.nowMs, decision: out.decision });
      const targets: Record<string, number> = {};
      if (options.unit) {
        const to = Math.max(...out.decision.changes.map((c) => c.to));
        for (const s of view.stages) targets[s.stage] = to;
      } else {
        for (const c of out.decision.changes) targets[c.stage] = c.to;
      }
      return targets;
    },
    batchTargets(): Readonly<Record<string, number>> | undefined {
      const b = pendingBatch;
      pendingBatch = undefined;
      return b;
    },
  };
}
