// What a new leader takes over from the previous leadership (issue #15, "a handover the servers do
// not feel"). Pure.
// - The running stage configuration: the replicas, batch size and batching delay the previous
//   leadership's records give each stage. A new plan never lowers a stage's replicas below them
//   (the tuner scales down from there, on live samples, under its usual rules) and keeps the
//   running batch size and delay until a later re-plan changes them: a batch change reloads the
//   model on Triton and re-registers it on TorchServe, which the servers would feel.
// - The recent traffic: the leader stores its recent entry-stage counts in the coordinator, as
//   1 s buckets timed relative to the moment of the write; the next leader re-times them to end at
//   its own "now" and plans on them at once instead of on the planning workload.
import { z } from 'zod';
import { firstIssue } from '../model/schema-issue.js';
import type { StageConfig } from '../model/types.js';
import { bucketCounts } from './count-merger.js';
import type { CountInterval } from './count-merger.js';

/** One stage as the fleet's stored desired state runs it. */
export interface RunningStage {
  readonly hardware: string;
  readonly replicas: number;
  readonly batchSize?: number;
  readonly batchDelayMs?: number;
}

export interface KeptSetting {
  readonly stage: string;
  readonly setting: 'replicas' | 'batchSize' | 'batchDelayMs';
  readonly running: number;
  readonly planned: number;
}

/**
 * The plan's stages and wanted replicas with what runs kept: per stage on the same hardware, the
 * replicas are at least the running ones, and the running batch size and delay replace the plan's.
 * A stage on other hardware, or with nothing running, keeps the plan's configuration.
 */
export function keepRunning(
  planned: Readonly<Record<string, StageConfig>>, wanted: Readonly<Record<string, number>>, running: ReadonlyMap<string, RunningStage>,
): { stages: Record<string, StageConfig>; desired: Record<string, number>; kept: KeptSetting[] } {
  const stages: Record<string, StageConfig> = {};
  const desired: Record<string, number> = { ...wanted };
  const kept: KeptSetting[] = [];
  for (const [stage, c] of Object.entries(planned)) {
    const now = running.get(stage);
    if (now === undefined || now.hardware !== c.hardware) {
      stages[stage] = c;
      continue;
    }
    const want = wanted[stage] ?? c.replicas;
    if (now.replicas > want) {
      desired[stage] = now.replicas;
      kept.push({ stage, setting: 'replicas', running: now.replicas, planned: want });
    }
    let next: StageConfig = c;
    if (now.batchSize !== undefined && now.batchSize !== c.batchSize) {
      next = { ...next, batchSize: now.batchSize };
      kept.push({ stage, setting: 'batchSize', running: now.batchSize, planned: c.batchSize });
    }
    const plannedDelay = c.batchDelayMs ?? 0;
    if (now.batchDelayMs !== undefined && now.batchDelayMs !== plannedDelay) {
      next = { ...next, batchDelayMs: now.batchDelayMs };
      kept.push({ stage, setting: 'batchDelayMs', running: now.batchDelayMs, planned: plannedDelay });
    }
    stages[stage] = next;
  }
  return { stages, desired, kept };
}

/**
 * What the leader stores for the next one: recent entry-stage arrivals of each pipeline, and the
 * stages as it wants them run (so that a stage whose agent died with the leader, whose record the
 * next leader cannot read among the members', still has its floor).
 */
export interface TrafficRecord {
  /** Wall-clock ms of the write; the intervals' times are relative to it (all ≤ 0). */
  readonly atWallMs: number;
  readonly pipelines: Readonly<Record<string, readonly (readonly [fromMs: number, toMs: number, count: number])[]>>;
  /** Per pipeline, per stage, as the writer wanted it run. */
  readonly stages?: Readonly<Record<string, Readonly<Record<string, RunningStage>>>>;
}

/** At most this many buckets per pipeline are stored or read (a day of 1 s buckets). */
const MAX_BUCKETS = 86_400;

