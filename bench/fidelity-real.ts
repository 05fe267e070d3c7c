// Fidelity on REAL servers: `inferline replay` of Poisson workloads at three rates through real
// Triton 2.51 and real TorchServe 0.12 serving the sleep model (a batch of k sleeps 4 + 1·k ms),
// each profiled first with `inferline profile` (batch 1, 2, 4, 8). Prints predicted against
// measured P50 and P99 with their errors, the per-stage hop, queue and batch figures, the
// harness's health and verdict, and the host's load. Target (issue #13): |P99 error| ≤ 10 %.
//
// Beside each run it re-estimates the same workload (the scheduled arrivals, not the ones sent)
// with one term of the estimator left out at a time — the service-time spread from the profile's
// P99, the hop overhead, the batch delay — to show which term moves the prediction and by how much.
// Nothing is fitted to the measurements.
//
//   npm run bench -- fidelity-real          (INFERLINE_BENCH_RATES=40,100,200 INFERLINE_BENCH_DURATION=30s)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { loadPlanFile } from '../src/config/plan-file.js';
import { Estimator } from '../src/core/sim/estimator.js';
import type { DelayOrigin } from '../src/core/sim/estimator.js';
import { delayOriginOf } from '../src/core/sim/batch-delay.js';
import { compilePipeline } from '../src/core/model/pipeline.js';
import { ProfileSet } from '../src/core/model/profiles.js';
import type { ModelProfile, PipelineConfig, PipelineSpec } from '../src/core/model/types.js';
import { resolveWorkload } from '../src/runtime/trace-source.js';
import {
  profileLine, profileSleepServer, replaySleepServer, sleepServerUnavailable, startSleepServer, writeReplayFiles,
} from '../test/integration/servers/replay-fixture.js';
import type { ReplayFiles, ReplayRun } from '../test/integration/servers/replay-fixture.js';
import type { ServerName } from '../test/integration/servers/status.js';

const SERVERS: readonly ServerName[] = ['triton', 'torchserve'];
const TARGET = 0.1;

function rates(): number[] {
  const text = process.env['INFERLINE_BENCH_RATES'] ?? '40,100,200';
  return text.split(',').map(Number).filter((r) => r > 0);
}
const DURATION = process.env['INFERLINE_BENCH_DURATION'] ?? '30s';

const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '—');
const ms = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2));
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');

interface TermVariant {
  readonly name: string;
  readonly profiles: (p: readonly ModelProfile[]) => ModelProfile[];
  readonly config: (c: PipelineConfig) => PipelineConfig;
}

const same = <T>(x: T): T => x;
const VARIANTS: readonly TermVariant[] = [
  { name: 'all terms', profiles: (p) => [...p], config: same },
  { name: 'no spread', profiles: (p) => p.map((m) => ({ ...m, points: m.points.map(({ p99LatencyMs: _drop, ...pt }) => pt) })), config: same },
  { name: 'no hop', profiles: (p) => p.map(({ hopOverheadMs: _drop, hopOverheadCurve: _curve, ...m }) => m), config: same },
  {
    name: 'no delay', profiles: (p) => [...p],
    config: (c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, { ...v, batchDelayMs: 0 }])),
  },
];

