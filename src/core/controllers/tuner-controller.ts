// InferLine's tuner in the closed loop: live envelopes fed by every arrival, decide() every tick.
// In `unit` mode (the coarse-grained baseline) the whole pipeline scales as one: every stage gets
// the largest replica count the tuner wants for any of them.
import { LiveEnvelope } from '../live-envelope.js';
import type { ControlView, Controller, ReplicaTargets } from '../estimator.js';
import type { Tuner, TunerDecision, TunerState } from '../tuner/tuner.js';

export interface TunerControllerOptions {
  readonly name: string;
  readonly tuner: Tuner;
  readonly tickMs: number;
  /** Scale every stage together to the largest target (coarse-grained baseline). */
  readonly unit?: boolean;
}

export interface TunerController extends Controller {
  /** Every decision that was not a hold, with its time (for reports and tests). */
  readonly decisions: { readonly tMs: number; readonly decision: TunerDecision }[];
}

export function tunerController(options: TunerControllerOptions): TunerController {
  const { tuner } = options;
  const windowsMs = tuner.plan.envelope.map((p) => p.windowMs);
  const live = new LiveEnvelope({ windowsMs, horizonMs: 60_000 });
  const recent = new LiveEnvelope({ windowsMs, horizonMs: Math.max(tuner.options.scaleDownWindowMs, Math.max(...windowsMs)) });
  let state: TunerState | undefined;
  const decisions: { tMs: number; decision: TunerDecision }[] = [];
  return {
    name: options.name,
    tickMs: options.tickMs,
    decisions,
    observeArrival(tMs: number): void {
      live.addArrival(tMs);
      recent.addArrival(tMs);
    },
    tick(view: ControlView): ReplicaTargets | undefined {
      state ??= tuner.initialState(view.nowMs);
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
      }, state);
      state = out.state;
      if (out.decision.kind === 'hold') {
        if (out.decision.replan) decisions.push({ tMs: view.nowMs, decision: out.decision });
        return undefined;
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
  };
}
