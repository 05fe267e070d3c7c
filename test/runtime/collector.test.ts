import { expect } from 'chai';
import { Collector } from '../../src/runtime/collector.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTritonAdapter } from '../../adapters/triton/index.js';
import { createTorchServeAdapter } from '../../adapters/torchserve/index.js';
import { startTorchServeEmulator, startTritonEmulator } from '../../src/emulator/index.js';
import { normaliseProfiles } from '../../src/core/model/profiles.js';
import type { ModelCounters, ServerAdapter } from '../../src/ports/server-adapter.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeTelemetry } from '../helpers/fake-telemetry.js';
import { systemClock } from '../../src/platform/system-clock.js';

describe('runtime/collector', function () {
  this.timeout(30_000);

  it('samples an emulated Triton: arrivals, compute time and executions per batch size', async () => {
    const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 5 }, { batchSize: 4, latencyMs: 10 }] }], () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, maxBatchSize: 4 });
    try {
      const adapter = createTritonAdapter({ url: server.url, metricsUrl: server.metricsUrl });
      const c = new Collector({ adapter, clock: systemClock, intervalMs: 1000, onSample: () => undefined });
      expect(await c.scrape()).to.deep.equal([]); // the first scrape is the baseline
      const inputs = await adapter.inputs('m');
      expect(inputs.length).to.be.above(0);
      for (let i = 0; i < 3; i++) await adapter.infer('m', { batchSize: 4, data: 'zero', timeoutMs: 5000 });
      await adapter.infer('m', { batchSize: 1, data: 'zero', timeoutMs: 5000 });
      await new Promise((ok) => setTimeout(ok, 50));
      const [s] = await c.scrape();
      expect(s?.model).to.equal('m');
      expect(s?.arrivals).to.equal(4);
      expect(s?.rates.inferencesPerS).to.be.above(0);
      expect(s?.reset).to.equal(false);
      const sizes = Object.fromEntries((s?.batchSizes ?? []).map((b) => [b.batchSize, b.executions]));
      expect(sizes).to.deep.equal({ 1: 1, 4: 3 });
      const b4 = s?.batchSizes?.find((b) => b.batchSize === 4);
      expect(b4?.meanComputeMs).to.be.within(8, 20);
    } finally {
      await server.stop();
    }
  });

  it('flags a counter reset instead of reporting negative traffic', async () => {
    let requests = 100n;
    const adapter = { counters: async (): Promise<ModelCounters[]> => [{ model: 'm', requests, failures: 0n }] } as unknown as ServerAdapter;
    const clock = new FakeClock(0);
    const c = new Collector({ adapter, clock, intervalMs: 1000, onSample: () => undefined });
    await c.scrape();
    await clock.advance(1000);
    requests = 130n;
    expect((await c.scrape())[0]).to.deep.include({ arrivals: 30, reset: false });
    await clock.advance(1000);
    requests = 7n; // the server restarted
    expect((await c.scrape())[0]).to.deep.include({ arrivals: 7, reset: true });
  });

  it('counts the growth of pending requests as arrivals: a saturated server answers no faster than it serves', async () => {
    let requests = 0n;
    let pending = 0;
    const adapter = { counters: async (): Promise<ModelCounters[]> => [{ model: 'm', requests, failures: 0n, pending }] } as unknown as ServerAdapter;
    const clock = new FakeClock(0);
    const c = new Collector({ adapter, clock, intervalMs: 1000, onSample: () => undefined });
    await c.scrape();
    await clock.advance(1000);
    requests = 50n; // answered at capacity…
    pending = 150; // …while 150 more arrived and wait
    expect((await c.scrape())[0]).to.deep.include({ arrivals: 200, pending: 150 });
    await clock.advance(1000);
    requests = 150n; // the queue drains: 100 answered, 40 new arrivals, 90 still waiting
    pending = 90;
    expect((await c.scrape())[0]).to.deep.include({ arrivals: 40, pending: 90 });
  });

  it('idleQueueReadMs: at idle the queues are read once per interval, their last values carried; on every scrape once traffic shows', async () => {
    let requests = 0n;
    let pending = 0;
    const asked: boolean[] = [];
    const adapter = {
      counters: async (_m?: string, o: { queues?: boolean } = {}): Promise<ModelCounters[]> => {
        asked.push(o.queues !== false);
        return [{ model: 'm', requests, failures: 0n, ...(o.queues === false ? {} : { pending }) }];
      },
    } as unknown as ServerAdapter;
    const clock = new FakeClock(0);
    const c = new Collector({ adapter, clock, intervalMs: 100, idleQueueReadMs: 1000, onSample: () => undefined });
    const samples: { arrivals: number; pending?: number }[] = [];
    const scrape = async (): Promise<void> => {
      const [s] = await c.scrape();
      if (s) samples.push({ arrivals: s.arrivals, ...(s.pending !== undefined ? { pending: s.pending } : {}) });
      await clock.advance(100);
    };
    // The baseline and the first scrape after it read the queues (nothing known yet), then idle:
    // the next read a whole interval after, at 1100 ms, none between.
    for (let i = 0; i < 12; i++) await scrape();
    expect(asked.slice(0, 12)).to.deep.equal([true, true, false, false, false, false, false, false, false, false, false, true]);
    expect(samples.every((x) => x.arrivals === 0 && x.pending === 0)).to.equal(true);
    // A burst: answered at capacity while the queue grows, seen first in a scrape that skipped the
    // queues (pending carried: 0), counted in full once they are read, and read every scrape after.
    requests = 20n;
    pending = 80;
    await scrape();
    await scrape();
    requests = 40n;
    pending = 100;
    await scrape();
    expect(asked.slice(12)).to.deep.equal([false, true, true]);
    expect(samples.slice(11)).to.deep.equal([{ arrivals: 20, pending: 0 }, { arrivals: 80, pending: 80 }, { arrivals: 40, pending: 100 }]);
    // Every arrival counted once: 20 + 80 + 40 = 140 = 40 answered + 100 waiting.
    expect(samples.reduce((t, x) => t + x.arrivals, 0)).to.equal(140);
  });

  it('idleIntervalMs: idle for idleAfterMs, it scrapes at the idle interval; the first scrape that sees traffic brings back the fast one', async () => {
    let requests = 0n;
    const at: number[] = [];
    const clock = new FakeClock(0);
    const adapter = {
      counters: async (): Promise<ModelCounters[]> => {
        at.push(clock.nowMs());
        return [{ model: 'm', requests, failures: 0n }];
      },
    } as unknown as ServerAdapter;
    const c = new Collector({ adapter, clock, intervalMs: 100, idleIntervalMs: 500, idleAfterMs: 1000, onSample: () => undefined });
    c.start();
    // The first scrape (a baseline, at 100 ms) counts as traffic; idle a second after it (1100 ms),
    // then every 500 ms.
    await clock.advance(2800);
    requests = 10n; // traffic from 2800 on: seen at the next scrape (3100), every 100 ms from there
    await clock.advance(700);
    await c.stop();
    expect(at).to.deep.equal([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1600, 2100, 2600, 3100, 3200, 3300, 3400, 3500]);
    // Without the option: every 100 ms whatever the traffic.
    expect(new Collector({ adapter, clock, intervalMs: 100, onSample: () => undefined }).nextIntervalMs()).to.equal(100);
  });

  it('reads Triton\'s pending requests from its metrics with the counters (emulated Triton)', async () => {
    const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 40 }] }], () => 'p');
    const server = await startTritonEmulator({ profiles, port: 0, metricsPort: 0, maxBatchSize: 1 });
    try {
      const adapter = createTritonAdapter({ url: server.url, metricsUrl: server.metricsUrl });
      const inFlight = Array.from({ length: 6 }, () => server.engine('m')?.submit(1));
      await new Promise((ok) => setTimeout(ok, 10));
      const [counters] = await adapter.counters('m');
      expect(counters?.pending).to.be.within(4, 5); // one executing, the rest queued
      // queues: false reads the statistics alone: no pending, and no metrics request.
      const telemetry = new FakeTelemetry();
      const [bare] = await createTritonAdapter({ url: server.url, metricsUrl: server.metricsUrl, telemetry }).counters('m', { queues: false });
      expect(bare?.pending).to.equal(undefined);
      expect(telemetry.adapterRequests.map((r) => r.endpoint)).to.deep.equal(['GET /v2/models/{model}/stats']);
      await Promise.all(inFlight);
      const [after] = await adapter.counters('m');
      expect(after?.pending).to.equal(0);
      expect(after?.requests).to.equal(6n);
    } finally {
      await server.stop();
    }
  });

  it('reads TorchServe\'s queue from describe with the counters (emulated TorchServe)', async () => {
    const { profiles } = normaliseProfiles([{ model: 'm', hardware: 'cpu', points: [{ batchSize: 1, latencyMs: 40 }] }], () => 'p');
    const dir = mkdtempSync(join(tmpdir(), 'inferline-collector-ts-'));
    const server = await startTorchServeEmulator({ profiles, tokenAuth: true, keyFile: join(dir, 'key_file.json'), metricsMode: 'prometheus', batchSize: 1, maxBatchDelayMs: 1 });
    try {
      const adapter = createTorchServeAdapter({ inferenceUrl: server.inferenceUrl, managementUrl: server.managementUrl, metricsUrl: server.metricsUrl, keyFile: server.keyFile as string });
      const inFlight = Array.from({ length: 6 }, () => adapter.infer('m', { batchSize: 1, data: 'zero', timeoutMs: 5000 }));
      await new Promise((ok) => setTimeout(ok, 20));
      const [c] = await adapter.counters('m');
      expect(c?.queued).to.be.within(4, 5); // one running, the rest waiting for the worker
      expect(c?.pending).to.equal(undefined); // TorchServe counts a request on arrival
      // queues: false reads the metrics alone: no queue, and no describe.
      const telemetry = new FakeTelemetry();
      const bareAdapter = createTorchServeAdapter({ inferenceUrl: server.inferenceUrl, managementUrl: server.managementUrl, metricsUrl: server.metricsUrl, keyFile: server.keyFile as string, telemetry });
      const [bare] = await bareAdapter.counters('m', { queues: false });
      expect(bare?.queued).to.equal(undefined);
      expect(telemetry.adapterRequests.map((r) => r.endpoint)).to.deep.equal(['GET /metrics']);
      await Promise.all(inFlight);
      expect((await adapter.counters('m'))[0]?.queued).to.equal(0);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('with a push rule: holds steady scrapes, then hands on what was held and the changed scrape apart', async () => {
    let requests = 0n;
    const adapter = { counters: async (): Promise<ModelCounters[]> => [{ model: 'm', requests, failures: 0n }] } as unknown as ServerAdapter;
    const clock = new FakeClock(0);
    const decisions: string[] = [];
    const c = new Collector({
      adapter, clock, intervalMs: 100, onSample: () => undefined, push: { heartbeatMs: 1000 },
      onPushDecision: (d) => decisions.push(d.kind === 'push' ? d.reason : 'hold'),
    });
    const step = async (arrivals: number) => {
      await clock.advance(100);
      requests += BigInt(arrivals);
      return c.scrape();
    };
    expect(await c.scrape()).to.deep.equal([]); // the baseline, at 0
    expect((await step(10)).map((x) => [x.fromMs, x.toMs, x.arrivals])).to.deep.equal([[0, 100, 10]]); // the first push
    for (const n of [10, 9, 11]) expect(await step(n)).to.deep.equal([]);
    // A burst: the three scrapes held (30 in 100..400) go first, then the burst's own (40 in 400..500).
    expect((await step(40)).map((x) => [x.fromMs, x.toMs, x.arrivals])).to.deep.equal([[100, 400, 30], [400, 500, 40]]);
    expect(decisions).to.deep.equal(['first', 'hold', 'hold', 'hold', 'change']);
    // Steady at the new level until the heartbeat, 1 s after the last push: one sample of the span.
    for (let i = 0; i < 9; i++) expect(await step(40)).to.deep.equal([]);
    expect((await step(40)).map((x) => [x.fromMs, x.toMs, x.arrivals])).to.deep.equal([[500, 1400, 360], [1400, 1500, 40]]);
    expect(decisions.at(-1)).to.equal('heartbeat');
  });
});
