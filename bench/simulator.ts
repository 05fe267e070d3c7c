// Simulator throughput: stage visits per second on a 100k-query trace through a 4-stage pipeline
// (video-monitoring: a detector feeding two conditional branches and a chained OCR stage).
import { compilePipeline } from '../src/core/pipeline.js';
import { Estimator } from '../src/core/estimator.js';
import { plan } from '../src/core/planner/index.js';
import { median, reference, trace } from './reference.js';

export async function benchSimulator(): Promise<void> {
  const { config, profiles } = await reference();
  const spec = config.pipelines.find((p) => p.name === 'video-monitoring');
  if (!spec) throw new Error('reference config lacks video-monitoring');
  const workload = 'gamma:rate=150,cv=4,duration=720s';
  const t = trace(workload).slice(0, 100_000);
  // A realistic configuration: the greedy plan for this rate.
  const planned = plan({
    pipeline: spec, hardware: config.hardware, profiles, trace: trace('gamma:rate=150,cv=4,duration=60s'), workload,
    planner: 'greedy', options: { seed: 1, maxReplicasPerStage: 64 },
  });
  const est = new Estimator(compilePipeline(spec), profiles);
  const rates: number[] = [];
  let visits = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = est.estimate(planned.stages, t, { seed: 1, sloMs: spec.slo.latencyMs, percentile: 99 });
    const dt = (performance.now() - t0) / 1000;
    visits = r.stageVisits;
    if (i >= 2) rates.push(r.stageVisits / dt);
  }
  const m = median(rates);
  console.log('simulator');
  console.log(`  ${t.length} queries, ${visits} stage visits through ${spec.stages.length} stages (video-monitoring)`);
  console.log(`  throughput: ${(m / 1e6).toFixed(2)} M stage-visits/s (median of 5 after 2 warm-up runs; target ≥ 2 M/s)`);
  console.log('');
}
