// The TF Serving adapter end to end against a fake REST server replaying the recorded bodies, with
// real files and real commands (node -e scripts) in a temp dir for batching and replicas.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createTfServingAdapter } from '../../../adapters/tfserving/index.js';
import type { TfServingAdapterOptions } from '../../../adapters/tfserving/index.js';
import { InvalidInputError } from '../../../src/core/model/errors.js';
import { AdapterError, hasBatchControl, hasReplicaControl, isProfilable } from '../../../src/ports/server-adapter.js';
import type { Clock } from '../../../src/ports/clock.js';
import { FakeTfServing, deadUrl } from './fake-server.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const METRICS = '/monitoring/prometheus/metrics';
const C4 = 'max_batch_size { value: 128 }\nbatch_timeout_micros { value: 0 }\nmax_enqueued_batches { value: 1000000 }\nnum_batch_threads { value: 8 }\n';

/** node -e scripts: argv after the script is process.argv.slice(1). */
const node = (script: string, ...args: string[]): string[] => [process.execPath, '-e', script, ...args];
const RECORD = "require('fs').writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))";

async function rejection(p: Promise<unknown>): Promise<AdapterError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(AdapterError);
    return err as AdapterError;
  }
  throw new Error('expected a rejection');
}

describe('adapters/tfserving: the adapter against a fake server', function () {
  this.timeout(20_000);
  const server = new FakeTfServing();
  let dir = '';

  beforeEach(async () => {
    server.routes.clear();
    server.requests.length = 0;
    server.routes.set('GET /v1/models/half_plus_two', { body: fixture('status.json') });
    server.routes.set('GET /v1/models/half_plus_two/metadata', { body: fixture('metadata-half-plus-two.json') });
    server.routes.set(`GET ${METRICS}`, { body: fixture('metrics.txt'), contentType: 'text/plain' });
    await server.start();
    dir = mkdtempSync(join(tmpdir(), 'inferline-tfs-'));
  });

  afterEach(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const adapter = (extra: Partial<TfServingAdapterOptions> = {}) => createTfServingAdapter({ url: server.url, models: ['half_plus_two'], retries: 0, timeoutMs: 2000, ...extra });

  describe('observing', () => {
    it('health: live and ready when every configured model has an AVAILABLE version', async () => {
      expect(await adapter().health()).to.deep.equal({ live: true, ready: true });
    });

    it('health: live but not ready when a model is unknown (F11 error body), with the reason', async () => {
      server.routes.set('GET /v1/models/half', { status: 404, body: fixture('error-404.json') });
      const h = await adapter({ models: ['half_plus_two', 'half'] }).health();
      expect(h.live).to.equal(true);
      expect(h.ready).to.equal(false);
      expect(h.detail).to.contain('Servable not found for request: Latest(half)').and.contain('GET /v1/models/half → 404');
    });

    it('health: not ready while a version loads; not live when nothing listens', async () => {
      server.routes.set('GET /v1/models/half_plus_two', { body: '{"model_version_status":[{"version":"2","state":"LOADING","status":{"error_code":"OK","error_message":""}}]}' });
      expect(await adapter().health()).to.deep.equal({ live: true, ready: false, detail: 'half_plus_two: no AVAILABLE version (2 LOADING)' });
      const down = await createTfServingAdapter({ url: await deadUrl(), models: ['m'], retries: 0 }).health();
      expect(down.live).to.equal(false);
      expect(down.detail).to.match(/cannot reach/);
    });

    it('models(): the serving version as a string, one replica per process, no batching without the file', async () => {
      expect(await adapter().models()).to.deep.equal([{ model: 'half_plus_two', version: '123', ready: true, replicas: 1, device: 'unknown', maxBatchSize: 1 }]);
    });

    it('models(): batching from the parameters file; a configured model the server lacks is listed, not ready', async () => {
      const file = join(dir, 'batching.pbtxt');
      writeFileSync(file, C4.replace('batch_timeout_micros { value: 0 }', 'batch_timeout_micros { value: 2500 }'));
      const models = await adapter({ models: ['half_plus_two', 'half'], batchingParametersFile: file, device: 'gpu' }).models();
      expect(models).to.deep.equal([
        { model: 'half_plus_two', version: '123', ready: true, replicas: 1, device: 'gpu', maxBatchSize: 128, batchDelayMs: 2.5 },
        { model: 'half', ready: false, replicas: 1, device: 'gpu', maxBatchSize: 128, batchDelayMs: 2.5 },
      ]);
    });

    it('models(): names from the model config file (C.5), re-read on each call', async () => {
      const file = join(dir, 'models.config');
      writeFileSync(file, "model_config_list {\n  config {\n    name: 'half_plus_two'\n    base_path: '/models/half_plus_two'\n    model_platform: 'tensorflow'\n  }\n}\n");
      const a = createTfServingAdapter({ url: server.url, modelConfigFile: file, retries: 0 });
      expect((await a.models()).map((m) => m.model)).to.deep.equal(['half_plus_two']);
      writeFileSync(file, 'model_config_list { }\n');
      expect(await a.models()).to.deep.equal([]);
    });

    it('model(): an unknown model is a not-found AdapterError carrying the server message', async () => {
      server.routes.set('GET /v1/models/half', { status: 404, body: fixture('error-404.json') });
      const err = await rejection(adapter().model('half'));
      expect(err.kind).to.equal('not-found');
      expect(err.status).to.equal(404);
      expect(err.endpoint).to.equal('GET /v1/models/half');
      expect(err.message).to.contain('Servable not found for request: Latest(half)');
    });

    const malformed: { name: string; body: string; contentType?: string }[] = [
      { name: 'an HTML page', body: '<html><body>Welcome to nginx!</body></html>', contentType: 'text/html' },
      { name: 'a truncated body', body: fixture('status.json').slice(0, 40) },
      { name: 'a version as a number', body: fixture('status.json').replace('"123"', '123') },
    ];
    for (const c of malformed) {
      it(`model(): ${c.name} with 200 is malformed, naming endpoint and status`, async () => {
        server.routes.set('GET /v1/models/half_plus_two', { body: c.body, ...(c.contentType ? { contentType: c.contentType } : {}) });
        const err = await rejection(adapter().model('half_plus_two'));
        expect([err.kind, err.endpoint, err.status]).to.deep.equal(['malformed', 'GET /v1/models/half_plus_two', 200]);
      });
    }

    it('counters() and metrics() from the Prometheus page', async () => {
      const a = adapter();
      expect(await a.counters()).to.deep.equal([{ model: 'half_plus_two', requests: 13n, failures: 2n, computeNs: 2_496_000n, executions: 7n, queueNs: 6_318_000n }]);
      const samples = await a.metrics();
      expect(samples.every((s) => s.name.startsWith(':'))).to.equal(true);
      expect(samples.find((s) => s.name === ':tensorflow:serving:batching_session:wrapped_run_count')).to.deep.equal({ name: ':tensorflow:serving:batching_session:wrapped_run_count', labels: {}, value: 7 });
    });

    it('monitoring off (404): metrics() is empty, counters() says how to enable it, capabilities warn', async () => {
      server.routes.delete(`GET ${METRICS}`);
      const a = adapter();
      expect(await a.metrics()).to.deep.equal([]);
      const err = await rejection(a.counters());
      expect([err.kind, err.status, err.endpoint]).to.deep.equal(['unsupported', 404, `GET ${METRICS}`]);
      expect(err.message).to.contain('--monitoring_config_file');
      expect((await a.capabilities()).warnings.join('\n')).to.match(/metrics: GET \/monitoring\/prometheus\/metrics → 404: Prometheus monitoring is not enabled/);
    });

    it('a malformed metrics page (a negative counter) is refused, not half-read', async () => {
      server.routes.set(`GET ${METRICS}`, { body: fixture('metrics.txt').replace('status="OK"} 15', 'status="OK"} -15') });
      const err = await rejection(adapter().counters());
      expect([err.kind, err.status]).to.deep.equal(['malformed', 200]);
    });
  });

  describe('capabilities', () => {
    it('nothing configured: both knobs unsupported, each warning names the missing options', async () => {
      const c = await adapter().capabilities();
      expect([c.replicas, c.batching, c.perBatchStats, c.profiling]).to.deep.equal(['unsupported', 'unsupported', false, true]);
      expect(c.warnings.join('\n')).to.contain('scaleCommand').and.contain('set batchingParametersFile and restartCommand');
    });

    it('file without a restart command: the warning names restartCommand alone', async () => {
      const c = await adapter({ batchingParametersFile: join(dir, 'b.pbtxt') }).capabilities();
      expect(c.batching).to.equal('unsupported');
      expect(c.warnings.join('\n')).to.contain('set restartCommand to').and.not.contain('set batchingParametersFile');
    });

    it("everything configured: batching by restart, replicas through the orchestrator (never 'live')", async () => {
      const a = adapter({ batchingParametersFile: join(dir, 'b.pbtxt'), restartCommand: ['true'], scaleCommand: ['scale', '{replicas}'] });
      const c = await a.capabilities();
      expect([c.replicas, c.batching, c.warnings]).to.deep.equal(['orchestrator', 'restart', []]);
      expect(hasBatchControl(a) && hasReplicaControl(a) && isProfilable(a)).to.equal(true);
    });
  });

  describe('setBatching: rewrite the file, restart', () => {
    it('rewrites atomically, keeps the other keys and a backup, runs the restart, returns the new status', async () => {
      const file = join(dir, 'batching.pbtxt');
      writeFileSync(file, `# ours\n${C4}`);
      const record = join(dir, 'restarted.json');
      const a = adapter({ batchingParametersFile: file, restartCommand: node(RECORD, record, 'restart') });
      const status = await a.setBatching('half_plus_two', { maxBatchSize: 16, batchDelayMs: 1.5 });
      expect(readFileSync(file, 'utf8')).to.equal(`# ours\n${C4}`.replace('value: 128', 'value: 16').replace('batch_timeout_micros { value: 0 }', 'batch_timeout_micros { value: 1500 }'));
      expect(readFileSync(`${file}.bak`, 'utf8')).to.equal(`# ours\n${C4}`);
      expect(JSON.parse(readFileSync(record, 'utf8'))).to.deep.equal(['restart']);
      expect(status).to.deep.include({ model: 'half_plus_two', ready: true, maxBatchSize: 16, batchDelayMs: 1.5 });
    });

    it('no restart when the file already holds the settings', async () => {
      const file = join(dir, 'batching.pbtxt');
      writeFileSync(file, C4);
      const record = join(dir, 'restarted.json');
      await adapter({ batchingParametersFile: file, restartCommand: node(RECORD, record) }).setBatching('half_plus_two', { maxBatchSize: 128, batchDelayMs: 0 });
      expect(existsSync(record)).to.equal(false);
    });

    it('a failed restart (exit 3) restores the previous file and names command, exit code and stderr', async () => {
      const file = join(dir, 'batching.pbtxt');
      writeFileSync(file, C4);
      const a = adapter({ batchingParametersFile: file, restartCommand: node("process.stderr.write('boom: unit tfserving not found'); process.exit(3)") });
      const err = await rejection(a.setBatching('half_plus_two', { maxBatchSize: 4, batchDelayMs: 0 }));
      expect([err.kind, err.status]).to.deep.equal(['http', 3]);
      expect(err.endpoint).to.match(/^command .*node/);
      expect(err.message).to.contain('exited with code 3').and.contain('stderr: boom: unit tfserving not found').and.contain('restored');
      expect(readFileSync(file, 'utf8')).to.equal(C4);
    });

    it('a restart that outlives commandTimeoutMs is stopped, and the file restored', async () => {
      const file = join(dir, 'batching.pbtxt');
      writeFileSync(file, C4);
      const a = adapter({ batchingParametersFile: file, restartCommand: node('setTimeout(() => {}, 30000)'), commandTimeoutMs: 300 });
      const err = await rejection(a.setBatching('half_plus_two', { maxBatchSize: 4, batchDelayMs: 0 }));
      expect(err.kind).to.equal('timeout');
      expect(readFileSync(file, 'utf8')).to.equal(C4);
    });

    it('waits for the model after the restart, and says so when it never comes back', async () => {
      const file = join(dir, 'batching.pbtxt');
      writeFileSync(file, C4);
      server.routes.set('GET /v1/models/half_plus_two', { body: '{"model_version_status":[{"version":"123","state":"LOADING"}]}' });
      let now = 0;
      const clock: Clock = { nowMs: () => now, sleep: async (ms) => void (now += ms) };
      const a = adapter({ batchingParametersFile: file, restartCommand: ['true'], readyTimeoutMs: 5000, clock });
      const err = await rejection(a.setBatching('half_plus_two', { maxBatchSize: 4, batchDelayMs: 0 }));
      expect(err.kind).to.equal('timeout');
      expect(err.message).to.contain('not AVAILABLE within 5000 ms');
    });

    const refused: { name: string; extra: (d: string) => Partial<TfServingAdapterOptions>; file?: string; model?: string; kind: string; match: RegExp }[] = [
      { name: 'without the options', extra: () => ({}), kind: 'unsupported', match: /set batchingParametersFile and restartCommand/ },
      { name: 'a malformed file', extra: (d) => ({ batchingParametersFile: join(d, 'b'), restartCommand: ['true'] }), file: 'max_batch_size { value: 8', kind: 'malformed', match: /expected "\}"/ },
      { name: 'a conflict with allowed_batch_sizes', extra: (d) => ({ batchingParametersFile: join(d, 'b'), restartCommand: ['true'] }), file: 'max_batch_size { value: 8 }\nallowed_batch_sizes: [4, 8]\n', kind: 'unsupported', match: /allowed_batch_sizes ends at 8/ },
      { name: 'a model not configured', extra: (d) => ({ batchingParametersFile: join(d, 'b'), restartCommand: ['true'] }), file: C4, model: 'other', kind: 'not-found', match: /other is not one of/ },
    ];
    for (const c of refused) {
      it(`refuses ${c.name}, changing nothing`, async () => {
        if (c.file !== undefined) writeFileSync(join(dir, 'b'), c.file);
        const err = await rejection(adapter(c.extra(dir)).setBatching(c.model ?? 'half_plus_two', { maxBatchSize: 4, batchDelayMs: 0 }));
        expect(err.kind).to.equal(c.kind);
        expect(err.message).to.match(c.match);
        if (c.file !== undefined) expect(readFileSync(join(dir, 'b'), 'utf8')).to.equal(c.file);
        expect(existsSync(join(dir, 'b.bak'))).to.equal(false);
      });
    }
  });

  describe('setReplicas: through the orchestrator command', () => {
    it('fills {model} and {replicas} into argv (no shell) and reports the count it applied', async () => {
      const record = join(dir, 'scaled.json');
      const a = adapter({ scaleCommand: node(RECORD, record, 'deployment/tfs-{model}', '--replicas={replicas}', '$(rm -rf /)') });
      const status = await a.setReplicas('half_plus_two', 3);
      expect(JSON.parse(readFileSync(record, 'utf8'))).to.deep.equal(['deployment/tfs-half_plus_two', '--replicas=3', '$(rm -rf /)']);
      expect(status).to.deep.include({ model: 'half_plus_two', replicas: 3, ready: true });
      expect((await a.models())[0]?.replicas).to.equal(3);
    });

    it('a non-zero exit names the command, the exit code and the stderr tail', async () => {
      const a = adapter({ scaleCommand: node("process.stderr.write('x'.repeat(5000) + 'Error from server (NotFound)'); process.exit(3)", '{replicas}') });
      const err = await rejection(a.setReplicas('half_plus_two', 2));
      expect([err.kind, err.status]).to.deep.equal(['http', 3]);
      expect(err.message).to.contain('exited with code 3').and.contain('Error from server (NotFound)');
      expect(err.message.length).to.be.below(1000);
      expect((await a.model('half_plus_two')).replicas).to.equal(1);
    });

    const refused: { name: string; extra: Partial<TfServingAdapterOptions>; call: [string, number, ('cpu' | 'gpu')?]; kind: string; match: RegExp }[] = [
      { name: 'without scaleCommand', extra: {}, call: ['half_plus_two', 2], kind: 'unsupported', match: /set scaleCommand/ },
      { name: 'a command that does not exist', extra: { scaleCommand: ['/nonexistent/kubectl', '{replicas}'] }, call: ['half_plus_two', 2], kind: 'unsupported', match: /cannot start: .*ENOENT/ },
      { name: 'an unknown model', extra: { scaleCommand: ['true', '{replicas}'] }, call: ['half', 2], kind: 'not-found', match: /half is not one of/ },
      { name: 'a negative count', extra: { scaleCommand: ['true', '{replicas}'] }, call: ['half_plus_two', -1], kind: 'unsupported', match: /must be a whole number ≥ 0/ },
      { name: 'another device kind', extra: { scaleCommand: ['true', '{replicas}'], device: 'cpu' }, call: ['half_plus_two', 2, 'gpu'], kind: 'unsupported', match: /runs on cpu/ },
    ];
    for (const c of refused) {
      it(`refuses ${c.name}`, async () => {
        const err = await rejection(adapter(c.extra).setReplicas(...c.call));
        expect(err.kind).to.equal(c.kind);
        expect(err.message).to.match(c.match);
      });
    }
  });

  describe('profiling', () => {
    it('inputs() from the metadata (serving_default)', async () => {
      expect(await adapter().inputs('half_plus_two')).to.deep.equal([{ name: 'x', datatype: 'DT_FLOAT', shape: [1] }]);
    });

    it('infer() posts batchSize instances shaped per metadata and reads bare NaN in the answer', async () => {
      server.routes.set('POST /v1/models/half_plus_two:predict', {
        body: (req) => `{\n    "predictions": [${(JSON.parse(req.body) as { instances: unknown[] }).instances.map(() => '[NaN]').join(', ')}]\n}`,
      });
      const a = adapter();
      const r = await a.infer('half_plus_two', { batchSize: 4, data: 'zero', timeoutMs: 2000 });
      expect(r.batchSize).to.equal(4);
      expect(r.latencyMs).to.be.a('number').and.to.be.at.least(0);
      const sent = server.requests.filter((q) => q.method === 'POST').map((q) => JSON.parse(q.body) as unknown);
      expect(sent).to.deep.equal([{ instances: [[0], [0], [0], [0]] }]);
      await a.infer('half_plus_two', { batchSize: 2, data: 'random', seed: 5, timeoutMs: 2000 });
      await a.infer('half_plus_two', { batchSize: 2, data: 'random', seed: 5, timeoutMs: 2000 });
      const [r1, r2] = server.requests.filter((q) => q.method === 'POST').slice(1).map((q) => q.body);
      expect(r1).to.equal(r2);
      expect(server.requests.filter((q) => q.path.endsWith('/metadata'))).to.have.length(1); // signature cached
    });

    it('infer(): fewer predictions than instances is malformed; an error body names the status', async () => {
      server.routes.set('POST /v1/models/half_plus_two:predict', { body: fixture('predict.json') });
      const short = await rejection(adapter().infer('half_plus_two', { batchSize: 4, data: 'zero', timeoutMs: 2000 }));
      expect([short.kind, short.endpoint]).to.deep.equal(['malformed', 'POST /v1/models/half_plus_two:predict']);
      server.routes.set('POST /v1/models/half_plus_two:predict', { status: 400, body: '{ "error": "JSON Value: 0 Is not of expected type: list" }' });
      const bad = await rejection(adapter().infer('half_plus_two', { batchSize: 1, data: 'zero', timeoutMs: 2000 }));
      expect([bad.kind, bad.status]).to.deep.equal(['http', 400]);
      expect(bad.message).to.contain('Is not of expected type');
    });

    it('infer(): a signature that cannot be probed is unsupported', async () => {
      const err = await rejection(adapter({ signatureName: 'classify_x_to_y' }).infer('half_plus_two', { batchSize: 1, data: 'zero', timeoutMs: 2000 }));
      expect(err.kind).to.equal('unsupported');
      expect(err.message).to.contain('unknown rank');
      const none = await rejection(adapter({ signatureName: 'nope' }).inputs('half_plus_two'));
      expect(none.message).to.contain('no signature nope');
    });
  });

  it('options: every problem at once, with its path', () => {
    expect(() => createTfServingAdapter({ url: 'ftp://x', scaleCommand: ['kubectl', 'scale'], timeoutMs: 0 } as TfServingAdapterOptions))
      .to.throw(InvalidInputError)
      .that.satisfies((e: InvalidInputError) => ['url', 'models', 'scaleCommand', 'timeoutMs'].every((p) => e.problems.some((q) => q.path === p)));
    expect(() => createTfServingAdapter({ url: 'http://x', models: ['a/b'] })).to.throw(InvalidInputError, /models\[0\]/);
  });
});