/** The record of each pipeline's recent intervals (leader clock, ending by `nowMs`), in 1 s buckets relative to `nowMs`. */
export function trafficRecordOf(
  recent: ReadonlyMap<string, readonly CountInterval[]>, nowMs: number, wallMs: number, stages?: Readonly<Record<string, Readonly<Record<string, RunningStage>>>>,
): TrafficRecord {
  const pipelines: Record<string, [number, number, number][]> = {};
  for (const [name, intervals] of recent) {
    const shifted = intervals.filter((iv) => iv.toMs <= nowMs).map((iv) => ({ fromMs: iv.fromMs - nowMs, toMs: iv.toMs - nowMs, count: iv.count }));
    const buckets = bucketCounts(shifted, 1000).slice(-MAX_BUCKETS);
    if (buckets.length > 0) pipelines[name] = buckets.map((b) => [b.fromMs, Math.min(0, b.toMs), Math.round(b.count * 1000) / 1000]);
  }
  return { atWallMs: wallMs, pipelines, ...(stages === undefined ? {} : { stages }) };
}

const INTERVAL = 'must be [fromMs < toMs ≤ 0, count ≥ 0]';
const wholeUpTo = (min: number, what: string): z.ZodNumber => z.number({ error: what }).int({ error: what }).min(min, { error: what }).max(100_000, { error: what });

const storedTraffic = z.object({
  atWallMs: z.number({ error: 'must be a number' }),
  pipelines: z.record(z.string(), z.array(
    z.tuple([z.number(), z.number(), z.number()], { error: INTERVAL })
      .refine(([from, to, count]) => from < to && to <= 0 && count >= 0, { error: INTERVAL }),
    { error: `must be a list of at most ${MAX_BUCKETS} intervals` },
  ).max(MAX_BUCKETS, { error: `must be a list of at most ${MAX_BUCKETS} intervals` }), { error: 'must be an object' }),
  stages: z.record(z.string(), z.record(z.string(), z.object({
    hardware: z.string({ error: 'must be a hardware name' }),
    replicas: wholeUpTo(0, 'must be an integer in [0, 100000]'),
    batchSize: wholeUpTo(1, 'must be an integer in [1, 100000]').optional(),
    batchDelayMs: z.number({ error: 'must be ≥ 0' }).min(0, { error: 'must be ≥ 0' }).optional(),
  }, { error: 'must be an object' }), { error: 'must be an object' }), { error: 'must be an object' }).optional(),
}, { error: 'not an object' });

/** A stored traffic record read back, or the problem that makes it unusable (bad data never reaches a plan). */
export function parseTrafficRecord(value: unknown): { record?: TrafficRecord; problem?: string } {
  const parsed = storedTraffic.safeParse(value);
  if (!parsed.success) return { problem: firstIssue(parsed.error) };
  const { atWallMs, pipelines, stages } = parsed.data;
  if (stages === undefined) return { record: { atWallMs, pipelines } };
  const running: Record<string, Record<string, RunningStage>> = {};
  for (const [name, byStage] of Object.entries(stages)) {
    running[name] = {};
    for (const [stage, r] of Object.entries(byStage)) {
      running[name][stage] = {
        hardware: r.hardware, replicas: r.replicas,
        ...(r.batchSize === undefined ? {} : { batchSize: r.batchSize }), ...(r.batchDelayMs === undefined ? {} : { batchDelayMs: r.batchDelayMs }),
      };
    }
  }
  return { record: { atWallMs, pipelines, stages: running } };
}

/**
 * The running stages from the members' records beside those the previous leader stored: per
 * stage on the same hardware, the larger replicas; batch size and delay from the members' records
 * (what the servers were told) where they have the stage.
 */
export function mergeRunning(fromRecords: ReadonlyMap<string, RunningStage>, stored: ReadonlyMap<string, RunningStage>): Map<string, RunningStage> {
  const out = new Map(fromRecords);
  for (const [key, st] of stored) {
    const r = out.get(key);
    if (r === undefined) out.set(key, st);
    else if (r.hardware === st.hardware && st.replicas > r.replicas) out.set(key, { ...r, replicas: st.replicas });
  }
  return out;
}

/**
 * A pipeline's stored intervals re-timed onto the reader's clock so that the newest ends at
 * `nowMs`: the gap between the write and the read (the failover) is left out, so the trace the
 * new leader plans on is the recent traffic without a hole. Only the last `windowMs` are kept.
 */
export function trafficIntervals(record: TrafficRecord, pipeline: string, nowMs: number, windowMs: number): CountInterval[] {
  const list = record.pipelines[pipeline] ?? [];
  const last = list.at(-1);
  if (last === undefined) return [];
  const shift = nowMs - last[1];
  return list.filter(([, to]) => to > last[1] - windowMs).map(([from, to, count]) => ({ fromMs: from + shift, toMs: to + shift, count }));
}
