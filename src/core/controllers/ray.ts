// A Ray-Serve-like autoscaler, per stage: replicas report their ongoing requests (queued and in
// service) every metrics interval (10 s); the policy wants ⌈average ongoing over the look-back
// window / target per replica⌉, and acts only when that has held for the upscale delay (30 s) or
// the downscale delay (600 s). It knows nothing of batching, the pipeline or the SLO.
import type { ControlView, Controller, ReplicaTargets } from '../sim/estimator.js';

export interface RayOptions {
  readonly tickMs: number;
  readonly metricsIntervalMs: number;
  readonly lookBackMs: number;
  readonly targetOngoingRequests: number;
  readonly upscaleDelayMs: number;
  readonly downscaleDelayMs: number;
  readonly minReplicas: Readonly<Record<string, number>>;
  readonly maxReplicas: Readonly<Record<string, number>>;
}

export const DEFAULT_RAY = {
  tickMs: 1000, metricsIntervalMs: 10_000, lookBackMs: 30_000, targetOngoingRequests: 2, upscaleDelayMs: 30_000, downscaleDelayMs: 600_000,
} as const;

interface StageState {
  samples: number[];
  reports: { tMs: number; ongoing: number }[];
  lastReportMs: number;
  upSinceMs: number | null;
  downSinceMs: number | null;
}

export function rayController(options: RayOptions): Controller {
  const states = new Map<string, StageState>();
  return {
    name: 'ray',
    tickMs: options.tickMs,
    observeArrival(): void { /* ongoing requests only */ },
    tick(view: ControlView): ReplicaTargets | undefined {
      const targets: Record<string, number> = {};
      for (const s of view.stages) {
        let st = states.get(s.stage);
        if (!st) {
          st = { samples: [], reports: [], lastReportMs: view.nowMs, upSinceMs: null, downSinceMs: null };
          states.set(s.stage, st);
        }
        st.samples.push(s.queueLength + s.inService);
        if (view.nowMs - st.lastReportMs >= options.metricsIntervalMs) {
          st.reports.push({ tMs: view.nowMs, ongoing: st.samples.reduce((a, b) => a + b, 0) / st.samples.length });
          st.samples = [];
          st.lastReportMs = view.nowMs;
          st.reports = st.reports.filter((r) => view.nowMs - r.tMs < options.lookBackMs);
        }
        if (st.reports.length === 0) continue;
        const avg = st.reports.reduce((a, r) => a + r.ongoing, 0) / st.reports.length;
        const cur = s.provisioned;
        const lo = options.minReplicas[s.stage] ?? 1;
        const hi = options.maxReplicas[s.stage] ?? cur;
        const want = Math.min(hi, Math.max(lo, Math.ceil(avg / options.targetOngoingRequests - 1e-9)));
        if (want > cur) {
          st.downSinceMs = null;
          st.upSinceMs ??= view.nowMs;
          if (view.nowMs - st.upSinceMs >= options.upscaleDelayMs) {
            targets[s.stage] = want;
            st.upSinceMs = null;
          }
        } else if (want < cur) {
          st.upSinceMs = null;
          st.downSinceMs ??= view.nowMs;
          if (view.nowMs - st.downSinceMs >= options.downscaleDelayMs) {
            targets[s.stage] = want;
            st.downSinceMs = null;
          }
        } else {
          st.upSinceMs = null;
          st.downSinceMs = null;
        }
      }
      return Object.keys(targets).length > 0 ? targets : undefined;
    },
  };
}
