// `npm run bench -- live`: the demo's fleet, live and headless (every server, agent and the load
// generator a process of its own, as `npm start` runs them), over seeds 1–3; per seed the misses
// and P99 per phase, the reaction to the burst (burst start → the leader's decision → applied on
// the server, from the agents' own log times), the cost and the harness's health; and beside each
// the closed-loop simulation (core/sim/closed-loop.ts, what `inferline simulate` runs) of the same
// trace, plan and controller, with the differences against the targets (miss rate within
// ±0.5 percentage points, P99 within ±15 % of live).
//
// Options (after `--`): --duration 60s (the demo's default), --seeds 1,2,3.
// A run the host could not carry is printed with its verdict: its differences say nothing about
// the simulator, only about the host.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, demoWorkload } from '../src/cli/commands/demo.js';
import type { CliContext } from '../src/cli/context.js';
import { DEMO_BASE_RATE, demoConfigText, demoProfiles } from '../src/cli/demo/config.js';
import { healthLine } from '../src/cli/demo/health.js';
import type { DemoSummary } from '../src/cli/demo/summary.js';
import { loadConfig, parseConfig } from '../src/config/index.js';
import { generateTrace, parseArrivalSpec } from '../src/core/arrival/spec.js';
import { runClosedLoop } from '../src/core/sim/closed-loop.js';
import { DEFAULT_LIVE_LOOP, liveLoopOf } from '../src/core/controllers/live-loop.js';
import type { PlanForLoop } from '../src/core/sim/closed-loop.js';
import { plan, samplesOfSpec } from '../src/core/planner/index.js';
import { ProfileSet } from '../src/core/model/profiles.js';
import type { PipelineSpec } from '../src/core/model/types.js';
import { REFERENCE_CONFIG } from './reference.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * The live loop's delays, for the closed-loop harness (core/controllers/live-loop.ts, docs/live-control.md):
 * the demo agents' scrape interval, their push interval (the agent's default, push on change or
 * every 1 s) and the decision-to-server delay (the agent's default), and each hardware's
 * activation delay.
 */
const LOOP_DELAYS = {
  /** The demo's agents run the agent's default scrape interval (demo/fleet.ts sets none). */
  scrapeIntervalMs: DEFAULT_LIVE_LOOP.scrapeIntervalMs,
  /** TorchServe's emulated worker start-up (demo/fleet.ts: --worker-startup 200ms). */
  activationDelayMs: { cpu: 200, 'cpu-small': 20, 'gpu-t4': 0 } as Record<string, number>,
};

interface Simulated {
  readonly p99Ms: number;
  readonly sloMissRate: number;
  readonly meanCostPerHour: number;
  readonly samePlan: boolean;
}

function simulate(seed: number, durationS: number, live: DemoSummary & { plan?: { stages: Record<string, { replicas: number; batchSize: number; hardware: string }> } | null }, profilesList: Parameters<typeof demoConfigText>[0]): Simulated {
  const config = parseConfig(demoConfigText(profilesList, undefined, DEMO_BASE_RATE), '<bench live>');
  const spec = config.pipelines[0] as PipelineSpec;
  const profiles = new ProfileSet(config.profiles);
  // The plan the leader makes: the same planner on the same planning workload and seed.
  const planningSpec = spec.arrival ?? config.planner.arrival;
  const parsed = parseArrivalSpec(planningSpec);
  const planTrace = generateTrace(parsed, config.planner.seed);
  const samples = samplesOfSpec(parsed, config.planner.seed, config.planner.samples, config.planner.sampleQuantile);
  const p = plan({
    pipeline: spec, hardware: config.hardware, profiles, trace: planTrace, workload: planningSpec, planner: 'greedy',
    options: { seed: config.planner.seed, maxReplicasPerStage: config.planner.maxReplicasPerStage }, // as the leader calls it (pipeline-run.ts)
    ...(samples ? { samples } : {}),
  });
  const forLoop: PlanForLoop = { stages: p.stages, envelope: p.envelope, plannedRateQps: p.workload.meanRateQps, slack: p.slack, ...(p.scaling ? { scaling: p.scaling } : {}) };
  const samePlan = live.plan != null && Object.entries(p.stages).every(([s, c]) => {
    const l = live.plan?.stages[s];
    return l !== undefined && l.replicas === c.replicas && l.batchSize === c.batchSize && l.hardware === c.hardware;
  });
  const trace = generateTrace(parseArrivalSpec(demoWorkload(durationS, DEMO_BASE_RATE)), seed);
  const { result } = runClosedLoop({
    pipeline: spec,
    hardware: config.hardware.map((h) => ({ ...h, activationDelayMs: LOOP_DELAYS.activationDelayMs[h.name] ?? 0 })),
    profiles, plan: forLoop, trace, seed, controller: 'inferline', tuner: config.tuner, tickMs: config.tuner.tickMs,
    maxReplicasPerStage: config.planner.maxReplicasPerStage,
    liveLoop: liveLoopOf({ scrapeIntervalMs: LOOP_DELAYS.scrapeIntervalMs }),
  });
  return { p99Ms: result.sloPercentileMs, sloMissRate: result.sloMissRate, meanCostPerHour: result.meanCostPerHour, samePlan };
}

export async function benchLive(): Promise<void> {
  const duration = arg('--duration') ?? '60s';
  const seeds = (arg('--seeds') ?? '1,2,3').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 0);
  const durationS = Number.parseFloat(duration);
  const reference = await loadConfig(REFERENCE_CONFIG);
  const profiles = demoProfiles(reference.profiles);
  console.log(`live demo fleet vs closed-loop simulation (${duration} per seed, seeds ${seeds.join(', ')}; host: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start)`);
  console.log(`  workload ${demoWorkload(durationS, DEMO_BASE_RATE)}; SLO P99 ≤ 300 ms; targets: simulated miss rate within ±0.5 pp, P99 within ±15 % of live`);
  const dir = mkdtempSync(join(tmpdir(), 'inferline-bench-live-'));
  try {
    for (const seed of seeds) {
      let stdout = '';
      const ctx = { output: { out: (s: string) => { stdout += s; }, err: () => undefined } } as unknown as CliContext;
      const summary = await runDemo({
        duration, seed: String(seed), rate: String(DEMO_BASE_RATE), metricsPort: '0', report: join(dir, `report-${seed}.html`), view: 'lines', json: true,
      }, ctx, { isTty: false });
      const printed = JSON.parse(stdout) as DemoSummary & { plan?: { stages: Record<string, { replicas: number; batchSize: number; hardware: string }> } | null };
      const sim = simulate(seed, durationS, printed, profiles);
      const ms = (v: number | null): string => (v === null ? '—' : `${Math.round(v)} ms`);
      const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;
      console.log(`  seed ${seed}${summary.health.verdict.trustworthy ? '' : '  — NOT TRUSTWORTHY (the figures measure the host)'}`);
      console.log(`    harness     ${healthLine(summary.health)}`);
      for (const ph of summary.phases) console.log(`    ${ph.phase.padEnd(6)}      ${String(ph.queries).padStart(5)} queries  P99 ${ms(ph.p99Ms).padStart(8)}  misses ${pct(ph.sloMissRate).padStart(8)}  mean replicas ${Object.entries(ph.replicas).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      const b = summary.burst;
      console.log(`    reaction    burst at ${b.burstStartS.toFixed(1)} s → leader's first scale-up ${b.firstScaleUpMs === null ? 'none' : `${b.firstScaleUpMs} ms`} → applied on the server ${b.firstAppliedScaleUpMs === null ? 'none' : `${b.firstAppliedScaleUpMs} ms`}; ${b.stage} ${b.replicasBefore} → ${b.replicasDuringMax} replicas`);
      const dMiss = (sim.sloMissRate - summary.sloMissRate) * 100;
      const dP99 = summary.p99Ms === null || summary.p99Ms === 0 ? Number.NaN : (sim.p99Ms - summary.p99Ms) / summary.p99Ms;
      console.log(`    live        P99 ${ms(summary.p99Ms)}  misses ${pct(summary.sloMissRate)}  cost $${summary.meanCostPerHour.toFixed(3)}/h  (${summary.queries} queries, ${summary.failed} failed)`);
      console.log(`    simulated   P99 ${ms(sim.p99Ms)}  misses ${pct(sim.sloMissRate)}  cost $${sim.meanCostPerHour.toFixed(3)}/h  (same plan as the live leader: ${sim.samePlan ? 'yes' : 'NO'})`);
      console.log(`    difference  misses ${dMiss >= 0 ? '+' : ''}${dMiss.toFixed(2)} pp (${Math.abs(dMiss) <= 0.5 ? 'within' : 'outside'} ±0.5), P99 ${Number.isNaN(dP99) ? '—' : `${dP99 >= 0 ? '+' : ''}${(dP99 * 100).toFixed(1)} % (${Math.abs(dP99) <= 0.15 ? 'within' : 'outside'} ±15 %)`}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`  host load at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('');
}
