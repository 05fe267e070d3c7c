// Planner wall time per reference pipeline and the 10-stage one (greedy, scaling curve included), on the reference planning workload.
import { plan } from '../src/core/planner/index.js';
import { median, reference, tenStagePipeline, trace } from './reference.js';

export async function benchPlanner(): Promise<void> {
  const { config, profiles } = await reference();
  const workload = config.planner.arrival;
  const t = trace(workload, config.planner.seed);
  console.log(`planner wall time (greedy; workload ${workload}, ${t.length} queries; median of 3)`);
  for (const spec of [...config.pipelines, tenStagePipeline()]) {
    const times: number[] = [];
    let sims = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const p = plan({ pipeline: spec, hardware: config.hardware, profiles, trace: t, workload, planner: 'greedy', options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage } });
      times.push(performance.now() - t0);
      sims = p.search.simulations;
    }
    console.log(`  ${spec.name.padEnd(18)} ${String(spec.stages.length).padStart(2)} stages  ${median(times).toFixed(0).padStart(6)} ms  (${sims} simulations)`);
  }
  console.log('  target: < 1 s for the 6-stage pipeline (search-ranking) and for the 10-stage one (ten-stage, bench/reference.ts)');
  console.log('');
}
