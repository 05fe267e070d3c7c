// What an open-loop simulation leaves behind for the next one (EstimateOptions.record / reuse).
// A stage's queue, batches and service draws depend only on when its queries become ready and on
// its own configuration, and routing is drawn per (seed, query, edge) (estimator.ts); so a stage
// with no changed stage upstream of it (itself included) resolves every query at the same time in
// both runs. A run that reuses a record replays those stages' resolutions (a finish, or a skip
// where no branch into the stage was taken) in the order the recorded run made them, instead of
// simulating them: a configuration that differs from the recorded one in a stage near the sinks
// costs a fraction of a full run. The planner's searches change one stage at a time.
//
// Equal to a full run, simultaneous events included: equal-time events of different stages run in
// topological order (estimator.ts), and a replayed resolution takes its stage's place in it.
import type { CompiledPipeline } from '../model/pipeline.js';

/** Per stage: the totals a run keeps for its StageEstimate, replayed as they were. */
export interface StageTotals {
  readonly busyMs: Float64Array;
  readonly queueDelayMs: Float64Array;
  readonly batches: Float64Array;
  readonly visits: Float64Array;
  readonly maxQueue: Int32Array;
}

/** One completed open-loop run: when each (query, stage) was resolved, and in what order. */
export interface SimulationRecord {
  /** The estimator that ran it (service tables and hop tables are its own). */
  readonly owner: object;
  readonly trace: Float64Array;
  readonly seed: number;
  /** Per stage: what configures it (hardware, max batch, replicas, delay and its origin). */
  readonly stageKeys: readonly string[];
  /** n × S, index q·S + s: when query q's visit to s finished, or when s was skipped for q. */
  readonly resolvedAt: Float64Array;
  /** n × S: 1 where q visited s, 0 where s was skipped. */
  readonly visited: Uint8Array;
  /** Every q·S + s in the order the run resolved them. */
  readonly order: Int32Array;
  readonly totals: StageTotals;
}

/**
 * The stages a run of `stageKeys` on (trace, seed) may replay from `record`: those with no
 * differing stage upstream of them or at them. Undefined when the record does not apply (another
 * estimator, trace or seed) or when no stage can be replayed.
 */
export function replayableStages(
  pipeline: CompiledPipeline, record: SimulationRecord, owner: object, trace: Float64Array, seed: number, stageKeys: readonly string[],
): Uint8Array | undefined {
  if (record.owner !== owner || record.trace !== trace || record.seed !== seed || record.stageKeys.length !== stageKeys.length) return undefined;
  const S = stageKeys.length;
  const dirty = new Uint8Array(S);
  for (let s = 0; s < S; s++) if (record.stageKeys[s] !== stageKeys[s]) dirty[s] = 1;
  let kept = 0;
  for (let i = 0; i < S; i++) {
    const s = pipeline.order[i] as number;
    if (!dirty[s]) {
      kept++;
      continue;
    }
    for (let k = pipeline.edgeStart[s] as number; k < (pipeline.edgeStart[s + 1] as number); k++) dirty[pipeline.edgeTo[k] as number] = 1;
  }
  // Nothing to replay, or nothing to simulate (the record's own configuration).
  if (kept === 0 || kept === S) return undefined;
  for (let s = 0; s < S; s++) dirty[s] = dirty[s] ? 0 : 1;
  return dirty;
}

/** A replay laid out (layOutReplay): what the event loop goes through, and what it need not. */
export interface ReplayLayout {
  /** The resolutions the event loop replays, in the recorded order (q·S + s). */
  readonly idx: Int32Array;
  /**
   * The rank each takes among equal-time events: its stage's for a finish, the rank of the
   * finish before it for a skip (a skip is made inside the finish that decided its last edge,
   * which the record lists just before it).
   */
  readonly groupRank: Int32Array;
  /** Per query: the latest finish among the resolutions left out of the loop (-Infinity: none). */
  readonly doneAt: Float64Array;
  /** Per query: the stages left to resolve (S less the resolutions left out). */
  readonly unresolved: Int32Array;
  /** The latest time of the resolutions left out. */
  readonly collapsedLastMs: number;
  /** The queries that visit no simulated stage: resolved by the layout alone, never in the loop. */
  readonly folded: Int32Array;
}

