// A lower bound on the cost of any plan that meets the SLO under the planner's feasibility test
// (every stage stable at the trace's mean rate, and the estimator's SLO percentile ≤ the SLO).
//
// These facts hold for every configuration, whatever its queueing, batch delays or draws:
// 1. Stability. A stage with option o (hardware, max batch b) needs at least o.minReplicas
//    replicas, or the planner rejects the configuration before simulating it.
// 2. A latency floor. A visit to a stage with option o takes at least its hop overhead (the least
//    of its hop curve, where the profile has one) plus the
//    shortest service time any batch of ≤ b can draw: min over k ≤ b of L(k) × the smallest
//    service-time factor of the spread (the lowest quantile bin, serviceFactor(σ_k, 0)). Queueing
//    and batch delays only add to it. Routing is drawn per (seed, query, edge), not per
//    configuration, so which stages and edges each query takes is known before any simulation;
//    a query's latency is at least the longest path, over the stages it visits, of these floors
//    plus the edges' fixed delays. A configuration in which more queries have a floor above the
//    SLO than the percentile allows to miss cannot meet the SLO.
//
// 3. A burst floor (network calculus on the trace itself). A query that meets the SLO is served at
//    stage s inside [arrival + up + hop, arrival + SLO − down], where up and down are the shortest
//    its route allows before and after s (the other stages at their floors). Take the m queries
//    visiting s whose arrivals span the least time, span(m): all but the allowed misses among them
//    are served inside a window of span(m) + SLO − up − hop − down, and one replica serves at most
//    that window × its fastest rate (max over k ≤ b of k / the shortest service time of k). So the
//    stage needs at least (m − allowed misses) / (window × rate) replicas, for every m.
// 4. A late-query floor (late-bound.ts): over disjoint time intervals, the queries whose windows
//    above lie inside one beyond what the replicas' whole batches fit into it are late under any
//    schedule; the stage needs replicas enough to keep that count within the allowed misses.
//
// The relaxation: a stage's option is admissible when, with every other stage at its fastest
// floor, the queries whose floor exceeds the SLO are few enough. The bound is the sum over stages
// of the cheapest admissible option's replicas × price, where an option needs the largest of its
// stability, burst and late-query floors. Every feasible plan uses an admissible option on every stage (its
// other stages are no faster than their fastest) with at least those replicas, so it costs at
// least the bound. The same floor screens whole configurations before
// simulation (LatencyFloor.fits), which the searches use.
import { streamKey } from '../math/random.js';
import { edgeTaken } from '../model/pipeline.js';
import type { CompiledPipeline } from '../model/pipeline.js';
import type { StageConfig } from '../model/types.js';
import { roundCost } from './cost.js';
import { leastLate } from './late-bound.js';
import type { BatchCapacity, StageJobs } from './late-bound.js';

/** One stage's choice in the relaxation: the cheapest admissible (hardware, batch, stable replicas). */
export interface BoundStage {
  readonly hardware: string;
  readonly batchSize: number;
  readonly replicas: number;
  readonly costPerHour: number;
}

export interface CostBound {
  /** No plan meeting the SLO costs less; Infinity when no plan can meet it (some stage has no admissible option). */
  readonly costPerHour: number;
  /** Per stage name, the relaxation's choice (absent for a stage with no admissible option). */
  readonly stages: Readonly<Record<string, BoundStage>>;
  /** Per stage, whether each of its options (in PlanningContext.stageOptions order) is admissible. */
  readonly admissible: readonly (readonly boolean[])[];
  /** Per stage and option, the fewest replicas any feasible plan gives it there (stability and burst floors); Infinity where not admissible. */
  readonly fewestReplicas: readonly (readonly number[])[];
}

/** What the bound needs of a stage option (a subset of StageOption). */
export interface FloorOption {
  readonly hardware: string;
  readonly batchSize: number;
  readonly price: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** The shortest a visit can take: hop overhead + the shortest service time of any batch ≤ batchSize. */
  readonly floorMs: number;
  /** The least hop overhead alone (paid before the stage's queue), at any number of requests in flight. */
  readonly leastHopMs: number;
  /** The most queries per ms one replica can serve: max over k ≤ batchSize of k / the shortest service time of k. */
  readonly peakRatePerMs: number;
  /** The most queries one replica can serve inside a window (late-bound.ts). */
  readonly capacity: BatchCapacity;
}

