// How the leader turns the requests its agents count, per model, into the pipeline's queries and
// each stage's visits. Pure.
//
// Agents count requests per model. The estimator, the planner and the tuner count queries: a query
// enters every root stage (reference/inferline.md: "queries enter at the root stages"; a root's
// scale factor is 1) and a stage's load is its scale factor × the query rate. So summing the roots'
// counts counts a query once per root it enters. Instead, each root model's count is divided by
// that model's visits per query in the pipeline (the scale factors of every stage it serves: a
// model at two roots, or at a root and a later stage, sees one query several times), and the
// pipeline's query count is the mean of these estimates over the root models: each root model's
// requests weigh 1 / (root models × its visits per query). Every root sees every query, so any one
// root would do; the mean spreads the count over all of them, so no single entry server's
// reporting decides the pipeline's rate alone.
//
// Each stage's own rate (its visits, for telemetry and the queue it is charged with) is its
// model's count times the stage's share of that model's visits.
import type { CompiledPipeline } from '../model/pipeline.js';

export interface QueryCounting {
  /** Per root model, what one of its requests counts for in the pipeline's queries. */
  readonly queryWeight: ReadonlyMap<string, number>;
  /** Per stage name, the share of its model's requests that are visits of this stage (0..1). */
  readonly stageShare: ReadonlyMap<string, number>;
}

export function queryCounting(p: CompiledPipeline): QueryCounting {
  const visits = new Map<string, number>();
  const stagesOf = new Map<string, number>();
  p.spec.stages.forEach((s, i) => {
    visits.set(s.model, (visits.get(s.model) ?? 0) + (p.scaleFactor[i] as number));
    stagesOf.set(s.model, (stagesOf.get(s.model) ?? 0) + 1);
  });
  const rootModels = new Set(p.spec.stages.filter((_, i) => p.isRoot[i] === 1).map((s) => s.model));
  const queryWeight = new Map<string, number>();
  // A root's scale factor is 1, so a root model's visits per query are ≥ 1.
  for (const m of rootModels) queryWeight.set(m, 1 / (rootModels.size * Math.max(1, visits.get(m) ?? 1)));
  const stageShare = new Map<string, number>();
  p.spec.stages.forEach((s, i) => {
    const v = visits.get(s.model) ?? 0;
    // A model whose stages are never visited (fractions 0): its requests split evenly.
    stageShare.set(s.name, v > 0 ? (p.scaleFactor[i] as number) / v : 1 / (stagesOf.get(s.model) ?? 1));
  });
  return { queryWeight, stageShare };
}
