// The live half of `inferline replay`: checks (or applies) a plan on a fleet of real servers,
// sends a trace through it open-loop (each query at its time, never waiting for answers), stage by
// stage over the adapters' inference calls with the estimator's routing (core/replay/router), and
// measures end-to-end and per-hop latency, the servers' own queue and batch figures, and its own
// health: send slip against the schedule, event-loop delay, the host's load.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { modelDelta } from '../core/observe/counters.js';
import { percentileOfSorted, sortedCopy } from '../core/math/percentiles.js';
import { nsToMs } from '../core/profiler/server-timing.js';
import { QueryRouter } from '../core/replay/router.js';
import type { CompiledPipeline } from '../core/model/pipeline.js';
import type { StageConfig } from '../core/model/types.js';
import { hasBatchControl, hasReplicaControl, isProfilable } from '../ports/server-adapter.js';
import type { ModelCounters, ServerAdapter, ServerKind } from '../ports/server-adapter.js';

/** Where one stage is served. */
export interface FleetStage {
  readonly stage: string;
  readonly kind: ServerKind;
  readonly model: string;
  readonly adapter: ServerAdapter;
}

/** A difference between the plan and what a server runs. */
export interface FleetMismatch {
  readonly stage: string;
  readonly field: 'replicas' | 'batchSize' | 'batchDelayMs';
  readonly planned: number;
  readonly serving: number;
}

/** What the servers run now, per stage, against the plan; `[]` when they agree. */
export async function fleetMismatches(fleet: readonly FleetStage[], plan: Readonly<Record<string, StageConfig>>): Promise<FleetMismatch[]> {
  const out: FleetMismatch[] = [];
  for (const f of fleet) {
    const want = plan[f.stage];
    if (!want) continue;
    const m = await f.adapter.model(f.model);
    if (m.replicas !== want.replicas) out.push({ stage: f.stage, field: 'replicas', planned: want.replicas, serving: m.replicas });
    if (m.maxBatchSize !== want.batchSize) out.push({ stage: f.stage, field: 'batchSize', planned: want.batchSize, serving: m.maxBatchSize });
    const delay = m.batchDelayMs ?? 0;
    if (Math.abs(delay - (want.batchDelayMs ?? 0)) > 1e-3) out.push({ stage: f.stage, field: 'batchDelayMs', planned: want.batchDelayMs ?? 0, serving: delay });
  }
  return out;
}

/**
 * Applies the plan's replicas and batching to each stage's server, through the same adapter calls
 * the agent's reconciler makes. Throws when a server cannot make a change the plan needs.
 */
export async function applyPlan(fleet: readonly FleetStage[], plan: Readonly<Record<string, StageConfig>>): Promise<string[]> {
  const done: string[] = [];
  for (const m of await fleetMismatches(fleet, plan)) {
    const f = fleet.find((x) => x.stage === m.stage) as FleetStage;
    const want = plan[m.stage] as StageConfig;
    if (m.field === 'replicas') {
      if (!hasReplicaControl(f.adapter)) throw new Error(`stage ${m.stage}: ${f.kind} cannot change replicas through its API; set ${m.planned} on the server`);
      await f.adapter.setReplicas(f.model, want.replicas);
      done.push(`${m.stage}: replicas ${m.serving} → ${m.planned}`);
    } else if (!done.some((d) => d.startsWith(`${m.stage}: batch`))) {
      if (!hasBatchControl(f.adapter)) throw new Error(`stage ${m.stage}: ${f.kind} cannot change batching through its API; set batch ${want.batchSize}, delay ${want.batchDelayMs ?? 0} ms on the server`);
      await f.adapter.setBatching(f.model, { maxBatchSize: want.batchSize, batchDelayMs: want.batchDelayMs ?? 0 });
      done.push(`${m.stage}: batch ${want.batchSize}, delay ${want.batchDelayMs ?? 0} ms`);
    }
  }
  return done;
}