/**
 * The queries' routes through a pipeline, grouped: queries that visit the same stages and take the
 * same edges share one latency floor, so a check costs O(routes × stages), not O(queries × stages).
 */
export class LatencyFloor {
  private readonly pipeline: CompiledPipeline;
  /** Per route: visited stages (S bytes) and taken edges (E bytes), flattened. */
  private readonly visited: Uint8Array;
  private readonly taken: Uint8Array;
  private readonly count: Int32Array;
  /** Each query's route. */
  private readonly routeOf: Int32Array;
  /** Arrival times, ms. */
  private readonly arrivalMs: Float64Array;
  /** Per stage: the shortest span of arrivals of m queries visiting it, for m on a geometric grid (cached). */
  private readonly spans = new Map<number, { m: Int32Array; span: Float64Array }>();
  readonly routes: number;
  /** Queries that may miss the SLO: n − ⌈p/100 · n⌉ (the estimator's own early-stop rule). */
  readonly allowedMisses: number;
  readonly sloMs: number;
  private readonly finish: Float64Array;

  constructor(pipeline: CompiledPipeline, trace: Float64Array, seed: number, sloMs: number, percentile: number) {
    const queries = trace.length;
    this.pipeline = pipeline;
    this.arrivalMs = Float64Array.from(trace, (t) => t * 1000);
    this.routeOf = new Int32Array(queries);
    this.sloMs = sloMs;
    this.allowedMisses = queries - Math.ceil((percentile / 100) * queries);
    const S = pipeline.stageNames.length;
    const E = pipeline.edgeTo.length;
    const routeKey = streamKey(seed, 'routing');
    const index = new Map<string, number>();
    const visited: number[] = [];
    const taken: number[] = [];
    const count: number[] = [];
    const v = new Uint8Array(S);
    const t = new Uint8Array(E);
    for (let q = 0; q < queries; q++) {
      v.fill(0);
      t.fill(0);
      for (let i = 0; i < S; i++) {
        const s = pipeline.order[i] as number;
        if (pipeline.isRoot[s]) v[s] = 1;
        if (!v[s]) continue;
        for (let k = pipeline.edgeStart[s] as number; k < (pipeline.edgeStart[s + 1] as number); k++) {
          if (edgeTaken(routeKey, q, k, pipeline.edgeFraction[k] as number)) {
            t[k] = 1;
            v[pipeline.edgeTo[k] as number] = 1;
          }
        }
      }
      const key = `${v.join('')}|${t.join('')}`;
      const at = index.get(key);
      this.routeOf[q] = at ?? count.length;
      if (at === undefined) {
        index.set(key, count.length);
        count.push(1);
        for (let s = 0; s < S; s++) visited.push(v[s] as number);
        for (let k = 0; k < E; k++) taken.push(t[k] as number);
      } else {
        count[at] = (count[at] as number) + 1;
      }
    }
    this.visited = Uint8Array.from(visited);
    this.taken = Uint8Array.from(taken);
    this.count = Int32Array.from(count);
    this.routes = count.length;
    this.finish = new Float64Array(S);
  }