/** The estimator's P99 (and utilisation) on the scheduled arrivals, with each variant's terms. */
async function termEffects(files: ReplayFiles, kind: ServerName, arrival: string): Promise<string> {
  const config = await loadConfig(files.config);
  const plan = await loadPlanFile(files.plan, config);
  const spec = config.pipelines.find((p) => p.name === plan.pipeline) as PipelineSpec;
  const pipeline = compilePipeline(spec);
  const workload = await resolveWorkload({ arrivalSpec: arrival, fallbackSpec: arrival, seed: plan.seed ?? 1 });
  const delayOrigin: Record<string, DelayOrigin> = {};
  for (const s of spec.stages) delayOrigin[s.name] = delayOriginOf(kind);
  const out: string[] = [];
  for (const v of VARIANTS) {
    const est = new Estimator(pipeline, new ProfileSet(v.profiles(config.profiles))).estimate(v.config(plan.stages), workload.trace, {
      seed: plan.seed ?? 1, sloMs: spec.slo.latencyMs, percentile: spec.slo.percentile, delayOrigin,
    });
    const u = est.stages[0]?.utilisation ?? Number.NaN;
    out.push(`${v.name} P50 ${ms(est.p50Ms)} P99 ${ms(est.p99Ms)}${v.name === 'all terms' ? ` (utilisation ${(u * 100).toFixed(0)}%)` : ''}`);
  }
  return out.join(' | ');
}

function printRun(rate: number, r: ReplayRun, effects: string): void {
  const s = r.summary;
  const e = s.endToEnd;
  const st = s.stages[0];
  const h = s.health;
  const met = Math.abs(e.error.p99) <= TARGET;
  console.log(`  ${String(rate).padStart(4)} qps, ${s.queries} queries:  P50 ${ms(e.predicted.p50Ms)} / ${ms(e.measured.p50Ms)} ms (${pct(e.error.p50)})   `
    + `P99 ${ms(e.predicted.p99Ms)} / ${ms(e.measured.p99Ms)} ms (${pct(e.error.p99)})  ${met ? 'within' : 'OUTSIDE'} ±${TARGET * 100}%`);
  if (st) {
    console.log(`         stage: hop P50 ${ms(st.hopP50Ms.predicted)} / ${ms(st.hopP50Ms.measured)}  hop P99 ${ms(st.hopP99Ms.predicted)} / ${ms(st.hopP99Ms.measured)}  `
      + `queue ${ms(st.queueMs.predicted)} / ${ms(st.queueMs.measured)} (server)  batch ${st.meanBatch.predicted.toFixed(2)} / ${st.meanBatch.measured?.toFixed(2) ?? '—'} (server)  `
      + `visits ${st.visits.predicted} / ${st.visits.measured}  failed ${st.failures}`);
  }
  console.log(`         harness: slip P50 ${h.sendSlipP50Ms.toFixed(2)} P99 ${h.sendSlipP99Ms.toFixed(2)} max ${h.sendSlipMaxMs.toFixed(1)} ms; loop delay P99 ${h.loopDelayP99Ms.toFixed(1)} ms; `
    + `load ${h.loadAverage.toFixed(2)} on ${h.cores} cores → ${s.verdict.trustworthy ? 'trustworthy' : `NOT trustworthy (${s.verdict.reasons.join('; ')})`}`);
  console.log(`         terms (estimator on the scheduled arrivals): ${effects}`);
}

export async function benchFidelityReal(): Promise<void> {
  console.log(`fidelity on real servers: inferline replay, poisson at ${rates().join(', ')} qps for ${DURATION} each, sleep model L(k) = 4 + 1·k ms, `
    + `max batch 8, delay 2 ms, 1 replica; predicted / measured; target |P99 error| ≤ ${TARGET * 100}%`);
  for (const kind of SERVERS) {
    const why = sleepServerUnavailable(kind);
    if (why !== undefined) {
      console.log(`  ${kind}: SKIP (${why})`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), `inferline-bench-fidelity-${kind}-`));
    console.log(`  ${kind}: starting (host load ${load()})`);
    const server = await startSleepServer(kind);
    try {
      const profiled = await profileSleepServer(server, dir);
      console.log(`  ${kind}: profile ${profileLine(profiled)}; host load ${load()}`);
      const files = writeReplayFiles(dir, server, profiled.file);
      for (const rate of rates()) {
        const arrival = `poisson:rate=${rate},duration=${DURATION},seed=3`;
        const r = await replaySleepServer(files, arrival);
        printRun(rate, r, await termEffects(files, kind, arrival));
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('');
}
