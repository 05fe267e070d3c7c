// startEmulatedFleet: real `inferline emulate` child processes on free loopback ports, one
// inference through each, then a stop that leaves no process behind; and a child that stops by
// itself when its parent dies.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulatedFleet } from '../../src/emulator/fleet-processes.js';
import type { EmulatedFleetProcesses } from '../../src/emulator/fleet-processes.js';
import { processAlive } from '../integration/servers/process.js';
import { profile, request, sleep } from './helpers.js';

const PROFILES = [
  profile('detector', 'cpu', [[1, 2], [4, 3.5]]),
  profile('ocr', 'cpu', [[1, 1.5], [8, 6]]),
];

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (processAlive(pid) && Date.now() - t0 < withinMs) await sleep(25);
  return !processAlive(pid);
}

describe('emulated fleet as separate processes', function () {
  this.timeout(60_000);
  let fleet: EmulatedFleetProcesses | undefined;
  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  it('starts two servers in their own processes, serves through each, and stops them by pid', async () => {
    fleet = await startEmulatedFleet([
      { server: 'triton', profiles: PROFILES, models: ['detector'], instances: 2, maxBatch: 4, delayMs: 0.5 },
      { server: 'torchserve', profiles: PROFILES, models: ['ocr'], maxBatch: 4, delayMs: 2 },
    ]);
    const [triton, ts] = fleet.servers;
    if (!triton || !ts) throw new Error('two servers expected');
    expect([triton.pid, ts.pid]).to.not.include(process.pid);
    expect(triton.pid).to.not.equal(ts.pid);
    expect(triton.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(triton.models).to.deep.equal([{ name: 'detector', hardware: 'cpu', maxBatch: 4 }]);
    expect(ts.managementUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);

    const infer = await request('POST', `${triton.url}/v2/models/detector/infer`, {
      body: { inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
    });
    expect(infer.status).to.equal(200);
    const config = (await request('GET', `${triton.url}/v2/models/detector/config`)).json<{ instance_group: { count: number }[]; dynamic_batching: { max_queue_delay_microseconds: number } }>();
    expect([config.instance_group[0]?.count, config.dynamic_batching.max_queue_delay_microseconds]).to.deep.equal([2, 500]);
    const predicted = await request('POST', `${ts.url}/predictions/ocr`, { body: '{"x": 1}' });
    expect(predicted.status).to.equal(200);
    expect((await request('GET', ts.metricsUrl)).text).to.include('ts_inference_requests_total');
    expect((await request('GET', `${ts.managementUrl}/models/ocr`)).json<{ batchSize: number; maxBatchDelay: number }[]>()[0])
      .to.deep.include({ batchSize: 4, maxBatchDelay: 2 });

    const pids = fleet.servers.map((s) => s.pid);
    await fleet.stop();
    fleet = undefined;
    for (const pid of pids) expect(processAlive(pid), `pid ${pid} still running`).to.equal(false);
    expect(await fetch(`${triton.url}/v2/health/live`).then(() => 'answered', () => 'closed')).to.equal('closed');
  });

  it('a bad spec fails with the child\'s log, and leaves no process behind', async () => {
    const err = await startEmulatedFleet([{ server: 'tfserving', profiles: PROFILES, hardware: 'tpu' }]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/emulated tfserving \(pid \d+\) exited with code 2/);
    expect((err as Error).message).to.include('tpu: no model has a profile on it');
  });

  it('a server stops by itself when the process that started it dies', async () => {
    // A parent that starts one server, prints its pid and URL, then is SIGKILLed.
    const dir = mkdtempSync(path.join(tmpdir(), 'inferline-fleet-parent-'));
    const script = path.join(dir, 'parent.mts');
    const helper = path.resolve('src/emulator/fleet-processes.ts');
    writeFileSync(script, [
      `import { startEmulatedFleet } from ${JSON.stringify(helper)};`,
      `const f = await startEmulatedFleet([{ server: 'tfserving', profiles: ${JSON.stringify(PROFILES)} }]);`,
      `process.stdout.write(JSON.stringify({ pid: f.servers[0].pid, url: f.servers[0].url }) + '\\n');`,
      'setInterval(() => undefined, 1000);',
    ].join('\n'));
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const t0 = Date.now();
    while (!out.includes('\n') && Date.now() - t0 < 30_000) await sleep(50);
    const child = JSON.parse(out) as { pid: number; url: string };
    expect((await request('GET', `${child.url}/v1/models/ocr`)).status).to.equal(200);
    parent.kill('SIGKILL');
    expect(await gone(child.pid, 10_000), `server pid ${child.pid} outlived its parent`).to.equal(true);
  });
});
