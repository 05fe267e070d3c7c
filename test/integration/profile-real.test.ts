// `inferline profile` against REAL servers (installed by .ci/install-servers.sh): TorchServe 0.12.0
// with the matrix-multiply handler (8 matmuls of 256×256 per item, one thread), swept 1–32 with
// the default settings; and Triton 2.51.0 (python backend, CPU), actively and passively. A server
// that is not installed is skipped with the reason printed.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import { formatProfile } from '../../src/cli/commands/profile.js';
import type { PointReport, ProfileCommandReport } from '../../src/cli/commands/profile.js';
import { runCli } from '../helpers/cli.js';
import { skipUnlessInstalled } from './servers/mocha.js';
import { httpRequest } from './servers/process.js';
import { startTorchServe } from './servers/torchserve.js';
import type { TorchServeHandle } from './servers/torchserve.js';
import { startTriton } from './servers/triton.js';
import type { TritonHandle } from './servers/triton.js';

const MODEL = 'matmul';

function reportOf(r: { code: number; stdout: string; stderr: string }): ProfileCommandReport {
  expect(r.code, `${r.stderr}\n${r.stdout}`).to.equal(0);
  return JSON.parse(r.stdout) as ProfileCommandReport;
}

const latency = (p: PointReport | undefined): number => p?.computeLatencyMs ?? Number.NaN;

/** The handler's own time per item: `n` concurrent requests, three times; the median of computeMs ÷ batch items. */
async function handlerCostPerItem(ts: TorchServeHandle, n: number): Promise<number> {
  const perItem: number[] = [];
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(Array.from({ length: n }, () => httpRequest(`${ts.inferenceUrl}/predictions/${MODEL}`, {
      method: 'POST', headers: { ...ts.auth('inference'), 'Content-Type': 'application/json' }, body: '{}', timeoutMs: 60_000,
    })));
    for (const a of answers) {
      expect(a.status, a.text).to.equal(200);
      const body = JSON.parse(a.text) as { batch: number; computeMs: number };
      perItem.push(body.computeMs / body.batch);
    }
  }
  return perItem.sort((a, b) => a - b)[Math.floor(perItem.length / 2)] as number;
}