  /** Queries whose latency floor exceeds the SLO, given each stage's visit floor (stops counting past allowedMisses). */
  misses(stageFloorMs: ArrayLike<number>): number {
    const p = this.pipeline;
    const S = p.stageNames.length;
    const E = p.edgeTo.length;
    const finish = this.finish;
    let missed = 0;
    for (let r = 0; r < this.routes; r++) {
      const vb = r * S;
      const tb = r * E;
      finish.fill(0);
      let worst = 0;
      for (let i = 0; i < S; i++) {
        const s = p.order[i] as number;
        if (!this.visited[vb + s]) continue;
        const f = (finish[s] as number) + (stageFloorMs[s] as number);
        if (f > worst) worst = f;
        for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) {
          if (!this.taken[tb + k]) continue;
          const to = p.edgeTo[k] as number;
          const at = f + (p.edgeDelayMs[k] as number);
          if (at > (finish[to] as number)) finish[to] = at;
        }
      }
      // A hair of slack for the simulator's own order of floating-point sums.
      if (worst > this.sloMs * (1 + 1e-12) + 1e-9) {
        missed += this.count[r] as number;
        if (missed > this.allowedMisses) return missed;
      }
    }
    return missed;
  }

  /**
   * Over the routes that visit stage s, the least time before its service can start (up, the
   * stage's own hop excluded) and after it ends (down), with the other stages at `stageFloorMs`.
   */
  margins(s: number, stageFloorMs: ArrayLike<number>): { upMs: number; downMs: number } {
    const { up, down } = this.routeMargins(s, stageFloorMs);
    let upMs = Infinity;
    let downMs = Infinity;
    for (let r = 0; r < this.routes; r++) {
      if (Number.isNaN(up[r] as number)) continue;
      upMs = Math.min(upMs, up[r] as number);
      downMs = Math.min(downMs, down[r] as number);
    }
    return { upMs: Number.isFinite(upMs) ? upMs : 0, downMs: Number.isFinite(downMs) ? downMs : 0 };
  }

  /**
   * Stage s's jobs for leastLate (late-bound.ts) with the other stages at `stageFloorMs`: per
   * query visiting it, released at arrival + its route's up + `hopMs`, due at arrival + SLO − its
   * route's down; sorted by deadline.
   */
  jobsAt(s: number, stageFloorMs: ArrayLike<number>, hopMs: number): StageJobs {
    const { up, down } = this.routeMargins(s, stageFloorMs);
    const S = this.pipeline.stageNames.length;
    const pairs: [number, number][] = [];
    for (let q = 0; q < this.routeOf.length; q++) {
      const route = this.routeOf[q] as number;
      if (!this.visited[route * S + s]) continue;
      const a = this.arrivalMs[q] as number;
      pairs.push([a + (up[route] as number) + hopMs, a + this.sloMs - (down[route] as number)]);
    }
    pairs.sort((x, y) => x[1] - y[1]);
    return { release: Float64Array.from(pairs, (x) => x[0]), deadline: Float64Array.from(pairs, (x) => x[1]) };
  }

  /** Per route: up and down of stage s (margins), NaN for routes that do not visit it. */
  private routeMargins(s: number, stageFloorMs: ArrayLike<number>): { up: Float64Array; down: Float64Array } {
    const p = this.pipeline;
    const S = p.stageNames.length;
    const E = p.edgeTo.length;
    const start = new Float64Array(S);
    const tail = new Float64Array(S);
    const up = new Float64Array(this.routes).fill(Number.NaN);
    const down = new Float64Array(this.routes).fill(Number.NaN);
    for (let r = 0; r < this.routes; r++) {
      const vb = r * S;
      const tb = r * E;
      if (!this.visited[vb + s]) continue;
      start.fill(0);
      for (let i = 0; i < S; i++) {
        const u = p.order[i] as number;
        if (!this.visited[vb + u]) continue;
        const f = (start[u] as number) + (stageFloorMs[u] as number);
        for (let k = p.edgeStart[u] as number; k < (p.edgeStart[u + 1] as number); k++) {
          if (!this.taken[tb + k]) continue;
          const to = p.edgeTo[k] as number;
          const at = f + (p.edgeDelayMs[k] as number);
          if (at > (start[to] as number)) start[to] = at;
        }
      }
      tail.fill(0);
      for (let i = S - 1; i >= 0; i--) {
        const u = p.order[i] as number;
        if (!this.visited[vb + u]) continue;
        let longest = 0;
        for (let k = p.edgeStart[u] as number; k < (p.edgeStart[u + 1] as number); k++) {
          if (!this.taken[tb + k]) continue;
          const to = p.edgeTo[k] as number;
          const after = (p.edgeDelayMs[k] as number) + (stageFloorMs[to] as number) + (tail[to] as number);
          if (after > longest) longest = after;
        }
        tail[u] = longest;
      }
      up[r] = start[s] as number;
      down[r] = tail[s] as number;
    }
    return { up, down };
  }

  /**
   * The fewest replicas stage s needs so that no more than the allowed misses fall out of any
   * burst (file comment, fact 3): `windowMs` = SLO − up − hop − down, `ratePerMs` one replica's peak.
   */
  burstReplicas(s: number, windowMs: number, ratePerMs: number): number {
    const { m, span } = this.spanTable(s);
    let need = 0;
    for (let i = 0; i < m.length; i++) {
      const served = (m[i] as number) - this.allowedMisses;
      const w = (span[i] as number) + windowMs;
      if (w <= 0) return Infinity;
      const r = served / (w * ratePerMs);
      if (r > need) need = r;
    }
    // A hair below an integer is that integer (the window and the rate are sums of floats).
    return Math.ceil(need * (1 - 1e-12));
  }

  private spanTable(s: number): { m: Int32Array; span: Float64Array } {
    let t = this.spans.get(s);
    if (t) return t;
    const S = this.pipeline.stageNames.length;
    const times: number[] = [];
    for (let q = 0; q < this.routeOf.length; q++) {
      if (this.visited[(this.routeOf[q] as number) * S + s]) times.push(this.arrivalMs[q] as number);
    }
    const ms: number[] = [];
    const spans: number[] = [];
    const n = times.length;
    // Every m is a valid window size; a geometric grid (and n itself) keeps this O(n log n).
    for (let m = this.allowedMisses + 1; m <= n; m = m >= n ? n + 1 : Math.min(n, Math.max(m + 1, Math.floor(m * 1.08)))) {
      let least = Infinity;
      for (let i = 0; i + m - 1 < n; i++) {
        const d = (times[i + m - 1] as number) - (times[i] as number);
        if (d < least) least = d;
      }
      ms.push(m);
      spans.push(least);
    }
    t = { m: Int32Array.from(ms), span: Float64Array.from(spans) };
    this.spans.set(s, t);
    return t;
  }

  /** False when the floors alone make the SLO unreachable. */
  fits(stageFloorMs: ArrayLike<number>): boolean {
    return this.misses(stageFloorMs) <= this.allowedMisses;
  }
}

