// `inferline simulate`: replays a trace through the estimator with a controller in the loop and
// reports P99, SLO miss rate, cost and scaling actions; --compare runs every controller on the same
// trace and seed; --report writes the HTML page with the plots over time. The tuner runs inside
// the live loop's delays (scrape interval, push on change, decision-to-server delay: the config's
// agent section, else the agent's defaults; --loop ideal for none), so that the simulation
// predicts a live run (docs/live-control.md).
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import type { InferlineConfig } from '../../config/index.js';
import { loadPlanFile } from '../../config/plan-file.js';
import type { LoadedPlan } from '../../config/plan-file.js';
import { ProfileSet } from '../../core/model/profiles.js';
import { plan } from '../../core/planner/index.js';
import { CONTROLLER_KINDS, runClosedLoop } from '../../core/sim/closed-loop.js';
import type { ControllerKind, PlanForLoop } from '../../core/sim/closed-loop.js';
import { generateTrace, parseArrivalSpec } from '../../core/arrival/spec.js';
import { parseDurationMs } from '../../core/model/duration.js';
import { liveLoopOf } from '../../core/controllers/live-loop.js';
import type { LiveLoopModel } from '../../core/controllers/live-loop.js';
import type { PipelineSpec } from '../../core/model/types.js';
import { resolveWorkload } from '../../runtime/trace-source.js';
import { renderSimulationReport } from '../report/index.js';
import type { ControllerRun, SimulationReport } from '../report/index.js';
import type { RunHeader } from '../report/types.js';
import { UsageError } from '../errors.js';
import { fmtCost, fmtMs, fmtPct, printJson, table } from '../output.js';
import type { CliContext } from '../context.js';
import type { Output } from '../output.js';
import { noteLongWork, printWarnings } from '../warnings.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';
import { selectPipelines } from './plan.js';

export interface SimulateCommandOptions {
  readonly config: string;
  readonly plan: string;
  readonly pipeline?: string;
  readonly trace?: string;
  readonly arrival?: string;
  readonly controller?: string;
  readonly compare?: boolean;
  readonly seed?: string;
  readonly json?: boolean;
  readonly report?: string;
  /** live (default) or ideal. */
  readonly loop?: string;
  readonly scrapeInterval?: string;
  readonly pushInterval?: string;
  readonly actuationDelay?: string;
}

export interface SimulationSummary extends RunHeader {
  /** The live loop's delays the tuner ran inside, or 'ideal'. */
  readonly loop: LiveLoopModel | 'ideal';
  readonly runs: readonly (Omit<ControllerRun, 'timeline'> & { readonly p50Ms: number; readonly cost: number; readonly replans: number })[];
}

export function registerSimulate(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('simulate')
    .description('replay a trace through the estimator with a controller in the loop: P99, SLO miss rate, cost, scaling actions')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .requiredOption('--plan <file>', 'plan file written by `inferline plan --out`')
    .option('--pipeline <name>', 'the pipeline to simulate (when the plan file holds several)')
    .option('--trace <file>', 'arrival trace: one time (s) per line, or CSV with a time column')
    .option('--arrival <spec>', 'arrival spec, e.g. "gamma:rate=100,cv=1,duration=120s;gamma:rate=400,cv=4,duration=120s"')
    .option('--controller <name>', `one of: ${CONTROLLER_KINDS.join(', ')}`, 'inferline')
    .option('--compare', 'run every controller on the same trace and seed')
    .option('--seed <n>', 'seed of the estimator and of arrival specs that name none (default: planner.seed)')
    .option('--loop <kind>', 'live: the tuner inside the live agent\'s delays (scrape, push on change, decision to server); ideal: none', 'live')
    .option('--scrape-interval <duration>', 'live loop: how often agents sample their servers (default: the config\'s agent.scrapeInterval, else 100ms)')
    .option('--push-interval <duration>', 'live loop: the longest an agent holds its samples (default: the config\'s agent.pushInterval, else 1s)')
    .option('--actuation-delay <duration>', 'live loop: from the tuner\'s decision to the change on the server (default 30ms)')
    .option('--report <file>', 'write an HTML report with plots over time')
    .option('--json', 'print the results as JSON')
    .action(async (opts: SimulateCommandOptions) => {
      if (opts.report !== undefined) await checkOutputPath('--report', opts.report);
      const { summary, report } = await runSimulate(opts, output);
      if (opts.report) await writeOutputFile('--report', opts.report, renderSimulationReport({ ...report, generatedBy: `inferline simulate ${process.argv.slice(3).join(' ')}`.trim() }));
      if (opts.json) printJson(output, summary);
      else output.out(`${formatSummary(summary)}\n${opts.report ? `report: ${opts.report}\n` : ''}`);
    });
}

