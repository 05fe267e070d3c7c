// `inferline replay`: sends a trace open-loop through a live pipeline of servers, and prints the
// estimator's prediction for the same trace and configuration beside what was measured, end to end
// and per stage, with the harness's own health. Refuses to run when the servers do not serve the
// plan (replicas, batch size, batch delay), or applies it with --apply.
import type { Command } from 'commander';
import { z } from 'zod';
import { createAdapter, isServerKind } from '../../../adapters/registry.js';
import { loadConfig } from '../../config/index.js';
import { loadPlanFile } from '../../config/plan-file.js';
import { parseText } from '../../config/parse-text.js';
import { describeReadError } from '../../config/profile-sources.js';
import { readTextFile } from '../../config/read-text.js';
import { problemsFromIssues } from '../../config/issues.js';
import { InvalidInputError } from '../../core/model/errors.js';
import { Estimator } from '../../core/sim/estimator.js';
import type { DelayOrigin } from '../../core/sim/estimator.js';
import { delayOriginOf } from '../../core/sim/batch-delay.js';
import { compilePipeline } from '../../core/model/pipeline.js';
import { percentileOfSorted } from '../../core/math/percentiles.js';
import { ProfileSet } from '../../core/model/profiles.js';
import { harnessVerdict, latencyErrors, latencyFigures } from '../../core/replay/compare.js';
import type { PipelineSpec } from '../../core/model/types.js';
import { SERVER_KINDS } from '../../ports/server-adapter.js';
import type { ServerKind } from '../../ports/server-adapter.js';
import { applyPlan, fleetMismatches, replayTrace } from '../../runtime/replay.js';
import type { FleetStage } from '../../runtime/replay.js';
import type { ReplayDetail, ReplaySummary, StageComparison } from '../report/types.js';
import { resolveWorkload } from '../../runtime/trace-source.js';
import { renderReplayReport } from '../report/replay-report.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { fmtMs, fmtPct, printJson, table } from '../output.js';
import type { CliContext } from '../context.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';
import { serverAdapterOptions } from './server-flags.js';
import { selectPipelines } from './plan.js';

export interface ReplayCommandOptions {
  readonly config: string;
  readonly plan: string;
  readonly pipeline?: string;
  readonly trace?: string;
  readonly arrival?: string;
  readonly fleet?: string;
  readonly at?: readonly string[];
  readonly apply?: boolean;
  readonly seed?: string;
  readonly maxQueries?: string;
  readonly maxDuration?: string;
  readonly json?: boolean;
  readonly report?: string;
}

/** Replay loads are bounded: at most this many queries, over at most this long. */
export const REPLAY_MAX_QUERIES = 200_000;
export const REPLAY_MAX_SPAN_S = 600;

