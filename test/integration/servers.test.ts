// Real TorchServe 0.12.0 and real Triton 2.51.0 (CPU, python backend), installed by
// .ci/install-servers.sh, started on free loopback ports and driven over HTTP with the calls the
// adapters make. A server that cannot run here is skipped with its reason PRINTED (from
// .ci/venv/servers.json); set INFERLINE_REQUIRE_REAL_SERVERS=1 to turn such a skip into a failure.
import { expect } from 'chai';
import { skipUnlessInstalled, until } from './servers/mocha.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupAlive, httpRequest, processAlive } from './servers/process.js';
import { serversStatus, unavailableReason } from './servers/status.js';
import { startTorchServe, type TorchServeHandle } from './servers/torchserve.js';
import { startTriton, type TritonHandle } from './servers/triton.js';

function json(text: string): unknown {
  return JSON.parse(text) as unknown;
}

interface TsWorker { id: string; pid: number; status: string }
interface TsDescribe {
  modelName: string; modelVersion: string; minWorkers: number; maxWorkers: number;
  batchSize: number; maxBatchDelay: number; workers: TsWorker[];
}
interface TsPrediction { batch: number; pid: number; computeMs: number }

describe('real servers: the install status file', function () {
  let dir = '';
  before(function () { dir = mkdtempSync(join(tmpdir(), 'inferline-status-')); });
  after(function () { rmSync(dir, { recursive: true, force: true }); });

  it('explains a missing file with the command that writes it', function () {
    const s = serversStatus(join(dir, 'absent.json'));
    expect(s.present).to.equal(false);
    expect(unavailableReason('torchserve', s)).to.match(/absent\.json not found: run `bash \.ci\/install-servers\.sh`/);
    expect(unavailableReason('triton', s)).to.match(/not found/);
  });

  it("passes the install script's reason through, and catches binaries that have gone", function () {
    const f = join(dir, 'servers.json');
    writeFileSync(f, JSON.stringify({
      torchserve: { ok: true, reason: '', bin: join(dir, 'gone', 'torchserve'), archiver: join(dir, 'gone', 'a') },
      triton: { ok: false, reason: 'tritonserver --help does not run: libfoo.so: cannot open shared object file' },
    }));
    const s = serversStatus(f);
    expect(s.present).to.equal(true);
    expect(unavailableReason('triton', s)).to.equal('tritonserver --help does not run: libfoo.so: cannot open shared object file');
    expect(unavailableReason('torchserve', s)).to.match(/gone\/torchserve is missing/);
    writeFileSync(f, '{not json');
    expect(unavailableReason('torchserve', serversStatus(f))).to.match(/not valid JSON/);
  });
});

