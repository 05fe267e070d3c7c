// The OpenTelemetry implementation of the port, read back through its Prometheus endpoint: units
// converted, bucket advice applied, series of an old hardware zeroed; the lifecycle; the no-op.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createTelemetry, LATENCY_BUCKETS_S, noopTelemetry, noopTelemetryService, statusClass, TelemetryError, windowAttribute } from '../../src/telemetry/index.js';
import type { TelemetryService } from '../../src/telemetry/index.js';
import { parsePrometheusText, recordOneOfEach, sampleOf, scrape, telemetryConfig } from './helpers.js';

describe('telemetry: the OpenTelemetry port', () => {
  let t: TelemetryService;
  beforeEach(async () => {
    t = createTelemetry(telemetryConfig({ prometheus: true }));
    await t.start();
  });
  afterEach(async () => { await t.shutdown(); });

  it('serves /metrics on the port it got, and 404 elsewhere', async () => {
    expect(t.metricsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const other = await fetch((t.metricsUrl as string).replace('/metrics', '/other'));
    expect(other.status).to.equal(404);
  });

  it('records milliseconds as seconds and counts in the units of names.ts', async () => {
    recordOneOfEach(t);
    const samples = parsePrometheusText(await scrape(t.metricsUrl as string));
    const images = { pipeline: 'images' };
    expect(sampleOf(samples, 'inferline_pipeline_latency_p99', images).value).to.equal(0.18);
    expect(sampleOf(samples, 'inferline_pipeline_slo_latency', { ...images, percentile: '99' }).value).to.equal(0.25);
    expect(sampleOf(samples, 'inferline_pipeline_request_duration_sum', images).value).to.be.closeTo(1.129, 1e-9);
    expect(sampleOf(samples, 'inferline_pipeline_request_duration_count', images).value).to.equal(4);
    expect(sampleOf(samples, 'inferline_planner_run_duration_sum', { ...images, planner: 'greedy' }).value).to.equal(0.035);
    expect(sampleOf(samples, 'inferline_adapter_request_duration_sum', { server: 'triton', status_class: '2xx' }).value).to.equal(0.012);
    expect(sampleOf(samples, 'inferline_pipeline_requests_total', images).value).to.equal(100);
    expect(sampleOf(samples, 'inferline_pipeline_slo_misses_total', images).value).to.equal(2);
    expect(sampleOf(samples, 'inferline_pipeline_envelope_live', { ...images, window: '0.1' }).value).to.equal(30);
    expect(sampleOf(samples, 'inferline_pipeline_envelope_live', { ...images, window: '60' }).value).to.equal(7200);
    expect(sampleOf(samples, 'inferline_pipeline_envelope_planned', { ...images, window: '0.1' }).value).to.equal(25);
    expect(sampleOf(samples, 'inferline_stage_replicas_desired', { ...images, stage: 'classify', hardware: 'gpu' }).value).to.equal(3);
    expect(sampleOf(samples, 'inferline_stage_replicas_actual', { ...images, stage: 'classify', hardware: 'gpu' }).value).to.equal(2);
    expect(sampleOf(samples, 'inferline_stage_cost', { ...images, stage: 'classify' }).value).to.equal(2.7);
    expect(sampleOf(samples, 'inferline_tuner_decisions_total', { ...images, kind: 'scale_up', replan: 'false' }).value).to.equal(1);
    expect(sampleOf(samples, 'inferline_reconcile_actions_total', { ...images, mode: 'enforce' }).value).to.equal(1);
    expect(sampleOf(samples, 'inferline_reconcile_errors_total', { ...images, error_type: 'timeout' }).value).to.equal(1);
    expect(sampleOf(samples, 'inferline_adapter_request_errors_total', { error_type: 'timeout' }).value).to.equal(1);
    expect(sampleOf(samples, 'inferline_coordination_leader', { agent: 'agent-1' }).value).to.equal(1);
    expect(sampleOf(samples, 'inferline_coordination_epoch', { agent: 'agent-1' }).value).to.equal(4);
    expect(sampleOf(samples, 'target_info').labels['service_name']).to.equal('inferline-test');
  });

  it('applies the bucket advice: one bucket per boundary, then +Inf', async () => {
    t.recordRequests({ pipeline: 'p', completed: 0, sloMisses: 0, latenciesMs: [0.5, 3, 3, 240, 12_000] });
    const buckets = parsePrometheusText(await scrape(t.metricsUrl as string)).filter((s) => s.name === 'inferline_pipeline_request_duration_bucket');
    expect(buckets.map((b) => b.labels['le'])).to.deep.equal([...LATENCY_BUCKETS_S.map(String), '+Inf']);
    const at = (le: string): number => buckets.find((b) => b.labels['le'] === le)?.value ?? NaN;
    expect([at('0.001'), at('0.0025'), at('0.005'), at('0.25'), at('10'), at('+Inf')]).to.deep.equal([1, 1, 3, 4, 4, 5]);
  });

  it('sets a stage\'s old-hardware series to 0 when the stage moves, per instrument', async () => {
    t.recordStage({ pipeline: 'p', stage: 's', hardware: 'cpu', desiredReplicas: 6, actualReplicas: 6 });
    t.recordStage({ pipeline: 'p', stage: 's', hardware: 'gpu', desiredReplicas: 2 });
    const samples = parsePrometheusText(await scrape(t.metricsUrl as string));
    const ps = { pipeline: 'p', stage: 's' };
    expect(sampleOf(samples, 'inferline_stage_replicas_desired', { ...ps, hardware: 'cpu' }).value).to.equal(0);
    expect(sampleOf(samples, 'inferline_stage_replicas_desired', { ...ps, hardware: 'gpu' }).value).to.equal(2);
    // The server still runs the old hardware: its actual series is untouched.
    expect(sampleOf(samples, 'inferline_stage_replicas_actual', { ...ps, hardware: 'cpu' }).value).to.equal(6);
  });

  it('leaves out what a sample leaves out, and ignores values that are not finite', async () => {
    t.recordStage({ pipeline: 'p', stage: 's', hardware: 'cpu', desiredReplicas: 1, batchSize: Number.NaN });
    t.recordAdapterRequest({ server: 'tfserving', endpoint: 'GET /v1/models/{model}', durationMs: -1 });
    const names = new Set(parsePrometheusText(await scrape(t.metricsUrl as string)).map((s) => s.name));
    expect(names.has('inferline_stage_replicas_desired')).to.equal(true);
    expect(names.has('inferline_stage_batch_size')).to.equal(false);
    expect(names.has('inferline_stage_replicas_actual')).to.equal(false);
    expect(names.has('inferline_adapter_request_duration_count')).to.equal(false);
  });
});

describe('telemetry: lifecycle', () => {
  it('start and shutdown are idempotent; shutdown closes the port; start after shutdown is refused', async () => {
    const t = createTelemetry(telemetryConfig({ prometheus: true }));
    await Promise.all([t.start(), t.start()]);
    const url = t.metricsUrl as string;
    expect((await fetch(url)).status).to.equal(200);
    await Promise.all([t.shutdown(), t.shutdown()]);
    await t.shutdown();
    const after = await fetch(url).then(() => 'answered', (e: unknown) => (e as { cause?: { code?: string } }).cause?.code);
    expect(after).to.equal('ECONNREFUSED');
    expect(t.metricsUrl).to.equal(undefined);
    let refused: unknown;
    await t.start().catch((e: unknown) => { refused = e; });
    expect(refused).to.be.instanceOf(Error);
  });

  it('shutdown ends kept-alive scrape connections instead of waiting for them', async () => {
    const t = createTelemetry(telemetryConfig({ prometheus: true }));
    await t.start();
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(t.metricsUrl as string, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
    const t0 = Date.now();
    await t.shutdown(2000);
    expect(Date.now() - t0).to.be.below(1000);
    agent.destroy();
  });

  it('shutdown before start does nothing and resolves', async () => {
    const t = createTelemetry(telemetryConfig({ prometheus: true, otlp: {} }));
    await t.shutdown(500);
  });

  it('a port in use is a TelemetryError naming host and port', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const config = telemetryConfig({ prometheus: true });
    const t = createTelemetry({ ...config, prometheus: { ...config.prometheus, port } });
    try {
      const err = await t.start().then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(TelemetryError);
      expect((err as Error).message).to.equal(`cannot serve metrics on 127.0.0.1:${port}: the port is taken: another process listens on it — set telemetry.prometheus.port to another, or 0 for a free one`);
    } finally {
      await t.shutdown(500);
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('shutdown returns by its deadline when the collector never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = http.createServer(() => { /* never answers */ });
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/metrics`;
    const errors: unknown[] = [];
    const t = createTelemetry(telemetryConfig({ otlp: { endpoint, intervalMs: 60_000, timeoutMs: 10_000 } }), { onError: (e) => errors.push(e) });
    await t.start();
    t.recordLeadership({ agent: 'a', leader: false, epoch: 1 });
    const t0 = Date.now();
    await t.shutdown(300);
    expect(Date.now() - t0).to.be.within(250, 1500);
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

describe('telemetry: off', () => {
  it('createTelemetry with every exporter off is the no-op service', async () => {
    const t = createTelemetry(telemetryConfig());
    expect(t).to.equal(noopTelemetryService);
    await t.start();
    expect(t.metricsUrl).to.equal(undefined);
    await t.shutdown();
  });

  it('the no-op port takes every record, returns nothing and never throws', () => {
    recordOneOfEach(noopTelemetry);
    recordOneOfEach(noopTelemetryService);
    expect(Object.isFrozen(noopTelemetry)).to.equal(true);
    const methods = Object.keys(noopTelemetry).sort();
    expect(methods).to.deep.equal([
      'recordAdapterError', 'recordAdapterRequest', 'recordConfigReload', 'recordLatency', 'recordLeadership', 'recordPlannerRun', 'recordReconcile',
      'recordRejectedPush', 'recordRequests', 'recordShortfall', 'recordStage', 'recordTraffic', 'recordTunerDecision', 'recordWorkload',
    ]);
    for (const m of methods) expect((noopTelemetry as unknown as Record<string, (x: unknown) => unknown>)[m]?.({})).to.equal(undefined);
  });
});

describe('telemetry: attribute values', () => {
  const classes: { given: number | undefined; want: string }[] = [
    { given: 200, want: '2xx' }, { given: 204, want: '2xx' }, { given: 304, want: '3xx' }, { given: 404, want: '4xx' },
    { given: 503, want: '5xx' }, { given: undefined, want: 'none' }, { given: Number.NaN, want: 'none' },
  ];
  for (const c of classes) it(`status class of ${String(c.given)} is ${c.want}`, () => expect(statusClass(c.given)).to.equal(c.want));

  const windows: { given: number; want: string }[] = [{ given: 100, want: '0.1' }, { given: 12.5, want: '0.0125' }, { given: 60_000, want: '60' }];
  for (const c of windows) it(`window of ${c.given} ms is "${c.want}"`, () => expect(windowAttribute(c.given)).to.equal(c.want));
});
