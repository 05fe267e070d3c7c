// `inferline demo`: the embedded default that `npm start` runs, live.
//
// It starts three emulated model servers (Triton, TorchServe, TF Serving) hosting the three stages
// of a small image pipeline built on the reference profiles (demo/config.ts), one agent each in
// mode enforce on the in-memory coordinator, and the OpenTelemetry metrics endpoint. The agents
// elect a leader, which plans the pipeline on its calm rate (CV 4); then a load generator sends real
// requests through the pipeline (a calm phase, a burst and a step) while the tuner rescales the
// stages. A live view shows rate against capacity, replicas per stage, P99 against the SLO and the
// last actions; at the end a summary (also --json) and an HTML report with the plots of the run
// and the profiles.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConfig, parseConfig } from '../../config/index.js';
import type { TelemetryConfig } from '../../config/index.js';
import { arrivalSpecDurationMs, generateTrace, parseArrivalSpec } from '../../core/arrival/spec.js';
import { parseDurationMs, DURATION_HINT } from '../../core/model/duration.js';
import { systemClock } from '../../platform/system-clock.js';
import { createTelemetry } from '../../telemetry/index.js';
import type { TelemetryService } from '../../telemetry/index.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { packageFile } from '../package-root.js';
import { fmtCost, fmtMs, fmtPct, printJson, processOutput, table } from '../output.js';
import type { CliContext } from '../context.js';
import { checkOutputPath, writeOutputFile } from '../output-file.js';
import { DEMO_BASE_RATE, DEMO_PIPELINE, DEMO_SLO_MS, DEMO_STAGES, demoConfigText, demoProfiles, demoWorkload } from '../demo/config.js';
import { startDemoFleet } from '../demo/fleet.js';
import type { DemoFleet } from '../demo/fleet.js';
import { HealthTracker, healthLine } from '../demo/health.js';
import { fromWire } from '../demo/load-wire.js';
import { LoadRunner } from '../demo/load-runner.js';
import { ActionTally, DemoMonitor } from '../demo/monitor.js';
import { summarise } from '../demo/summary.js';
import type { DemoPhase, DemoSummary } from '../demo/summary.js';
import { LiveView } from '../demo/view.js';
import type { ViewStyle } from '../demo/view.js';
import { renderDemoReport } from '../report/demo-report.js';

export const DEMO_CONFIG = packageFile('config/examples/reference.yaml');
export const DEFAULT_METRICS_PORT = 9464;

export { demoWorkload } from '../demo/config.js';

export interface DemoCommandOptions {
  readonly duration: string;
  readonly seed: string;
  readonly rate: string;
  readonly metricsPort: string;
  readonly report: string;
  readonly view: string;
  readonly json?: boolean;
}

/** Where a terminal is: the view redraws in place only there. Injectable for tests. */
export interface DemoHooks {
  readonly isTty?: boolean;
  readonly onMetricsUrl?: (url: string) => void;
}

export function registerDemo(program: Command, ctx: CliContext, hooks: DemoHooks = {}): void {
  program
    .command('demo')
    .description('the embedded default, live: emulated Triton, TorchServe and TF Serving, one agent each, a bursty load; plans, tunes, shows it live, then a summary and an HTML report')
    .option('--duration <d>', 'length of the load, e.g. 60s (calm 40 %, burst 20 %, step 40 %)', '60s')
    .option('--seed <n>', 'seed of the arrivals and the routing', '1')
    .option('--rate <qps>', 'rate of the calm phase (the burst is 4×, the step 2×)', String(DEMO_BASE_RATE))
    .option('--metrics-port <n>', 'Prometheus /metrics port on 127.0.0.1 (0: a free one; a free one too when taken)', String(DEFAULT_METRICS_PORT))
    .option('--report <file>', 'the HTML report written at the end', 'inferline-report.html')
    .option('--view <style>', 'live view: auto (redraw on a terminal, lines otherwise), redraw or lines', 'auto')
    .option('--json', 'print the summary as JSON on stdout (the live view goes to stderr)')
    .addHelpText('after', '\nExit status: 0 when the demo ran to the end on a host that carried it, 1 when it could not start, was interrupted, or the host could not carry the run (its figures are then marked not trustworthy, as `inferline replay` does), 2 on bad input.')
    .action(async (opts: DemoCommandOptions) => {
      const summary = await runDemo(opts, ctx, hooks);
      if (!summary.health.verdict.trustworthy) ctx.exitCode = EXIT_FAILURE;
    });
}

interface Checked {
  readonly durationMs: number;
  readonly seed: number;
  readonly rate: number;
  readonly metricsPort: number;
  readonly view: 'auto' | ViewStyle;
}