export async function runSimulate(opts: SimulateCommandOptions, output?: Output): Promise<{ summary: SimulationSummary; report: SimulationReport }> {
  if (opts.trace !== undefined && opts.arrival !== undefined) throw new UsageError('give either --trace or --arrival, not both');
  const kinds = controllersOf(opts);
  const loopOverrides = loopOptionsOf(opts);
  const config = await loadConfig(opts.config);
  const liveLoop = loopOverrides === 'ideal' ? undefined : liveLoopOf(config.agent, loopOverrides);
  if (output) printWarnings(output, opts.config, config.warnings);
  const loaded = await loadPlanFile(opts.plan, config, opts.pipeline);
  const spec = selectPipelines(config, loaded.pipeline)[0] as PipelineSpec;
  const seed = opts.seed === undefined ? (loaded.seed ?? config.planner.seed) : parseSeed(opts.seed);
  const workload = await resolveWorkload({
    ...(opts.trace !== undefined ? { traceFile: opts.trace } : {}),
    ...(opts.arrival !== undefined ? { arrivalSpec: opts.arrival } : {}),
    fallbackSpec: spec.arrival ?? config.planner.arrival,
    seed,
  });
  if (workload.trace.length === 0) throw new UsageError(`${workload.description}: the workload has no arrivals`);
  if (output) noteLongWork(output, 'simulate', workload.trace, kinds.length);
  const profiles = new ProfileSet(config.profiles);
  const thePlan: PlanForLoop = {
    stages: loaded.stages, envelope: loaded.envelope, plannedRateQps: loaded.plannedRateQps, slack: loaded.slack,
    ...(loaded.scaling !== undefined ? { scaling: loaded.scaling } : {}),
  };
  const coarsePlan = kinds.includes('coarse') ? planCoarse(config, spec, profiles, loaded, seed) : undefined;
  const runs = kinds.map((kind) => {
    const { result, controller } = runClosedLoop({
      pipeline: spec, hardware: config.hardware, profiles, plan: thePlan,
      ...(coarsePlan ? { coarsePlan } : {}),
      trace: workload.trace, seed, controller: kind, tuner: config.tuner, tickMs: config.tuner.tickMs,
      maxReplicasPerStage: config.planner.maxReplicasPerStage,
      ...(config.tuner.batchAware.enabled ? { batchAware: { intervalMs: config.tuner.batchAware.intervalMs, windowMs: config.tuner.batchAware.windowMs } } : {}),
      ...(liveLoop ? { liveLoop } : {}),
    });
    const replans = 'decisions' in controller
      ? (controller as { decisions: { decision: { replan?: string } }[] }).decisions.filter((d) => d.decision.replan).length : 0;
    return { result, replans };
  });
  const summary: SimulationSummary = {
    pipeline: spec.name, sloMs: spec.slo.latencyMs, percentile: spec.slo.percentile, workload: workload.description,
    queries: workload.trace.length, seed, loop: liveLoop ?? 'ideal',
    runs: runs.map(({ result: r, replans }) => ({
      controller: r.controller, p50Ms: round3(r.p50Ms), p99Ms: round3(r.sloPercentileMs), sloMissRate: round6(r.sloMissRate),
      meanCostPerHour: round3(r.meanCostPerHour), cost: round6(r.cost), scalingActions: r.scalingActions, replans,
    })),
  };
  const report: SimulationReport = {
    title: `inferline simulate — ${spec.name}`, pipeline: spec.name, sloMs: spec.slo.latencyMs, percentile: spec.slo.percentile,
    workload: workload.description, seed, generatedBy: 'inferline simulate',
    runs: runs.map(({ result: r }) => ({
      controller: r.controller, p99Ms: r.sloPercentileMs, sloMissRate: r.sloMissRate, meanCostPerHour: r.meanCostPerHour,
      scalingActions: r.scalingActions, timeline: r.timeline,
    })),
  };
  return { summary, report };
}