export interface ReplayOptions {
  readonly pipeline: CompiledPipeline;
  /** One entry per stage of the pipeline. */
  readonly fleet: readonly FleetStage[];
  /** Arrival times in seconds, non-decreasing. */
  readonly trace: Float64Array;
  readonly seed: number;
  /** Per-hop timeout (default 30 s). */
  readonly hopTimeoutMs?: number;
  /** Unmeasured requests per stage before the run, to warm connections and JIT (default 20). */
  readonly warmup?: number;
  /** Progress, once a second: queries sent and answered. */
  readonly onProgress?: (sent: number, done: number) => void;
}

/** Health of the harness itself during the run. */
export interface HarnessHealth {
  /** Send time minus scheduled time, over every query. */
  readonly sendSlipP50Ms: number;
  readonly sendSlipP99Ms: number;
  readonly sendSlipMaxMs: number;
  /** The replaying process's event-loop delay. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** 1-minute load average at the end, and the host's cores. */
  readonly loadAverage: number;
  readonly cores: number;
}

export interface StageMeasurement {
  readonly stage: string;
  /** Every answered visit's hop time (send to answer, as the client saw it), sorted. */
  readonly hopMs: Float64Array;
  readonly failures: number;
  /** The server's own figures over the run, where it reports them. */
  readonly serverQueueMs?: number;
  readonly serverComputeMs?: number;
  readonly serverMeanBatch?: number;
}

export interface ReplayMeasurement {
  /** Arrival times actually sent, in seconds from the first (what the estimator is given). */
  readonly sentTrace: Float64Array;
  /** End-to-end latency of each query that completed, sorted. */
  readonly latencyMs: Float64Array;
  /** Queries with a failed hop, or unanswered when the run ended. */
  readonly failed: number;
  readonly stages: readonly StageMeasurement[];
  readonly health: HarnessHealth;
  readonly durationMs: number;
}

