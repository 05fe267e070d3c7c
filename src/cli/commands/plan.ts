// `inferline plan`: plans every pipeline of a config (or the one named) on a planning workload.
import type { Command } from 'commander';
import yaml from 'js-yaml';
import { loadConfig } from '../../config/index.js';
import type { InferlineConfig } from '../../config/index.js';
import { ProfileSet } from '../../core/model/profiles.js';
import { samplesOfSpec } from '../../core/planner/index.js';
import type { Plan, PlannerKind } from '../../core/planner/index.js';
import type { PipelineSpec } from '../../core/model/types.js';
import { resolveWorkload } from '../../runtime/trace-source.js';
import { PlannerRuns } from '../../runtime/planner-runs.js';
import { systemClock } from '../../platform/system-clock.js';
import { UsageError, EXIT_FAILURE } from '../errors.js';
import { fmtCost, fmtMs, fmtPct, printJson, table } from '../output.js';
import type { Output } from '../output.js';
import type { CliContext } from '../context.js';
import { noteLongWork, printWarnings } from '../warnings.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';
import { ONE_SHOT_FLUSH_DEADLINE_MS, startOneShotTelemetry } from '../telemetry.js';

export interface PlanCommandOptions {
  readonly config: string;
  readonly pipeline?: string;
  readonly trace?: string;
  readonly arrival?: string;
  readonly exact?: boolean;
  readonly baseline?: string;
  readonly seed?: string;
  readonly json?: boolean;
  readonly out?: string;
}

export function registerPlan(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('plan')
    .description('plan hardware, batch size and replicas per stage to meet the SLO at the lowest cost')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--pipeline <name>', 'plan only this pipeline')
    .option('--trace <file>', 'planning trace: one arrival time (s) per line, or CSV with a time column')
    .option('--arrival <spec>', 'planning workload, e.g. gamma:rate=150,cv=4,duration=60s,seed=1')
    .option('--exact', 'exact search (certifies the greedy; small pipelines)')
    .option('--baseline <kind>', 'plan with a baseline instead: coarse')
    .option('--seed <n>', 'seed of the estimator and of arrival specs that name none (default: planner.seed)')
    .option('--out <file>', 'also write the plan(s) to this file (.json, or .yaml/.yml)')
    .option('--json', 'print the plans as JSON (an array) on stdout')
    .addHelpText('after', '\nExit status: 0 when every plan meets its SLO, 1 when one cannot, 2 on bad input.')
    .action(async (opts: PlanCommandOptions) => {
      if (opts.out !== undefined) await checkOutputPath('--out', opts.out);
      const plans = await runPlan(opts, output);
      if (opts.out) await writePlans(opts.out, plans);
      if (opts.json) printJson(output, plans);
      else output.out(`${plans.map(formatPlan).join('\n\n')}\n`);
      if (plans.some((p) => !p.feasible)) ctx.exitCode = EXIT_FAILURE;
    });
}

/** Plans; with `output`, planner runs are recorded through the configured telemetry (OTLP only). */
export async function runPlan(opts: PlanCommandOptions, output?: Output): Promise<Plan[]> {
  if (opts.trace !== undefined && opts.arrival !== undefined) throw new UsageError('give either --trace or --arrival, not both');
  if (opts.exact && opts.baseline) throw new UsageError('give either --exact or --baseline, not both');
  if (opts.baseline !== undefined && opts.baseline !== 'coarse') throw new UsageError(`--baseline ${opts.baseline}: unknown baseline — must be: coarse`);
  const kind: PlannerKind = opts.exact ? 'exact' : opts.baseline === 'coarse' ? 'coarse' : 'greedy';
  const seed = opts.seed === undefined ? undefined : parseSeed(opts.seed);
  const config = await loadConfig(opts.config);
  if (output) printWarnings(output, opts.config, config.warnings);
  const pipelines = selectPipelines(config, opts.pipeline);
  const profiles = new ProfileSet(config.profiles);
  const telemetry = output ? await startOneShotTelemetry(config.telemetry, output) : undefined;
  const runs = new PlannerRuns({ clock: systemClock, ...(telemetry ? { telemetry } : {}) });
  const plans: Plan[] = [];
  try {
    for (const pipeline of pipelines) {
      const s = seed ?? config.planner.seed;
      const workload = await resolveWorkload({
        ...(opts.trace !== undefined ? { traceFile: opts.trace } : {}),
        ...(opts.arrival !== undefined ? { arrivalSpec: opts.arrival } : {}),
        fallbackSpec: pipeline.arrival ?? config.planner.arrival,
        seed: s,
      });
      if (output) noteLongWork(output, 'plan', workload.trace);
      const samples = workload.spec ? samplesOfSpec(workload.spec, s, config.planner.samples, config.planner.sampleQuantile) : undefined;
      plans.push(runs.run({
        pipeline, hardware: config.hardware, profiles, trace: workload.trace, workload: workload.description, planner: kind,
        options: { seed: s, maxReplicasPerStage: config.planner.maxReplicasPerStage, exactMaxEvaluations: config.planner.exactMaxEvaluations },
        ...(samples ? { samples } : {}),
      }));
    }
  } finally {
    await telemetry?.shutdown(ONE_SHOT_FLUSH_DEADLINE_MS);
  }
  return plans;
}

