// Closed-loop comparison: every controller on the same trace and seed, per reference pipeline,
// under bursty workloads (gamma CV 4; steps ×2 and ×4 with CV 4 bursts). The plan is made on the
// config's planning workload; the controllers then run on the evaluation trace. Activation delay
// of new replicas: 0 (a warm pool), and 1 s for InferLine alone, to show what start-up costs.
// The controllers run in an ideal loop (every arrival seen at once, decisions applied at once);
// one more column runs InferLine inside the live agent's default loop (DEFAULT_LIVE_LOOP: the
// scrape interval, push on change, decision to server; docs/live-control.md).
import { plan } from '../src/core/planner/index.js';
import { CONTROLLER_KINDS, runClosedLoop } from '../src/core/sim/closed-loop.js';
import type { ControllerKind, PlanForLoop } from '../src/core/sim/closed-loop.js';
import { createTuner } from '../src/core/tuner/tuner.js';
import { computeEnvelope, envelopeWindowsMs } from '../src/core/arrival/envelope.js';
import { median, reference, trace } from './reference.js';
import { DEFAULT_LIVE_LOOP } from '../src/core/controllers/live-loop.js';
import type { InferlineConfig } from '../src/config/index.js';
import type { ProfileSet } from '../src/core/model/profiles.js';
import type { PipelineSpec } from '../src/core/model/types.js';

const WORKLOADS: { name: string; spec: string }[] = [
  { name: 'gamma CV 4', spec: 'gamma:rate=150,cv=4,duration=300s' },
  { name: 'step ×2', spec: 'gamma:rate=100,cv=1,duration=120s;gamma:rate=200,cv=4,duration=120s;gamma:rate=100,cv=1,duration=120s' },
  { name: 'step ×4', spec: 'gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s;gamma:rate=100,cv=1,duration=120s' },
];

/** The plan the closed loop starts from: made on the config's planning workload, seed 1. */
function planForLoop(config: InferlineConfig, profiles: ProfileSet, planTrace: Float64Array, spec: PipelineSpec, planner: 'greedy' | 'coarse'): PlanForLoop {
  const p = plan({ pipeline: spec, hardware: config.hardware, profiles, trace: planTrace, workload: config.planner.arrival, planner, options: { seed: 1, maxReplicasPerStage: 64 } });
  return { stages: p.stages, envelope: p.envelope, plannedRateQps: p.workload.meanRateQps, slack: p.slack, scaling: p.scaling };
}

export async function benchClosedLoop(): Promise<void> {
  const { config, profiles } = await reference();
  const planTrace = trace(config.planner.arrival, config.planner.seed);
  console.log(`closed loop (plans on ${config.planner.arrival}; each cell: SLO miss rate / mean cost $/h; seed 1)`);
  const header = ['pipeline', ...CONTROLLER_KINDS, 'inferline, 1 s start-up', 'inferline, live loop'];
  let worst = 0;
  for (const w of WORKLOADS) {
    const evalTrace = trace(w.spec, 1);
    console.log(`  ${w.name}: ${w.spec}`);
    const rows: string[][] = [header];
    for (const spec of config.pipelines) {
      const planned = planForLoop(config, profiles, planTrace, spec, 'greedy');
      const coarse = planForLoop(config, profiles, planTrace, spec, 'coarse');
      const cell = (controller: ControllerKind, activationDelayMs = 0, live = false): string => {
        const { result } = runClosedLoop({
          pipeline: spec, hardware: config.hardware.map((h) => ({ ...h, activationDelayMs })), profiles, plan: planned, coarsePlan: coarse,
          trace: evalTrace, seed: 1, controller, maxReplicasPerStage: 64, ...(live ? { liveLoop: DEFAULT_LIVE_LOOP } : {}),
        });
        if (controller === 'inferline' && activationDelayMs === 0 && !live) worst = Math.max(worst, result.sloMissRate);
        return `${(result.sloMissRate * 100).toFixed(2)}% / ${result.meanCostPerHour.toFixed(2)}`;
      };
      rows.push([spec.name, ...CONTROLLER_KINDS.map((k) => cell(k)), cell('inferline', 1000), cell('inferline', 0, true)]);
    }
    const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
    for (const r of rows) console.log(`    ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`);
  }
  console.log(`  worst InferLine SLO miss rate (no start-up delay): ${(worst * 100).toFixed(2)}% (target ≤ 1 %)`);
  console.log('');
}