/** Sends the trace through the fleet open-loop and measures it. */
export async function replayTrace(o: ReplayOptions): Promise<ReplayMeasurement> {
  const p = o.pipeline;
  const S = p.stageNames.length;
  const n = o.trace.length;
  const byStage = p.stageNames.map((name) => {
    const f = o.fleet.find((x) => x.stage === name);
    if (!f) throw new Error(`no server for stage ${name}`);
    if (!isProfilable(f.adapter)) throw new Error(`stage ${name}: the ${f.kind} adapter cannot send inference requests`);
    return { ...f, adapter: f.adapter };
  });
  const hopTimeoutMs = o.hopTimeoutMs ?? 30_000;
  const infer = (s: number): Promise<unknown> => {
    const f = byStage[s] as (typeof byStage)[number];
    return f.adapter.infer(f.model, { batchSize: 1, data: 'zero', timeoutMs: hopTimeoutMs });
  };
  for (let s = 0; s < S; s++) for (let i = 0; i < (o.warmup ?? 20); i++) await infer(s);
  const before = await Promise.all(byStage.map((f) => readCounters(f)));

  const router = new QueryRouter(p, o.seed, n);
  const hop: number[][] = byStage.map(() => []);
  const failures = new Int32Array(S);
  const sentAt = new Float64Array(n);
  const slip = new Float64Array(n);
  const endAt = new Float64Array(n);
  const state = new Uint8Array(n); // 0 pending, 1 done, 2 failed
  let finished = 0;
  let sent = 0;
  let allDone: () => void = () => undefined;
  const whenDone = new Promise<void>((resolve) => { allDone = resolve; });

  const complete = (q: number, ok: boolean): void => {
    state[q] = ok ? 1 : 2;
    if (++finished === n) allDone();
  };
  const visit = (q: number, s: number): void => {
    const t = performance.now();
    infer(s).then(() => {
      const now = performance.now();
      (hop[s] as number[]).push(now - t);
      if (now > (endAt[q] as number)) endAt[q] = now;
      const step = router.finish(q, s);
      for (const next of step.send) visit(q, next);
      if (step.done) complete(q, true);
    }, () => {
      failures[s] = (failures[s] as number) + 1;
      if (router.fail(q).done) complete(q, false);
    });
  };

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now() + 100;
  const first = n > 0 ? (o.trace[0] as number) : 0;
  const due = (i: number): number => t0 + ((o.trace[i] as number) - first) * 1000;
  const progress = o.onProgress ? setInterval(() => o.onProgress?.(sent, finished), 1000) : undefined;
  progress?.unref();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < n && due(sent) <= now) {
        const q = sent++;
        const at = performance.now();
        sentAt[q] = at;
        slip[q] = at - due(q);
        endAt[q] = at;
        for (const s of router.start().send) visit(q, s);
      }
      if (sent >= n) { resolve(); return; }
      // Wake a little early and send what is due; what a late wake-up costs is the slip, measured.
      setTimeout(tick, Math.max(0, Math.floor(due(sent) - performance.now())));
    };
    tick();
  });
  // Every hop has its own timeout, so this ends; the deadline only guards a server that never answers.
  const deadlineMs = hopTimeoutMs * (S + 1);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([whenDone, new Promise<void>((resolve) => { timer = setTimeout(resolve, deadlineMs); })]);
  if (timer) clearTimeout(timer);
  if (progress) clearInterval(progress);
  loop.disable();
  const durationMs = performance.now() - t0;
  const after = await Promise.all(byStage.map((f) => readCounters(f)));

  const latencies: number[] = [];
  let failed = 0;
  for (let q = 0; q < n; q++) {
    if (state[q] === 1) latencies.push((endAt[q] as number) - (sentAt[q] as number));
    else failed++;
  }
  const sortedSlip = sortedCopy(slip);
  const pick = (a: Float64Array, pct: number): number => (a.length === 0 ? 0 : percentileOfSorted(a, pct));
  return {
    sentTrace: Float64Array.from(sentAt, (t) => (t - (sentAt[0] ?? 0)) / 1000),
    latencyMs: Float64Array.from(latencies).sort(),
    failed,
    stages: byStage.map((f, s) => ({
      stage: f.stage,
      hopMs: Float64Array.from(hop[s] as number[]).sort(),
      failures: failures[s] as number,
      ...serverFigures(f.model, before[s], after[s]),
    })),
    health: {
      sendSlipP50Ms: pick(sortedSlip, 50),
      sendSlipP99Ms: pick(sortedSlip, 99),
      sendSlipMaxMs: sortedSlip.length ? (sortedSlip[sortedSlip.length - 1] as number) : 0,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      loadAverage: loadavg()[0] ?? 0,
      cores: cpus().length,
    },
    durationMs,
  };
}

/** The model's counters, every series (version) of it. */
async function readCounters(f: FleetStage): Promise<ModelCounters[] | undefined> {
  try {
    const mine = (await f.adapter.counters(f.model)).filter((c) => c.model === f.model);
    return mine.length > 0 ? mine : undefined;
  } catch {
    return undefined; // a server without counters: its server-side figures are left out
  }
}

/** The server's queue and compute time per request and mean batch over the run, from counter deltas. */
function serverFigures(model: string, before: readonly ModelCounters[] | undefined, after: readonly ModelCounters[] | undefined): Partial<StageMeasurement> {
  if (!after) return {};
  const { delta, reset } = modelDelta(model, before ?? [], after);
  if (reset || delta.requests <= 0n) return {};
  const req = Number(delta.requests);
  return {
    ...(delta.queueNs !== undefined ? { serverQueueMs: nsToMs(delta.queueNs) / req } : {}),
    ...(delta.computeNs !== undefined ? { serverComputeMs: nsToMs(delta.computeNs) / req } : {}),
    ...(delta.inferences !== undefined && delta.executions !== undefined && delta.executions > 0n
      ? { serverMeanBatch: Number(delta.inferences) / Number(delta.executions) } : {}),
  };
}
