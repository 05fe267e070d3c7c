// Planner runs as the shell makes them: one call of the pure planner, timed on the Clock, recorded
// through the Telemetry port (run, outcome, duration, the planned envelope) and compared with the
// pipeline's previous plan to count plan changes.
import { plan } from '../core/planner/index.js';
import type { Plan, PlanRequest } from '../core/planner/index.js';
import type { Clock } from '../ports/clock.js';
import type { Telemetry } from '../ports/telemetry.js';

export interface PlannerRunsOptions {
  readonly clock: Clock;
  readonly telemetry?: Telemetry;
}

/** Whether two plans differ in what gets provisioned: any stage's hardware, batch size or replicas. */
export function planChanged(previous: Plan | undefined, next: Plan): boolean {
  if (previous === undefined) return true;
  const names = new Set([...Object.keys(previous.stages), ...Object.keys(next.stages)]);
  for (const name of names) {
    const a = previous.stages[name];
    const b = next.stages[name];
    if (a === undefined || b === undefined) return true;
    if (a.hardware !== b.hardware || a.batchSize !== b.batchSize || a.replicas !== b.replicas) return true;
  }
  return false;
}

export class PlannerRuns {
  private readonly options: PlannerRunsOptions;
  private readonly latest = new Map<string, Plan>();

  constructor(options: PlannerRunsOptions) {
    this.options = options;
  }

  /** The last plan made for `pipeline`, if any. */
  lastPlan(pipeline: string): Plan | undefined {
    return this.latest.get(pipeline);
  }

  /** Plans, records the run, and remembers the plan. Rethrows what the planner throws (recorded as an error run). */
  run(req: PlanRequest): Plan {
    const { clock, telemetry } = this.options;
    const pipeline = req.pipeline.name;
    const startMs = clock.nowMs();
    let result: Plan;
    try {
      result = plan(req);
    } catch (err) {
      telemetry?.recordPlannerRun({ pipeline, planner: req.planner, outcome: 'error', durationMs: clock.nowMs() - startMs, changed: false });
      throw err;
    }
    const changed = planChanged(this.latest.get(pipeline), result);
    this.latest.set(pipeline, result);
    telemetry?.recordPlannerRun({
      pipeline, planner: req.planner, outcome: result.feasible ? 'feasible' : 'infeasible', durationMs: clock.nowMs() - startMs, changed,
      envelope: result.envelope.map((p) => ({ windowMs: p.windowMs, maxArrivals: p.maxArrivals })),
    });
    return result;
  }
}
