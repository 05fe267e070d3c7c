// Records what the REAL servers answer (status, headers, exact body) into
// test/integration/servers/observed/<server>/<case>.json, for the adapters' contract tests.
//   npx tsx test/integration/servers/record-observed.ts            # both servers
//   npx tsx test/integration/servers/record-observed.ts torchserve  # or triton
// Keys from key_file.json are replaced by <inference key> / <management key> / <API key>.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest } from './process.js';
import { SERVERS_DIR, unavailableReason } from './status.js';
import { startTorchServe, type TorchServeHandle } from './torchserve.js';
import { startTriton, type TritonHandle } from './triton.js';

const OUT = join(SERVERS_DIR, 'observed');
const DROP_HEADERS = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);

interface Recorded {
  server: string;
  note?: string;
  request: { method: string; url: string; headers?: Record<string, string>; body?: unknown };
  status: number;
  headers: Record<string, string>;
  /** The body exactly as received. */
  body: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: unknown;
}

function parse(text: string): unknown {
  try { return JSON.parse(text) as unknown; } catch { return null; }
}

class Recorder {
  private readonly index: string[] = [];
  constructor(private readonly dir: string, private readonly server: string, private readonly redact: (s: string) => string) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  async call(
    name: string, base: string, method: string, path: string,
    opts: { headers?: Record<string, string>; body?: string; note?: string } = {},
  ): Promise<Recorded> {
    const r = await httpRequest(`${base}${path}`, { method, headers: opts.headers, body: opts.body });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (!DROP_HEADERS.has(k)) headers[k] = v;
    const rec: Recorded = {
      server: this.server,
      ...(opts.note !== undefined ? { note: opts.note } : {}),
      request: {
        method,
        url: path,
        ...(opts.headers !== undefined ? { headers: JSON.parse(this.redact(JSON.stringify(opts.headers))) as Record<string, string> } : {}),
        ...(opts.body !== undefined ? { body: parse(opts.body) ?? opts.body } : {}),
      },
      status: r.status,
      headers,
      body: this.redact(r.text),
      json: parse(this.redact(r.text)),
    };
    this.write(name, rec);
    return rec;
  }

