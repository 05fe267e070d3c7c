// The leader's side of a handover the servers do not feel (core/fleet/handover.ts), as I/O on the
// coordinator: what the previous leadership's desired states run, the recent traffic it stored
// (this leader's planning trace), and this leader's own traffic stored for the next one, fenced by
// the epoch.
import { parseTrafficRecord, trafficIntervals, trafficRecordOf } from '../../../core/fleet/index.js';
import type { CountInterval, RunningStage } from '../../../core/fleet/index.js';
import type { Coordinator, DesiredStateRecord, JsonValue, MemberInfo } from '../../../ports/coordinator.js';
import type { Clock } from '../../../ports/clock.js';
import type { Logger } from '../../../ports/logger.js';
import { FLEET_TRAFFIC_KEY, parseDesiredSpec } from '../desired-spec.js';
import type { StageRef } from '../desired-spec.js';
import { stageKey } from './pipeline-run.js';
import type { PipelineRun } from './pipeline-run.js';

/** Where the handover reads and writes, and as which epoch. */
export interface HandoverContext {
  readonly coordinator: Coordinator;
  readonly log: Logger;
  readonly epoch: number;
  readonly clock: Clock;
  /** Wall-clock ms since the epoch: stored traffic carries when it was stored. */
  wallClockMs(): number;
}

/**
 * Per pipeline and stage, what the stored desired states run: replicas (summed over agents),
 * batch size and delay, from the records of the newest epoch below this leader's (the previous
 * leadership's); older ones are stale or tampered and count for nothing, as do records this
 * epoch did not write yet claims.
 */
export async function runningStages(ctx: HandoverContext, members: readonly MemberInfo[]): Promise<Map<string, RunningStage>> {
  const records = await Promise.all(members.map((m) => ctx.coordinator.readDesired(m.agentId).catch(() => undefined)));
  const valid = records.filter((r): r is DesiredStateRecord => r !== undefined && r.epoch < ctx.epoch);
  const newest = Math.max(0, ...valid.map((r) => r.epoch));
  const out = new Map<string, RunningStage>();
  for (const r of valid.filter((x) => x.epoch === newest)) {
    const { spec } = parseDesiredSpec(r.spec);
    if (spec === undefined) continue;
    for (const m of spec.models) {
      const refs = spec.stages[m.model] ?? [];
      // A model that stands for several stages cannot be split between them: it sets nothing.
      if (refs.length !== 1) continue;
      const ref = refs[0] as StageRef;
      const key = stageKey(ref.pipeline, ref.stage);
      const prev = out.get(key);
      if (prev !== undefined && prev.hardware !== ref.hardware) continue;
      out.set(key, {
        hardware: ref.hardware, replicas: (prev?.replicas ?? 0) + m.replicas,
        ...(m.maxBatchSize === undefined ? {} : { batchSize: m.maxBatchSize }),
        ...(m.batchDelayMs === undefined ? {} : { batchDelayMs: m.batchDelayMs }),
      });
    }
  }
  return out;
}

/**
 * The recent traffic the previous leader stored becomes each pipeline's recent trace (re-timed to
 * end now); returns the stages as it wanted them run (by pipeline and stage), for the floor.
 */
export async function takeOverTraffic(ctx: HandoverContext, runs: readonly PipelineRun[], traceWindowMs: number): Promise<Map<string, RunningStage>> {
  const { log } = ctx;
  const stages = new Map<string, RunningStage>();
  const stored = await ctx.coordinator.readDesired(FLEET_TRAFFIC_KEY).catch(() => undefined);
  if (stored === undefined || stored.epoch >= ctx.epoch) return stages;
  const { record, problem } = parseTrafficRecord(stored.spec);
  if (record === undefined) {
    log.warn(`stored traffic of epoch ${stored.epoch} ignored: ${problem ?? 'unreadable'}`);
    return stages;
  }
  // Traffic older than the trace window is not recent (a leader long gone, a restored backup).
  const ageMs = ctx.wallClockMs() - record.atWallMs;
  if (ageMs > traceWindowMs) {
    log.info(`stored traffic of epoch ${stored.epoch} is ${Math.round(ageMs / 1000)} s old: not used`);
    return stages;
  }
  for (const [pipeline, byStage] of Object.entries(record.stages ?? {})) {
    for (const [stage, st] of Object.entries(byStage)) stages.set(stageKey(pipeline, stage), st);
  }
  const now = ctx.clock.nowMs();
  for (const run of runs) {
    const recent = trafficIntervals(record, run.spec.name, now, traceWindowMs);
    run.observations.replaceRecent(recent);
    if (recent.length === 0) continue;
    const first = recent[0] as CountInterval;
    log.info(`handover: ${run.spec.name} plans on the ${Math.round((now - first.fromMs) / 1000)} s of traffic epoch ${stored.epoch} stored`, { pipeline: run.spec.name, storedEpoch: stored.epoch });
  }
  return stages;
}

/** Stores each pipeline's recent traffic, fenced by the epoch, for the next leader. */
export async function storeTraffic(ctx: HandoverContext, runs: ReadonlyMap<string, PipelineRun>): Promise<void> {
  const now = ctx.clock.nowMs();
  const recent = new Map([...runs.entries()].map(([name, r]) => [name, r.observations.recent]));
  const stages: Record<string, Record<string, RunningStage>> = {};
  for (const [name, run] of runs) {
    if (!run.plan) continue;
    stages[name] = Object.fromEntries(Object.entries(run.plan.stages).map(([stage, c]) => [stage, {
      hardware: c.hardware, replicas: run.replicasOf(stage, c.replicas), batchSize: c.batchSize, ...(c.batchDelayMs === undefined ? {} : { batchDelayMs: c.batchDelayMs }),
    }]));
  }
  const record = trafficRecordOf(recent, now, ctx.wallClockMs(), stages);
  if (Object.keys(record.pipelines).length === 0 && Object.keys(stages).length === 0) return;
  // A failed write only costs the next leader its head start; the verifier reports coordination trouble.
  await ctx.coordinator.writeDesired(FLEET_TRAFFIC_KEY, record as unknown as JsonValue, ctx.epoch).catch(() => undefined);
}

