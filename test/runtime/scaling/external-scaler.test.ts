// The KEDA external scaler, driven by a gRPC client built from the proto file as KEDA builds its
// own: the figures per stage, the gRPC statuses KEDA acts on, and StreamIsActive's pushes.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import type { WorkloadConfig } from '../../../src/config/index.js';
import { DesiredReplicasFeed } from '../../../src/runtime/scaling/desired-replicas-feed.js';
import type { StageReplicas } from '../../../src/runtime/scaling/desired-replicas-feed.js';
import { ExternalScalerServer } from '../../../src/runtime/scaling/external-scaler.js';
import { metricNameOf } from '../../../src/runtime/scaling/scaled-object.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { kedaClient, ref } from './keda-client.js';
import type { KedaClient } from './keda-client.js';

const WORKLOADS: WorkloadConfig[] = [
  { pipeline: 'images', stage: 'cls', kind: 'Deployment', name: 'triton-cls', namespace: 'serving', replicasPerPod: 2, minReplicas: 1, maxReplicas: 10 },
];

const stages = (pre: number, cls: number): StageReplicas[] => [
  { pipeline: 'images', stage: 'pre', model: 'preprocess', hardware: 'cpu', desired: pre },
  { pipeline: 'images', stage: 'cls', model: 'classify', hardware: 'gpu', desired: cls },
];