export function selectPipelines(config: InferlineConfig, name: string | undefined): readonly PipelineSpec[] {
  if (config.pipelines.length === 0) throw new UsageError(`${config.source}: the config has no pipelines to plan`);
  if (name === undefined) return config.pipelines;
  const found = config.pipelines.find((p) => p.name === name);
  if (!found) throw new UsageError(`--pipeline ${name}: no such pipeline in ${config.source} — must be one of: ${config.pipelines.map((p) => p.name).join(', ')}`);
  return [found];
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed ${text}: must be a non-negative integer`);
  return n;
}

async function writePlans(file: string, plans: readonly Plan[]): Promise<void> {
  const body = plans.length === 1 ? plans[0] : plans;
  const text = /\.ya?ml$/i.test(file) ? yaml.dump(body, { noRefs: true, lineWidth: 120 }) : `${JSON.stringify(body, null, 2)}\n`;
  await writeOutputFile('--out', file, text);
}

/** The human view of one plan. */
export function formatPlan(p: Plan): string {
  const head = `pipeline ${p.pipeline}   SLO P${p.percentile} ≤ ${fmtMs(p.sloMs)}   planner ${p.planner}   ${p.feasible ? 'feasible' : 'INFEASIBLE'}`;
  const byStage = new Map(p.estimate.stages.map((s) => [s.stage, s]));
  const rows = Object.entries(p.stages).map(([name, c]) => {
    const e = byStage.get(name);
    const batch = c.batchDelayMs ? `${c.batchSize} (wait ≤ ${fmtMs(c.batchDelayMs)})` : c.batchSize;
    return [name, c.hardware, batch, c.replicas, e ? `${(e.utilisation * 100).toFixed(0)}%` : '', e ? e.meanBatchSize.toFixed(2) : '', e ? fmtMs(e.meanQueueDelayMs) : ''];
  });
  const lines = [
    head,
    table(['stage', 'hardware', 'batch', 'replicas', 'util', 'mean batch', 'queue delay'], rows).replace(/^/gm, '  '),
    `  cost ${fmtCost(p.costPerHour)}   P50 ${fmtMs(p.estimate.p50Ms)}   P99 ${fmtMs(p.estimate.p99Ms)}   P99.9 ${fmtMs(p.estimate.p999Ms)}   SLO misses ${fmtPct(p.estimate.sloMissRate)}`,
    `  workload ${p.workload.source} (${p.workload.queries} queries, ${p.workload.meanRateQps.toFixed(1)} qps)   seed ${p.seed}   ${p.search.simulations} simulations${p.search.proven === undefined ? '' : p.search.proven ? ', proven optimal' : ', NOT proven optimal'}`,
  ];
  lines.push(`  ${formatBound(p)}`);
  if (!p.feasible && p.search.lowestReachableMs !== undefined) lines.push(`  lowest reachable P${p.percentile}: ${fmtMs(p.search.lowestReachableMs)}`);
  for (const n of p.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** The lower bound on cost and the plan's gap to it (docs/lower-bound.md). */
export function formatBound(p: Plan): string {
  const b = p.lowerBound;
  if (b.costPerHour === null) return 'lower bound: none — the latency floors alone show that no plan can meet the SLO';
  const gap = b.gap === null ? '' : b.gap === 0 ? '   gap 0 % (optimal)' : `   gap ≤ ${fmtPct(b.gap)}`;
  return `lower bound ${fmtCost(b.costPerHour)} (${b.by === 'exact search' ? 'exact search' : 'relaxation'})${gap}`;
}