  write(name: string, value: unknown): void {
    const file = `${name}.${typeof value === 'string' ? 'txt' : 'json'}`;
    writeFileSync(join(this.dir, file), typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n');
    const v = value as Partial<Recorded>;
    this.index.push(`${file}${v.status !== undefined ? `  ${v.request?.method} ${v.request?.url} -> ${v.status}` : ''}`);
  }

  finish(): void {
    writeFileSync(join(this.dir, 'INDEX.txt'), `${this.server}, recorded by test/integration/servers/record-observed.ts on ${new Date().toISOString()}\n\n${this.index.join('\n')}\n`);
  }
}

async function recordTorchServe(): Promise<void> {
  let ts: TorchServeHandle | undefined;
  let off: TorchServeHandle | undefined;
  try {
    ts = await startTorchServe({
      archives: [
        { modelName: 'matmul', version: '1.0' },
        { modelName: 'matmul', version: '2.0', fileName: 'matmul_v2.mar' },
        { modelName: 'other', version: '1.0' },
        { modelName: 'third', version: '1.0' },
      ],
    });
    const t = ts;
    const redact = (s: string): string => {
      let out = s;
      const k = t.keys();
      for (const [v, label] of [[k.inference, 'inference'], [k.management, 'management'], [k.api, 'API']] as const) {
        if (v) out = out.split(v).join(`<${label} key>`);
      }
      return out;
    };
    const rec = new Recorder(join(OUT, 'torchserve'), 'TorchServe 0.12.0 (CPU, Java 17, token auth on, enable_model_api=true, metrics_mode=prometheus)', redact);
    const I = t.inferenceUrl; const M = t.managementUrl;
    const ik = (): Record<string, string> => t.auth('inference');
    const mk = (): Record<string, string> => t.auth('management');
    const keyShape = JSON.parse(readFileSync(t.keyFile, 'utf8')) as Record<string, Record<string, string>>;
    for (const v of Object.values(keyShape)) if (v.key) v.key = '<8 random characters>';
    rec.write('key-file', keyShape);

    await rec.call('ping-no-key', I, 'GET', '/ping');
    await rec.call('ping-bad-key', I, 'GET', '/ping', { headers: { Authorization: 'Bearer wrong' } });
    await rec.call('ping-management-key-on-inference-port', I, 'GET', '/ping', { headers: mk() });
    await rec.call('ping-ok', I, 'GET', '/ping', { headers: ik() });
    await rec.call('management-inference-key', M, 'GET', '/models', { headers: ik() });
    await rec.call('list-empty', M, 'GET', '/models', { headers: mk() });
    await rec.call('register-missing-mar', M, 'POST', '/models?url=nope.mar&initial_workers=1&synchronous=true', { headers: mk() });
    await rec.call('register-sync', M, 'POST', '/models?url=matmul.mar&batch_size=8&max_batch_delay=200&initial_workers=1&synchronous=true', { headers: mk() });
    await rec.call('register-conflict', M, 'POST', '/models?url=matmul.mar&initial_workers=1&synchronous=true', { headers: mk() });
    await rec.call('register-defaults', M, 'POST', '/models?url=third.mar', { headers: mk(), note: 'no initial_workers, no synchronous: synchronous, with default_workers_per_model (1 here) workers' });
    await rec.call('register-zero-workers', M, 'POST', '/models?url=other.mar&initial_workers=0', { headers: mk() });
    await rec.call('describe-zero-workers', M, 'GET', '/models/other', { headers: mk() });
    await rec.call('list', M, 'GET', '/models', { headers: mk() });
    await rec.call('list-limit-1', M, 'GET', '/models?limit=1', { headers: mk() });
    await rec.call('describe', M, 'GET', '/models/matmul', { headers: mk(), note: 'memoryUsage is 0 because disable_system_metrics=true' });
    await rec.call('describe-missing', M, 'GET', '/models/nope', { headers: mk() });
    await rec.call('describe-missing-version', M, 'GET', '/models/matmul/9.9', { headers: mk() });
    await rec.call('predict-json', I, 'POST', '/predictions/matmul', { headers: { ...ik(), 'Content-Type': 'application/json' }, body: '{"reps":2}' });
    await rec.call('predict-no-content-type', I, 'POST', '/predictions/matmul', { headers: ik(), body: '{"reps":2}', note: 'without Content-Type: application/json the handler gets bytes, so reps falls back to 8' });
    await rec.call('predict-missing-model', I, 'POST', '/predictions/nope', { headers: ik(), body: '{}' });
    await rec.call('predict-zero-workers', I, 'POST', '/predictions/other', { headers: ik(), body: '{}' });
    await rec.call('scale-sync-up', M, 'PUT', '/models/matmul?min_worker=2&max_worker=2&synchronous=true', { headers: mk() });
    await rec.call('describe-two-workers', M, 'GET', '/models/matmul', { headers: mk() });
    await rec.call('scale-sync-down', M, 'PUT', '/models/matmul?min_worker=1&max_worker=1&synchronous=true', { headers: mk() });
    await rec.call('scale-async', M, 'PUT', '/models/other?min_worker=1&max_worker=1', { headers: mk() });
    await rec.call('scale-min-only', M, 'PUT', '/models/other?min_worker=1&synchronous=true', { headers: mk(), note: 'max_worker defaults to min_worker' });
    await rec.call('scale-max-less-than-min', M, 'PUT', '/models/matmul?min_worker=3&max_worker=1', { headers: mk() });
    await rec.call('scale-missing-model', M, 'PUT', '/models/nope?min_worker=1', { headers: mk() });
    await rec.call('register-version-2', M, 'POST', '/models?url=matmul_v2.mar&model_name=matmul&batch_size=4&max_batch_delay=10&initial_workers=1&synchronous=true', { headers: mk() });
    await rec.call('describe-default-after-register-v2', M, 'GET', '/models/matmul', { headers: mk(), note: 'the new version does NOT become the default' });
    await rec.call('describe-all', M, 'GET', '/models/matmul/all', { headers: mk() });
    await rec.call('set-default', M, 'PUT', '/models/matmul/2.0/set-default', { headers: mk() });
    await rec.call('set-default-missing-version', M, 'PUT', '/models/matmul/9.9/set-default', { headers: mk() });
    await rec.call('describe-default-after-set-default', M, 'GET', '/models/matmul', { headers: mk() });
    await rec.call('scale-version-sync', M, 'PUT', '/models/matmul/1.0?min_worker=0&max_worker=0&synchronous=true', { headers: mk() });
    await rec.call('predict-version-no-worker', I, 'POST', '/predictions/matmul/1.0', { headers: ik(), body: '{}' });
    await rec.call('unregister-default-version', M, 'DELETE', '/models/matmul/2.0', { headers: mk() });
    await rec.call('unregister', M, 'DELETE', '/models/matmul/1.0', { headers: mk() });
    await rec.call('metrics-filtered', t.metricsUrl, 'GET', '/metrics?name[]=ts_inference_requests_total&name[]=ts_inference_latency_microseconds&name[]=ts_queue_latency_microseconds');
    await rec.call('metrics-all', t.metricsUrl, 'GET', '/metrics');
    await rec.call('token-with-management-key', M, 'GET', '/token?type=inference', { headers: mk() });
    await rec.call('token-refresh', M, 'GET', '/token?type=inference', { headers: t.auth('api'), note: 'the new key is only in key_file.json' });
    await ts.stop();
    ts = undefined;

    off = await startTorchServe({ enableModelApi: false, loadModels: ['matmul.mar'] });
    const o = off;
    const rec2 = new Recorder(join(OUT, 'torchserve-model-api-off'), 'TorchServe 0.12.0 (enable_model_api=false, load_models=matmul.mar)', (s) => {
      let out = s;
      const k = o.keys();
      for (const [v, label] of [[k.inference, 'inference'], [k.management, 'management'], [k.api, 'API']] as const) {
        if (v) out = out.split(v).join(`<${label} key>`);
      }
      return out;
    });
    await rec2.call('register-405', o.managementUrl, 'POST', '/models?url=matmul.mar', { headers: o.auth('management') });
    await rec2.call('unregister-405', o.managementUrl, 'DELETE', '/models/matmul/1.0', { headers: o.auth('management') });
    await rec2.call('describe-loaded-at-startup', o.managementUrl, 'GET', '/models/matmul', { headers: o.auth('management') });
    await rec2.call('scale-sync', o.managementUrl, 'PUT', '/models/matmul?min_worker=2&max_worker=2&synchronous=true', { headers: o.auth('management') });
    rec2.finish();
    rec.finish();
  } finally {
    await ts?.stop();
    await off?.stop();
  }
}

async function recordTriton(): Promise<void> {
  let tr: TritonHandle | undefined;
  try {
    tr = await startTriton();
    const t = tr;
    const rec = new Recorder(join(OUT, 'triton'), 'Triton 2.51.0 (nvidia-pytriton 0.7.0 wheel, CPU only, python backend, --model-control-mode=explicit --load-model=*)', (s) => s);
    const H = t.httpUrl;
    const stubs = (): { pid: number; instance: string }[] => t.stubs('matmul').map((s) => ({ pid: s.pid, instance: s.instance }));
    const infer = (rows: number): string => JSON.stringify({ inputs: [{ name: 'INPUT0', shape: [rows, 4], datatype: 'FP32', data: Array.from({ length: rows * 4 }, (_, i) => i) }] });
    const cfgBody = (cfg: unknown): string => JSON.stringify({ parameters: { config: JSON.stringify(cfg) } });
    const getConfig = async (): Promise<Record<string, unknown> & { instance_group: Record<string, unknown>[]; dynamic_batching: Record<string, unknown> }> =>
      JSON.parse((await httpRequest(`${H}/v2/models/matmul/config`)).text) as never;

    const log = readFileSync(t.logFile, 'utf8').split('\n').filter((l) => !/^[|+]/.test(l) && l.trim() !== '');
    rec.write('startup-log', `# ${t.logFile} (table lines dropped)\n# args: ${t.args.join(' ')}\n${log.join('\n')}\n`);
    await rec.call('server-metadata', H, 'GET', '/v2');
    await rec.call('health-live', H, 'GET', '/v2/health/live');
    await rec.call('health-ready', H, 'GET', '/v2/health/ready');
    await rec.call('index', H, 'POST', '/v2/repository/index');
    await rec.call('index-ready-only', H, 'POST', '/v2/repository/index', { body: '{"ready":true}' });
    await rec.call('model-metadata', H, 'GET', '/v2/models/matmul');
    await rec.call('model-ready', H, 'GET', '/v2/models/matmul/ready');
    await rec.call('config', H, 'GET', '/v2/models/matmul/config');
    await rec.call('infer', H, 'POST', '/v2/models/matmul/infer', { body: infer(2) });
    await Promise.all(Array.from({ length: 16 }, () => httpRequest(`${H}/v2/models/matmul/infer`, { method: 'POST', body: infer(1) })));
    await httpRequest(`${H}/v2/models/matmul/infer`, { method: 'POST', body: infer(8) });
    await rec.call('infer-9-rows', H, 'POST', '/v2/models/matmul/infer', { body: infer(9) });
    await sleep(1000); // the python backend reports statistics just after it sends the response
    await rec.call('stats-after-batched-traffic', H, 'GET', '/v2/models/matmul/stats', { note: '1 request of 2 rows, 16 concurrent requests of 1 row, 1 request of 8 rows, 1 rejected request of 9 rows' });
    await rec.call('stats-all-models', H, 'GET', '/v2/models/stats');
    rec.write('metrics-after-traffic', (await httpRequest(`${t.metricsUrl}/metrics`)).text);
    rec.write('stubs-before-override', { stubs: stubs() });

    const cfg = await getConfig();
    const two = { ...cfg, instance_group: [{ ...cfg.instance_group[0], count: 2 }] };
    await rec.call('load-override-instance-count-2', H, 'POST', '/v2/repository/models/matmul/load', { body: cfgBody(two), note: 'in-place instance update: one new stub, stats kept (model.py precompiled, see README)' });
    await sleep(500);
    rec.write('stubs-after-count-2', { stubs: stubs() });
    await rec.call('config-after-count-2', H, 'GET', '/v2/models/matmul/config');
    await rec.call('stats-after-count-2', H, 'GET', '/v2/models/matmul/stats', { note: 'not reset: in-place update' });
    await rec.call('load-override-unknown-key', H, 'POST', '/v2/repository/models/matmul/load', { body: cfgBody({ ...two, bogus_key: 1 }), note: 'the log says: Poll failed for model directory \'matmul\': Invalid config override: bogus_key: Cannot find field.' });
    await rec.call('model-ready-after-failed-load', H, 'GET', '/v2/models/matmul/ready');
    await rec.call('load-config-not-a-string', H, 'POST', '/v2/repository/models/matmul/load', { body: '{"parameters":{"config":{"name":"matmul"}}}' });
    await rec.call('load-missing-model', H, 'POST', '/v2/repository/models/nope/load');
    const slower = { ...two, dynamic_batching: { ...cfg.dynamic_batching, max_queue_delay_microseconds: 5000 } };
    await rec.call('load-override-dynamic-batching', H, 'POST', '/v2/repository/models/matmul/load', { body: cfgBody(slower), note: 'full reload: new stubs, old ones released' });
    await rec.call('stats-after-dynamic-batching-reload', H, 'GET', '/v2/models/matmul/stats', { note: 'reset to zero by the reload' });
    await rec.call('load-no-body-after-override', H, 'POST', '/v2/repository/models/matmul/load', { note: 'no reload; the override stays in force' });
    await rec.call('config-after-no-body-load', H, 'GET', '/v2/models/matmul/config');
    const one = { ...slower, instance_group: [{ ...cfg.instance_group[0], count: 1 }] };
    await rec.call('load-override-instance-count-1', H, 'POST', '/v2/repository/models/matmul/load', { body: cfgBody(one) });
    await sleep(3000);
    rec.write('stubs-after-count-1', { stubs: stubs() });
    await rec.call('unload', H, 'POST', '/v2/repository/models/matmul/unload');
    await rec.call('index-right-after-unload', H, 'POST', '/v2/repository/index');
    for (let i = 0; i < 50 && (await httpRequest(`${H}/v2/models/matmul/ready`)).status === 200; i += 1) await sleep(200);
    await sleep(2000);
    await rec.call('index-after-unload', H, 'POST', '/v2/repository/index');
    await rec.call('model-ready-after-unload', H, 'GET', '/v2/models/matmul/ready');
    await rec.call('health-ready-after-unload', H, 'GET', '/v2/health/ready', { note: 'strict readiness: a known model that is not ready makes the server not ready' });
    await rec.call('stats-after-unload', H, 'GET', '/v2/models/matmul/stats');
    await rec.call('config-after-unload', H, 'GET', '/v2/models/matmul/config');
    await rec.call('infer-after-unload', H, 'POST', '/v2/models/matmul/infer', { body: infer(1) });
    await rec.call('load-after-unload', H, 'POST', '/v2/repository/models/matmul/load');
    await rec.call('config-after-reload-from-disk', H, 'GET', '/v2/models/matmul/config', { note: 'after unload + load, the on-disk config.pbtxt is used again (count 1, 2000 us)' });
    rec.write('metrics-after-reload-from-disk', (await httpRequest(`${t.metricsUrl}/metrics`)).text);
    await t.stop();
    tr = undefined;

    // Without precompiling, the stub writes 1/__pycache__ during the first load, and the first
    // override after start is a FULL reload (stats reset, a whole new set of stubs).
    tr = await startTriton({ precompile: false });
    const u = tr;
    const rec3 = new Recorder(join(OUT, 'triton-first-override-without-precompile'), 'Triton 2.51.0, model.py NOT precompiled', (s) => s);
    await httpRequest(`${u.httpUrl}/v2/models/matmul/infer`, { method: 'POST', body: infer(1) });
    rec3.write('stubs-before', { stubs: u.stubs('matmul').map((s) => ({ pid: s.pid, instance: s.instance })) });
    await rec3.call('stats-before', u.httpUrl, 'GET', '/v2/models/matmul/stats');
    const c0 = JSON.parse((await httpRequest(`${u.httpUrl}/v2/models/matmul/config`)).text) as { instance_group: Record<string, unknown>[] };
    await rec3.call('load-override-instance-count-2', u.httpUrl, 'POST', '/v2/repository/models/matmul/load', { body: cfgBody({ ...c0, instance_group: [{ ...c0.instance_group[0], count: 2 }] }) });
    rec3.write('stubs-right-after', { stubs: u.stubs('matmul').map((s) => ({ pid: s.pid, instance: s.instance })), note: 'old matmul_0_0 still alive next to a new matmul_0_0 and matmul_0_1' });
    await rec3.call('stats-after', u.httpUrl, 'GET', '/v2/models/matmul/stats', { note: 'reset: it was a full reload' });
    rec3.write('server-log-tail', readFileSync(u.logFile, 'utf8').split('\n').filter((l) => /model_lifecycle|python_be|model_repository_manager/.test(l)).join('\n') + '\n');
    rec3.finish();
    await u.stop();
    tr = undefined;

    tr = await startTriton({ controlMode: 'none' });
    const n = tr;
    const rec2 = new Recorder(join(OUT, 'triton-mode-none'), 'Triton 2.51.0, --model-control-mode=none', (s) => s);
    await rec2.call('load-503', n.httpUrl, 'POST', '/v2/repository/models/matmul/load');
    await rec2.call('load-with-config-503', n.httpUrl, 'POST', '/v2/repository/models/matmul/load', { body: cfgBody(cfg) });
    await rec2.call('unload-503', n.httpUrl, 'POST', '/v2/repository/models/matmul/unload');
    await rec2.call('index', n.httpUrl, 'POST', '/v2/repository/index');
    rec2.finish();
    rec.finish();
  } finally {
    await tr?.stop();
  }
}

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  const want = (s: 'torchserve' | 'triton'): boolean => which.length === 0 || which.includes(s);
  for (const s of ['torchserve', 'triton'] as const) {
    if (!want(s)) continue;
    const why = unavailableReason(s);
    if (why !== undefined) {
      console.log(`SKIP ${s}: ${why}`);
      continue;
    }
    console.log(`recording ${s} ...`);
    await (s === 'torchserve' ? recordTorchServe() : recordTriton());
  }
  console.log(`wrote ${OUT}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
