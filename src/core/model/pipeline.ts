// Pipelines: validation of the DAG and its compiled, index-based form.
//
// Semantics (ours, where the reference leaves it open): a stage with several incoming edges is a
// join. It runs once per query, after every incoming branch that was taken has completed. A stage
// none of whose incoming edges was taken is skipped, and so are the stages only it feeds. So the
// scale factor of a stage (expected visits per query) is the probability that it is visited; for a
// tree this equals the reference's "product of fractions summed over paths". It is computed
// exactly by enumerating the conditional edges (those with 0 < f < 1), up to 20 of them.
import { hashUnit } from '../math/random.js';
import type { HardwareType, PipelineSpec } from './types.js';
import type { Problem } from './errors.js';
import type { ProfileSet } from './profiles.js';

/** A pipeline compiled to indices, ready for the estimator and the planner. */
export interface CompiledPipeline {
  readonly spec: PipelineSpec;
  readonly stageNames: readonly string[];
  /** Stage indices in a topological order. */
  readonly order: Int32Array;
  readonly isRoot: Uint8Array;
  /** Outgoing edges in CSR form: edges of stage s are edgeStart[s] .. edgeStart[s+1]-1. */
  readonly edgeStart: Int32Array;
  readonly edgeTo: Int32Array;
  readonly edgeFraction: Float64Array;
  readonly edgeDelayMs: Float64Array;
  /** Number of incoming edges of each stage. */
  readonly inDegree: Int32Array;
  /** Expected visits per query of each stage. */
  readonly scaleFactor: Float64Array;
  /** True when the scale factors are exact (≤ 20 conditional edges). */
  readonly scaleFactorExact: boolean;
}

const MAX_EXACT_CONDITIONAL_EDGES = 20;

/**
 * Checks a pipeline against the hardware list and the profiles. `path` prefixes every problem
 * (e.g. `pipelines[1]`). Returns every problem found.
 */
