// A Kubernetes-HPA-like autoscaler, per stage: every period (15 s) it compares the stage's
// utilisation with a target; outside a 10 % tolerance it wants ⌈replicas × utilisation / target⌉.
// Scale-up is limited per period to max(2×, +4) replicas (the HPA's default policy); scale-down
// takes the highest recommendation of the stabilisation window (300 s). It sees only utilisation:
// nothing of batching, the pipeline or the SLO, as in a real cluster.
import type { ControlView, Controller, ReplicaTargets } from '../sim/estimator.js';

export interface HpaOptions {
  readonly periodMs: number;
  readonly targetUtilisation: number;
  readonly tolerance: number;
  readonly stabilisationMs: number;
  readonly minReplicas: Readonly<Record<string, number>>;
  readonly maxReplicas: Readonly<Record<string, number>>;
}

export const DEFAULT_HPA = { periodMs: 15_000, targetUtilisation: 0.7, tolerance: 0.1, stabilisationMs: 300_000 } as const;

export function hpaController(options: HpaOptions): Controller {
  const history = new Map<string, { tMs: number; want: number }[]>();
  return {
    name: 'hpa',
    tickMs: options.periodMs,
    observeArrival(): void { /* utilisation only */ },
    tick(view: ControlView): ReplicaTargets | undefined {
      const targets: Record<string, number> = {};
      for (const s of view.stages) {
        const cur = s.provisioned;
        const lo = options.minReplicas[s.stage] ?? 1;
        const hi = options.maxReplicas[s.stage] ?? cur;
        let want = cur;
        if (s.active > 0) {
          const util = s.busyMs / (s.active * options.periodMs);
          const ratio = util / options.targetUtilisation;
          if (Math.abs(ratio - 1) > options.tolerance) want = Math.ceil(cur * ratio - 1e-9);
        }
        want = Math.min(hi, Math.max(lo, want));
        const h = (history.get(s.stage) ?? []).filter((x) => view.nowMs - x.tMs < options.stabilisationMs);
        h.push({ tMs: view.nowMs, want });
        history.set(s.stage, h);
        let next: number;
        if (want > cur) next = Math.min(want, Math.max(2 * cur, cur + 4));
        else next = Math.min(cur, Math.max(...h.map((x) => x.want)));
        if (next !== cur) targets[s.stage] = next;
      }
      return Object.keys(targets).length > 0 ? targets : undefined;
    },
  };
}
