// A REAL Prometheus (Debian's, installed by .ci/install-prometheus.sh) scrapes an inferline
// telemetry exporter running in this process, every second, on free loopback ports. The test
// queries Prometheus's HTTP API until the recorded series have their values, checks docs/metrics.md's
// and the dashboard's PromQL on them, and stops Prometheus by pid. Then it scrapes a running
// `inferline agent` process beside an emulated Triton, until the agent's own series have values. It skips, printing why, when
// Prometheus is not installed (INFERLINE_REQUIRE_PROMETHEUS=1 turns the skip into a failure).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry } from '../../src/telemetry/index.js';
import type { TelemetryService } from '../../src/telemetry/index.js';
import { recordOneOfEach, telemetryConfig } from '../telemetry/helpers.js';
import { dashboardQueries, forPrometheus, loadDashboard, docPromql } from '../telemetry/promql.js';
import { prometheusOrSkip, RealPrometheus } from './prometheus/server.js';
import type { QueryResult } from './prometheus/server.js';
import { until } from './servers/mocha.js';
import { freePorts, logTail, spawnGroup, stopGroup, type GroupProcess } from './servers/process.js';
import { REPO_ROOT } from './servers/status.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import { startTritonEmulator } from '../../src/emulator/index.js';
import type { TritonEmulator } from '../../src/emulator/index.js';

const PIPELINE = 'images';