describe('real servers', function () {
  this.timeout(180_000);

  describe('TorchServe 0.12.0 (token auth on, model API on)', function () {
    let ts: TorchServeHandle | undefined;
    const server = (): TorchServeHandle => {
      if (ts === undefined) throw new Error('TorchServe not started');
      return ts;
    };
    const mgmt = async (method: string, path: string) =>
      httpRequest(`${server().managementUrl}${path}`, { method, headers: server().auth('management') });
    const describeModel = async (path: string): Promise<TsDescribe[]> => {
      const r = await mgmt('GET', `/models/${path}`);
      expect(r.status, r.text).to.equal(200);
      return json(r.text) as TsDescribe[];
    };
    const predict = async (path: string, body: object): Promise<TsPrediction> => {
      const r = await httpRequest(`${server().inferenceUrl}/predictions/${path}`, {
        method: 'POST',
        headers: { ...server().auth('inference'), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status, r.text).to.equal(200);
      return json(r.text) as TsPrediction;
    };

    const untilAllReady = async (model: string, n: number): Promise<void> =>
      until(`${n} READY workers for ${model}`, async () => {
        const ws = (await describeModel(model))[0]?.workers ?? [];
        return ws.length === n && ws.every((w) => w.status === 'READY');
      });

    before(async function () {
      skipUnlessInstalled(this, 'torchserve');
      ts = await startTorchServe({
        archives: [{ modelName: 'matmul', version: '1.0' }, { modelName: 'matmul', version: '2.0', fileName: 'matmul_v2.mar' }],
      });
    });
    after(async function () {
      await ts?.stop();
    });

    it('answers /ping only with the inference key (400 InvalidKeyException otherwise)', async function () {
      const bad = await httpRequest(`${server().inferenceUrl}/ping`, { headers: { Authorization: 'Bearer wrong' } });
      expect(bad.status).to.equal(400);
      expect(json(bad.text)).to.deep.include({ code: 400, type: 'InvalidKeyException' });
      const none = await httpRequest(`${server().inferenceUrl}/ping`);
      expect(none.status).to.equal(400);
      const mgmtKeyOnInference = await httpRequest(`${server().inferenceUrl}/ping`, { headers: server().auth('management') });
      expect(mgmtKeyOnInference.status).to.equal(400);
      const ok = await httpRequest(`${server().inferenceUrl}/ping`, { headers: server().auth('inference') });
      expect(ok.status).to.equal(200);
      expect(json(ok.text)).to.deep.equal({ status: 'Healthy' });
      expect(existsSync(server().keyFile)).to.equal(true);
    });

    it('registers the .mar synchronously, lists and describes it with a live READY worker', async function () {
      const r = await mgmt('POST', '/models?url=matmul.mar&batch_size=8&max_batch_delay=200&initial_workers=1&synchronous=true');
      expect(r.status, r.text).to.equal(200);
      expect(json(r.text)).to.deep.equal({ status: 'Model "matmul" Version: 1.0 registered with 1 initial workers' });
      const again = await mgmt('POST', '/models?url=matmul.mar&initial_workers=1&synchronous=true');
      expect(again.status).to.equal(409);
      expect(json(again.text)).to.deep.include({ type: 'ConflictStatusException' });

      const list = await mgmt('GET', '/models');
      expect(json(list.text)).to.deep.equal({ models: [{ modelName: 'matmul', modelUrl: 'matmul.mar' }] });
      await untilAllReady('matmul', 1);
      const [d] = await describeModel('matmul');
      expect(d).to.include({ modelName: 'matmul', modelVersion: '1.0', minWorkers: 1, maxWorkers: 1, batchSize: 8, maxBatchDelay: 200 });
      expect(d?.workers).to.have.length(1);
      expect(d?.workers[0]?.status).to.equal('READY');
      expect(processAlive(d?.workers[0]?.pid ?? -1)).to.equal(true);
      expect(server().workerPids()).to.deep.equal([d?.workers[0]?.pid]);
    });

    it('batches concurrent requests, and a batch of 8 costs more handler time than a batch of 1', async function () {
      await predict('matmul', {}); // warm-up
      const single = await predict('matmul', {});
      expect(single.batch).to.equal(1);
      const many = await Promise.all(Array.from({ length: 8 }, () => predict('matmul', {})));
      const biggest = many.reduce((a, b) => (b.batch > a.batch ? b : a));
      expect(biggest.batch, JSON.stringify(many)).to.be.greaterThan(1);
      expect(biggest.computeMs).to.be.greaterThan(single.computeMs);
    });

    it('scales workers with PUT (synchronous) and the removed worker process exits', async function () {
      const up = await mgmt('PUT', '/models/matmul?min_worker=2&max_worker=2&synchronous=true');
      expect(up.status, up.text).to.equal(200);
      expect(json(up.text)).to.deep.equal({ status: 'Workers scaled to 2 for model: matmul' });
      // Observed: the synchronous 200 can come back while describe still shows the new worker
      // as "UNLOADING" (= not READY yet) for a moment, so poll describe.
      await untilAllReady('matmul', 2);
      const [d2] = await describeModel('matmul');
      expect(d2?.workers.map((w) => w.status)).to.deep.equal(['READY', 'READY']);
      const pids = d2?.workers.map((w) => w.pid) ?? [];
      for (const pid of pids) expect(processAlive(pid)).to.equal(true);

      const down = await mgmt('PUT', '/models/matmul?min_worker=1&max_worker=1&synchronous=true');
      expect(down.status, down.text).to.equal(200);
      expect(json(down.text)).to.deep.equal({ status: 'Workers scaled to 1 for model: matmul' });
      const [d1] = await describeModel('matmul');
      expect(d1?.workers).to.have.length(1);
      const gone = pids.filter((p) => p !== d1?.workers[0]?.pid);
      expect(gone).to.have.length(1);
      await until('the scaled-down worker to exit', () => !processAlive(gone[0] ?? -1));

      const async = await mgmt('PUT', '/models/matmul?min_worker=1&max_worker=1');
      expect(async.status).to.equal(202);
      expect(json(async.text)).to.deep.equal({ status: 'Processing worker updates...' });
      const bad = await mgmt('PUT', '/models/matmul?min_worker=3&max_worker=1');
      expect(bad.status).to.equal(400);
      expect(json(bad.text)).to.deep.equal({ code: 400, type: 'BadRequestException', message: 'max_worker cannot be less than min_worker.' });
    });

    it('registers version 2.0 (not default), set-default moves the default, old version scales to 0', async function () {
      const r = await mgmt('POST', '/models?url=matmul_v2.mar&model_name=matmul&batch_size=4&max_batch_delay=10&initial_workers=1&synchronous=true');
      expect(r.status, r.text).to.equal(200);
      expect(json(r.text)).to.deep.equal({ status: 'Model "matmul" Version: 2.0 registered with 1 initial workers' });
      expect((await describeModel('matmul'))[0]?.modelVersion).to.equal('1.0');
      expect((await describeModel('matmul/all')).map((d) => d.modelVersion)).to.deep.equal(['1.0', '2.0']);

      const sd = await mgmt('PUT', '/models/matmul/2.0/set-default');
      expect(sd.status, sd.text).to.equal(200);
      expect(json(sd.text)).to.deep.equal({ status: 'Default version successfully updated for model "matmul" to "2.0"' });
      expect((await describeModel('matmul'))[0]).to.include({ modelVersion: '2.0', batchSize: 4 });

      const z = await mgmt('PUT', '/models/matmul/1.0?min_worker=0&max_worker=0&synchronous=true');
      expect(z.status, z.text).to.equal(200);
      expect(json(z.text)).to.deep.equal({ status: 'Workers scaled to 0 for model: matmul, version: 1.0' });
      const noWorker = await httpRequest(`${server().inferenceUrl}/predictions/matmul/1.0`, {
        method: 'POST', headers: server().auth('inference'), body: '{}',
      });
      expect(noWorker.status).to.equal(503);
      expect(json(noWorker.text)).to.deep.include({ code: 503, type: 'ServiceUnavailableException' });
      expect((await predict('matmul', {})).batch).to.equal(1); // the default (2.0) serves
    });

    it('exposes Prometheus counters without a key (metrics_mode=prometheus)', async function () {
      const r = await httpRequest(`${server().metricsUrl}/metrics`);
      expect(r.status).to.equal(200);
      expect(r.text).to.match(/^ts_inference_requests_total\{model_name="matmul",model_version="default",hostname="[^"]*",\} \d+\.\d+$/m);
    });

    it('stop() ends the launcher, the JVM and every worker', async function () {
      const pgid = server().pid;
      const workers = server().workerPids();
      expect(workers.length).to.be.greaterThan(0);
      await server().stop();
      expect(groupAlive(pgid)).to.equal(false);
      for (const pid of [pgid, ...workers]) expect(processAlive(pid), `pid ${pid}`).to.equal(false);
    });
  });

  describe('TorchServe 0.12.0 with the model API off (enable_model_api=false)', function () {
    let ts: TorchServeHandle | undefined;
    before(async function () {
      skipUnlessInstalled(this, 'torchserve');
      ts = await startTorchServe({ enableModelApi: false, loadModels: ['matmul.mar'] });
    });
    after(async function () {
      await ts?.stop();
    });

    it('answers 405 to register, still scales, and loads load_models at startup', async function () {
      const t = ts as TorchServeHandle;
      const reg = await httpRequest(`${t.managementUrl}/models?url=matmul.mar`, { method: 'POST', headers: t.auth('management') });
      expect(reg.status).to.equal(405);
      expect(json(reg.text)).to.deep.include({ code: 405, type: 'MethodNotAllowedException' });
      const del = await httpRequest(`${t.managementUrl}/models/matmul/1.0`, { method: 'DELETE', headers: t.auth('management') });
      expect(del.status).to.equal(405);
      const d = json((await httpRequest(`${t.managementUrl}/models/matmul`, { headers: t.auth('management') })).text) as TsDescribe[];
      expect(d[0]).to.include({ modelVersion: '1.0', minWorkers: 1 });
      const up = await httpRequest(`${t.managementUrl}/models/matmul?min_worker=2&max_worker=2&synchronous=true`, { method: 'PUT', headers: t.auth('management') });
      expect(up.status, up.text).to.equal(200);
      expect(t.workerPids()).to.have.length(2);
    });
  });

  describe('Triton 2.51.0 (CPU, python backend, explicit model control)', function () {
    let tr: TritonHandle | undefined;
    const server = (): TritonHandle => {
      if (tr === undefined) throw new Error('Triton not started');
      return tr;
    };
    const get = async (path: string) => httpRequest(`${server().httpUrl}${path}`);
    const post = async (path: string, body?: unknown) =>
      httpRequest(`${server().httpUrl}${path}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
    interface Stats { model_stats: { inference_count: number; execution_count: number; batch_stats: { batch_size: number; compute_infer: { count: number; ns: number } }[] }[] }
    const stats = async (): Promise<Stats['model_stats'][number]> => {
      const r = await get('/v2/models/matmul/stats');
      expect(r.status, r.text).to.equal(200);
      const s = (json(r.text) as Stats).model_stats[0];
      if (s === undefined) throw new Error(r.text);
      return s;
    };
    const infer = async (rows: number) => {
      const r = await post('/v2/models/matmul/infer', {
        inputs: [{ name: 'INPUT0', shape: [rows, 4], datatype: 'FP32', data: Array.from({ length: rows * 4 }, (_, i) => i) }],
      });
      expect(r.status, r.text).to.equal(200);
      return json(r.text) as { outputs: { name: string; data: number[] }[] };
    };
    const config = async (): Promise<Record<string, unknown> & { instance_group: { count: number; kind: string }[]; dynamic_batching: { max_queue_delay_microseconds: number } }> => {
      const r = await get('/v2/models/matmul/config');
      expect(r.status, r.text).to.equal(200);
      return json(r.text) as never;
    };
    const loadWith = async (cfg: object) => post('/v2/repository/models/matmul/load', { parameters: { config: JSON.stringify(cfg) } });
    const stubCount = (): number => server().stubs('matmul').length;

    before(async function () {
      skipUnlessInstalled(this, 'triton');
      tr = await startTriton();
    });
    after(async function () {
      await tr?.stop();
    });

    it('is ready, lists the model in the repository index, and serves its config', async function () {
      expect((await get('/v2/health/ready')).status).to.equal(200);
      const meta = json((await get('/v2')).text) as { name: string; version: string; extensions: string[] };
      expect(meta).to.include({ name: 'triton', version: '2.51.0' });
      expect(meta.extensions).to.include.members(['model_repository', 'model_configuration', 'statistics']);
      const index = await post('/v2/repository/index');
      expect(json(index.text)).to.deep.equal([{ name: 'matmul', version: '1', state: 'READY' }]);
      const cfg = await config();
      expect(cfg).to.include({ name: 'matmul', backend: 'python', max_batch_size: 8 });
      expect(cfg.instance_group).to.have.length(1);
      expect(cfg.instance_group[0]).to.include({ count: 1, kind: 'KIND_CPU' });
      await until('one stub process', () => stubCount() === 1);
    });

    it('batches concurrent requests dynamically; a batch of 8 costs more compute than a batch of 1', async function () {
      const out = await infer(1);
      expect(out.outputs.find((o) => o.name === 'OUTPUT0')?.data).to.deep.equal([0, 2, 4, 6]);
      for (let i = 0; i < 3; i += 1) await infer(1); // more batches of 1, so one slow call does not dominate
      await Promise.all(Array.from({ length: 16 }, () => infer(1)));
      await infer(8); // one request of 8 rows is a batch of 8 by itself
      // The python backend reports statistics just AFTER it sends the response: poll briefly.
      await until('stats to count all 28 rows', async () => (await stats()).inference_count === 4 + 16 + 8, 10_000);
      const s = await stats();
      const perBatch = new Map(s.batch_stats.map((b) => [b.batch_size, b.compute_infer.ns / b.compute_infer.count]));
      // inference_count counts rows (items); execution_count counts batches: singles shared batches
      expect(s.execution_count, JSON.stringify(s.batch_stats)).to.be.lessThan(4 + 16 + 1);
      expect(perBatch.get(8) ?? 0, JSON.stringify(s.batch_stats)).to.be.greaterThan(perBatch.get(1) ?? Infinity);
    });

    it('load with a config override changing only the instance count updates in place (2 stubs, stats kept)', async function () {
      const before = await stats();
      const cfg = await config();
      cfg.instance_group[0] = { ...cfg.instance_group[0], count: 2 } as never;
      const r = await loadWith(cfg);
      expect(r.status, r.text).to.equal(200);
      expect(r.text).to.equal('');
      expect((await config()).instance_group[0]?.count).to.equal(2);
      await until('two stub processes', () => stubCount() === 2);
      expect((await stats()).inference_count).to.equal(before.inference_count); // in-place: not reset
      // 8 full batches at once: both instances must take some (OUTPUT1 is the serving stub's pid)
      const outs = await Promise.all(Array.from({ length: 8 }, () => infer(8)));
      const pids = new Set(outs.map((o) => o.outputs.find((x) => x.name === 'OUTPUT1')?.data[0] ?? 0));
      expect([...pids].sort()).to.deep.equal(server().stubs('matmul').map((st) => st.pid).sort());
    });

    it('a dynamic_batching change reloads the model in the background (stats reset); unknown keys fail with 500', async function () {
      const cfg = await config();
      const bogus = await loadWith({ ...cfg, bogus_key: 1 });
      expect(bogus.status).to.equal(500);
      expect(json(bogus.text)).to.deep.equal({ error: "failed to load 'matmul', failed to poll from model repository" });
      expect((await get('/v2/models/matmul/ready')).status).to.equal(200); // the old copy still serves

      cfg.dynamic_batching = { ...cfg.dynamic_batching, max_queue_delay_microseconds: 5000 };
      const r = await loadWith(cfg);
      expect(r.status, r.text).to.equal(200);
      expect((await config()).dynamic_batching.max_queue_delay_microseconds).to.equal(5000);
      expect((await stats()).inference_count).to.equal(0);
      await until('two stub processes after the reload', () => stubCount() === 2);
    });

    it('scales back to one instance and unloads; stop() ends the server and every stub', async function () {
      const cfg = await config();
      cfg.instance_group[0] = { ...cfg.instance_group[0], count: 1 } as never;
      expect((await loadWith(cfg)).status).to.equal(200);
      await until('one stub process', () => stubCount() === 1);
      const un = await post('/v2/repository/models/matmul/unload');
      expect(un.status).to.equal(200);
      await until('the model to unload', async () => (await get('/v2/models/matmul/ready')).status !== 200);
      await until('no stub process', () => stubCount() === 0);

      const pgid = server().pid;
      await server().stop();
      expect(groupAlive(pgid)).to.equal(false);
      expect(processAlive(pgid)).to.equal(false);
    });
  });

  describe('Triton 2.51.0 with --model-control-mode=none', function () {
    let tr: TritonHandle | undefined;
    before(async function () {
      skipUnlessInstalled(this, 'triton');
      tr = await startTriton({ controlMode: 'none' });
    });
    after(async function () {
      await tr?.stop();
    });

    it('loads the repository at startup and rejects load/unload with 503', async function () {
      const t = tr as TritonHandle;
      expect((await httpRequest(`${t.httpUrl}/v2/models/matmul/ready`)).status).to.equal(200);
      for (const op of ['load', 'unload']) {
        const r = await httpRequest(`${t.httpUrl}/v2/repository/models/matmul/${op}`, { method: 'POST' });
        expect(r.status, op).to.equal(503);
        expect(json(r.text)).to.deep.equal({ error: 'explicit model load / unload is not allowed if polling is enabled' });
      }
    });
  });
});