/**
 * The relaxation's bound for per-stage options (see the file comment). The late-query bound
 * (fact 4) costs a pass over the stage's queries per replica count, so by default it refines only
 * the options that could be a stage's cheapest (best first: an option's count only rises); with
 * `everyOption` it refines the largest batch of every hardware (the exact search's choice lists).
 * `refined`: the replicas fact 4 gave each `stage/hardware` in an earlier call on the same floor
 * and options, so a second call does not run them again.
 */
export function costBound(
  stageNames: readonly string[], options: readonly (readonly FloorOption[])[], floor: LatencyFloor, everyOption = false, refined = new Map<string, number>(),
): CostBound {
  const S = stageNames.length;
  const fastest = options.map((opts) => opts.reduce((m, o) => (o.minReplicas <= o.maxReplicas ? Math.min(m, o.floorMs) : m), Infinity));
  const admissible: boolean[][] = [];
  const fewest: number[][] = [];
  const stages: Record<string, BoundStage> = {};
  let total = 0;
  const probe = Float64Array.from(fastest);
  for (let s = 0; s < S; s++) {
    const opts = options[s] ?? [];
    const need = stageFloors(s, opts, floor, fastest, probe);
    refineLate(s, opts, floor, fastest, need, everyOption, refined);
    let pick = -1;
    need.forEach((r, i) => {
      if (Number.isFinite(r) && (pick < 0 || r * (opts[i] as FloorOption).price < (need[pick] as number) * (opts[pick] as FloorOption).price)) pick = i;
    });
    admissible.push(need.map((r) => Number.isFinite(r)));
    fewest.push(need);
    if (pick >= 0) {
      const o = opts[pick] as FloorOption;
      const r = need[pick] as number;
      const c = roundCost(r * o.price);
      stages[stageNames[s] as string] = { hardware: o.hardware, batchSize: o.batchSize, replicas: r, costPerHour: c };
      total += c;
    } else {
      total = Infinity;
    }
  }
  return { costPerHour: Number.isFinite(total) ? roundCost(total) : Infinity, stages, admissible, fewestReplicas: fewest };
}

/**
 * Per option of stage s: the larger of its stability and burst floors where its latency floor is
 * admissible, else Infinity. `probe` (the fastest floors) gets stage s's own back before it returns.
 */
