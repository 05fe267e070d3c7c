// `inferline plan`, through the real program in-process.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { runCli, STACK_FRAME } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'inferline-plan-'));
const MINIMAL = 'config/examples/minimal.yaml';
const QUICK = ['--arrival', 'gamma:rate=80,cv=2,duration=10s'];

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** A config with one pipeline, whose stage and edge lines can be replaced to break it. */
function config(name: string, { stages, profiles }: { stages?: string; profiles?: string } = {}): string {
  return file(name, [
    'hardware: [{ name: cpu, costPerHour: 0.2 }]',
    `profiles: ${profiles ?? '[{ model: m, hardware: cpu, points: [{ batchSize: 1, latencyMs: 5 }, { batchSize: 4, latencyMs: 12 }] }]'}`,
    'pipelines:',
    '  - name: p',
    '    slo: { latencyMs: 100 }',
    '    stages:',
    stages ?? '      - { name: a, model: m, hardware: [cpu], next: [{ stage: b, fraction: 1 }] }\n      - { name: b, model: m, hardware: [cpu] }',
  ].join('\n'));
}

describe('inferline plan', function () {
  this.timeout(60_000);

  it('prints a human table by default', async () => {
    const r = await runCli(['plan', '--config', MINIMAL, ...QUICK]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/pipeline classify-images\s+SLO P99 ≤ 250 ms\s+planner greedy\s+feasible/);
    expect(r.stdout).to.match(/stage\s+hardware\s+batch\s+replicas/);
    expect(r.stdout).to.match(/cost \$\d+\.\d{3}\/h/);
    expect(r.stdout).to.match(/lower bound \$\d+\.\d{3}\/h \(relaxation\)\s+gap (≤ \d+\.\d{2}%|0 % \(optimal\))/);
  });

  it('--json prints an array of plans in the shape of DESIGN.md', async () => {
    const r = await runCli(['plan', '--config', 'config/examples/reference.yaml', '--pipeline', 'tf-cascade', ...QUICK, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const plans = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(plans).to.have.length(1);
    const p = plans[0] as Record<string, unknown>;
    expect(p).to.include.keys('pipeline', 'sloMs', 'percentile', 'feasible', 'estimatedP99Ms', 'costPerHour', 'stages', 'envelope', 'seed');
    expect(p['pipeline']).to.equal('tf-cascade');
    expect(Object.keys(p['stages'] as object)).to.deep.equal(['fast', 'accurate']);
    expect(p['estimatedP99Ms'] as number).to.be.at.most(p['sloMs'] as number);
    const bound = p['lowerBound'] as { costPerHour: number; gap: number; by: string; stages: Record<string, unknown> };
    expect(bound.by).to.equal('relaxation');
    expect(bound.costPerHour).to.be.greaterThan(0).and.at.most(p['costPerHour'] as number);
    expect(bound.gap).to.be.closeTo((p['costPerHour'] as number) / bound.costPerHour - 1, 1e-5);
    expect(Object.keys(bound.stages)).to.deep.equal(['fast', 'accurate']);
  });

  it('--exact and --baseline coarse select the other searches', async () => {
    const exact = JSON.parse((await runCli(['plan', '--config', MINIMAL, ...QUICK, '--exact', '--json'])).stdout) as { planner: string; costPerHour: number; search: { proven: boolean }; lowerBound: { costPerHour: number; gap: number } }[];
    expect(exact[0]?.planner).to.equal('exact');
    expect(exact[0]?.search.proven).to.equal(true);
    // Proven optimal: the bound is the plan's own cost.
    expect(exact[0]?.lowerBound.costPerHour).to.equal(exact[0]?.costPerHour);
    expect(exact[0]?.lowerBound.gap).to.equal(0);
    const coarse = JSON.parse((await runCli(['plan', '--config', MINIMAL, ...QUICK, '--baseline', 'coarse', '--json'])).stdout) as { planner: string }[];
    expect(coarse[0]?.planner).to.equal('coarse');
  });

  it('--out writes a plan file, JSON or YAML, that reads back equal to --json', async () => {
    const json = path.join(dir, 'plan.json');
    const yml = path.join(dir, 'plan.yaml');
    const a = await runCli(['plan', '--config', MINIMAL, ...QUICK, '--out', json, '--json']);
    await runCli(['plan', '--config', MINIMAL, ...QUICK, '--out', yml]);
    const printed = (JSON.parse(a.stdout) as unknown[])[0];
    expect(JSON.parse(readFileSync(json, 'utf8'))).to.deep.equal(printed);
    expect(yaml.load(readFileSync(yml, 'utf8'))).to.deep.equal(printed);
  });

  it('plans on a trace file', async () => {
    const trace = file('trace.csv', `time,id\n${Array.from({ length: 500 }, (_, i) => `${(i * 0.01).toFixed(3)},${i}`).join('\n')}\n`);
    const r = await runCli(['plan', '--config', MINIMAL, '--trace', trace, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const p = (JSON.parse(r.stdout) as { workload: { source: string; queries: number } }[])[0];
    expect(p?.workload).to.deep.include({ source: trace, queries: 500 });
  });

  it('with planner.samples, plans on the sample at planner.sampleQuantile and says which; a trace file is one sample', async () => {
    const text = `${readFileSync(config('sampled.yaml'), 'utf8')}\nplanner: { samples: 8, sampleQuantile: 1 }\n`;
    const f = file('sampled2.yaml', text);
    const r = await runCli(['plan', '--config', f, '--arrival', 'gamma:rate=300,cv=4,duration=10s', '--seed', '3', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const p = (JSON.parse(r.stdout) as { samples: { count: number; quantile: number; seed: number; rank: number; meets: number }; notes: string[] }[])[0];
    expect(p?.samples).to.deep.include({ count: 8, quantile: 1, rank: 8 });
    expect(p?.samples.seed).to.be.within(3, 10);
    expect(p?.notes.join('\n')).to.match(new RegExp(`planned on the sample of seed ${p?.samples.seed}, the hardest of 8 for the plan made on seed 3`));
    const human = await runCli(['plan', '--config', f, '--arrival', 'gamma:rate=300,cv=4,duration=10s', '--seed', '3']);
    expect(human.stdout).to.match(/note: planned on the sample of seed \d+, the hardest of 8 .* meets the SLO on \d+ of 8 samples/);
    const trace = file('trace-sampled.csv', `time,id\n${Array.from({ length: 300 }, (_, i) => `${(i * 0.01).toFixed(3)},${i}`).join('\n')}\n`);
    const fromFile = (JSON.parse((await runCli(['plan', '--config', f, '--trace', trace, '--json'])).stdout) as { samples?: unknown }[])[0];
    expect(fromFile?.samples).to.equal(undefined);
  });

  it('exits 1 when an SLO cannot be met, still printing the plan', async () => {
    const f = config('tight.yaml');
    const tight = readFileSync(f, 'utf8').replace('latencyMs: 100', 'latencyMs: 6');
    const r = await runCli(['plan', '--config', file('tight2.yaml', tight), ...QUICK]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/INFEASIBLE/);
    expect(r.stdout).to.match(/lowest reachable P99: 10\.0 ms/);
  });

  describe('bad input: exit 2, a message naming the file, path and problem, no stack trace', () => {
    const unsorted = () => file('unsorted.txt', '0.1\n0.3\n0.2\n');
    const empty = () => file('empty.txt', '# nothing\n');
    const cases: { name: string; args: () => string[]; want: RegExp[] }[] = [
      {
        name: 'a cycle in the DAG',
        args: () => ['--config', config('cycle.yaml', { stages: '      - { name: a, model: m, hardware: [cpu], next: [{ stage: b, fraction: 1 }] }\n      - { name: b, model: m, hardware: [cpu], next: [{ stage: a, fraction: 1 }] }' })],
        want: [/cycle\.yaml/, /pipelines\[0\]\.stages: the pipeline has a cycle: a → b → a/],
      },
      {
        name: 'a fraction outside [0, 1]',
        args: () => ['--config', config('fraction.yaml', { stages: '      - { name: a, model: m, hardware: [cpu], next: [{ stage: b, fraction: 1.2 }] }\n      - { name: b, model: m, hardware: [cpu] }' })],
        want: [/fraction\.yaml/, /pipelines\[0\]\.stages\[0\]\.next\[0\]\.fraction/, /1\.2/],
      },
      {
        name: 'unknown hardware',
        args: () => ['--config', config('hw.yaml', { stages: '      - { name: a, model: m, hardware: [tpu] }' })],
        want: [/hw\.yaml/, /pipelines\[0\]\.stages\[0\]\.hardware\[0\]: unknown hardware "tpu"/],
      },
      {
        name: 'a missing profile',
        args: () => ['--config', config('profile.yaml', { stages: '      - { name: a, model: nope, hardware: [cpu] }' })],
        want: [/profile\.yaml/, /pipelines\[0\]\.stages\[0\]\.model: no profile for model "nope"/],
      },
      { name: 'an empty trace', args: () => ['--config', MINIMAL, '--trace', empty()], want: [/empty\.txt/, /empty/i] },
      { name: 'an unsorted trace', args: () => ['--config', MINIMAL, '--trace', unsorted()], want: [/unsorted\.txt/, /line 3/, /0\.2 is earlier than 0\.3/] },
      { name: 'a missing trace file', args: () => ['--config', MINIMAL, '--trace', path.join(dir, 'nope.txt')], want: [/nope\.txt/] },
      { name: 'a negative rate', args: () => ['--config', MINIMAL, '--arrival', 'poisson:rate=-5,duration=10s'], want: [/poisson:rate=-5/, /rate/, /greater than 0/] },
      { name: 'an unparsable duration in a spec', args: () => ['--config', MINIMAL, '--arrival', 'poisson:rate=5,duration=soon'], want: [/duration/, /soon/] },
      {
        name: 'an unparsable duration in the config',
        args: () => ['--config', file('dur.yaml', readFileSync(MINIMAL, 'utf8').replace('latencyMs: 250ms', 'latencyMs: quick'))],
        want: [/dur\.yaml/, /pipelines\[0\]\.slo\.latencyMs/, /duration/],
      },
      { name: 'an unknown pipeline', args: () => ['--config', MINIMAL, '--pipeline', 'nope'], want: [/--pipeline nope: no such pipeline/, /classify-images/] },
      { name: 'both --trace and --arrival', args: () => ['--config', MINIMAL, '--trace', 'x', '--arrival', 'y'], want: [/either --trace or --arrival/] },
      { name: 'an unknown baseline', args: () => ['--config', MINIMAL, '--baseline', 'magic'], want: [/--baseline magic: unknown baseline/] },
      { name: 'a missing config', args: () => ['--config', path.join(dir, 'none.yaml')], want: [/none\.yaml/, /cannot read/] },
      { name: 'a bad seed', args: () => ['--config', MINIMAL, '--seed', '-1'], want: [/--seed -1/] },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCli(['plan', ...c.args()]);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stdout).to.equal('');
        for (const w of c.want) expect(r.stderr).to.match(w);
        expect(r.stderr).to.not.match(STACK_FRAME);
      });
    }
  });
});