/**
 * Layouts already made, per record and replayed set (a search replays one record many times, a
 * few runs in a row with the same set), the latest LAYOUTS_KEPT per record: about 0.8 MB each for
 * 10 stages and 8.6k queries.
 */
const layouts = new WeakMap<SimulationRecord, Map<string, ReplayLayout>>();
const LAYOUTS_KEPT = 4;

/**
 * Lays out a replay. A replayed stage whose edges all lead to replayed stages only ends its
 * queries' visits there: its resolutions go straight into the layout's `doneAt` (the latest
 * finish) and `unresolved` (one fewer each), not through the event loop. So does every resolution
 * of a query that visits no simulated stage (routing is the same in every run, so the record's
 * `visited` says which): the simulated stages only skip it, and nothing of it enters a queue the run
 * simulates; the run completes it at the start (`folded`). Other queries have a simulated stage left
 * to resolve, which completes them in the loop. `collapse` false (a recording run, which lists every
 * resolution in order) keeps them all in. Memoised per (record, replayed, collapse).
 */
export function layOutReplay(pipeline: CompiledPipeline, record: SimulationRecord, replayed: Uint8Array, rank: Int32Array, collapse: boolean): ReplayLayout {
  const key = `${replayed.join('')}/${collapse ? 1 : 0}`;
  let byKey = layouts.get(record);
  const hit = byKey?.get(key);
  if (hit) {
    byKey?.delete(key);
    byKey?.set(key, hit);
    return hit;
  }
  const S = replayed.length;
  const n = record.resolvedAt.length / S;
  // Replayed stages none of whose edges leads to a simulated stage: replaying one of their
  // resolutions decides nothing the run simulates (edges into replayed stages are replayed).
  const closed = new Uint8Array(S);
  if (collapse) {
    for (let s = 0; s < S; s++) {
      let all = replayed[s] as number;
      for (let k = pipeline.edgeStart[s] as number; all && k < (pipeline.edgeStart[s + 1] as number); k++) all = replayed[pipeline.edgeTo[k] as number] as number;
      closed[s] = all;
    }
  }
  const idx = new Int32Array(record.order.length);
  const groupRank = new Int32Array(record.order.length);
  const doneAt = new Float64Array(n).fill(-Infinity);
  const unresolved = new Int32Array(n).fill(S);
  const { order, visited, resolvedAt } = record;
  const foldedAt = new Uint8Array(n);
  const folded: number[] = [];
  if (collapse) {
    let simulated = 0;
    for (let s = 0; s < S; s++) simulated += replayed[s] ? 0 : 1;
    for (let q = 0; q < n; q++) {
      let touches = false;
      for (let s = 0; s < S && !touches; s++) touches = !replayed[s] && visited[q * S + s] === 1;
      if (touches) continue;
      foldedAt[q] = 1;
      folded.push(q);
      unresolved[q] = S - simulated;
    }
  }
  let m = 0;
  let last = 0;
  let collapsedLastMs = -Infinity;
  for (let i = 0; i < order.length; i++) {
    const at = order[i] as number;
    const q = (at / S) | 0;
    const s = at - q * S;
    if (!replayed[s]) continue;
    const seen = visited[at] as number;
    if (seen) last = rank[s] as number;
    if (closed[s] || foldedAt[q]) {
      const t = resolvedAt[at] as number;
      if (seen && t > (doneAt[q] as number)) doneAt[q] = t;
      unresolved[q] = (unresolved[q] as number) - 1;
      if (t > collapsedLastMs) collapsedLastMs = t;
      continue;
    }
    idx[m] = at;
    groupRank[m++] = last;
  }
  const layout: ReplayLayout = { idx: idx.slice(0, m), groupRank: groupRank.slice(0, m), doneAt, unresolved, collapsedLastMs, folded: Int32Array.from(folded) };
  if (!byKey) {
    byKey = new Map();
    layouts.set(record, byKey);
  }
  byKey.set(key, layout);
  if (byKey.size > LAYOUTS_KEPT) byKey.delete(byKey.keys().next().value as string);
  return layout;
}