/** The demo runs in real time, at up to 200 × 4 queries per second during the burst. */
const MAX_DEMO_MS = 3_600_000;

function check(opts: DemoCommandOptions): Checked {
  const durationMs = parseDurationMs(opts.duration);
  if (durationMs === undefined || durationMs <= 0) throw new UsageError(`--duration ${opts.duration}: must be ${DURATION_HINT}`);
  if (durationMs < 5000) throw new UsageError(`--duration ${opts.duration}: must be at least 5s (the burst is a fifth of it)`);
  if (durationMs > MAX_DEMO_MS) throw new UsageError(`--duration ${opts.duration}: must be at most 1h (the demo runs in real time; plan and simulate take longer workloads)`);
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed ${opts.seed}: must be a non-negative integer`);
  const rate = Number(opts.rate);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 200) throw new UsageError(`--rate ${opts.rate}: must be a number of queries per second in (0, 200]`);
  const metricsPort = Number(opts.metricsPort);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) throw new UsageError(`--metrics-port ${opts.metricsPort}: must be a port number (0: a free one)`);
  const view = opts.view;
  if (view !== 'auto' && view !== 'redraw' && view !== 'lines') throw new UsageError(`--view ${view}: must be auto, redraw or lines`);
  return { durationMs, seed, rate, metricsPort, view };
}

/** One demo run: its settings, its workload, its trackers, and the processes it started. */
interface DemoRun {
  readonly opts: DemoCommandOptions;
  readonly c: Checked;
  readonly ctx: CliContext;
  readonly say: (t: string) => void;
  readonly style: ViewStyle;
  readonly profiles: Awaited<ReturnType<typeof demoProfiles>>;
  readonly workload: string;
  readonly trace: ReturnType<typeof generateTrace>;
  readonly durationMs: number;
  readonly phases: readonly DemoPhase[];
  readonly telemetry: TelemetryService;
  readonly metricsUrl: string | undefined;
  readonly clock: typeof systemClock;
  readonly t0: number;
  readonly tally: ActionTally;
  readonly health: HealthTracker;
  readonly interrupted: AbortController;
  fleet: DemoFleet | undefined;
  load: LoadRunner | undefined;
  /** The load runs: agents' errors are shown from now on. */
  running: boolean;
}

export async function runDemo(opts: DemoCommandOptions, ctx: CliContext, hooks: DemoHooks = {}): Promise<DemoSummary> {
  const c = check(opts);
  // The report is written after minutes of running: a path that cannot be written fails now.
  await checkOutputPath('--report', opts.report);
  const run = await prepareDemo(opts, c, ctx, hooks);
  const { say, interrupted } = run;
  // Ctrl-C (or SIGTERM) stops the children in order and ends the demo; a second one ends it at once
  // (the children then stop by themselves: their channel to this process closes).
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted.signal.aborted) process.exit(130);
    say(`\n  ${sig}: stopping the load generator, the agents and the servers…\n`);
    interrupted.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { fleet, load, monitor } = await startAndPlan(run);
    const { startMs, view } = await runLoad(run, fleet, load, monitor);
    return await finishDemo(run, fleet, load, monitor, startMs, view);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await run.load?.stop(1000).catch(() => undefined);
    await run.fleet?.stop().catch(() => undefined);
    run.health.stop();
    await run.telemetry.shutdown(3000);
  }
}

/** The workload, its phases, the header lines and the metrics endpoint. */
async function prepareDemo(opts: DemoCommandOptions, c: Checked, ctx: CliContext, hooks: DemoHooks): Promise<DemoRun> {
  const { output } = ctx;
  // Text goes to stdout; with --json the summary does and everything live goes to stderr.
  const say = opts.json ? (t: string): void => output.err(t) : (t: string): void => output.out(t);
  const tty = hooks.isTty ?? (output === processOutput && (opts.json ? process.stderr.isTTY : process.stdout.isTTY) === true);
  const style: ViewStyle = c.view === 'auto' ? (tty ? 'redraw' : 'lines') : c.view;
  const reference = await loadConfig(DEMO_CONFIG);
  const profiles = demoProfiles(reference.profiles);
  const workload = demoWorkload(c.durationMs / 1000, c.rate);
  const spec = parseArrivalSpec(workload);
  const trace = generateTrace(spec, c.seed);
  const durationMs = arrivalSpecDurationMs(spec);
  const phases: DemoPhase[] = [];
  let from = 0;
  for (const [i, name] of (['calm', 'burst', 'step'] as const).entries()) {
    const seg = spec.segments[i];
    const len = seg?.durationMs ?? 0;
    phases.push({ name, fromMs: from, toMs: from + len, spec: workload.split(';')[i] ?? '' });
    from += len;
  }

  say(`inferline demo — ${DEMO_PIPELINE}: ${DEMO_STAGES.map((s) => `${s.stage} (${s.model}, ${s.server})`).join(' → ')}; SLO P99 ≤ ${fmtMs(DEMO_SLO_MS)}\n`);
  say(`  load ${workload}  (seed ${c.seed}, ${trace.length} queries)\n`);

  const telemetry = await startTelemetry(c.metricsPort, profiles, say);
  const metricsUrl = telemetry.metricsUrl;
  if (metricsUrl) {
    say(`  metrics ${metricsUrl}  (Prometheus, up while the demo runs)\n`);
    hooks.onMetricsUrl?.(metricsUrl);
  }
  const clock = systemClock;
  return {
    opts, c, ctx, say, style, profiles, workload, trace, durationMs, phases, telemetry, metricsUrl, clock, t0: clock.nowMs(),
    tally: new ActionTally(), health: new HealthTracker(DEMO_SLO_MS), interrupted: new AbortController(),
    fleet: undefined, load: undefined, running: false,
  };
}

function checkInterrupted(run: DemoRun): void {
  if (run.interrupted.signal.aborted) throw run.interrupted.signal.reason;
}

/** Hands the fleet's new log lines to the tally and the monitor; shows agents' errors once the load runs. */
function drainLogs(run: DemoRun, f: DemoFleet, monitor: DemoMonitor): void {
  for (const line of f.drainLogs()) {
    const now = run.clock.nowMs();
    run.tally.onLog(line, now);
    monitor.onLog(now, line.agent, line.level, line.message);
    // During the setup agents race to elect a leader and log what that costs them (in their logs).
    if (line.level === 'error' && run.running) run.say(`  ${line.agent}: ${line.message.split('\n')[0] ?? ''}\n`);
  }
}

/** Starts the servers, the agents and the load generator, and waits for a leader and its plan. */
async function startAndPlan(run: DemoRun): Promise<{ fleet: DemoFleet; load: LoadRunner; monitor: DemoMonitor }> {
  const { say, c, health, profiles, clock, t0 } = run;
  say('  starting the servers, the agents (one process each) and the load generator…\n');
  const fleet = await startDemoFleet({ profiles, planningRate: c.rate, onLoop: (name, r) => health.onLoop(name, r) });
  run.fleet = fleet;
  const monitor = new DemoMonitor(fleet.members, profiles, run.telemetry);
  monitor.begin(t0);
  say(`  servers and agents (mode enforce; the agents share this process's in-memory coordinator at ${fleet.hubUrl}):\n${table(['stage', 'server', 'endpoint', 'pid', 'agent', 'pid', 'replicas', 'batching'], fleet.members.map((m) => [
    m.stage.stage, m.stage.server, m.endpoint, m.serverPid, m.agentId, m.agentPid, m.capabilities?.replicas ?? '?', m.capabilities?.batching ?? '?',
  ])).replace(/^/gm, '    ')}\n`);
  say('    live: the agent changes the server through its API; unsupported: TF Serving has no replicas inside the process and batching\n    changes need a restart, and the demo gives its agent no orchestrator or restart command, so that agent only recommends.\n');
  // The load generator warms up while the agents elect a leader and plan.
  const load = LoadRunner.start({
    logDir: fleet.logDir,
    onLoop: (r) => health.onLoop('load generator', r),
    onProgress: (m) => {
      for (const at of m.arrivals) monitor.onArrival(at);
      for (const q of m.queries) monitor.onQuery(fromWire(q));
      health.onSlip(undefined, m.slipMaxMs);
    },
  });
  run.load = load;
  const preparing = load.prepare({
    stages: DEMO_STAGES.map((st) => ({ name: st.stage, model: st.model, server: fleet.members.find((m) => m.stage.stage === st.stage)?.server ?? {}, next: st.next })),
    entry: DEMO_STAGES[0]?.stage as string, trace: Array.from(run.trace), seed: c.seed, timeoutMs: 10_000,
  });
  // Wait for a leader, its plan, and the servers at the planned replicas.
  checkInterrupted(run);
  const ready = await waitForPlan(fleet, monitor, clock, 30_000, () => drainLogs(run, fleet, monitor), run.interrupted.signal);
  await preparing;
  checkInterrupted(run);
  const plan = monitor.plan;
  if (plan) {
    say(`  ${ready.leader ?? '?'} leads and planned ${DEMO_PIPELINE} in ${((clock.nowMs() - t0) / 1000).toFixed(1)} s: ${Object.entries(plan.stages).map(([st, x]) => `${st}=${x.hardware}/batch ${x.batchSize}×${x.replicas}`).join(' ')}  ${fmtCost(plan.costPerHour)}, estimated P99 ${fmtMs(plan.estimatedP99Ms)}\n`);
  } else {
    say('  no plan yet after 30 s; running the load anyway\n');
  }
  return { fleet, load, monitor };
}

/** Runs the load with the live view, then lets the queries in flight finish. */
async function runLoad(run: DemoRun, fleet: DemoFleet, load: LoadRunner, monitor: DemoMonitor): Promise<{ startMs: number; view: LiveView }> {
  const { clock, tally, health, durationMs, style } = run;
  const phaseAt = (tMs: number): string => (tMs < 0 ? 'setup' : run.phases.find((p) => tMs < p.toMs)?.name ?? 'drain');
  const view = new LiveView(run.say, style, { durationMs, sloMs: DEMO_SLO_MS, phase: phaseAt });
  const startMs = clock.nowMs();
  drainLogs(run, fleet, monitor);
  monitor.begin(startMs);
  monitor.actions.length = 0;
  monitor.events.length = 0;
  tally.reset(startMs);
  health.track([...fleet.processes.map((x) => x.pid), ...(load.pid !== undefined ? [load.pid] : [])]);
  health.reset();
  fleet.resetProbes();
  load.go();
  run.running = true;
  while (clock.nowMs() - startMs < durationMs) {
    checkInterrupted(run);
    await clock.sleep(style === 'redraw' ? 500 : 250, run.interrupted.signal).catch(() => undefined);
    await fleet.poll();
    drainLogs(run, fleet, monitor);
    health.sample();
    view.update(monitor.tick(clock.nowMs()), monitor.actions, health.health());
  }
  // Let the queries in flight finish (each has its own timeout), then a last look.
  const drainEnd = clock.nowMs() + 5000;
  while (monitor.inFlight() > 0 && clock.nowMs() < drainEnd) {
    await clock.sleep(250);
    await fleet.poll();
    drainLogs(run, fleet, monitor);
  }
  return { startMs, view };
}

/** Stops the load, prints the summary and writes the report. */
async function finishDemo(run: DemoRun, fleet: DemoFleet, load: LoadRunner, monitor: DemoMonitor, startMs: number, view: LiveView): Promise<DemoSummary> {
  const { opts, c, clock, health, tally, phases, workload, durationMs, profiles } = run;
  const { output } = run.ctx;
  const loadPid = load.pid;
  const stopped = await load.stop();
  run.load = undefined;
  if (stopped) health.onSlip(stopped.slip.p99Ms, stopped.slip.maxMs);
  await fleet.poll();
  drainLogs(run, fleet, monitor);
  const endMs = clock.nowMs() - startMs;
  const healthNow = health.health();
  view.update(monitor.tick(clock.nowMs()), monitor.actions, healthNow, true);
  view.end();
  const summary = summarise({
    queries: monitor.all, timeline: monitor.timeline, events: monitor.events, phases, stages: DEMO_STAGES.map((st) => st.stage),
    counts: tally.counts, tunerScaleUps: tally.tunerScaleUps, appliedScaleUps: tally.appliedScaleUps, endMs, health: healthNow,
    sent: stopped?.sent ?? monitor.all.length,
  });
  const reportPath = resolve(opts.report);
  // The summary first: whatever happens to the report, the run's result is on the screen.
  if (opts.json) {
    printJson(output, { pipeline: DEMO_PIPELINE, workload, seed: c.seed, durationMs, metricsUrl: run.metricsUrl ?? null, report: reportPath, plan: monitor.plan ?? null, processes: [...fleet.processes, { name: 'load generator', pid: loadPid }], ...summary });
  } else {
    output.out(summaryText(summary, reportPath));
  }
  await writeOutputFile('--report', reportPath, renderDemoReport({
    title: `inferline demo — ${DEMO_PIPELINE}`, generatedBy: `inferline demo --duration ${opts.duration} --seed ${c.seed} --rate ${c.rate}`,
    pipeline: DEMO_PIPELINE, sloMs: DEMO_SLO_MS, workload, seed: c.seed, summary, timeline: monitor.timeline, events: monitor.events,
    actions: monitor.actions, phases,
    servers: fleet.members.map((m) => ({ stage: m.stage.stage, server: m.stage.server, model: m.stage.model, hardware: m.stage.hardware, replicas: m.capabilities?.replicas ?? '?', batching: m.capabilities?.batching ?? '?' })),
    profiles, plan: monitor.plan,
  }));
  return summary;
}

async function startTelemetry(port: number, profiles: Parameters<typeof demoConfigText>[0], say: (t: string) => void): Promise<TelemetryService> {
  const base = parseConfig(demoConfigText(profiles, undefined, DEMO_BASE_RATE), '<embedded demo>').telemetry;
  const at = (p: number): TelemetryConfig => ({ ...base, serviceName: 'inferline-demo', prometheus: { enabled: true, host: '127.0.0.1', port: p } });
  const onError = (err: unknown): void => say(`  telemetry: ${err instanceof Error ? err.message : String(err)}\n`);
  const first = createTelemetry(at(port), { onError });
  try {
    await first.start();
    return first;
  } catch (err) {
    if (port === 0) throw err;
    await first.shutdown(1000);
    say(`  port ${port} is taken (${err instanceof Error ? err.message : String(err)}); metrics on a free port instead\n`);
    const second = createTelemetry(at(0), { onError });
    await second.start();
    return second;
  }
}

async function waitForPlan(fleet: DemoFleet, monitor: DemoMonitor, clock: typeof systemClock, timeoutMs: number, logs: () => void, signal: AbortSignal): Promise<{ leader: string | undefined }> {
  const end = clock.nowMs() + timeoutMs;
  while (clock.nowMs() < end && !signal.aborted) {
    await fleet.poll();
    logs();
    const snap = monitor.tick(clock.nowMs());
    const settled = snap.planned && snap.stages.every((s) => s.desired !== undefined && s.actual !== undefined && (s.replicasChange !== 'live' || s.desired === s.actual));
    if (settled) return { leader: snap.leader };
    await clock.sleep(100);
  }
  return { leader: monitor.last?.leader };
}

export function summaryText(s: DemoSummary, reportPath: string): string {
  const b = s.burst;
  const ms = (v: number | null): string => (v === null ? '—' : fmtMs(v));
  const h = s.health;
  const mark = h.verdict.trustworthy ? '' : ' (not trustworthy: see harness)';
  const lines = [
    '',
    `summary${h.verdict.trustworthy ? '' : ' — NOT TRUSTWORTHY: the host could not carry this run, so the figures below measure the host, not inferline'}`,
    `  harness      ${healthLine(h)}`,
    `               loop delay P99/max per process: ${h.loops.map((l) => `${l.name} ${l.p99Ms.toFixed(1)}/${l.maxMs.toFixed(0)} ms${l.judged ? '' : ' (product, not judged)'}`).join(', ')}`,
    `  queries      ${s.queries} (${s.completed} answered, ${s.failed} failed)`,
    `  P99          ${ms(s.p99Ms)} against an SLO of ${fmtMs(s.sloMs)} — ${s.p99Ms !== null && s.p99Ms <= s.sloMs ? 'met' : 'missed'}${mark}`,
    `  SLO misses   ${fmtPct(s.sloMissRate)} of queries${mark}`,
    `  cost         ${fmtCost(s.meanCostPerHour)} on average (actual replicas × price, integrated over the run: $${s.cost.toFixed(4)})`,
    `  actions      ${s.scalingActions} changes applied on the servers (${s.scaleUps} replica increases, ${s.scaleDowns} decreases), ${s.recommendations} recommended only, ${s.failedChanges} failed`,
    `  burst        ${b.stage}: ${b.replicasBefore} replicas before the burst (at ${b.burstStartS.toFixed(1)} s), up to ${b.replicasDuringMax} during it (leader wanted ${b.desiredDuringMax}); first scale-up ${b.firstScaleUpMs === null ? 'none' : `${(b.firstScaleUpMs / 1000).toFixed(2)} s`} after the burst began, applied on the server after ${b.firstAppliedScaleUpMs === null ? '—' : `${(b.firstAppliedScaleUpMs / 1000).toFixed(2)} s`}`,
    '',
    table(['phase', 'from', 'to', 'queries', 'rate', 'P99', 'misses', 'mean replicas'], s.phases.map((p) => [
      p.phase, `${p.fromS.toFixed(0)} s`, `${p.toS.toFixed(0)} s`, p.queries, `${p.meanRateQps.toFixed(0)} q/s`, ms(p.p99Ms), fmtPct(p.sloMissRate),
      Object.entries(p.replicas).map(([k, v]) => `${k} ${v}`).join(', '),
    ])).replace(/^/gm, '  '),
    '',
    `report ${reportPath}`,
    '',
  ];
  return lines.join('\n');
}
