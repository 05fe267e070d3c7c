// `inferline validate`, run in-process through the real program, and end to end through the binary.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli as run, STACK_FRAME } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'inferline-validate-'));
const INVALID = path.join(dir, 'invalid.yaml');
writeFileSync(INVALID, [
  'hardware: [{ name: cpu, costPerHour: -1 }]',
  'pipelines:',
  '  - name: p',
  '    slo: { latencyMs: soon }',
  '    stages: [{ name: a, model: m, hardware: [cpu], next: [{ stage: a, fraction: 1.5 }] }]',
].join('\n'));
const REFERENCE = 'config/examples/reference.yaml';

describe('inferline validate', () => {
  it('prints a one-line summary of a valid config and exits 0', async () => {
    const r = await run(['validate', '--config', REFERENCE]);
    expect(r).to.deep.equal({
      code: 0,
      stdout: `${REFERENCE}: valid — 5 pipelines, 18 stages, 32 profiles, 4 hardware types\n`,
      stderr: '',
    });
  });

  it('--json prints the summary as JSON', async () => {
    const r = await run(['validate', '--config', REFERENCE, '--json']);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      valid: true, file: REFERENCE, summary: { pipelines: 5, stages: 18, profiles: 32, hardware: 4 },
    });
  });

  it('lists every problem on stderr, exits 2, and prints no stack trace', async () => {
    const r = await run(['validate', '--config', INVALID]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain(`${INVALID}: invalid config, 3 problems:`);
    expect(r.stderr).to.contain('hardware[0].costPerHour: -1 — must be ≥ 0');
    expect(r.stderr).to.contain('pipelines[0].slo.latencyMs: "soon" — must be a duration such as');
    expect(r.stderr).to.contain('pipelines[0].stages[0].next[0].fraction: 1.5 — must be ≤ 1');
    expect(r.stderr).to.not.match(STACK_FRAME);
  });

  it('--json prints the problems as JSON and exits 2', async () => {
    const r = await run(['validate', '--config', INVALID, '--json']);
    expect(r.code).to.equal(2);
    const out = JSON.parse(r.stdout) as { valid: boolean; problems: { path: string; message: string }[] };
    expect(out.valid).to.equal(false);
    expect(out.problems.map((p) => p.path)).to.deep.equal([
      'hardware[0].costPerHour', 'pipelines[0].slo.latencyMs', 'pipelines[0].stages[0].next[0].fraction',
    ]);
  });

  it('a config with doubtful profiles is valid, with its warnings on stderr and in --json', async () => {
    const warned = path.join(dir, 'warned.yaml');
    writeFileSync(warned, [
      'hardware: [{ name: cpu, costPerHour: 1 }]',
      'profiles: [{ model: m, hardware: cpu, points: [{ batchSize: 2, latencyMs: 5 }, { batchSize: 4, latencyMs: 4 }] }]',
      'pipelines: [{ name: p, slo: { latencyMs: 100 }, stages: [{ name: s, model: m, hardware: [cpu] }] }]',
    ].join('\n'));
    const text = await run(['validate', '--config', warned]);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.equal(`${warned}: valid — 1 pipeline, 1 stage, 1 profile, 1 hardware type, 2 warnings\n`);
    expect(text.stderr).to.contain(`inferline: warning: ${warned}: profiles[0].points[1].latencyMs: 4 ms at batch 4 is less than 5 ms at batch 2`);
    expect(text.stderr).to.contain(`inferline: warning: ${warned}: profiles[0].points: no point at batch 1`);
    const json = await run(['validate', '--config', warned, '--json']);
    expect(json.code).to.equal(0);
    const out = JSON.parse(json.stdout) as { valid: boolean; warnings: { path: string }[] };
    expect(out.valid).to.equal(true);
    expect(out.warnings.map((w) => w.path)).to.deep.equal(['profiles[0].points[1].latencyMs', 'profiles[0].points']);
  });

  it('a missing file is bad input naming the file', async () => {
    const r = await run(['validate', '--config', 'no/such/config.yaml']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal('inferline: no/such/config.yaml: cannot read the config file (not found)\n');
  });

  it('--config is required', async () => {
    const r = await run(['validate']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/required option '--config <file>'/);
  });

  describe('through the real binary', function () {
    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });

    it('exits 0 for a valid config', () => {
      const r = cli(['validate', '--config', REFERENCE]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/valid — 5 pipelines/);
    });

    it('exits 2 without a stack trace for an invalid one and for a missing one', () => {
      for (const file of [INVALID, 'no/such/config.yaml']) {
        const r = cli(['validate', '--config', file]);
        expect(r.status).to.equal(2);
        expect(r.stderr).to.contain(file);
        expect(r.stderr).to.not.match(STACK_FRAME);
      }
    });
  });
});
