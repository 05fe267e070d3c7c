// The desired state the leader writes for one agent (the Coordinator stores it as JSON, fenced by
// epoch): what each model on the agent's server should serve, which pipeline stages each model
// stands for (for the agent's metrics), and a summary of the plans in force (for GET /v1/plan on
// any agent). Reading it back checks every field: bad data from the store must not reach a server.
import { z } from 'zod';
import { firstIssue } from '../../core/model/schema-issue.js';
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

const storedSpec = z.object({
  models: z.array(z.object({
    model: z.string({ error: 'must be a name' }).min(1, { error: 'must be a name' }),
    replicas: z.number({ error: 'must be an integer ≥ 0' }).int({ error: 'must be an integer ≥ 0' }).min(0, { error: 'must be an integer ≥ 0' }),
    maxBatchSize: z.number({ error: 'must be an integer ≥ 1' }).int({ error: 'must be an integer ≥ 1' }).min(1, { error: 'must be an integer ≥ 1' }).optional(),
    batchDelayMs: z.number({ error: 'must be ≥ 0' }).min(0, { error: 'must be ≥ 0' }).optional(),
  }, { error: 'must be an object' }), { error: 'must be a list' }),
  // For the agent's metrics and GET /v1/plan only: taken as they are, never applied to a server.
  stages: z.record(z.string(), z.unknown()).catch({}),
  plans: z.array(z.unknown()).catch([]),
}, { error: 'not an object' });

/** The spec read back from the coordinator, or the problem that makes it unusable. */
export function parseDesiredSpec(value: unknown): { spec?: AgentDesiredSpec; problem?: string } {
  const parsed = storedSpec.safeParse(value);
  if (!parsed.success) return { problem: firstIssue(parsed.error) };
  const models: ModelSpec[] = parsed.data.models.map((m) => ({
    model: m.model, replicas: m.replicas,
    ...(m.maxBatchSize === undefined ? {} : { maxBatchSize: m.maxBatchSize }),
    ...(m.batchDelayMs === undefined ? {} : { batchDelayMs: m.batchDelayMs }),
  }));
  return { spec: { models, stages: parsed.data.stages as Record<string, StageRef[]>, plans: parsed.data.plans as PlanSummary[] } };
}