export function validatePipeline(
  spec: PipelineSpec,
  path: string,
  hardware: readonly HardwareType[],
  profiles: ProfileSet,
): Problem[] {
  const problems: Problem[] = [];
  const hwNames = new Set(hardware.map((h) => h.name));
  const index = new Map<string, number>();
  spec.stages.forEach((s, i) => {
    if (index.has(s.name)) problems.push({ path: `${path}.stages[${i}].name`, message: `duplicate stage name "${s.name}"` });
    else index.set(s.name, i);
  });
  if (spec.stages.length === 0) problems.push({ path: `${path}.stages`, message: 'a pipeline needs at least one stage' });
  if (!(spec.slo.latencyMs > 0)) problems.push({ path: `${path}.slo.latencyMs`, message: `${spec.slo.latencyMs} — must be > 0` });
  if (!(spec.slo.percentile > 0 && spec.slo.percentile < 100)) {
    problems.push({ path: `${path}.slo.percentile`, message: `${spec.slo.percentile} — must be in (0, 100)` });
  }

  spec.stages.forEach((s, i) => {
    const at = `${path}.stages[${i}]`;
    if (s.hardware.length === 0) problems.push({ path: `${at}.hardware`, message: 'a stage needs at least one allowed hardware type' });
    let usable = 0;
    s.hardware.forEach((h, j) => {
      if (!hwNames.has(h)) {
        problems.push({ path: `${at}.hardware[${j}]`, message: `unknown hardware "${h}" — must be one of: ${[...hwNames].join(', ') || '(none defined)'}` });
      } else if (profiles.has(s.model, h)) usable++;
    });
    if (s.hardware.length > 0 && usable === 0 && s.hardware.every((h) => hwNames.has(h))) {
      problems.push({ path: `${at}.model`, message: `no profile for model "${s.model}" on any allowed hardware (${s.hardware.join(', ')})` });
    }
    if (s.minReplicas !== undefined && s.maxReplicas !== undefined && s.minReplicas > s.maxReplicas) {
      problems.push({ path: `${at}.minReplicas`, message: `${s.minReplicas} — must be ≤ maxReplicas (${s.maxReplicas})` });
    }
    s.next.forEach((e, j) => {
      const eat = `${at}.next[${j}]`;
      if (!index.has(e.stage)) problems.push({ path: `${eat}.stage`, message: `unknown stage "${e.stage}"` });
      else if (e.stage === s.name) problems.push({ path: `${eat}.stage`, message: `stage "${s.name}" feeds itself: the pipeline must be acyclic` });
      if (!(e.fraction >= 0 && e.fraction <= 1)) problems.push({ path: `${eat}.fraction`, message: `${e.fraction} — must be in [0, 1]` });
      if (e.delayMs !== undefined && !(e.delayMs >= 0)) problems.push({ path: `${eat}.delay`, message: `${e.delayMs} — must be ≥ 0` });
    });
    const targets = new Set<string>();
    s.next.forEach((e, j) => {
      if (targets.has(e.stage)) problems.push({ path: `${at}.next[${j}].stage`, message: `duplicate edge to "${e.stage}"` });
      targets.add(e.stage);
    });
  });
  if (problems.length > 0) return problems;

  const cycle = findCycle(spec);
  if (cycle) {
    problems.push({ path: `${path}.stages`, message: `the pipeline has a cycle: ${cycle.join(' → ')} — it must be a DAG` });
    return problems;
  }
  const inDeg = new Map<string, number>(spec.stages.map((s) => [s.name, 0]));
  for (const s of spec.stages) for (const e of s.next) inDeg.set(e.stage, (inDeg.get(e.stage) ?? 0) + 1);
  const derivedRoots = spec.stages.filter((s) => inDeg.get(s.name) === 0).map((s) => s.name);
  if (spec.roots !== undefined) {
    spec.roots.forEach((r, j) => {
      if (!index.has(r)) problems.push({ path: `${path}.roots[${j}]`, message: `unknown stage "${r}"` });
      else if ((inDeg.get(r) ?? 0) > 0) problems.push({ path: `${path}.roots[${j}]`, message: `"${r}" has incoming edges, so it cannot be a root` });
    });
    for (const r of derivedRoots) {
      if (!spec.roots.includes(r)) problems.push({ path: `${path}.roots`, message: `stage "${r}" has no incoming edge but is not listed as a root: it would never run` });
    }
  }
  return problems;
}

/** Returns a cycle as a list of stage names (first = last), or undefined. */
function findCycle(spec: PipelineSpec): string[] | undefined {
  const next = new Map(spec.stages.map((s) => [s.name, s.next.map((e) => e.stage)]));
  const state = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      const st = state.get(m) ?? 0;
      if (st === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (st === 0) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const s of spec.stages) {
    if ((state.get(s.name) ?? 0) === 0) {
      const c = visit(s.name);
      if (c) return c;
    }
  }
  return undefined;
}

/** Compiles a valid pipeline (see validatePipeline) to its index form. */
export function compilePipeline(spec: PipelineSpec): CompiledPipeline {
  const n = spec.stages.length;
  const index = new Map(spec.stages.map((s, i) => [s.name, i]));
  const edgeStart = new Int32Array(n + 1);
  spec.stages.forEach((s, i) => { edgeStart[i + 1] = (edgeStart[i] as number) + s.next.length; });
  const m = edgeStart[n] as number;
  const edgeTo = new Int32Array(m);
  const edgeFraction = new Float64Array(m);
  const edgeDelayMs = new Float64Array(m);
  const inDegree = new Int32Array(n);
  spec.stages.forEach((s, i) => {
    s.next.forEach((e, j) => {
      const k = (edgeStart[i] as number) + j;
      const to = index.get(e.stage);
      if (to === undefined) throw new Error(`compilePipeline: unknown stage ${e.stage} (validate first)`);
      edgeTo[k] = to;
      edgeFraction[k] = e.fraction;
      edgeDelayMs[k] = e.delayMs ?? 0;
      inDegree[to] = (inDegree[to] as number) + 1;
    });
  });
  // Kahn's algorithm, taking the lowest index first so that the order is deterministic.
  const order = new Int32Array(n);
  const deg = Int32Array.from(inDegree);
  const ready: number[] = [];
  for (let i = 0; i < n; i++) if (deg[i] === 0) ready.push(i);
  let filled = 0;
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const s = ready.shift() as number;
    order[filled++] = s;
    for (let k = edgeStart[s] as number; k < (edgeStart[s + 1] as number); k++) {
      const t = edgeTo[k] as number;
      deg[t] = (deg[t] as number) - 1;
      if (deg[t] === 0) ready.push(t);
    }
  }
  if (filled !== n) throw new Error(`compilePipeline: ${spec.name} has a cycle (validate first)`);
  const isRoot = new Uint8Array(n);
  for (let i = 0; i < n; i++) isRoot[i] = inDegree[i] === 0 ? 1 : 0;
  const base = { spec, stageNames: spec.stages.map((s) => s.name), order, isRoot, edgeStart, edgeTo, edgeFraction, edgeDelayMs, inDegree };
  const { factors, exact } = visitProbabilities(base);
  return { ...base, scaleFactor: factors, scaleFactorExact: exact };
}

