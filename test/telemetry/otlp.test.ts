// OTLP over HTTP, for real: a local receiver on 127.0.0.1 decodes what the exporter pushes (the
// OTLP/HTTP exporter sends the JSON encoding, `content-type: application/json`) and the tests
// check names, units, attributes and values, as a collector would see them.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTelemetry, LATENCY_BUCKETS_S, TelemetryError } from '../../src/telemetry/index.js';
import { runCli } from '../helpers/cli.js';
import { recordOneOfEach, telemetryConfig } from './helpers.js';

// --- the OTLP JSON encoding (opentelemetry-proto, JSON mapping), as far as the tests read it
interface AnyValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
interface KeyValue { key: string; value: AnyValue }
interface NumberPoint { attributes?: KeyValue[]; asDouble?: number; asInt?: string | number }
interface HistogramPoint { attributes?: KeyValue[]; count: string | number; sum?: number; bucketCounts: (string | number)[]; explicitBounds: number[] }
interface OtlpMetric {
  name: string;
  unit?: string;
  description?: string;
  gauge?: { dataPoints: NumberPoint[] };
  sum?: { dataPoints: NumberPoint[]; isMonotonic?: boolean; aggregationTemporality?: number };
  histogram?: { dataPoints: HistogramPoint[]; aggregationTemporality?: number };
}
interface ExportRequest {
  resourceMetrics: { resource?: { attributes?: KeyValue[] }; scopeMetrics: { scope?: { name?: string }; metrics: OtlpMetric[] }[] }[];
}

interface Received { readonly path: string; readonly headers: http.IncomingHttpHeaders; readonly body: ExportRequest }

/** A minimal OTLP/HTTP receiver: answers `status` and keeps what it decoded. */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.headers['content-type'] !== 'application/json') {
        // Not the JSON encoding: keep it visible to the test (its content-type check fails).
        this.received.push({ path: req.url ?? '', headers: req.headers, body: { resourceMetrics: [] } });
        res.writeHead(415).end();
        return;
      }
      this.received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) as ExportRequest });
      res.writeHead(this.status, { 'content-type': 'application/json' }).end(this.status === 200 ? '{}' : '{"code":13,"message":"refused"}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Every metric of every push, the newest last. */
  metrics(): OtlpMetric[] {
    return this.received.flatMap((r) => r.body.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)));
  }

  /** The newest push's metric of that name. */
  latest(name: string): OtlpMetric {
    const found = this.metrics().filter((m) => m.name === name);
    const last = found[found.length - 1];
    if (!last) throw new Error(`no ${name} received (got: ${[...new Set(this.metrics().map((m) => m.name))].join(', ')})`);
    return last;
  }

  async until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
    const t0 = Date.now();
    while (!ok()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const attrs = (kvs: KeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, kv.value.stringValue ?? kv.value.boolValue ?? kv.value.doubleValue ?? kv.value.intValue]));
const num = (p: NumberPoint | undefined): number => Number(p?.asDouble ?? p?.asInt ?? NaN);

