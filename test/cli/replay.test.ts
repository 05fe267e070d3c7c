// `inferline replay`, through the real program in-process, against two emulated Tritons: the plan
// is refused when the fleet differs from it, applied with --apply, and the comparison is produced
// with the estimator's own routing (the same queries reach the second stage live as predicted).
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTritonEmulator } from '../../src/emulator/index.js';
import type { ModelProfile } from '../../src/core/model/types.js';
import type { ReplaySummary } from '../../src/cli/report/types.js';
import { runCli, STACK_FRAME } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'inferline-replay-'));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

const profiles: ModelProfile[] = [
  { model: 'front', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 2, throughputQps: 500 }, { batchSize: 4, latencyMs: 5, throughputQps: 800 }] },
  { model: 'back', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 4, throughputQps: 250 }, { batchSize: 2, latencyMs: 6, throughputQps: 333 }] },
];

const CONFIG = file('config.yaml', `
hardware:
  - { name: cpu, costPerHour: 0.1 }
profiles:
  - model: front
    hardware: cpu
    points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 4, latencyMs: 5 }]
    hopOverheadMs: 1
  - model: back
    hardware: cpu
    points: [{ batchSize: 1, latencyMs: 4 }, { batchSize: 2, latencyMs: 6 }]
    hopOverheadMs: 1
pipelines:
  - name: two
    slo: { latencyMs: 100, percentile: 99 }
    stages:
      - { name: a, model: front, hardware: [cpu], next: [{ stage: b, fraction: 0.5 }] }
      - { name: b, model: back, hardware: [cpu] }
`);

const PLAN = file('plan.json', JSON.stringify({
  pipeline: 'two', sloMs: 100, percentile: 99, feasible: true, seed: 3,
  stages: { a: { hardware: 'cpu', batchSize: 4, replicas: 1, batchDelayMs: 1 }, b: { hardware: 'cpu', batchSize: 2, replicas: 2 } },
  envelope: [{ windowMs: 1000, maxArrivals: 60, rateQps: 60 }],
}));
const WORKLOAD = ['--arrival', 'poisson:rate=60,duration=4s,seed=5'];

describe('inferline replay', function () {
  this.timeout(120_000);
  const servers: { stop(): Promise<void>; url: string; metricsUrl: string }[] = [];
  let fleet = '';

  before(async () => {
    for (let i = 0; i < 2; i++) {
      const s = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, maxBatchSize: 1 });
      servers.push({ stop: () => s.stop(), url: s.url, metricsUrl: s.metricsUrl });
    }
    fleet = file('fleet.yaml', `stages:\n  a: { server: triton, url: "${servers[0]?.url}", metricsUrl: "${servers[0]?.metricsUrl}" }\n  b: { server: triton, url: "${servers[1]?.url}", metricsUrl: "${servers[1]?.metricsUrl}" }\n`);
  });

  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('refuses a fleet that does not serve the plan, naming each difference, and touches nothing', async () => {
    const r = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--fleet', fleet, ...WORKLOAD]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/does not serve plan .*plan\.json \(apply it with --apply\)/);
    expect(r.stderr).to.match(/stages\.a\.batchSize: the plan has 4, the triton server serving front has 1/);
    expect(r.stderr).to.match(/stages\.a\.batchDelayMs: the plan has 1/);
    expect(r.stderr).to.match(/stages\.b\.replicas: the plan has 2, the triton server serving back has 1/);
    expect(r.stderr).to.not.match(STACK_FRAME);
  });

  it('names a stage the fleet lacks, and an --at that is not STAGE=KIND:URL', async () => {
    let r = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--at', `a=triton:${servers[0]?.url}`, ...WORKLOAD]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/no server for stage b of pipeline two/);
    r = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--at', 'a-triton', ...WORKLOAD]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--at a-triton: must be STAGE=KIND:URL/);
    r = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--at', 'a=http://x', ...WORKLOAD]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--at a=http:\/\/x: unknown server "http"/);
  });

  it('refuses a workload past its bounds', async () => {
    const r = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--fleet', fleet, '--arrival', 'poisson:rate=60,duration=30s', '--max-duration', '10']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/spans .* s — a replay runs at most 10 s \(--max-duration\)/);
  });

  it('--apply sets the plan through the adapters, then replays end to end and compares, stage by stage', async () => {
    const report = path.join(dir, 'replay.html');
    const r = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--fleet', fleet, ...WORKLOAD, '--apply', '--json', '--report', report]);
    // 0 when the harness was trustworthy, 1 when this shared test process could not keep up.
    expect(r.code, r.stderr).to.be.oneOf([0, 1]);
    expect(r.stderr).to.match(/applied a: batch 4, delay 1 ms/);
    expect(r.stderr).to.match(/applied b: replicas 1 → 2/);
    const s = JSON.parse(r.stdout) as ReplaySummary;
    expect(s.pipeline).to.equal('two');
    expect(s.queries).to.be.greaterThan(150);
    expect(s.health.failed).to.equal(0);
    // The same seeded routing, live and predicted: exactly the same visits reach each stage.
    expect(s.stages.map((x) => x.visits.measured)).to.deep.equal(s.stages.map((x) => x.visits.predicted));
    expect(s.stages[0]?.visits.measured).to.equal(s.queries);
    expect(s.stages[1]?.visits.measured).to.be.within(s.queries * 0.35, s.queries * 0.65);
    // Every figure is there, on both sides, and sane: at least the compute time of a batch of one.
    expect(s.endToEnd.predicted.p50Ms).to.be.at.least(3);
    expect(s.endToEnd.measured.p50Ms).to.be.at.least(2);
    expect(s.endToEnd.measured.p99Ms).to.be.at.least(s.endToEnd.measured.p50Ms);
    expect(Number.isFinite(s.endToEnd.error.p99)).to.equal(true);
    expect(s.stages[0]?.meanBatch.measured).to.be.at.least(1);
    expect(s.health.cores).to.be.at.least(1);
    expect(s.verdict.trustworthy).to.equal(s.verdict.reasons.length === 0);
    expect(r.code).to.equal(s.verdict.trustworthy ? 0 : 1);
    const html = readFileSync(report, 'utf8');
    expect(html).to.match(/<svg/);
    expect(html).to.contain('End-to-end latency by percentile');
    // Applied: a second run needs no --apply.
    const again = await runCli(['replay', '--config', CONFIG, '--plan', PLAN, '--fleet', fleet, '--arrival', 'poisson:rate=20,duration=1s,seed=1']);
    expect(again.code, again.stderr).to.be.oneOf([0, 1]);
    expect(again.stdout).to.match(/P99\s+\S+ ms\s+\S+ ms\s+[+-]\d/);
  });
});