describe('inferline profile on real servers', function () {
  this.timeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'inferline-profile-real-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('TorchServe 0.12.0, matmul handler, batch_size 32', function () {
    let ts: TorchServeHandle | undefined;
    before(async function () {
      skipUnlessInstalled(this, 'torchserve');
      ts = await startTorchServe();
      const r = await httpRequest(
        `${ts.managementUrl}/models?url=${MODEL}.mar&batch_size=32&max_batch_delay=5&initial_workers=1&synchronous=true`,
        { method: 'POST', headers: ts.auth('management'), timeoutMs: 120_000 },
      );
      if (r.status !== 200) throw new Error(`register ${MODEL}.mar: ${r.status} ${r.text}`);
    });
    after(async () => {
      await ts?.stop();
    });

    it('sweeps 1–32 within the default 2-minute budget; latency grows with batch size as the per-item CPU cost does', async () => {
      const t = ts as TorchServeHandle;
      const out = join(dir, 'torchserve.yaml');
      const started = Date.now();
      const r = await runCli([
        'profile', '--server', 'torchserve', '--url', t.inferenceUrl, '--management-url', t.managementUrl, '--metrics-url', t.metricsUrl,
        '--key-file', t.keyFile, '--model', MODEL, '--hardware', 'cpu', '--out', out, '--report', join(dir, 'torchserve.html'), '--json',
      ]);
      const wallMs = Date.now() - started;
      const report = reportOf(r);
      // The table the README shows.
      console.log(`      (${(wallMs / 1000).toFixed(1)} s)\n${formatProfile(report).replace(/^/gm, '      ')}`);
      const hw = report.hardware[0];
      expect(hw?.batchSizes).to.deep.equal([1, 2, 4, 8, 16, 32]);
      expect(wallMs).to.be.below(120_000);
      const points = hw?.points ?? [];
      for (const p of points) {
        expect(p.status, `batch ${p.batchSize}: ${p.error ?? ''}`).to.be.oneOf(['stable', 'unstable']);
        expect(p.timing).to.equal('per-request');
        expect(p.queueLatencyMs).to.not.equal(null);
      }
      // Latency grows with batch size as the handler's CPU cost does. That cost is per item, so each
      // two doublings (4× the items) cost well over 1.5× as much, and the cost per extra item from
      // batch 1 to 32 is the per-item time the handler itself reports (computeMs of a batch ÷ its
      // items), within a factor of two: both are wall-clock times on two cores shared with other work.
      for (let i = 2; i < points.length; i++) {
        expect(latency(points[i]), `batch ${points[i]?.batchSize} vs ${points[i - 2]?.batchSize}`).to.be.above(1.5 * latency(points[i - 2]));
      }
      const first = points[0];
      const last = points[points.length - 1];
      const perItem = (latency(last) - latency(first)) / ((last?.batchSize ?? 0) - (first?.batchSize ?? 0));
      const handlerMsPerItem = await handlerCostPerItem(t, 32);
      console.log(`      ${perItem.toFixed(2)} ms per extra item from batch 1 to 32; the handler reports ${handlerMsPerItem.toFixed(2)} ms per item`);
      expect(perItem / handlerMsPerItem).to.be.within(0.5, 2);
      // Batching amortises only the fixed per-batch overhead: 32× the items buys far less than 32× the throughput.
      const tput = (p: PointReport | undefined): number => p?.throughputQps ?? Number.NaN;
      expect(tput(points[5]) / tput(points[0])).to.be.below(16);
      expect(report.restore).to.deep.equal({ needed: false, ok: true });
      const written = readFileSync(out, 'utf8');
      expect(written).to.match(/^profiles:\n {2}- model: matmul\n {4}hardware: cpu\n/);
      const eight = (yaml.load(written) as { profiles: { points: { batchSize: number }[] }[] }).profiles[0]?.points.find((p) => p.batchSize === 8);
      console.log(`      batch 8 in ${out}:\n${yaml.dump([eight]).replace(/^/gm, '        ')}`);
    });
  });

  describe('Triton 2.51.0, python backend matmul (max_batch_size 8, KIND_CPU)', function () {
    let t: TritonHandle | undefined;
    before(async function () {
      skipUnlessInstalled(this, 'triton');
      t = await startTriton();
    });
    after(async () => {
      await t?.stop();
    });

    it('active: compute from the real per-batch-size statistics, growing with batch size', async () => {
      const h = t as TritonHandle;
      const report = reportOf(await runCli([
        'profile', '--server', 'triton', '--url', h.httpUrl, '--metrics-url', h.metricsUrl, '--model', MODEL, '--batch-sizes', '1,8',
        '--window', '500ms', '--json',
      ]));
      console.log(formatProfile(report).replace(/^/gm, '      '));
      const [one, eight] = report.hardware[0]?.points ?? [];
      expect(report.hardware[0]?.hardware).to.equal('cpu');
      expect(one?.timing).to.equal('batch-stats');
      expect(eight?.timing).to.equal('batch-stats');
      expect(latency(eight)).to.be.above(2 * latency(one));
    });

    it('passive: compute per executed batch size of live traffic, nothing sent', async () => {
      const h = t as TritonHandle;
      const adapter = createTritonAdapter({ url: h.httpUrl, metricsUrl: h.metricsUrl, timeoutMs: 30_000 });
      let running = true;
      const traffic = (async () => {
        for (let i = 0; running; i++) await adapter.infer(MODEL, { batchSize: i % 2 === 0 ? 2 : 6, data: 'random', seed: i, timeoutMs: 30_000 });
      })();
      let report: ProfileCommandReport;
      try {
        report = reportOf(await runCli([
          'profile', '--server', 'triton', '--url', h.httpUrl, '--metrics-url', h.metricsUrl, '--model', MODEL, '--passive',
          '--duration', '4s', '--interval', '1s', '--min-samples', '5', '--json',
        ]));
      } finally {
        running = false;
        await traffic;
      }
      console.log(formatProfile(report).replace(/^/gm, '      '));
      const points = report.hardware[0]?.points ?? [];
      // Two requests may be batched together by the dynamic batcher (2 + 6 = 8), so 8 may show up too.
      expect(points.map((p) => p.batchSize)).to.include.members([2, 6]);
      const byBatch = new Map(points.map((p) => [p.batchSize, p]));
      expect(latency(byBatch.get(6))).to.be.above(latency(byBatch.get(2)));
      expect(report.profiles[0]?.points.every((p) => p.source === 'passive')).to.equal(true);
    });
  });
});
