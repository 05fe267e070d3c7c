// `inferline inspect`, through the real program in-process, against the emulators.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTfServingAdapter } from '../../adapters/tfserving/index.js';
import { createTorchServeAdapter } from '../../adapters/torchserve/index.js';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import { inspectAdapterOptions } from '../../src/cli/commands/inspect.js';
import type { InspectReport } from '../../src/cli/commands/inspect.js';
import { startTfServingEmulator, startTorchServeEmulator, startTritonEmulator } from '../../src/emulator/index.js';
import type { TfServingEmulator, TorchServeEmulator, TritonEmulator } from '../../src/emulator/index.js';
import { closedPortUrl } from '../adapters/contract.js';
import { profile } from '../emulator/helpers.js';
import { runCli, runCliWithTraffic, STACK_FRAME } from '../helpers/cli.js';
import type { CliRun } from '../helpers/cli.js';

const PROFILES = [profile('m', 'cpu', [[1, 2], [2, 3], [4, 4], [8, 6]]), profile('other', 'cpu', [[1, 2], [8, 5]])];
const WINDOW = ['--window', '300ms'];


function report(r: CliRun): InspectReport {
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as InspectReport;
}

describe('inferline inspect', function () {
  this.timeout(30_000);
  let dir = '';
  let triton: TritonEmulator | undefined;
  let tritonNone: TritonEmulator | undefined;
  let ts: TorchServeEmulator | undefined;
  let tf: TfServingEmulator | undefined;
  let tfNoMonitoring: TfServingEmulator | undefined;
  const the = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('emulator not started');
    return x;
  };

  const grpc = (e: TritonEmulator): string => e.grpcUrl as string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inferline-inspect-'));
    [triton, tritonNone, ts, tf, tfNoMonitoring] = await Promise.all([
      startTritonEmulator({ profiles: PROFILES, maxBatchSize: 8, maxQueueDelayMs: 1, grpcPort: 0 }),
      startTritonEmulator({ profiles: PROFILES, modelControlMode: 'none' }),
      startTorchServeEmulator({ profiles: PROFILES, keyFile: join(dir, 'key_file.json'), enableModelApi: true, metricsMode: 'prometheus', batchSize: 4, maxBatchDelayMs: 1 }),
      startTfServingEmulator({ profiles: PROFILES, monitoring: true, maxBatchSize: 8, batchTimeoutMs: 1 }),
      startTfServingEmulator({ profiles: PROFILES }),
    ]);
  });
  after(async () => {
    await Promise.all([triton, tritonNone, ts, tf, tfNoMonitoring].map((e) => e?.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('triton: a table of the models with their serving config and rates, and the capabilities', async () => {
    const e = the(triton);
    const r = await runCliWithTraffic(createTritonAdapter({ url: e.url }), 'm', ['inspect', '--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl, '--grpc-url', grpc(e), ...WINDOW]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^triton ${e.url}   live, ready\n`));
    expect(r.stdout).to.contain('capabilities: replicas live, batching reload, per-batch stats yes, profiling yes\n');
    expect(r.stdout).to.match(/^model\s+version\s+ready\s+replicas\s+device\s+max batch\s+delay\s+req\/s\s+inf\/s\s+queue\/req\s+compute\/req\s+batch$/m);
    // m has traffic (batches of 2); other has none, so no means per request.
    expect(r.stdout).to.match(/^m\s+1\s+yes\s+1\s+cpu\s+8\s+1\.0 ms\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d ms\s+\d+\.\d ms\s+\d\.\d\d$/m);
    expect(r.stdout).to.match(/^other\s+1\s+yes\s+1\s+cpu\s+8\s+1\.0 ms\s+0\.00\s+0\.00\s+—\s+—\s+—$/m);
    expect(r.stdout).to.match(/\nrates over 0\.\d s; \d+ metric series\n$/);
    expect(r.stdout).to.not.contain('warnings:');
  });

  it('--json: a stable object, counters as decimal strings, rates from the traffic in the window', async () => {
    const e = the(triton);
    const out = report(await runCliWithTraffic(createTritonAdapter({ url: e.url }), 'm', ['inspect', '--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl, '--grpc-url', grpc(e), ...WINDOW, '--json']));
    expect(Object.keys(out)).to.deep.equal(['server', 'endpoint', 'health', 'capabilities', 'models', 'metricSeries', 'windowMs', 'warnings']);
    expect(out).to.deep.include({
      server: 'triton', endpoint: e.url, health: { live: true, ready: true, detail: null },
      capabilities: { replicas: 'live', batching: 'reload', perBatchStats: true, profiling: true }, warnings: [],
    });
    expect(out.windowMs).to.be.within(290, 5000);
    expect(out.metricSeries).to.be.above(0);
    expect(out.models.map((m) => m.model)).to.deep.equal(['m', 'other']);
    const m = out.models[0];
    expect(Object.keys(m ?? {})).to.deep.equal(['model', 'version', 'ready', 'replicas', 'device', 'maxBatchSize', 'batchDelayMs', 'counters', 'rates']);
    expect(m).to.deep.include({ model: 'm', version: '1', ready: true, replicas: 1, device: 'cpu', maxBatchSize: 8, batchDelayMs: 1 });
    for (const v of Object.values(m?.counters ?? {})) expect(v).to.match(/^\d+$/);
    const rates = m?.rates;
    expect(rates?.reset).to.equal(false);
    expect(rates?.requestsPerS).to.be.above(0);
    expect(rates?.inferencesPerS).to.be.closeTo(2 * (rates?.requestsPerS ?? 0), 1e-9); // every request was a batch of 2
    expect(rates?.meanComputeMs).to.be.above(0);
    expect(rates?.meanQueueMs).to.be.at.least(0);
    expect(out.models[1]?.rates).to.include({ requestsPerS: 0, meanQueueMs: null, meanComputeMs: null, meanBatchSize: null });
  });

  it('--models picks models, and names one the server lacks in a warning', async () => {
    const e = the(triton);
    const out = report(await runCli(['inspect', '--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl, '--grpc-url', grpc(e), '--models', 'other,nope', ...WINDOW, '--json']));
    expect(out.models.map((m) => m.model)).to.deep.equal(['other']);
    expect(out.warnings).to.deep.equal(['--models: the server has no model nope (it has: m, other)']);
  });

  it('triton without --grpc-url, its HTTP port not 8000: a warning says loads go over HTTP, and what to set', async () => {
    const e = the(triton);
    const out = report(await runCli(['inspect', '--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl, ...WINDOW, '--json']));
    expect(out.warnings).to.have.length(1);
    expect(out.warnings[0]).to.match(/^loads go over HTTP, where each holds one of Triton's HTTP threads.*set the server's grpcUrl/);
  });

  it("triton in model control mode none: replicas and batching need a restart, and it says why", async () => {
    const e = the(tritonNone);
    const r = await runCli(['inspect', '--server', 'triton', '--url', e.url, '--metrics-url', e.metricsUrl, ...WINDOW]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('capabilities: replicas restart, batching restart');
    expect(r.stdout).to.match(/\nwarnings:\n {2}- model control mode is not explicit: explicit model load \/ unload is not allowed if polling is enabled; changes need tritonserver restarted with --model-control-mode=explicit\n$/);
  });

  it('torchserve with --key-file: management and metrics APIs on their own ports, counters from the metrics', async () => {
    const e = the(ts);
    const adapter = createTorchServeAdapter({ inferenceUrl: e.inferenceUrl, managementUrl: e.managementUrl, metricsUrl: e.metricsUrl, keyFile: e.keyFile });
    const out = report(await runCliWithTraffic(adapter, 'm', [
      'inspect', '--server', 'torchserve', '--url', e.inferenceUrl, '--management-url', e.managementUrl, '--metrics-url', e.metricsUrl,
      '--key-file', e.keyFile as string, ...WINDOW, '--json',
    ]));
    expect(out.capabilities).to.deep.equal({ replicas: 'live', batching: 'reload', perBatchStats: false, profiling: true });
    expect(out.warnings).to.deep.equal([]);
    const m = out.models.find((x) => x.model === 'm');
    expect(m).to.deep.include({ version: '1.0', replicas: 1, maxBatchSize: 4, batchDelayMs: 1 });
    expect(m?.counters).to.include({ failures: '0', inferences: null, executions: null });
    expect(m?.rates?.requestsPerS).to.be.above(0);
    expect(m?.rates).to.include({ inferencesPerS: null, meanBatchSize: null });
  });

  it('torchserve: a refused key (--token or INFERLINE_TORCHSERVE_TOKEN) fails with exit 1 and the auth message', async () => {
    const e = the(ts);
    const args = ['inspect', '--server', 'torchserve', '--url', e.inferenceUrl, '--management-url', e.managementUrl, '--metrics-url', e.metricsUrl, ...WINDOW];
    const r = await runCli([...args, '--token', 'not-the-key']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^inferline: torchserve GET \/\S+ → 400: TorchServe refused the (inference|management) key \(InvalidKeyException/);
    expect(r.stderr).to.not.match(STACK_FRAME);
    process.env['INFERLINE_TORCHSERVE_TOKEN'] = 'not-the-key';
    try {
      expect((await runCli(args)).code).to.equal(1);
    } finally {
      delete process.env['INFERLINE_TORCHSERVE_TOKEN'];
    }
  });

  it("torchserve: management and metrics default to --url's host on 8081 and 8082; --token sets both keys, the environment stands in for it", () => {
    expect(inspectAdapterOptions({ server: 'torchserve', url: 'http://10.0.0.5:8080', token: 'k1' }, {})).to.deep.equal({
      kind: 'torchserve', inferenceUrl: 'http://10.0.0.5:8080', managementUrl: 'http://10.0.0.5:8081', metricsUrl: 'http://10.0.0.5:8082',
      managementKey: 'k1', inferenceKey: 'k1',
    });
    expect(inspectAdapterOptions({ server: 'torchserve', url: 'http://ts:8080/' }, { INFERLINE_TORCHSERVE_TOKEN: 'k2' })).to.include({ managementKey: 'k2', inferenceKey: 'k2', managementUrl: 'http://ts:8081' });
    expect(inspectAdapterOptions({ server: 'torchserve', url: 'http://ts:8080', metricsUrl: 'http://m:9/metrics' }, {})).to.include({ metricsUrl: 'http://m:9' });
    expect(inspectAdapterOptions({ server: 'tfserving', url: 'http://tf:8501', models: 'a, b', metricsUrl: 'http://tf:8501/prom' }, {}))
      .to.deep.equal({ kind: 'tfserving', url: 'http://tf:8501', models: ['a', 'b'], metricsPath: '/prom' });
  });

  it('tfserving: --models is required; with it, the models, their counters and rates', async () => {
    const e = the(tf);
    const missing = await runCli(['inspect', '--server', 'tfserving', '--url', e.url, ...WINDOW]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.equal('inferline: --models: required for --server tfserving (its REST API cannot list models)\n');
    const adapter = createTfServingAdapter({ url: e.url, models: ['m'] });
    const out = report(await runCliWithTraffic(adapter, 'm', ['inspect', '--server', 'tfserving', '--url', e.url, '--models', 'm,other', ...WINDOW, '--json']));
    expect(out.capabilities).to.deep.include({ replicas: 'unsupported', batching: 'unsupported' });
    expect(out.warnings.some((w) => /^replicas: TF Serving has no replication inside the process/.test(w))).to.equal(true);
    expect(out.models.map((m) => [m.model, m.ready, m.replicas, m.maxBatchSize])).to.deep.equal([['m', true, 1, 1], ['other', true, 1, 1]]);
    expect(out.models[0]?.rates?.requestsPerS).to.be.above(0);
    expect(out.models[0]?.counters?.computeNs).to.match(/^\d+$/);
  });

  it('tfserving without monitoring: no counters or rates, and a warning that says how to turn it on', async () => {
    const e = the(tfNoMonitoring);
    const r = await runCli(['inspect', '--server', 'tfserving', '--url', e.url, '--models', 'm', ...WINDOW]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^m\s+1\s+yes\s+1\s+unknown\s+1\s+—\s+—\s+—\s+—\s+—\s+—$/m);
    expect(r.stdout).to.match(/- counters: tfserving GET \/monitoring\/prometheus\/metrics → 404: Prometheus monitoring is not enabled/);
  });

  it('an unreachable server fails quickly with exit 1 and the AdapterError message', async () => {
    const url = await closedPortUrl();
    for (const server of ['triton', 'torchserve', 'tfserving']) {
      const t0 = Date.now();
      const r = await runCli(['inspect', '--server', server, '--url', url, '--models', 'm', ...WINDOW]);
      expect(r.code, server).to.equal(1);
      expect(r.stderr).to.match(new RegExp(`^inferline: ${server} \\S+ /\\S* ?.*cannot reach http://127\\.0\\.0\\.1:\\d+ \\(connection refused: nothing listens on that port — is the server running, and is the port right\\?\\)(; that is the management API .* give --management-url where TorchServe serves it)?\\n$`));
      expect(Date.now() - t0).to.be.below(5000);
    }
  });

  const bad: { name: string; args: string[]; want: RegExp }[] = [
    { name: 'an unknown server', args: ['--server', 'nope', '--url', 'http://x:1'], want: /--server nope: unknown server — must be one of: triton, torchserve, tfserving/ },
    { name: 'no --url', args: ['--server', 'triton'], want: /required option '--url <url>' not specified/ },
    { name: 'a --url that is not one', args: ['--server', 'triton', '--url', 'localhost:8000'], want: /--url localhost:8000: must be an http or https URL/ },
    { name: 'a window that is not a duration', args: ['--server', 'triton', '--url', 'http://x:1', '--window', 'soon'], want: /--window soon: must be a duration such as/ },
    { name: 'a window of zero', args: ['--server', 'triton', '--url', 'http://x:1', '--window', '0s'], want: /--window 0s: must be more than 0/ },
    { name: 'a --grpc-url without a port', args: ['--server', 'triton', '--url', 'http://x:1', '--grpc-url', 'x'], want: /--grpc-url: gRPC address 'x': no port/ },
    { name: 'a --grpc-url for TorchServe', args: ['--server', 'torchserve', '--url', 'http://x:1', '--grpc-url', 'x:7070'], want: /--grpc-url: only for --server triton/ },
    { name: 'a TorchServe flag for Triton', args: ['--server', 'triton', '--url', 'http://x:1', '--management-url', 'http://x:2'], want: /--management-url: only for --server torchserve/ },
    { name: 'an empty --models', args: ['--server', 'tfserving', '--url', 'http://x:1', '--models', ','], want: /--models ",": must name at least one model/ },
    { name: 'TF metrics on another host', args: ['--server', 'tfserving', '--url', 'http://x:1', '--models', 'm', '--metrics-url', 'http://y:2/m'], want: /must be on http:\/\/x:1/ },
  ];
  for (const c of bad) {
    it(`bad flags (${c.name}): exit 2 with the problem, no stack`, async () => {
      const r = await runCli(['inspect', ...c.args]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(c.want);
      expect(r.stderr).to.not.match(STACK_FRAME);
    });
  }

  it('--help prints usage', async () => {
    const r = await runCli(['inspect', '--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: inferline inspect \[options\]/);
    expect(r.stdout).to.contain('--window <duration>');
  });
});