/** --loop and the delays: 'ideal', or the delays given (the rest from the config or the defaults). */
function loopOptionsOf(opts: SimulateCommandOptions): 'ideal' | Partial<LiveLoopModel> {
  const kind = opts.loop ?? 'live';
  if (kind !== 'live' && kind !== 'ideal') throw new UsageError(`--loop ${kind}: must be live or ideal`);
  const given = [opts.scrapeInterval, opts.pushInterval, opts.actuationDelay].some((x) => x !== undefined);
  if (kind === 'ideal') {
    if (given) throw new UsageError('--scrape-interval, --push-interval and --actuation-delay are for --loop live');
    return 'ideal';
  }
  const ms = (flag: string, text: string | undefined, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const v = parseDurationMs(text);
    if (v === undefined || !(v >= min)) throw new UsageError(`${flag} ${text}: must be a duration ${min > 0 ? 'above 0' : '≥ 0'}, such as 100ms or 1s`);
    return v;
  };
  const scrapeIntervalMs = ms('--scrape-interval', opts.scrapeInterval, 1);
  const pushIntervalMs = ms('--push-interval', opts.pushInterval, 1);
  const actuationDelayMs = ms('--actuation-delay', opts.actuationDelay, 0);
  return {
    ...(scrapeIntervalMs !== undefined ? { scrapeIntervalMs } : {}),
    ...(pushIntervalMs !== undefined ? { pushIntervalMs } : {}),
    ...(actuationDelayMs !== undefined ? { actuationDelayMs } : {}),
  };
}

function controllersOf(opts: SimulateCommandOptions): ControllerKind[] {
  if (opts.compare) return [...CONTROLLER_KINDS];
  const name = opts.controller ?? 'inferline';
  if (!(CONTROLLER_KINDS as readonly string[]).includes(name)) {
    throw new UsageError(`--controller ${name}: unknown controller — must be one of: ${CONTROLLER_KINDS.join(', ')}`);
  }
  return [name as ControllerKind];
}


/** The coarse-grained plan on the InferLine plan's own planning workload (or the config's). */
function planCoarse(config: InferlineConfig, spec: PipelineSpec, profiles: ProfileSet, loaded: LoadedPlan, seed: number): PlanForLoop {
  let source = spec.arrival ?? config.planner.arrival;
  if (loaded.workload) {
    try {
      parseArrivalSpec(loaded.workload);
      source = loaded.workload;
    } catch {
      // The plan was made on a trace file: fall back to the config's planning workload.
    }
  }
  const coarse = plan({
    pipeline: spec, hardware: config.hardware, profiles, trace: generateTrace(parseArrivalSpec(source), seed), workload: source,
    planner: 'coarse', options: { seed, maxReplicasPerStage: config.planner.maxReplicasPerStage },
  });
  return { stages: coarse.stages, envelope: coarse.envelope, plannedRateQps: coarse.workload.meanRateQps, slack: coarse.slack };
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed ${text}: must be a non-negative integer`);
  return n;
}

export function formatSummary(s: SimulationSummary): string {
  const loop = s.loop === 'ideal' ? 'ideal loop'
    : `live loop: scrape ${fmtMs(s.loop.scrapeIntervalMs)}, push on change or every ${fmtMs(s.loop.pushIntervalMs)}, decision to server ${fmtMs(s.loop.actuationDelayMs)}`;
  const head = `pipeline ${s.pipeline}   SLO P${s.percentile} ≤ ${fmtMs(s.sloMs)}   workload ${s.workload} (${s.queries} queries)   seed ${s.seed}\n  ${loop}`;
  const rows = s.runs.map((r) => [
    r.controller, fmtMs(r.p99Ms), r.p99Ms <= s.sloMs ? 'yes' : 'NO', fmtPct(r.sloMissRate), fmtCost(r.meanCostPerHour), r.scalingActions,
  ]);
  return `${head}\n${table(['controller', `P${s.percentile}`, 'meets SLO', 'SLO misses', 'mean cost', 'scaling actions'], rows).replace(/^/gm, '  ')}`;
}

function round3(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x;
}

function round6(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x;
}