export function registerReplay(program: Command, ctx: CliContext): void {
  const { output } = ctx;
  program
    .command('replay')
    .description('send a trace open-loop through a live pipeline of servers; print the estimator\'s prediction beside what was measured')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .requiredOption('--plan <file>', 'plan file written by `inferline plan --out`')
    .option('--pipeline <name>', 'the pipeline to replay (when the plan file holds several)')
    .option('--trace <file>', 'arrival trace: one time (s) per line, or CSV with a time column')
    .option('--arrival <spec>', 'arrival spec, e.g. "gamma:rate=100,cv=4,duration=60s"')
    .option('--fleet <file>', 'where each stage is served: {stages: {STAGE: {server, url, model?, metricsUrl?, grpcUrl? (Triton), managementUrl?, keyFile?}}}')
    .option('--at <stage=kind:url>', 'where one stage is served, e.g. classify=triton:http://127.0.0.1:8000 (repeatable)', collect, [])
    .option('--apply', 'apply the plan\'s replicas and batching to the servers first (else refuse when they differ)')
    .option('--seed <n>', 'seed of the routing draws and of arrival specs that name none (default: the plan\'s)')
    .option('--max-queries <n>', `refuse a workload with more queries (default and cap ${REPLAY_MAX_QUERIES})`)
    .option('--max-duration <s>', `refuse a workload longer than this many seconds (default and cap ${REPLAY_MAX_SPAN_S})`)
    .option('--report <file>', 'write an HTML page: predicted and measured latency distributions, per-stage bars')
    .option('--json', 'print the comparison as JSON')
    .addHelpText('after', '\nExit status: 0 when the run was trustworthy, 1 when a server failed or the harness could not be trusted, 2 on bad input (including a fleet that does not serve the plan).')
    .action(async (opts: ReplayCommandOptions) => {
      if (opts.report !== undefined) await checkOutputPath('--report', opts.report);
      const detail = await runReplay(opts, (line) => output.err(line));
      if (opts.report) await writeOutputFile('--report', opts.report, renderReplayReport(detail));
      if (opts.json) printJson(output, detail.summary);
      else output.out(`${formatReplay(detail.summary)}\n${opts.report ? `report: ${opts.report}\n` : ''}`);
      if (!detail.summary.verdict.trustworthy) ctx.exitCode = EXIT_FAILURE;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const fleetEntry = z.object({
  server: z.enum(SERVER_KINDS as [ServerKind, ...ServerKind[]]),
  url: z.string().min(1),
  model: z.string().min(1).optional(),
  metricsUrl: z.string().min(1).optional(),
  grpcUrl: z.string().min(1).optional(),
  managementUrl: z.string().min(1).optional(),
  /** TorchServe: its key_file.json (the key itself comes from INFERLINE_TORCHSERVE_TOKEN, never a file of ours). */
  keyFile: z.string().min(1).optional(),
}).strict();
const fleetFileSchema = z.object({ stages: z.record(z.string(), fleetEntry) }).strict();
type FleetEntry = z.output<typeof fleetEntry>;

/** The fleet named by --fleet and --at (an --at overrides the file's entry for its stage). */
export async function readFleet(opts: Pick<ReplayCommandOptions, 'fleet' | 'at'>): Promise<Map<string, FleetEntry>> {
  const out = new Map<string, FleetEntry>();
  if (opts.fleet !== undefined) {
    let text: string;
    try {
      text = await readTextFile(opts.fleet);
    } catch (err) {
      throw new UsageError(`--fleet ${opts.fleet}: cannot read the file (${describeReadError(err)})`);
    }
    const parsed = parseText(text, opts.fleet);
    if (!parsed.ok) throw new InvalidInputError(`Invalid fleet file ${opts.fleet}`, [{ path: '', message: parsed.message }]);
    const r = fleetFileSchema.safeParse(parsed.value, { reportInput: true });
    if (!r.success) throw new InvalidInputError(`Invalid fleet file ${opts.fleet}`, problemsFromIssues(r.error.issues));
    for (const [stage, e] of Object.entries(r.data.stages)) out.set(stage, e);
  }
  for (const spec of opts.at ?? []) {
    const m = /^([^=]+)=([a-z]+):(.+)$/.exec(spec);
    if (!m) throw new UsageError(`--at ${spec}: must be STAGE=KIND:URL, e.g. classify=triton:http://127.0.0.1:8000`);
    const [, stage, kind, url] = m as unknown as [string, string, string, string];
    if (!isServerKind(kind)) throw new UsageError(`--at ${spec}: unknown server "${kind}" — must be one of: ${SERVER_KINDS.join(', ')}`);
    out.set(stage, { server: kind, url });
  }
  if (out.size === 0) throw new UsageError('give the fleet: --fleet FILE, or --at STAGE=KIND:URL for each stage');
  return out;
}

function fleetStages(spec: PipelineSpec, entries: Map<string, FleetEntry>): FleetStage[] {
  const missing = spec.stages.filter((s) => !entries.has(s.name)).map((s) => s.name);
  if (missing.length > 0) throw new UsageError(`the fleet has no server for stage${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of pipeline ${spec.name} — add them with --at or in --fleet`);
  const unknown = [...entries.keys()].filter((k) => !spec.stages.some((s) => s.name === k));
  if (unknown.length > 0) throw new UsageError(`the fleet names ${unknown.join(', ')}, not stages of pipeline ${spec.name} (its stages: ${spec.stages.map((s) => s.name).join(', ')})`);
  return spec.stages.map((s) => {
    const e = entries.get(s.name) as FleetEntry;
    const model = e.model ?? s.model;
    const options = serverAdapterOptions(e.server, {
      url: e.url,
      ...(e.metricsUrl !== undefined ? { metricsUrl: e.metricsUrl } : {}),
      ...(e.grpcUrl !== undefined ? { grpcUrl: e.grpcUrl } : {}),
      ...(e.managementUrl !== undefined ? { managementUrl: e.managementUrl } : {}),
      ...(e.keyFile !== undefined ? { keyFile: e.keyFile } : {}),
      ...(e.server === 'tfserving' ? { models: model } : {}),
    });
    return { stage: s.name, kind: e.server, model, adapter: createAdapter(options) };
  });
}

function parseBound(flag: string, text: string | undefined, cap: number): number {
  if (text === undefined) return cap;
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || v > cap) throw new UsageError(`${flag} ${text}: must be a number in (0, ${cap}]`);
  return v;
}

export async function runReplay(opts: ReplayCommandOptions, log: (line: string) => void = () => undefined): Promise<ReplayDetail> {
  if (opts.trace !== undefined && opts.arrival !== undefined) throw new UsageError('give either --trace or --arrival, not both');
  const maxQueries = parseBound('--max-queries', opts.maxQueries, REPLAY_MAX_QUERIES);
  const maxSpanS = parseBound('--max-duration', opts.maxDuration, REPLAY_MAX_SPAN_S);
  const config = await loadConfig(opts.config);
  const loaded = await loadPlanFile(opts.plan, config, opts.pipeline);
  const spec = selectPipelines(config, loaded.pipeline)[0] as PipelineSpec;
  const seed = opts.seed === undefined ? (loaded.seed ?? config.planner.seed) : seedOf(opts.seed);
  const entries = await readFleet(opts);
  const workload = await resolveWorkload({
    ...(opts.trace !== undefined ? { traceFile: opts.trace } : {}),
    ...(opts.arrival !== undefined ? { arrivalSpec: opts.arrival } : {}),
    fallbackSpec: loaded.workload ?? spec.arrival ?? config.planner.arrival,
    seed,
  });
  const n = workload.trace.length;
  if (n === 0) throw new UsageError(`${workload.description}: the workload has no arrivals`);
  const spanS = (workload.trace[n - 1] as number) - (workload.trace[0] as number);
  if (n > maxQueries) throw new UsageError(`${workload.description}: ${n} queries — a replay sends at most ${maxQueries} (--max-queries)`);
  if (spanS > maxSpanS) throw new UsageError(`${workload.description}: spans ${spanS.toFixed(1)} s — a replay runs at most ${maxSpanS} s (--max-duration)`);

  const fleet = fleetStages(spec, entries);
  let applied: string[] = [];
  if (opts.apply) {
    applied = await applyPlan(fleet, loaded.stages);
    for (const a of applied) log(`applied ${a}\n`);
  }
  const mismatches = await fleetMismatches(fleet, loaded.stages);
  if (mismatches.length > 0) {
    throw new InvalidInputError(`The fleet does not serve plan ${opts.plan}${opts.apply ? ' even after --apply' : ' (apply it with --apply)'}`, mismatches.map((m) => ({
      path: `stages.${m.stage}.${m.field}`,
      message: `the plan has ${m.planned}, the ${fleet.find((f) => f.stage === m.stage)?.kind} server serving ${fleet.find((f) => f.stage === m.stage)?.model} has ${m.serving}`,
    })));
  }

  const pipeline = compilePipeline(spec);
  log(`replaying ${n} queries over ${spanS.toFixed(1)} s through ${fleet.length} stages…\n`);
  const measured = await replayTrace({ pipeline, fleet, trace: workload.trace, seed });

  // The prediction: the estimator on the arrivals as they were actually sent, with each server's
  // batch-delay rule.
  const delayOrigin: Record<string, DelayOrigin> = {};
  for (const f of fleet) delayOrigin[f.stage] = delayOriginOf(f.kind);
  const predicted = new Estimator(pipeline, new ProfileSet(config.profiles)).estimate(loaded.stages, measured.sentTrace, {
    seed, sloMs: spec.slo.latencyMs, percentile: spec.slo.percentile, delayOrigin, recordVisits: true,
  });
  const predictedMs = predicted.latencyMs ?? new Float64Array(0);
  const slo = spec.slo.latencyMs;
  const endToEnd = { predicted: latencyFigures(predictedMs, slo), measured: latencyFigures(measured.latencyMs, slo, measured.failed) };
  const health = { ...measured.health, failed: measured.failed };
  const stages: StageComparison[] = fleet.map((f, s) => {
    const m = measured.stages[s];
    const visits = predicted.visitLatencyMs?.[s] ?? new Float64Array(0);
    const est = predicted.stages[s];
    const hop = m?.hopMs ?? new Float64Array(0);
    const p99 = { predicted: percentileOfSorted(visits, 99), measured: percentileOfSorted(hop, 99) };
    return {
      stage: f.stage, server: f.kind, model: f.model,
      visits: { predicted: visits.length, measured: hop.length },
      hopP50Ms: { predicted: percentileOfSorted(visits, 50), measured: percentileOfSorted(hop, 50) },
      hopP99Ms: p99,
      p99Error: p99.predicted > 0 ? (p99.measured - p99.predicted) / p99.predicted : Number.NaN,
      queueMs: { predicted: est?.meanQueueDelayMs ?? 0, measured: m?.serverQueueMs ?? null },
      meanBatch: { predicted: est?.meanBatchSize ?? 0, measured: m?.serverMeanBatch ?? null },
      failures: m?.failures ?? 0,
    };
  });
  const summary: ReplaySummary = {
    pipeline: spec.name, sloMs: slo, percentile: spec.slo.percentile, workload: workload.description, queries: n, seed, applied,
    endToEnd: { ...endToEnd, error: latencyErrors(endToEnd) },
    stages, health, verdict: harnessVerdict(health, endToEnd.predicted), durationMs: measured.durationMs,
  };
  return { summary, predictedMs, measuredMs: measured.latencyMs };
}

function seedOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--seed ${text}: must be a non-negative integer`);
  return n;
}

const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '—');

export function formatReplay(s: ReplaySummary): string {
  const e = s.endToEnd;
  const head = `pipeline ${s.pipeline}   SLO P${s.percentile} ≤ ${fmtMs(s.sloMs)}   workload ${s.workload} (${s.queries} queries)   seed ${s.seed}`;
  const rows = [
    ['P50', fmtMs(e.predicted.p50Ms), fmtMs(e.measured.p50Ms), signed(e.error.p50)],
    ['P99', fmtMs(e.predicted.p99Ms), fmtMs(e.measured.p99Ms), signed(e.error.p99)],
    ['P99.9', fmtMs(e.predicted.p999Ms), fmtMs(e.measured.p999Ms), signed(e.error.p999)],
    ['SLO misses', fmtPct(e.predicted.missRate), fmtPct(e.measured.missRate), `${e.error.missRatePoints >= 0 ? '+' : ''}${e.error.missRatePoints.toFixed(2)} pts`],
  ];
  const opt = (x: number | null, f: (v: number) => string): string => (x === null ? '—' : f(x));
  const stageRows = s.stages.map((st) => [
    st.stage, st.server, st.visits.measured, `${fmtMs(st.hopP50Ms.predicted)} / ${fmtMs(st.hopP50Ms.measured)}`,
    `${fmtMs(st.hopP99Ms.predicted)} / ${fmtMs(st.hopP99Ms.measured)}`, signed(st.p99Error),
    `${fmtMs(st.queueMs.predicted)} / ${opt(st.queueMs.measured, fmtMs)}`,
    `${st.meanBatch.predicted.toFixed(2)} / ${opt(st.meanBatch.measured, (v) => v.toFixed(2))}`, st.failures,
  ]);
  const h = s.health;
  const healthLine = `harness: send slip P50 ${h.sendSlipP50Ms.toFixed(2)} ms, P99 ${h.sendSlipP99Ms.toFixed(2)} ms, max ${h.sendSlipMaxMs.toFixed(1)} ms; `
    + `event-loop delay P99 ${h.loopDelayP99Ms.toFixed(1)} ms; host load ${h.loadAverage.toFixed(2)} on ${h.cores} cores; ${h.failed} failed`;
  const verdict = s.verdict.trustworthy ? 'trustworthy: the harness kept its schedule; these figures measure the fleet'
    : `NOT TRUSTWORTHY — ${s.verdict.reasons.join('; ')}`;
  return [
    head,
    ...s.applied.map((a) => `  applied ${a}`),
    table(['end to end', 'predicted', 'measured', 'error'], rows).replace(/^/gm, '  '),
    table(['stage', 'server', 'visits', 'hop P50 pred / meas', 'hop P99 pred / meas', 'P99 error', 'queue pred / server', 'batch pred / server', 'failed'], stageRows).replace(/^/gm, '  '),
    `  ${healthLine}`,
    `  ${verdict}`,
  ].join('\n');
}
