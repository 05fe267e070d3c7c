// `inferline emulate`: bad input is exit 2 with no stack trace; a good run prints where the server
// listens, serves, and stops cleanly on SIGTERM.
import { expect } from 'chai';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/program.js';
import type { EmulatorReport } from '../../src/cli/commands/emulate.js';
import { STACK_FRAME } from '../helpers/cli.js';
import { request, sleep } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'inferline-emulate-'));
const PROFILES = path.join(dir, 'profiles.yaml');
writeFileSync(PROFILES, [
  'profiles:',
  '  - { model: a, hardware: cpu, points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 8, latencyMs: 6 }] }',
  '  - { model: b, hardware: gpu-t4, points: [{ batchSize: 1, latencyMs: 2 }, { batchSize: 4, latencyMs: 4 }] }',
  '  - { model: b, hardware: cpu, points: [{ batchSize: 1, latencyMs: 3 }] }',
].join('\n'));

interface Run {
  readonly done: Promise<number>;
  stdout(): string;
  stderr(): string;
}

/** Runs `inferline emulate …` in-process through the real program. */
function emulate(args: readonly string[]): Run {
  let out = '';
  let err = '';
  const done = main(['emulate', ...args], { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { done, stdout: () => out, stderr: () => err };
}

async function untilPrinted(run: Run): Promise<string> {
  for (let i = 0; i < 200 && run.stdout() === ''; i++) await sleep(10);
  return run.stdout();
}

describe('inferline emulate', function () {
  this.timeout(20_000);

  const bad: { name: string; args: string[]; want: RegExp }[] = [
    { name: 'an unknown server', args: ['--server', 'nginx', '--port', '0', '--profiles', PROFILES], want: /--server nginx: unknown server — must be one of: triton, torchserve, tfserving/ },
    { name: 'a bad port', args: ['--server', 'triton', '--port', '70000', '--profiles', PROFILES], want: /--port 70000: must be a port number/ },
    { name: 'a missing profile file', args: ['--server', 'triton', '--port', '0', '--profiles', path.join(dir, 'nope.yaml')], want: /not found/ },
    { name: 'an unknown hardware', args: ['--server', 'triton', '--port', '0', '--profiles', PROFILES, '--hardware', 'tpu'], want: /tpu: no model has a profile on it — must be one of: cpu, gpu-t4/ },
    { name: 'a bad delay', args: ['--server', 'triton', '--port', '0', '--profiles', PROFILES, '--delay', 'soon'], want: /--delay soon: must be a duration/ },
    { name: 'a max batch past a profile', args: ['--server', 'tfserving', '--port', '0', '--profiles', PROFILES, '--hardware', 'cpu', '--max-batch', '4'], want: /--max-batch 4: past the largest profiled batch size of b \(1\)/ },
    { name: 'a bad control mode', args: ['--server', 'triton', '--port', '0', '--profiles', PROFILES, '--model-control-mode', 'poll'], want: /must be explicit or none/ },
    { name: 'a bad restricted API', args: ['--server', 'triton', '--port', '0', '--profiles', PROFILES, '--http-restricted-api', 'everything:k=v'], want: /--http-restricted-api everything:k=v: must be/ },
    { name: 'a missing required option', args: ['--server', 'triton', '--profiles', PROFILES], want: /--port/ },
  ];
  for (const c of bad) {
    it(`${c.name} is bad input: exit 2, no stack trace`, async () => {
      const run = emulate(c.args);
      expect(await run.done).to.equal(2);
      expect(run.stderr()).to.match(c.want);
      expect(run.stderr()).to.not.match(STACK_FRAME);
    });
  }

  it('starts Triton, prints its URLs as JSON, serves, and stops on SIGTERM', async () => {
    const run = emulate(['--server', 'triton', '--port', '0', '--profiles', PROFILES, '--hardware', 'gpu-t4', '--instances', '2', '--delay', '1ms', '--json',
      '--http-restricted-api', 'model-repository:triton-access-token=t0k']);
    const report = JSON.parse(await untilPrinted(run)) as EmulatorReport;
    expect(report.server).to.equal('triton');
    expect(report.models).to.deep.equal([{ name: 'b', hardware: 'gpu-t4', maxBatch: 4 }]);
    expect(report.skipped).to.deep.equal(['a']);
    const url = report.urls['http'] as string;
    expect((await request('GET', `${url}/v2/health/ready`)).status).to.equal(200);
    const config = (await request('GET', `${url}/v2/models/b/config`)).json<{ instance_group: { count: number }[]; dynamic_batching: { max_queue_delay_microseconds: number } }>();
    expect([config.instance_group[0]?.count, config.dynamic_batching.max_queue_delay_microseconds]).to.deep.equal([2, 1000]);
    expect((await request('GET', report.urls['metrics'] as string)).status).to.equal(200);
    expect((await request('POST', `${url}/v2/repository/index`)).status).to.equal(403);
    expect((await request('POST', `${url}/v2/repository/index`, { headers: { 'triton-access-token': 't0k' } })).status).to.equal(200);
    process.emit('SIGTERM');
    expect(await run.done).to.equal(0);
    const after = await fetch(`${url}/v2/health/live`).then(() => 'answered', () => 'closed');
    expect(after).to.equal('closed');
  });

  it('starts TorchServe with its blocking defaults, and removes the key file on SIGINT', async () => {
    const keyFile = path.join(dir, 'key_file.json');
    const run = emulate(['--server', 'torchserve', '--port', '0', '--profiles', PROFILES, '--key-file', keyFile]);
    const text = await untilPrinted(run);
    expect(text).to.match(/^emulated torchserve listening/);
    expect(text).to.include(`key file   ${keyFile}`);
    const inference = /inference\s+(http:\S+)/.exec(text)?.[1] as string;
    const management = /management\s+(http:\S+)/.exec(text)?.[1] as string;
    expect((await request('GET', `${inference}/ping`)).status).to.equal(400);
    expect(existsSync(keyFile)).to.equal(true);
    process.emit('SIGINT');
    expect(await run.done).to.equal(0);
    expect(run.stdout()).to.include('SIGINT: stopping');
    expect(existsSync(keyFile)).to.equal(false);
    expect(await fetch(`${management}/models`).then(() => 'answered', () => 'closed')).to.equal('closed');
  });

  it('starts TF Serving with monitoring on request', async () => {
    const run = emulate(['--server', 'tfserving', '--port', '0', '--profiles', PROFILES, '--monitoring', '--json']);
    const report = JSON.parse(await untilPrinted(run)) as EmulatorReport;
    expect(report.models.map((m) => `${m.name}@${m.hardware}`)).to.deep.equal(['a@cpu', 'b@gpu-t4']);
    expect((await request('GET', `${report.urls['rest']}/v1/models/a`)).status).to.equal(200);
    expect((await request('GET', report.urls['metrics'] as string)).status).to.equal(200);
    process.emit('SIGTERM');
    expect(await run.done).to.equal(0);
  });
});