type Structure = Omit<CompiledPipeline, 'scaleFactor' | 'scaleFactorExact'>;

/** Which stages a query visits, given the outcome of every edge draw. */
function visitedGiven(p: Structure, taken: (edge: number) => boolean, out: Uint8Array): void {
  out.fill(0);
  for (let i = 0; i < p.order.length; i++) {
    const s = p.order[i] as number;
    if (p.isRoot[s]) out[s] = 1;
    if (!out[s]) continue;
    for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) {
      if (taken(k)) out[p.edgeTo[k] as number] = 1;
    }
  }
}

function visitProbabilities(p: Structure): { factors: Float64Array; exact: boolean } {
  const n = p.order.length;
  const conditional: number[] = [];
  for (let k = 0; k < p.edgeFraction.length; k++) {
    const f = p.edgeFraction[k] as number;
    if (f > 0 && f < 1) conditional.push(k);
  }
  const factors = new Float64Array(n);
  const visited = new Uint8Array(n);
  if (conditional.length <= MAX_EXACT_CONDITIONAL_EDGES) {
    const outcome = new Uint8Array(p.edgeFraction.length);
    for (let mask = 0; mask < 2 ** conditional.length; mask++) {
      let prob = 1;
      for (let k = 0; k < p.edgeFraction.length; k++) outcome[k] = (p.edgeFraction[k] as number) >= 1 ? 1 : 0;
      conditional.forEach((k, bit) => {
        const f = p.edgeFraction[k] as number;
        const on = (mask >> bit) & 1;
        outcome[k] = on;
        prob *= on ? f : 1 - f;
      });
      visitedGiven(p, (k) => outcome[k] === 1, visited);
      for (let s = 0; s < n; s++) if (visited[s]) factors[s] = (factors[s] as number) + prob;
    }
    return { factors, exact: true };
  }
  // Many conditional edges: treat the incoming branches of a join as independent.
  for (let i = 0; i < n; i++) {
    const s = p.order[i] as number;
    if (p.isRoot[s]) factors[s] = 1;
  }
  const missProb = new Float64Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    const s = p.order[i] as number;
    if (!p.isRoot[s]) factors[s] = 1 - (missProb[s] as number);
    for (let k = p.edgeStart[s] as number; k < (p.edgeStart[s + 1] as number); k++) {
      const t = p.edgeTo[k] as number;
      missProb[t] = (missProb[t] as number) * (1 - (factors[s] as number) * (p.edgeFraction[k] as number));
    }
  }
  return { factors, exact: false };
}

/**
 * Whether query `q` follows edge `k` (fraction `f`): the one routing rule the estimator and a live
 * replay share, a draw keyed by (seed's routing stream, query, edge) so it does not depend on
 * event order.
 */
export function edgeTaken(routeKey: number, q: number, k: number, f: number): boolean {
  return f >= 1 || (f > 0 && hashUnit(routeKey, q, k) < f);
}