/** The same cells on seeds 1–5 (trace and estimator): how robust the seed-1 table is. */
export async function benchClosedLoopSeeds(): Promise<void> {
  const { config, profiles } = await reference();
  const planTrace = trace(config.planner.arrival, config.planner.seed);
  const plans = config.pipelines.map((spec) => {
    return { spec, planned: planForLoop(config, profiles, planTrace, spec, 'greedy') };
  });
  const seeds = [1, 2, 3, 4, 5];
  console.log(`closed loop on seeds ${seeds.join(', ')} (${seeds.length} × ${WORKLOADS.length} workloads × ${plans.length} pipelines; no start-up delay)`);
  for (const w of WORKLOADS) {
    let worst = 0;
    let worstStartup = 0;
    let below = 0;
    let equal = 0;
    let above = 0;
    const vsHpa: number[] = [];
    const vsRay: number[] = [];
    for (const seed of seeds) {
      const evalTrace = trace(w.spec, seed);
      for (const { spec, planned } of plans) {
        const go = (controller: ControllerKind, activationDelayMs = 0) => runClosedLoop({
          pipeline: spec, hardware: config.hardware.map((h) => ({ ...h, activationDelayMs })), profiles, plan: planned, trace: evalTrace, seed, controller, maxReplicasPerStage: 64,
        }).result;
        const il = go('inferline');
        const peak = go('static-peak');
        worst = Math.max(worst, il.sloMissRate);
        worstStartup = Math.max(worstStartup, go('inferline', 1000).sloMissRate);
        const d = il.meanCostPerHour - peak.meanCostPerHour;
        if (d < -0.005) below++;
        else if (d > 0.005) above++;
        else equal++;
        const ratio = (x: number) => x / Math.max(il.sloMissRate, 1e-4);
        vsHpa.push(ratio(go('hpa').sloMissRate));
        vsRay.push(ratio(go('ray').sloMissRate));
      }
    }
    console.log(`  ${w.name.padEnd(10)}  worst InferLine miss ${(worst * 100).toFixed(2)}% (1 s start-up ${(worstStartup * 100).toFixed(2)}%)   cost vs static peak: ${below} below, ${equal} equal, ${above} above   HPA / InferLine misses median ${median(vsHpa).toFixed(1)}× (max ${Math.max(...vsHpa).toFixed(1)}×), Ray median ${median(vsRay).toFixed(1)}× (max ${Math.max(...vsRay).toFixed(1)}×)`);
  }
  console.log('');
}

/** The batch-aware tuner mode against the plain tuner, on every workload. */
export async function benchBatchAware(): Promise<void> {
  const { config, profiles } = await reference();
  const planTrace = trace(config.planner.arrival, config.planner.seed);
  console.log('batch-aware tuner mode (off by default): SLO miss rate / mean cost $/h; seed 1');
  const plans = config.pipelines.map((spec) => {
    return { spec, planned: planForLoop(config, profiles, planTrace, spec, 'greedy') };
  });
  for (const w of WORKLOADS) {
    const evalTrace = trace(w.spec, 1);
    console.log(`  ${w.name}`);
    const rows: string[][] = [['pipeline', 'tuner', 'tuner + batch-aware', 'cost change', 'batch changes']];
    for (const { spec, planned } of plans) {
      const go = (batchAware: boolean) => runClosedLoop({
        pipeline: spec, hardware: config.hardware, profiles, plan: planned, trace: evalTrace, seed: 1, controller: 'inferline', maxReplicasPerStage: 64,
        ...(batchAware ? { batchAware: { intervalMs: 15_000, windowMs: 30_000 } } : {}),
      });
      const a = go(false).result;
      const b = go(true);
      const changes = (b.controller as unknown as { batchChanges: unknown[] }).batchChanges.length;
      const fmt = (r: typeof a) => `${(r.sloMissRate * 100).toFixed(2)}% / ${r.meanCostPerHour.toFixed(2)}`;
      rows.push([spec.name, fmt(a), fmt(b.result), `${(((b.result.meanCostPerHour / a.meanCostPerHour) - 1) * 100).toFixed(1)}%`, String(changes)]);
    }
    const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
    for (const r of rows) console.log(`    ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`);
  }
  console.log('');
}

/** The tuner's decide() on a 10-stage pipeline: microseconds per call. */
export async function benchTuner(): Promise<void> {
  const planned = trace('gamma:rate=200,cv=4,duration=60s', 1);
  const live = trace('gamma:rate=300,cv=4,duration=60s', 2);
  const windows = envelopeWindowsMs(50);
  const stages = Array.from({ length: 10 }, (_, i) => ({
    name: `s${i}`, plannedReplicas: 4 + i, minReplicas: 1, maxReplicas: 64, activationDelayMs: 1000, replicaThroughputQps: 50,
  }));
  const tuner = createTuner({ stages, envelope: computeEnvelope(planned, windows), plannedRateQps: 200 });
  const snapshot = {
    nowMs: 60_000, envelope: computeEnvelope(live, windows), recentEnvelope: computeEnvelope(live.subarray(live.length >> 1), windows),
    replicas: Object.fromEntries(stages.map((s) => [s.name, s.plannedReplicas])), queued: Object.fromEntries(stages.map((s) => [s.name, 20])),
  };
  let state = tuner.initialState(0);
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const n = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) state = tuner.decide({ ...snapshot, nowMs: snapshot.nowMs + i }, state).state;
    if (r >= 2) rounds.push(((performance.now() - t0) * 1000) / n);
  }
  console.log('tuner');
  console.log(`  decide() on a 10-stage pipeline, ${windows.length} windows: ${median(rounds).toFixed(1)} µs per call (median of 5 × 20k; target < 1 ms)`);
  console.log('');
}
