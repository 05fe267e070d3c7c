import { plan } from './src/core/planner/index.js';
import { reference, trace, tenStagePipeline } from './bench/reference.js';
const { config, profiles } = await reference();
const t = trace(config.planner.arrival, config.planner.seed);
const which = process.argv[2] ?? 'greedy';
for (const spec of [...config.pipelines, tenStagePipeline()]) {
  if (process.argv[3] && spec.name !== process.argv[3]) continue;
  const t0 = performance.now();
  const p = plan({ pipeline: spec, hardware: config.hardware, profiles, trace: t, workload: 'x', planner: which as 'greedy', options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage, exactMaxEvaluations: Number(process.argv[4] ?? 3000) } });
  console.log(spec.name, p.costPerHour, JSON.stringify(p.lowerBound.costPerHour), p.lowerBound.gap, p.lowerBound.by, p.search, (performance.now() - t0).toFixed(0), 'ms');
}
