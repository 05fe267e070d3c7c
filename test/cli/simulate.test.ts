// `inferline simulate`, through the real program in-process.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, STACK_FRAME } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'inferline-simulate-'));
const CONFIG = 'config/examples/reference.yaml';
const PLAN = path.join(dir, 'plan.json');
const WORKLOAD = ['--arrival', 'gamma:rate=100,cv=1,duration=20s;gamma:rate=300,cv=4,duration=20s'];

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('inferline simulate', function () {
  this.timeout(120_000);

  before(async () => {
    const r = await runCli(['plan', '--config', CONFIG, '--pipeline', 'tf-cascade', '--arrival', 'gamma:rate=150,cv=4,duration=30s', '--out', PLAN]);
    expect(r.code, r.stderr).to.equal(0);
  });

  it('runs the InferLine controller by default and prints one row', async () => {
    const r = await runCli(['simulate', '--config', CONFIG, '--plan', PLAN, ...WORKLOAD]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/pipeline tf-cascade\s+SLO P99 ≤ 200 ms/);
    expect(r.stdout).to.match(/\n\s+inferline\s+\d/);
    expect(r.stdout).to.not.match(/\n\s+hpa\s/);
  });

  it('--compare runs every controller on the same trace; --json has P99, miss rate, cost and actions', async () => {
    const r = await runCli(['simulate', '--config', CONFIG, '--plan', PLAN, ...WORKLOAD, '--compare', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout) as { queries: number; runs: { controller: string; p99Ms: number; sloMissRate: number; meanCostPerHour: number; scalingActions: number }[] };
    expect(s.runs.map((x) => x.controller)).to.deep.equal(['inferline', 'hpa', 'ray', 'static-mean', 'static-peak', 'coarse']);
    for (const run of s.runs) {
      expect(run.p99Ms).to.be.above(0);
      expect(run.sloMissRate).to.be.within(0, 1);
      expect(run.meanCostPerHour).to.be.above(0);
      expect(run.scalingActions).to.be.at.least(0);
    }
    expect(s.queries).to.be.above(7000);
  });

  it('runs the tuner inside the live loop\'s delays by default, the flags override them, --loop ideal drops them', async () => {
    const json = async (extra: string[]) => {
      const r = await runCli(['simulate', '--config', CONFIG, '--plan', PLAN, ...WORKLOAD, '--json', ...extra]);
      expect(r.code, r.stderr).to.equal(0);
      return JSON.parse(r.stdout) as { loop: unknown; runs: { p99Ms: number; scalingActions: number }[] };
    };
    const live = await json([]);
    // The reference config has no agent section: the agent's defaults.
    expect(live.loop).to.deep.equal({ scrapeIntervalMs: 100, pushIntervalMs: 1000, actuationDelayMs: 30 });
    const slow = await json(['--scrape-interval', '1s', '--push-interval', '1s', '--actuation-delay', '500ms']);
    expect(slow.loop).to.deep.equal({ scrapeIntervalMs: 1000, pushIntervalMs: 1000, actuationDelayMs: 500 });
    const ideal = await json(['--loop', 'ideal']);
    expect(ideal.loop).to.equal('ideal');
    // Slower sampling and acting cannot react sooner to the ×3 step: the tail is no better.
    expect(slow.runs[0]?.p99Ms).to.be.at.least(live.runs[0]?.p99Ms as number);
    const text = await runCli(['simulate', '--config', CONFIG, '--plan', PLAN, ...WORKLOAD]);
    expect(text.stdout).to.match(/live loop: scrape 100 ms, push on change or every 1000 ms, decision to server 30(\.0)? ms/);
  });

  it('takes plan files with a scaling curve (what `plan --out` writes now) and without one (older files)', async () => {
    const plan = JSON.parse(readFileSync(PLAN, 'utf8')) as { scaling?: unknown[] }[] | { scaling?: unknown[] };
    const one = Array.isArray(plan) ? plan[0] : plan;
    expect(one?.scaling, 'plan --out records the curve').to.be.an('array');
    const { scaling: _curve, ...older } = one as Record<string, unknown>;
    for (const f of [PLAN, file('older.json', JSON.stringify(older))]) {
      const r = await runCli(['simulate', '--config', CONFIG, '--plan', f, ...WORKLOAD, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { runs: unknown[] }).runs).to.have.length(1);
    }
  });

  it('--report writes an HTML page with the plots', async () => {
    const report = path.join(dir, 'report.html');
    const r = await runCli(['simulate', '--config', CONFIG, '--plan', PLAN, ...WORKLOAD, '--controller', 'hpa', '--report', report]);
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(report)).to.equal(true);
    const html = readFileSync(report, 'utf8');
    expect(html).to.match(/^<!DOCTYPE html>/i);
    expect((html.match(/<svg/g) ?? []).length).to.be.at.least(4);
    expect(html).to.contain('hpa');
  });

  describe('bad input: exit 2 and a clear message, no stack trace', () => {
    const cases: { name: string; args: () => string[]; want: RegExp[] }[] = [
      { name: 'an unknown loop', args: () => ['--plan', PLAN, '--loop', 'fast'], want: [/--loop fast: must be live or ideal/] },
      { name: 'a bad scrape interval', args: () => ['--plan', PLAN, '--scrape-interval', '0s'], want: [/--scrape-interval 0s: must be a duration above 0/] },
      { name: 'delays with --loop ideal', args: () => ['--plan', PLAN, '--loop', 'ideal', '--actuation-delay', '10ms'], want: [/are for --loop live/] },
      { name: 'an unknown controller', args: () => ['--plan', PLAN, '--controller', 'magic'], want: [/--controller magic: unknown controller — must be one of: inferline, hpa/] },
      { name: 'a missing plan file', args: () => ['--plan', path.join(dir, 'none.json')], want: [/none\.json/] },
      {
        name: 'a plan for a pipeline the config lacks',
        args: () => ['--plan', file('other.json', readFileSync(PLAN, 'utf8').replace('"pipeline": "tf-cascade"', '"pipeline": "nope"'))],
        want: [/other\.json/, /pipeline: "nope" is not a pipeline of the config/],
      },
      {
        name: 'a plan whose stage runs on hardware the stage does not allow',
        args: () => ['--plan', file('hw.json', JSON.stringify({ ...JSON.parse(readFileSync(PLAN, 'utf8')), stages: { fast: { hardware: 'tpu', batchSize: 1, replicas: 1 }, accurate: { hardware: 'cpu', batchSize: 1, replicas: 1 } } }))],
        want: [/hw\.json/, /stages\.fast\.hardware: "tpu" — must be one of the stage's hardware/],
      },
      {
        name: 'a plan that is not a plan',
        args: () => ['--plan', file('junk.json', '{"pipeline": 3}')],
        want: [/junk\.json/, /pipeline/, /stages/],
      },
      {
        name: 'a plan whose scaling curve names a stage the pipeline lacks',
        args: () => ['--plan', file('curve.json', JSON.stringify({ ...JSON.parse(readFileSync(PLAN, 'utf8')), scaling: [{ factor: 2, replicas: { fast: 2, nope: 1 } }] }))],
        want: [/curve\.json/, /scaling\[0\]\.replicas\.nope: not a stage of pipeline "tf-cascade"/],
      },
      { name: 'an empty trace', args: () => ['--plan', PLAN, '--trace', file('empty.txt', '')], want: [/empty\.txt/] },
      { name: 'a bad spec', args: () => ['--plan', PLAN, '--arrival', 'step:rate=10,factor=2,at=90s,duration=60s'], want: [/at/] },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCli(['simulate', '--config', CONFIG, ...c.args()]);
        expect(r.code, r.stderr).to.equal(2);
        for (const w of c.want) expect(r.stderr).to.match(w);
        expect(r.stderr).to.not.match(STACK_FRAME);
      });
    }
  });
});
