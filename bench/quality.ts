// Plan quality: greedy cost ÷ exact cost (certifies the greedy), and greedy cost ÷ coarse-grained
// cost, at each pipeline's own SLO and at a tight SLO (0.6× it).
import { plan } from '../src/core/planner/index.js';
import type { Plan, PlannerKind } from '../src/core/planner/index.js';
import { reference, trace } from './reference.js';

const EXACT_BUDGET = 3000;

export async function benchQuality(): Promise<void> {
  const { config, profiles } = await reference();
  const workload = config.planner.arrival;
  const t = trace(workload, config.planner.seed);
  console.log(`plan quality (workload ${workload}; exact search budget ${EXACT_BUDGET} simulations)`);
  const rows: string[][] = [['pipeline', 'SLO', 'greedy $/h', 'exact $/h', 'greedy÷exact', 'coarse $/h', 'greedy÷coarse']];
  for (const spec of config.pipelines) {
    for (const factor of [1, 0.6]) {
      const s = { ...spec, slo: { ...spec.slo, latencyMs: Math.round(spec.slo.latencyMs * factor) } };
      const run = (planner: PlannerKind): Plan => plan({
        pipeline: s, hardware: config.hardware, profiles, trace: t, workload, planner,
        options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage, exactMaxEvaluations: EXACT_BUDGET },
      });
      const greedy = run('greedy');
      const coarse = run('coarse');
      const exact = spec.stages.length <= 4 ? run('exact') : undefined;
      const cost = (p: Plan | undefined) => (p ? (p.feasible ? `${p.costPerHour.toFixed(3)}` : 'infeasible') : 'skipped');
      const ratio = (a: Plan, b: Plan | undefined) => (b && a.feasible && b.feasible ? (a.costPerHour / b.costPerHour).toFixed(3) : '—');
      const exactCell = exact ? `${cost(exact)}${exact.search.proven ? '' : ' (best found)'}` : 'skipped';
      rows.push([spec.name, `${s.slo.latencyMs} ms`, cost(greedy), exactCell, ratio(greedy, exact), cost(coarse), ratio(greedy, coarse)]);
    }
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const r of rows) console.log(`  ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`);
  console.log('  exact: proven optimal unless marked "(best found)" (budget exhausted); greedy÷exact > 1 means greedy costs more');
  console.log('');
}