/** Queries `expr` until `ok` holds for its result; returns that result. */
async function eventually(prom: RealPrometheus, expr: string, ok: (r: QueryResult[]) => boolean, timeoutMs = 30_000): Promise<QueryResult[]> {
  let last: QueryResult[] = [];
  try {
    await until(expr, async () => ok((last = await prom.query(expr))), timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last result: ${JSON.stringify(last)}`, { cause: err });
  }
  return last;
}

describe('real Prometheus scrapes the inferline exporter', function () {
  this.timeout(180_000);
  let dir: string;
  let telemetry: TelemetryService | undefined;
  let prom: RealPrometheus | undefined;
  let feeder: NodeJS.Timeout | undefined;
  let startedAt = 0;

  before(async function () {
    const found = prometheusOrSkip(this);
    console.log(`      using ${found.version} (${found.bin})`);
    dir = mkdtempSync(join(tmpdir(), 'inferline-prometheus-'));
    telemetry = createTelemetry(telemetryConfig({ prometheus: true }));
    await telemetry.start();
    const t = telemetry;
    recordOneOfEach(t, PIPELINE);
    // Live traffic: every 200 ms, 10 queries of which 1 misses the 250 ms SLO (it takes 400 ms),
    // adapter exchanges (one 5xx), a scale-up that asks for a replan, one applied change.
    const tick = (): void => {
      t.recordRequests({ pipeline: PIPELINE, completed: 10, sloMisses: 1, latenciesMs: [...Array<number>(9).fill(20), 400] });
      t.recordAdapterRequest({ server: 'triton', endpoint: 'GET /v2/models/{model}/stats', status: 200, durationMs: 12 });
      t.recordAdapterRequest({ server: 'triton', endpoint: 'POST /v2/repository/models/{model}/load', status: 503, durationMs: 30 });
      t.recordTunerDecision({ pipeline: PIPELINE, kind: 'scale_up', replan: true });
      t.recordTunerDecision({ pipeline: PIPELINE, kind: 'hold', replan: false });
      t.recordReconcile({ pipeline: PIPELINE, stage: 'classify', action: 'scale_replicas', mode: 'enforce' });
    };
    tick();
    feeder = setInterval(tick, 200);
    const target = new URL(t.metricsUrl as string).host;
    startedAt = Date.now();
    prom = await RealPrometheus.start(found, dir, [target]);
    console.log(`      Prometheus ready on ${prom.url} (pid ${prom.process.pid}) in ${Date.now() - startedAt} ms, scraping ${t.metricsUrl}`);
  });

  after(async () => {
    if (feeder) clearInterval(feeder);
    if (prom) {
      const pid = prom.process.pid;
      await prom.stop();
      console.log(`      stopped Prometheus (pid ${pid})`);
    }
    await telemetry?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the exporter: the target is up', async () => {
    const p = prom as RealPrometheus;
    await eventually(p, 'up{job="inferline"}', (r) => r.length === 1 && r[0]?.value === 1);
    const targets = await p.targets();
    expect(targets.map((x) => [x.health, x.scrapeUrl, x.lastError])).to.deep.equal([['up', telemetry?.metricsUrl, '']]);
    console.log(`      first successful scrape ${Date.now() - startedAt} ms after start`);
  });

  it('the expected series have the recorded values', async () => {
    const p = prom as RealPrometheus;
    const want: { expr: string; value: number }[] = [
      { expr: `inferline_stage_replicas_desired{pipeline="${PIPELINE}",stage="classify",hardware="gpu"}`, value: 3 },
      { expr: `inferline_stage_replicas_actual{pipeline="${PIPELINE}",stage="classify",hardware="gpu"}`, value: 2 },
      { expr: `inferline_stage_batch_size{pipeline="${PIPELINE}",stage="classify",hardware="gpu"}`, value: 8 },
      { expr: `inferline_stage_cost{pipeline="${PIPELINE}",stage="classify"}`, value: 2.7 },
      { expr: `inferline_pipeline_latency_p99{pipeline="${PIPELINE}"}`, value: 0.18 },
      { expr: `inferline_pipeline_slo_latency{pipeline="${PIPELINE}",percentile="99"}`, value: 0.25 },
      { expr: `inferline_pipeline_envelope_live{pipeline="${PIPELINE}",window="60"}`, value: 7200 },
      { expr: `inferline_planner_runs_total{pipeline="${PIPELINE}",planner="greedy",outcome="feasible"}`, value: 1 },
      { expr: `inferline_planner_run_duration_sum{pipeline="${PIPELINE}",planner="greedy"}`, value: 0.035 },
      { expr: 'inferline_coordination_epoch{agent="agent-1"}', value: 4 },
      { expr: 'inferline_coordination_leader{agent="agent-1"}', value: 1 },
      { expr: 'count(inferline_pipeline_request_duration_bucket{pipeline="images"})', value: 27 }, // 26 boundaries + Inf
    ];
    for (const w of want) {
      const r = await eventually(p, w.expr, (x) => x.length === 1);
      expect(r[0]?.value, w.expr).to.be.closeTo(w.value, 1e-9);
    }
    // Counters grow with the traffic: at least the first tick's and the static records'.
    const requests = await eventually(p, `inferline_pipeline_requests_total{pipeline="${PIPELINE}"}`, (x) => (x[0]?.value ?? 0) >= 110);
    const misses = await p.query(`inferline_pipeline_slo_misses_total{pipeline="${PIPELINE}"}`);
    expect(requests[0]?.metric['otel_scope_name']).to.equal('inferline');
    expect(misses[0]?.value).to.be.above(2);
  });

  it('docs/metrics.md\'s SLO miss ratio is 1 in 10, and the histogram P99 lands in the bucket of the slow queries', async () => {
    const p = prom as RealPrometheus;
    const [ratio, alert] = docPromql();
    // Static records (100 completed, 2 misses) happened before the first scrape: the rate sees
    // only the feeder's 10 and 1.
    const r = await eventually(p, ratio as string, (x) => x.length === 1 && Number.isFinite(x[0]?.value));
    expect(r[0]?.metric).to.deep.equal({ pipeline: PIPELINE });
    expect(r[0]?.value).to.be.closeTo(0.1, 0.005);
    const a = await eventually(p, alert as string, (x) => x.length === 1);
    expect(a[0]?.value).to.be.within(0.35, 0.5); // the 400 ms queries are 10 %: P99 is in (0.35, 0.5]
  });

  it('every expression of the Grafana dashboard evaluates and returns series', async () => {
    const p = prom as RealPrometheus;
    const t0 = Date.now();
    for (const q of dashboardQueries(loadDashboard())) {
      const expr = forPrometheus(q.expr, '5s');
      const r = await eventually(p, expr, (x) => x.length > 0);
      expect(r.length, `${q.where}: ${expr}`).to.be.above(0);
    }
    const miss = dashboardQueries(loadDashboard()).find((q) => q.where.startsWith('panel "SLO miss ratio"'));
    const r = await p.query(forPrometheus(miss?.expr as string, '5s'));
    expect(r[0]?.value).to.be.closeTo(0.1, 0.005);
    console.log(`      ${dashboardQueries(loadDashboard()).length} dashboard expressions checked in ${Date.now() - t0} ms`);
  });
});

describe('real Prometheus scrapes a running `inferline agent`', function () {
  this.timeout(180_000);
  let dir: string;
  let prom: RealPrometheus | undefined;
  let agent: GroupProcess | undefined;
  let server: TritonEmulator | undefined;
  let feeder: NodeJS.Timeout | undefined;

  before(async function () {
    const found = prometheusOrSkip(this);
    dir = mkdtempSync(join(tmpdir(), 'inferline-prometheus-agent-'));
    const profile = { model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 4 }, { batchSize: 4, latencyMs: 8 }] };
    const { profiles } = normaliseProfiles([profile], () => 'p');
    server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0 });
    const [metricsPort, apiPort] = await freePorts(2) as [number, number];
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({
      hardware: [{ name: 'gpu', costPerHour: 0.9 }],
      profiles: [profile],
      pipelines: [{ name: PIPELINE, slo: { latencyMs: 100 }, arrival: 'poisson:rate=50,duration=20s', stages: [{ name: 'cls', model: 'classify', hardware: ['gpu'] }] }],
      telemetry: { prometheus: { port: metricsPort } },
      agent: {
        id: 'prom-agent', mode: 'enforce', hardware: 'gpu',
        server: { kind: 'triton', url: server.url, metricsUrl: server.metricsUrl }, api: { port: apiPort, token: 'prometheus-test-token-0123' },
      },
    }));
    agent = spawnGroup(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'agent', '--config', file], {
      cwd: REPO_ROOT, env: process.env, logFile: join(dir, 'agent.log'),
    });
    const s = server;
    feeder = setInterval(() => { for (let i = 0; i < 5; i++) void s.engine('classify')?.submit(1).catch(() => undefined); }, 100);
    prom = await RealPrometheus.start(found, dir, [`127.0.0.1:${metricsPort}`]);
  });

  after(async () => {
    if (feeder) clearInterval(feeder);
    await prom?.stop();
    if (agent) await stopGroup(agent.pid, 5000);
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the agent\'s series: leader, plan, replicas desired and actual, capacity, tuner decisions, adapter requests', async function () {
    const p = prom as RealPrometheus;
    const log = () => logTail(join(dir, 'agent.log'), 20);
    const one = async (expr: string, ok: (v: number) => boolean): Promise<number> => {
      try {
        const r = await eventually(p, expr, (x) => x.length === 1 && ok(x[0]?.value as number), 60_000);
        return r[0]?.value as number;
      } catch (err) {
        throw new Error(`${(err as Error).message}\nagent log:\n${log()}`, { cause: err });
      }
    };
    await one('up{job="inferline"}', (v) => v === 1);
    await one('inferline_coordination_leader{agent="prom-agent"}', (v) => v === 1);
    const desired = await one(`inferline_stage_replicas_desired{pipeline="${PIPELINE}",stage="cls",hardware="gpu"}`, (v) => v >= 1);
    await one(`inferline_stage_replicas_actual{pipeline="${PIPELINE}",stage="cls",hardware="gpu"}`, (v) => v === desired);
    await one(`inferline_stage_capacity{pipeline="${PIPELINE}",stage="cls",hardware="gpu"}`, (v) => v > 0);
    await one(`inferline_stage_arrival_rate{pipeline="${PIPELINE}",stage="cls"}`, (v) => v > 10);
    await one(`inferline_planner_runs_total{pipeline="${PIPELINE}",planner="greedy",outcome="feasible"}`, (v) => v >= 1);
    await one(`sum(inferline_tuner_decisions_total{pipeline="${PIPELINE}"})`, (v) => v > 0);
    await one('sum(inferline_adapter_request_duration_count{server="triton"})', (v) => v > 0);
    await one(`inferline_placement_shortfall{pipeline="${PIPELINE}",stage="cls",hardware="gpu"}`, (v) => v === 0);
  });
});
