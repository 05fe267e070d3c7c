// Placement: which agent hosts how many replicas of each stage. Pure. A stage runs its model on the
// hardware the plan chose; the agents eligible for it are those whose server hosts that model on
// that hardware. Replicas are dealt out one at a time to the eligible agent with the most room
// left (ties by agent id), so a stage spreads evenly and no agent goes over its capacity, which is
// shared by every stage it hosts. What does not fit is a shortfall, reported, never dropped silently.
import type { ModelSpec } from '../reconcile/decide.js';

export interface PlacementMember {
  readonly agentId: string;
  readonly hardware: string;
  readonly models: readonly string[];
  /** Replicas this server can host, all models together. */
  readonly capacity: number;
}

/** What one stage of one pipeline needs. */
export interface StageDemand {
  readonly pipeline: string;
  readonly stage: string;
  readonly model: string;
  readonly hardware: string;
  readonly replicas: number;
  readonly batchSize: number;
  /** The plan's batch delay (absent: leave the server's as it is). */
  readonly batchDelayMs?: number;
}

export interface StageAssignment {
  readonly pipeline: string;
  readonly stage: string;
  readonly agentId: string;
  readonly replicas: number;
}

export interface Shortfall {
  readonly pipeline: string;
  readonly stage: string;
  readonly model: string;
  readonly hardware: string;
  readonly wanted: number;
  readonly placed: number;
  /** Why: no agent hosts the model on that hardware, or they are full. */
  readonly reason: string;
}

export interface Placement {
  /** Per agent, what each of its models should serve (sorted by model). */
  readonly perAgent: Readonly<Record<string, readonly ModelSpec[]>>;
  readonly assignments: readonly StageAssignment[];
  readonly shortfalls: readonly Shortfall[];
}

export function placeReplicas(demands: readonly StageDemand[], members: readonly PlacementMember[]): Placement {
  const sorted = [...members].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  const room = new Map(sorted.map((m) => [m.agentId, Math.max(0, Math.floor(m.capacity))]));
  type Slot = { replicas: number; maxBatchSize: number; batchDelayMs?: number };
  const specs = new Map<string, Map<string, Slot>>();
  const assignments: StageAssignment[] = [];
  const shortfalls: Shortfall[] = [];
  for (const d of demands) {
    const eligible = sorted.filter((m) => m.hardware === d.hardware && m.models.includes(d.model));
    const given = new Map<string, number>();
    let left = Math.max(0, Math.round(d.replicas));
    while (left > 0) {
      let best: PlacementMember | undefined;
      for (const m of eligible) {
        const r = room.get(m.agentId) as number;
        if (r > 0 && (best === undefined || r > (room.get(best.agentId) as number))) best = m;
      }
      if (best === undefined) break;
      room.set(best.agentId, (room.get(best.agentId) as number) - 1);
      given.set(best.agentId, (given.get(best.agentId) ?? 0) + 1);
      left--;
    }
    // Every eligible agent gets the stage's batch size, placed replicas or not: it serves the model.
    for (const m of eligible) {
      const n = given.get(m.agentId) ?? 0;
      const models = specs.get(m.agentId) ?? new Map<string, Slot>();
      specs.set(m.agentId, models);
      const prev = models.get(d.model);
      // Two stages on one model (rare) share its replicas; the larger batch wins, and the shorter delay.
      const delays = [prev?.batchDelayMs, d.batchDelayMs].filter((x): x is number => x !== undefined);
      models.set(d.model, {
        replicas: (prev?.replicas ?? 0) + n, maxBatchSize: Math.max(prev?.maxBatchSize ?? 0, d.batchSize),
        ...(delays.length > 0 ? { batchDelayMs: Math.min(...delays) } : {}),
      });
      if (n > 0) assignments.push({ pipeline: d.pipeline, stage: d.stage, agentId: m.agentId, replicas: n });
    }
    if (left > 0) {
      const placed = Math.round(d.replicas) - left;
      shortfalls.push({
        pipeline: d.pipeline, stage: d.stage, model: d.model, hardware: d.hardware, wanted: Math.round(d.replicas), placed,
        reason: eligible.length === 0 ? `no agent hosts ${d.model} on ${d.hardware}` : `the ${eligible.length} agent(s) hosting ${d.model} on ${d.hardware} are full`,
      });
    }
  }
  const perAgent: Record<string, ModelSpec[]> = {};
  for (const [agentId, models] of specs) {
    perAgent[agentId] = [...models.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([model, s]) => ({
      model, replicas: s.replicas, maxBatchSize: s.maxBatchSize, ...(s.batchDelayMs !== undefined ? { batchDelayMs: s.batchDelayMs } : {}),
    }));
  }
  return { perAgent, assignments, shortfalls };
}

/**
 * The hardware a stage can be planned on in this fleet: its allowed hardware that some agent
 * hosting its model runs. Empty when no agent hosts the model at all.
 */
export function placeableHardware(model: string, allowed: readonly string[], members: readonly PlacementMember[]): string[] {
  const present = new Set(members.filter((m) => m.models.includes(model)).map((m) => m.hardware));
  return allowed.filter((h) => present.has(h));
}