describe('telemetry: OTLP/HTTP push to a local receiver', function () {
  this.timeout(30_000);
  let receiver: Receiver;
  let base: string;
  beforeEach(async () => {
    receiver = new Receiver();
    base = await receiver.start();
  });
  afterEach(async () => { await receiver.stop(); });

  it('pushes every interval: names, units, attributes and values as recorded', async () => {
    const t = createTelemetry(telemetryConfig({ otlp: { endpoint: `${base}/v1/metrics`, intervalMs: 150, timeoutMs: 150, headers: { authorization: 'Bearer t0ken' } } }));
    await t.start();
    try {
      recordOneOfEach(t);
      await receiver.until('two pushes', () => receiver.received.length >= 2);
    } finally {
      await t.shutdown(2000);
    }
    const first = receiver.received[0] as Received;
    expect(first.path).to.equal('/v1/metrics');
    expect(first.headers['content-type']).to.equal('application/json');
    expect(first.headers['authorization']).to.equal('Bearer t0ken');
    const rm = first.body.resourceMetrics[0];
    expect(attrs(rm?.resource?.attributes)['service.name']).to.equal('inferline-test');
    expect(rm?.scopeMetrics[0]?.scope?.name).to.equal('inferline');

    const desired = receiver.latest('inferline.stage.replicas.desired');
    expect(desired.unit).to.equal('{replica}');
    expect(attrs(desired.gauge?.dataPoints[0]?.attributes)).to.deep.equal({ pipeline: 'images', stage: 'classify', hardware: 'gpu' });
    expect(num(desired.gauge?.dataPoints[0])).to.equal(3);

    const misses = receiver.latest('inferline.pipeline.slo.misses');
    expect(misses.unit).to.equal('{request}');
    expect(misses.sum?.isMonotonic).to.equal(true);
    expect(misses.sum?.aggregationTemporality).to.equal(2); // cumulative
    expect(num(misses.sum?.dataPoints[0])).to.equal(2);

    const p99 = receiver.latest('inferline.pipeline.latency.p99');
    expect(p99.unit).to.equal('s');
    expect(num(p99.gauge?.dataPoints[0])).to.equal(0.18);

    const latency = receiver.latest('inferline.pipeline.request.duration');
    expect(latency.unit).to.equal('s');
    const h = latency.histogram?.dataPoints[0] as HistogramPoint;
    expect(h.explicitBounds).to.deep.equal(LATENCY_BUCKETS_S);
    expect(Number(h.count)).to.equal(4);
    expect(h.sum).to.be.closeTo(1.129, 1e-9);
    expect(h.bucketCounts.map(Number).reduce((a, b) => a + b, 0)).to.equal(4);

    const adapter = receiver.latest('inferline.adapter.request.duration');
    expect(attrs(adapter.histogram?.dataPoints[0]?.attributes)).to.deep.equal({ server: 'triton', endpoint: 'GET /v2/models/{model}/stats', status_class: '2xx' });
    const decisions = receiver.latest('inferline.tuner.decisions');
    expect(attrs(decisions.sum?.dataPoints[0]?.attributes)).to.deep.equal({ pipeline: 'images', kind: 'scale_up', replan: 'false' });
    const envelope = receiver.latest('inferline.pipeline.envelope.live');
    expect(envelope.gauge?.dataPoints.map((p) => [attrs(p.attributes)['window'], num(p)])).to.have.deep.members([['0.1', 30], ['60', 7200]]);
  });

  it('shutdown pushes the values recorded since the last push', async () => {
    const t = createTelemetry(telemetryConfig({ otlp: { endpoint: `${base}/v1/metrics`, intervalMs: 60_000, timeoutMs: 2000 } }));
    await t.start();
    t.recordLeadership({ agent: 'a', leader: true, epoch: 7 });
    expect(receiver.received).to.have.length(0);
    await t.shutdown(2000);
    expect(receiver.received).to.have.length(1);
    expect(num(receiver.latest('inferline.coordination.epoch').gauge?.dataPoints[0])).to.equal(7);
  });

  it('a refused push is a TelemetryError for onError, and the loop goes on', async () => {
    receiver.status = 500;
    const errors: unknown[] = [];
    const t = createTelemetry(telemetryConfig({ otlp: { endpoint: `${base}/v1/metrics`, intervalMs: 100, timeoutMs: 100 } }), { onError: (e) => errors.push(e) });
    await t.start();
    t.recordLeadership({ agent: 'a', leader: false, epoch: 1 });
    await receiver.until('three refused pushes', () => receiver.received.length >= 3 && errors.length >= 2);
    await t.shutdown(1000);
    expect(errors[0]).to.be.instanceOf(TelemetryError);
    expect((errors[0] as Error).message).to.match(new RegExp(`^OTLP push to ${base}/v1/metrics failed: `));
  });

  it('`inferline plan` with telemetry.otlp in its config pushes its planner runs before exiting', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inferline-otlp-'));
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, `${readFileSync('config/examples/minimal.yaml', 'utf8')}\ntelemetry:\n  otlp:\n    enabled: true\n    endpoint: ${base}\n`);
    const r = await runCli(['plan', '--config', config, '--arrival', 'gamma:rate=80,cv=2,duration=10s']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(receiver.received.map((x) => x.path)).to.deep.equal(['/v1/metrics']);
    const runs = receiver.latest('inferline.planner.runs');
    expect(runs.sum?.dataPoints.map((p) => [attrs(p.attributes), num(p)])).to.deep.equal([
      [{ pipeline: 'classify-images', planner: 'greedy', outcome: 'feasible' }, 1],
    ]);
    const duration = receiver.latest('inferline.planner.run.duration').histogram?.dataPoints[0] as HistogramPoint;
    expect(Number(duration.count)).to.equal(1);
    expect(duration.sum).to.be.above(0);
    expect(num(receiver.latest('inferline.planner.plan.changes').sum?.dataPoints[0])).to.equal(1);
    const planned = receiver.latest('inferline.pipeline.envelope.planned').gauge?.dataPoints ?? [];
    expect(planned.length).to.be.above(2);
    expect(planned.map((p) => attrs(p.attributes)['window'])).to.include('60');
  });
});
