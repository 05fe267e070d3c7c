// The desired state the leader writes for one agent (the Coordinator stores it as JSON, fenced by
// epoch): what each model on the agent's server should serve, which pipeline stages each model
// stands for (for the agent's metrics), and a summary of the plans in force (for GET /v1/plan on
// any agent). Reading it back checks every field: bad data from the store must not reach a server.
import type { JsonValue } from '../../ports/coordinator.js';
import type { ModelSpec } from '../../core/reconcile/index.js';
import type { Plan } from '../../core/planner/index.js';

/** The desired-state key of the fleet policy (SLOs and prices); agent ids cannot start with "_". */
export const FLEET_POLICY_KEY = '_fleet-policy';
/** The desired-state key of the leader's recent traffic, for the next leader (core/fleet/handover.ts). */
export const FLEET_TRAFFIC_KEY = '_fleet-traffic';

export interface StageRef {
  readonly pipeline: string;
  readonly stage: string;
  readonly hardware: string;
}

/** The plan file's contract fields (DESIGN.md), where its workload came from, and the epoch it was planned under. */
export type PlanSummary = Pick<Plan, 'pipeline' | 'sloMs' | 'percentile' | 'feasible' | 'estimatedP99Ms' | 'costPerHour' | 'stages'> & {
  readonly workload: string;
  readonly epoch: number;
};

export interface AgentDesiredSpec {
  readonly models: readonly ModelSpec[];
  readonly stages: Readonly<Record<string, readonly StageRef[]>>;
  readonly plans: readonly PlanSummary[];
}

export function desiredSpecOf(models: readonly ModelSpec[], refs: Readonly<Record<string, readonly StageRef[]>>, plans: readonly PlanSummary[]): JsonValue {
  const mine = new Set(models.map((m) => m.model));
  const stages = Object.fromEntries(Object.entries(refs).filter(([m]) => mine.has(m)));
  return JSON.parse(JSON.stringify({ models, stages, plans })) as JsonValue;
}

/** The spec read back from the coordinator, or the problem that makes it unusable. */
export function parseDesiredSpec(value: unknown): { spec?: AgentDesiredSpec; problem?: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not an object' };
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v['models'])) return { problem: 'models must be a list' };
  const models: ModelSpec[] = [];
  for (const [i, m] of (v['models'] as unknown[]).entries()) {
    const r = m as Record<string, unknown> | null;
    if (typeof r?.['model'] !== 'string' || r['model'] === '') return { problem: `models[${i}].model must be a name` };
    const replicas = r['replicas'];
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) return { problem: `models[${i}].replicas must be an integer ≥ 0` };
    const batch = r['maxBatchSize'];
    if (batch !== undefined && (typeof batch !== 'number' || !Number.isInteger(batch) || batch < 1)) return { problem: `models[${i}].maxBatchSize must be an integer ≥ 1` };
    const delay = r['batchDelayMs'];
    if (delay !== undefined && (typeof delay !== 'number' || !(delay >= 0))) return { problem: `models[${i}].batchDelayMs must be ≥ 0` };
    models.push({ model: r['model'], replicas, ...(batch === undefined ? {} : { maxBatchSize: batch }), ...(delay === undefined ? {} : { batchDelayMs: delay }) });
  }
  const stages = (typeof v['stages'] === 'object' && v['stages'] !== null ? v['stages'] : {}) as Record<string, StageRef[]>;
  const plans = (Array.isArray(v['plans']) ? v['plans'] : []) as PlanSummary[];
  return { spec: { models, stages, plans } };
}
