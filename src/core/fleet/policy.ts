// The fleet policy: the SLO of every pipeline and the price of every hardware type, the part of
// the config that agents must never disagree on. The leader plans with the policy kept in the
// coordinator (written fenced, last valid write wins), not with whatever its own file says; an
// agent whose file changes sends its policy to the leader. Pure: shapes, parsing and diffs.
import { z } from 'zod';
import { firstIssue } from '../model/schema-issue.js';
import type { HardwareType, PipelineSpec, Slo } from '../model/types.js';

export interface FleetPolicy {
  readonly slos: Readonly<Record<string, Slo>>;
  readonly prices: Readonly<Record<string, number>>;
  /** The agent whose config it came from, and when (ms since the epoch). */
  readonly from: string;
  readonly atMs: number;
}

export function policyOf(pipelines: readonly PipelineSpec[], hardware: readonly HardwareType[], from: string, atMs: number): FleetPolicy {
  return {
    slos: Object.fromEntries(pipelines.map((p) => [p.name, { latencyMs: p.slo.latencyMs, percentile: p.slo.percentile }])),
    prices: Object.fromEntries(hardware.map((h) => [h.name, h.costPerHour])),
    from,
    atMs,
  };
}

/** The pipelines and hardware with the policy's SLOs and prices where it names them. */
export function applyPolicy(pipelines: readonly PipelineSpec[], hardware: readonly HardwareType[], policy: FleetPolicy | undefined): {
  pipelines: PipelineSpec[]; hardware: HardwareType[];
} {
  if (policy === undefined) return { pipelines: [...pipelines], hardware: [...hardware] };
  return {
    pipelines: pipelines.map((p) => (policy.slos[p.name] === undefined ? p : { ...p, slo: policy.slos[p.name] as Slo })),
    hardware: hardware.map((h) => (policy.prices[h.name] === undefined ? h : { ...h, costPerHour: policy.prices[h.name] as number })),
  };
}

/** What differs between two policies, one line each ("pipeline p: SLO P99 ≤ 250 ms → 200 ms"). */
export function policyDiff(a: FleetPolicy | undefined, b: FleetPolicy): string[] {
  const lines: string[] = [];
  const fmt = (s: Slo | undefined): string => (s === undefined ? 'none' : `P${s.percentile} ≤ ${s.latencyMs} ms`);
  for (const name of new Set([...Object.keys(a?.slos ?? {}), ...Object.keys(b.slos)])) {
    const x = a?.slos[name];
    const y = b.slos[name];
    if (x?.latencyMs !== y?.latencyMs || x?.percentile !== y?.percentile) lines.push(`pipeline ${name}: SLO ${fmt(x)} → ${fmt(y)}`);
  }
  for (const name of new Set([...Object.keys(a?.prices ?? {}), ...Object.keys(b.prices)])) {
    const x = a?.prices[name];
    const y = b.prices[name];
    if (x !== y) lines.push(`hardware ${name}: costPerHour ${x ?? 'none'} → ${y ?? 'none'}`);
  }
  return lines;
}

const storedPolicy = z.object({
  slos: z.record(z.string(), z.object({
    latencyMs: z.number({ error: 'must be a number > 0' }).gt(0, { error: 'must be a number > 0' }),
    percentile: z.number({ error: 'must be a number in (0, 100)' }).gt(0, { error: 'must be a number in (0, 100)' }).lt(100, { error: 'must be a number in (0, 100)' }),
  }, { error: 'must be {latencyMs > 0, percentile in (0, 100)}' }), { error: 'must be an object' }),
  prices: z.record(z.string(), z.number({ error: 'must be a number ≥ 0' }).min(0, { error: 'must be a number ≥ 0' }), { error: 'must be an object' }),
  from: z.string().catch('?'),
  atMs: z.number().catch(0),
}, { error: 'the fleet policy is not an object' });

/** A policy read back from the coordinator (JSON): checked, since bad data must not reach the planner. */
export function parsePolicy(value: unknown): { policy?: FleetPolicy; problem?: string } {
  const parsed = storedPolicy.safeParse(value);
  if (!parsed.success) return { problem: firstIssue(parsed.error) };
  return { policy: parsed.data };
}