/** Collects a stream's messages with the time each arrived. */
function collect<T>(stream: grpc.ClientReadableStream<T>): { messages: { value: T; atMs: number }[]; error: () => grpc.ServiceError | undefined; next: (n: number, timeoutMs?: number) => Promise<void> } {
  const messages: { value: T; atMs: number }[] = [];
  let error: grpc.ServiceError | undefined;
  const waiters: (() => void)[] = [];
  stream.on('data', (value: T) => { messages.push({ value, atMs: performance.now() }); waiters.splice(0).forEach((w) => w()); });
  stream.on('error', (err: grpc.ServiceError) => { error = err; waiters.splice(0).forEach((w) => w()); });
  return {
    messages,
    error: () => error,
    next: async (n, timeoutMs = 2000) => {
      const deadline = performance.now() + timeoutMs;
      while (messages.length < n && error === undefined) {
        if (performance.now() > deadline) throw new Error(`${messages.length} of ${n} messages within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 50); });
      }
    },
  };
}

const codeOf = (p: Promise<unknown>): Promise<number | undefined> => p.then(() => undefined, (e: grpc.ServiceError) => e.code);

describe('KEDA external scaler (gRPC, a client from externalscaler.proto)', function () {
  let feed: DesiredReplicasFeed;
  let server: ExternalScalerServer;
  let client: KedaClient;

  beforeEach(async function () {
    feed = new DesiredReplicasFeed();
    server = await ExternalScalerServer.start({ host: '127.0.0.1', port: 0, feed, workloads: WORKLOADS, log: silentLogger });
    client = kedaClient(server.address);
  });
  afterEach(async function () {
    client.close();
    await server.stop(1000);
  });

  it('listens on a free loopback port', () => {
    expect(server.port).to.be.greaterThan(0);
    expect(server.address).to.equal(`127.0.0.1:${server.port}`);
  });

  it('gives each stage its own metric, the desired replicas, with the workload\'s replicas per pod as the target', async () => {
    feed.publishLeader(3, stages(2, 7));
    const cls = ref({ scalerAddress: 'inferline:8471', pipeline: 'images', stage: 'cls' });
    const spec = await client.getMetricSpec(cls);
    expect(spec.metricSpecs).to.deep.equal([{ metricName: 'inferline-images-cls', targetSize: 2, targetSizeFloat: 2 }]);
    const clsMetrics = await client.getMetrics(cls, 's0-inferline-images-cls');
    expect(clsMetrics.metricValues).to.deep.equal([{ metricName: 's0-inferline-images-cls', metricValue: 7, metricValueFloat: 7 }]);
    // The other stage: no workload configured, so one replica per pod unless the metadata says.
    const pre = ref({ pipeline: 'images', stage: 'pre' }, 'triton-pre');
    expect((await client.getMetricSpec(pre)).metricSpecs[0]).to.include({ metricName: 'inferline-images-pre', targetSizeFloat: 1 });
    expect((await client.getMetrics(pre, '')).metricValues[0]).to.include({ metricName: 'inferline-images-pre', metricValueFloat: 2 });
    const perPod = ref({ pipeline: 'images', stage: 'pre', replicasPerPod: '4' }, 'triton-pre');
    expect((await client.getMetricSpec(perPod)).metricSpecs[0]).to.include({ targetSize: 4, targetSizeFloat: 4 });
    // By workload name instead of pipeline and stage.
    const byWorkload = ref({ workload: 'triton-cls' });
    expect((await client.getMetrics(byWorkload, '')).metricValues[0]?.metricValueFloat).to.equal(7);
  });

  it('is active while the stage wants replicas, inactive at 0', async () => {
    const cls = ref({ pipeline: 'images', stage: 'cls' });
    feed.publishLeader(3, stages(1, 4));
    expect(await client.isActive(cls)).to.deep.equal({ result: true });
    feed.publishLeader(3, stages(1, 0));
    expect(await client.isActive(cls)).to.deep.equal({ result: false });
    expect((await client.getMetrics(cls, 'm')).metricValues[0]?.metricValueFloat).to.equal(0);
  });

  it('answers INVALID_ARGUMENT for a trigger that names no stage, UNAVAILABLE before any leader published figures', async () => {
    expect(await codeOf(client.getMetrics(ref({ pipeline: 'images', stage: 'cls' }), 'm'))).to.equal(grpc.status.UNAVAILABLE);
    expect(await codeOf(client.isActive(ref({ pipeline: 'images', stage: 'cls' })))).to.equal(grpc.status.UNAVAILABLE);
    feed.publishLeader(3, stages(1, 4));
    expect(await codeOf(client.isActive(ref({ scalerAddress: 'x:1' })))).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(client.getMetricSpec(ref({ workload: 'nope' })))).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(client.getMetricSpec(ref({ pipeline: 'images', stage: 'cls', replicasPerPod: '0' })))).to.equal(grpc.status.INVALID_ARGUMENT);
    // A stage the leader has no figure for (not in any plan).
    expect(await codeOf(client.getMetrics(ref({ pipeline: 'images', stage: 'ghost' }), 'm'))).to.equal(grpc.status.UNAVAILABLE);
    const bad = collect(client.streamIsActive(ref({ stage: 'cls' })));
    await bad.next(1);
    expect(bad.error()?.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(bad.error()?.details).to.include('must name the stage');
    // StreamMetricSpec is optional in KEDA: UNIMPLEMENTED makes it poll GetMetricSpec.
    const s = collect(client.streamMetricSpec(ref({ pipeline: 'images', stage: 'cls' })));
    await s.next(1);
    expect(s.error()?.code).to.equal(grpc.status.UNIMPLEMENTED);
  });

  it('StreamIsActive: answers at once, then pushes on every change of the stage\'s figure and only then', async () => {
    feed.publishLeader(3, stages(1, 2));
    const s = collect(client.streamIsActive(ref({ pipeline: 'images', stage: 'cls' })));
    await s.next(1);
    expect(s.messages.map((m) => m.value)).to.deep.equal([{ result: true }]);
    // A change of another stage is no push for this one.
    feed.publishLeader(3, stages(5, 2));
    const published = performance.now();
    feed.publishLeader(3, stages(5, 9));
    await s.next(2);
    expect(s.messages[1]?.value).to.deep.equal({ result: true });
    expect((s.messages[1]?.atMs ?? Infinity) - published, 'the push follows the decision without waiting for a poll').to.be.below(200);
    feed.publishLeader(3, stages(5, 0));
    await s.next(3);
    expect(s.messages[2]?.value).to.deep.equal({ result: false });
    expect(s.messages).to.have.length(3);
    expect(server.openStreams).to.equal(1);
  });

  it('StreamIsActive before any figure: the first push comes with the first plan', async () => {
    const s = collect(client.streamIsActive(ref({ pipeline: 'images', stage: 'cls' })));
    await new Promise((r) => setTimeout(r, 100));
    expect(s.messages).to.have.length(0);
    feed.publishLeader(1, stages(1, 3));
    await s.next(1);
    expect(s.messages[0]?.value).to.deep.equal({ result: true });
  });

  it('a follower answers with the stored figures of the last leader; a leader\'s own replace them until its leadership ends', async () => {
    const cls = ref({ pipeline: 'images', stage: 'cls' });
    feed.publishStored(4, stages(1, 5));
    expect((await client.getMetrics(cls, 'm')).metricValues[0]?.metricValueFloat).to.equal(5);
    feed.publishLeader(5, stages(1, 8));
    expect((await client.getMetrics(cls, 'm')).metricValues[0]?.metricValueFloat).to.equal(8);
    feed.publishStored(3, stages(1, 1)); // older than the stored epoch 4: ignored
    feed.withdraw(5);
    expect((await client.getMetrics(cls, 'm')).metricValues[0]?.metricValueFloat).to.equal(5);
  });

  it('stop() ends open streams', async () => {
    feed.publishLeader(1, stages(1, 3));
    const stream = client.streamIsActive(ref({ pipeline: 'images', stage: 'cls' }));
    const ended = new Promise<string>((resolve) => { stream.on('end', () => resolve('end')); stream.on('error', () => resolve('error')); });
    const s = collect(stream);
    await s.next(1);
    expect(server.openStreams).to.equal(1);
    await server.stop(1000);
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 2000));
    expect(await Promise.race([ended, timeout])).to.equal('end');
    expect(server.openStreams).to.equal(0);
  });

  it('names metrics the way KEDA and Prometheus take them', () => {
    expect(metricNameOf('Images', 'cls_v2')).to.equal('inferline-images-cls-v2');
  });
});

describe('workload gauge: the scaler\'s figure for an HPA external metric', () => {
  it('records the desired replicas of every configured workload on each change, labelled with the workload\'s name', async () => {
    const { exportWorkloadGauge } = await import('../../../src/runtime/scaling/workload-gauge.js');
    const { FakeTelemetry } = await import('../../helpers/fake-telemetry.js');
    const feed = new DesiredReplicasFeed();
    const telemetry = new FakeTelemetry();
    const sub = exportWorkloadGauge(feed, WORKLOADS, telemetry);
    feed.publishStored(2, stages(1, 3));
    feed.publishLeader(3, stages(1, 6));
    feed.publishLeader(3, stages(2, 6)); // cls unchanged: recorded again (a gauge keeps the last value either way)
    sub.close();
    feed.publishLeader(3, stages(1, 9));
    expect(telemetry.workloads.map((w) => [w.workload, w.pipeline, w.stage, w.desiredReplicas])).to.deep.equal([
      ['triton-cls', 'images', 'cls', 3], ['triton-cls', 'images', 'cls', 6], ['triton-cls', 'images', 'cls', 6],
    ]);
  });
});
