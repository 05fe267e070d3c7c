// Simulator throughput: stage visits per second on a 100k-query trace through a 4-stage pipeline
// (video-monitoring: a detector feeding two conditional branches and a chained OCR stage).
// With a baseline (`--baseline REF`, default: the commit before the estimator's fidelity terms),
// the estimator of that commit runs interleaved with today's in the same process, on the same
// trace and plan, and the ratio is printed: the fidelity terms may cost at most 10 %. A second
// pass gives every profile a hop overhead by requests in flight (a curve the baseline may not
// read: there it costs the constant hop), so the curve's cost on the hot path is measured too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compilePipeline } from '../src/core/model/pipeline.js';
import { Estimator } from '../src/core/sim/estimator.js';
import type { Estimate, EstimateOptions } from '../src/core/sim/estimator.js';
import { plan } from '../src/core/planner/index.js';
import { ProfileSet } from '../src/core/model/profiles.js';
import type { ProfileSet as ProfileSetType } from '../src/core/model/profiles.js';
import type { PipelineConfig } from '../src/core/model/types.js';
import { median, reference, trace } from './reference.js';

/** The last commit before the estimator's fidelity terms (hop overhead, batch delay, spread). */
const BEFORE_FIDELITY = '77b2761';

type Run = (config: PipelineConfig, t: Float64Array, o: EstimateOptions) => Estimate;

/** An estimator of another commit, from a temporary worktree; undefined (with why) when git cannot make one. */
async function baselineEstimator(ref: string, make: (mod: Record<string, unknown>, pipeline: Record<string, unknown>) => Run): Promise<{ run: Run; cleanup: () => void } | string> {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const dir = mkdtempSync(path.join(tmpdir(), 'inferline-baseline-'));
  try {
    execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, ref], { stdio: 'ignore' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `git worktree add ${ref} failed (${String(err).split('\n')[0]})`;
  }
  const cleanup = (): void => {
    try { execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' }); } catch { /* left for `git worktree prune` */ }
  };
  // The core's files moved into rooms (src/core/sim, src/core/model) after the baselines the bench names.
  const inWorktree = (...candidates: string[]): string | undefined => candidates.map((c) => path.join(dir, c)).find((f) => existsSync(f));
  const file = inWorktree('src/core/sim/estimator.ts', 'src/core/estimator.ts');
  const pipelineFile = inWorktree('src/core/model/pipeline.ts', 'src/core/pipeline.ts');
  if (file === undefined || pipelineFile === undefined) { cleanup(); return `${ref} has no src/core/sim/estimator.ts or src/core/estimator.ts`; }
  const mod = await import(pathToFileURL(file).href) as Record<string, unknown>;
  const pipelineMod = await import(pathToFileURL(pipelineFile).href) as Record<string, unknown>;
  return { run: make(mod, pipelineMod), cleanup };
}

export async function benchSimulator(): Promise<void> {
  const { config, profiles } = await reference();
  const withCurve = new ProfileSet(config.profiles.map((p) => ({
    ...p, hopOverheadMs: 1.5, hopOverheadCurve: [{ inFlight: 1, hopOverheadMs: 1.5 }, { inFlight: 8, hopOverheadMs: 3 }],
  })));
  console.log('simulator');
  await benchSimulatorOn(config, profiles, 'reference profiles');
  await benchSimulatorOn(config, withCurve, 'every profile with a hop overhead curve (1.5 ms at 1 in flight, 3 ms from 8)');
  console.log('');
}

async function benchSimulatorOn(config: Awaited<ReturnType<typeof reference>>['config'], profiles: ProfileSetType, label: string): Promise<void> {
  const spec = config.pipelines.find((p) => p.name === 'video-monitoring');
  if (!spec) throw new Error('reference config lacks video-monitoring');
  const workload = 'gamma:rate=150,cv=4,duration=720s';
  const t = trace(workload).slice(0, 100_000);
  // A realistic configuration: the greedy plan for this rate.
  const planned = plan({
    pipeline: spec, hardware: config.hardware, profiles, trace: trace('gamma:rate=150,cv=4,duration=60s'), workload,
    planner: 'greedy', options: { seed: 1, maxReplicasPerStage: 64 },
  });
  const est = new Estimator(compilePipeline(spec), profiles);
  const current: Run = (c, tr, o) => est.estimate(c, tr, o);
  const i = process.argv.indexOf('--baseline');
  const ref = i >= 0 ? (process.argv[i + 1] ?? BEFORE_FIDELITY) : BEFORE_FIDELITY;
  const baseline = await baselineEstimator(ref, (mod, pipelineMod) => {
    const E = mod['Estimator'] as new (p: unknown, prof: unknown) => { estimate: Run };
    const compile = pipelineMod['compilePipeline'] as (s: unknown) => unknown;
    const b = new E(compile(spec), profiles);
    return (c, tr, o) => b.estimate(c, tr, o);
  });
  // Rates by wall time, and by the process's CPU time (which a busy host's preemption does not inflate).
  const runs: { name: string; run: Run; rates: number[]; cpuRates: number[] }[] = [{ name: 'today', run: current, rates: [], cpuRates: [] }];
  if (typeof baseline !== 'string') runs.push({ name: ref, run: baseline.run, rates: [], cpuRates: [] });
  let visits = 0;
  // Interleaved, so that a change in the host's load hits both alike.
  for (let k = 0; k < 9; k++) {
    for (const r of runs) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const e = r.run(planned.stages, t, { seed: 1, sloMs: spec.slo.latencyMs, percentile: 99 });
      const cpu = process.cpuUsage(c0);
      const dt = (performance.now() - t0) / 1000;
      visits = e.stageVisits;
      if (k >= 2) {
        r.rates.push(e.stageVisits / dt);
        r.cpuRates.push(e.stageVisits / ((cpu.user + cpu.system) / 1e6));
      }
    }
  }
  if (typeof baseline !== 'string') baseline.cleanup();
  const m = median(runs[0]?.rates ?? []);
  console.log(`  ${label}:`);
  console.log(`  ${t.length} queries, ${visits} stage visits through ${spec.stages.length} stages (video-monitoring)`);
  console.log(`  throughput: ${(m / 1e6).toFixed(2)} M stage-visits/s (median of 7 after 2 warm-up runs; target ≥ 2 M/s)`);
  if (typeof baseline === 'string') console.log(`  baseline: not measured — ${baseline}`);
  else {
    const b = median(runs[1]?.rates ?? []);
    console.log(`  baseline ${ref}, same run, interleaved: ${(b / 1e6).toFixed(2)} M/s; today / baseline = ${(m / b).toFixed(3)} (target ≥ 0.90)`);
    const mc = median(runs[0]?.cpuRates ?? []);
    const bc = median(runs[1]?.cpuRates ?? []);
    console.log(`  by CPU time (not inflated by a busy host's preemption): today ${(mc / 1e6).toFixed(2)} M/s, baseline ${(bc / 1e6).toFixed(2)} M/s; today / baseline = ${(mc / bc).toFixed(3)}`);
  }
}