function stageFloors(s: number, opts: readonly FloorOption[], floor: LatencyFloor, fastest: readonly number[], probe: Float64Array): number[] {
  // Options share few distinct floors: judge each floor once.
  const judged = new Map<number, boolean>();
  const { upMs, downMs } = floor.margins(s, fastest);
  const need = opts.map((o) => {
    let fits = judged.get(o.floorMs);
    if (fits === undefined) {
      probe[s] = o.floorMs;
      fits = floor.fits(probe);
      judged.set(o.floorMs, fits);
    }
    if (!fits) return Infinity;
    const replicas = Math.max(o.minReplicas, floor.burstReplicas(s, floor.sloMs - upMs - o.leastHopMs - downMs, o.peakRatePerMs));
    return replicas <= o.maxReplicas ? replicas : Infinity;
  });
  probe[s] = fastest[s] as number;
  return need;
}

/**
 * Raises `need` by the late-query bound (fact 4), in place. Per hardware it runs on the largest
 * batch size: a smaller batch serves no more in any window, so it needs at least as many replicas.
 * Best first unless `everyOption`: the cheapest hardware not yet refined, until the cheapest is.
 */
function refineLate(
  s: number, opts: readonly FloorOption[], floor: LatencyFloor, fastest: readonly number[], need: number[], everyOption: boolean, known: Map<string, number>,
): void {
  const largest = new Map<string, number>();
  opts.forEach((o, i) => {
    if (!Number.isFinite(need[i] as number)) return;
    const at = largest.get(o.hardware);
    if (at === undefined || (opts[at] as FloorOption).batchSize < o.batchSize) largest.set(o.hardware, i);
  });
  const jobs = new Map<number, StageJobs>();
  const refined = new Set<string>();
  const costOf = (hw: string): number => {
    let least = Infinity;
    opts.forEach((o, i) => { if (o.hardware === hw) least = Math.min(least, (need[i] as number) * o.price); });
    return least;
  };
  for (;;) {
    let next: string | undefined;
    if (everyOption) {
      next = [...largest.keys()].find((h) => !refined.has(h));
    } else {
      // The cheapest hardware as things stand; once it is refined, no other can undercut it.
      let cheapest = Infinity;
      for (const h of largest.keys()) {
        const c = costOf(h);
        if (c < cheapest) {
          cheapest = c;
          next = h;
        }
      }
      if (next !== undefined && refined.has(next)) return;
    }
    if (next === undefined) return;
    refined.add(next);
    const i = largest.get(next) as number;
    const o = opts[i] as FloorOption;
    const key = `${s}/${next}`;
    let replicas = known.get(key) ?? (need[i] as number);
    if (!known.has(key)) {
      let at = jobs.get(o.leastHopMs);
      if (!at) jobs.set(o.leastHopMs, (at = floor.jobsAt(s, fastest, o.leastHopMs)));
      while (replicas <= o.maxReplicas && leastLate(at, replicas, o.capacity, floor.allowedMisses) > floor.allowedMisses) replicas++;
      known.set(key, replicas);
    }
    opts.forEach((x, k) => {
      if (x.hardware === next && Number.isFinite(need[k] as number)) need[k] = replicas > x.maxReplicas ? Infinity : Math.max(need[k] as number, replicas);
    });
  }
}

/** The configuration's per-stage floors, for LatencyFloor.fits (options looked up by hardware and batch size). */
export function configFloors(stageNames: readonly string[], options: readonly (readonly FloorOption[])[], config: Readonly<Record<string, StageConfig>>, out: Float64Array): Float64Array | undefined {
  for (let s = 0; s < stageNames.length; s++) {
    const c = config[stageNames[s] as string] as StageConfig;
    const o = (options[s] ?? []).find((x) => x.hardware === c.hardware && x.batchSize === c.batchSize);
    if (!o) return undefined;
    out[s] = o.floorMs;
  }
  return out;
}

/** The optimality gap of a cost against a bound: cost / bound − 1 (0 when both are 0; Infinity when the bound is 0 or infinite). */
export function gapOf(costPerHour: number, boundPerHour: number): number {
  if (!Number.isFinite(boundPerHour) || !Number.isFinite(costPerHour)) return Infinity;
  if (boundPerHour <= 0) return costPerHour <= 0 ? 0 : Infinity;
  return Math.max(0, costPerHour / boundPerHour - 1);
}
