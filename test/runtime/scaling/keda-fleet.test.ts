// The KEDA external scaler on a live fleet: emulated Triton servers, real agents and leader, a
// burst of traffic. KEDA's side is a gRPC client built from externalscaler.proto; it must see the
// tuner's new desired replicas, pushed on StreamIsActive within one tuner tick of the decision,
// from the leader and (through the fenced stored figures) from a follower.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import type { LeaderStatus } from '../../../src/runtime/agent/index.js';
import { StageReplicasStore } from '../../../src/runtime/scaling/index.js';
import { ExternalScalerServer } from '../../../src/runtime/scaling/external-scaler.js';
import type { DesiredReplicasFeed } from '../../../src/runtime/scaling/index.js';
import { silentLogger } from '../../../src/ports/logger.js';
import { startFleet, until } from '../agent/fleet-fixture.js';
import { kedaClient, ref } from './keda-client.js';

const TICK_MS = 250; // the fixture's tuner tick (the default)

describe('KEDA external scaler on a live fleet', function () {
  this.timeout(60_000);

  it('KEDA sees the desired replicas per stage, and a push within one tuner tick of a scale-up decision; a follower serves the stored figures', async () => {
    const decisions: { line: string; atMs: number }[] = [];
    const fleet = await startFleet([
      { id: 'a-pre', model: 'preprocess', hardware: 'cpu' },
      { id: 'b-cls', model: 'classify', hardware: 'gpu' },
    ], { desiredReplicas: true, onLog: (_id, line) => { if (line.startsWith('info tuner: images')) decisions.push({ line, atMs: performance.now() }); } });
    const servers: ExternalScalerServer[] = [];
    const stores: StageReplicasStore[] = [];
    const clients: ReturnType<typeof kedaClient>[] = [];
    try {
      for (const m of fleet.members) {
        const feed = m.feed as DesiredReplicasFeed;
        const store = new StageReplicasStore({ coordinator: m.coordinator, feed, log: silentLogger });
        await store.start();
        stores.push(store);
        servers.push(await ExternalScalerServer.start({ host: '127.0.0.1', port: 0, feed, workloads: [], log: silentLogger }));
      }
      const leaderIndex = await until('a leader', () => { const i = fleet.members.findIndex((m) => m.agent.isLeader); return i >= 0 ? i : undefined; });
      const leader = fleet.members[leaderIndex];
      const plan = await until('a plan', () => (leader?.agent.status() as { fleet: LeaderStatus }).fleet.pipelines[0]?.plan);
      const planned = plan.stages['cls']?.replicas as number;
      const keda = kedaClient((servers[leaderIndex] as ExternalScalerServer).address);
      const follower = kedaClient((servers[1 - leaderIndex] as ExternalScalerServer).address);
      clients.push(keda, follower);
      const cls = ref({ scalerAddress: 'inferline-agent:8471', pipeline: 'images', stage: 'cls' });
      const pre = ref({ scalerAddress: 'inferline-agent:8471', pipeline: 'images', stage: 'pre' }, 'triton-pre');
      expect((await keda.getMetricSpec(cls)).metricSpecs).to.deep.equal([{ metricName: 'inferline-images-cls', targetSize: 1, targetSizeFloat: 1 }]);
      expect((await keda.getMetrics(cls, 's0-inferline-images-cls')).metricValues[0]?.metricValueFloat).to.equal(planned);
      expect((await keda.getMetrics(pre, 's1-inferline-images-pre')).metricValues[0]?.metricValueFloat).to.equal(plan.stages['pre']?.replicas);
      // The follower answers from the leader's fenced record.
      await until('the follower serves the stored figures', async () => (await follower.getMetrics(cls, 'm')).metricValues[0]?.metricValueFloat === planned);

      const pushes: number[] = [];
      const stream = keda.streamIsActive(cls);
      stream.on('data', () => { pushes.push(performance.now()); });
      stream.on('error', () => undefined);
      await until('the stream\'s first answer', () => pushes.length >= 1);

      // A burst at 4× the planned rate into the entry stage, on through the classifier.
      const preServer = fleet.members[0]?.server;
      const clsServer = fleet.members[1]?.server;
      let stop = false;
      const load = (async () => {
        while (!stop) {
          for (let i = 0; i < 12; i++) void preServer?.engine('preprocess')?.submit(1).then(() => clsServer?.engine('classify')?.submit(1)).catch(() => undefined);
          await new Promise((ok) => setTimeout(ok, 20));
        }
      })();
      try {
        const decision = await until('a scale-up decision of cls', () => decisions.find((d) => /\bcls (\d+)→(\d+)/.test(d.line)), 15_000);
        await until('a push after the decision', () => pushes.some((t) => t >= decision.atMs - 1), 2000);
        const push = pushes.find((t) => t >= decision.atMs - 1) as number;
        expect(push - decision.atMs, `push ${(push - decision.atMs).toFixed(1)} ms after "${decision.line}"`).to.be.below(TICK_MS);
        const [, , to] = /\bcls (\d+)→(\d+)/.exec(decision.line) as RegExpExecArray;
        const served = (await keda.getMetrics(cls, 's0-inferline-images-cls')).metricValues[0]?.metricValueFloat as number;
        expect(served, 'GetMetrics answers the decided figure (or a later one)').to.be.at.least(Number(to));
        expect(served).to.be.above(planned);
        expect((await keda.isActive(cls)).result).to.equal(true);
        await until('the follower serves the new figure', async () => ((await follower.getMetrics(cls, 'm')).metricValues[0]?.metricValueFloat ?? 0) > planned, 5000);
      } finally {
        stop = true;
        await load;
        stream.cancel();
      }
    } finally {
      for (const c of clients) c.close();
      await Promise.all(servers.map((s) => s.stop(1000)));
      await Promise.all(stores.map((s) => s.stop()));
      await fleet.stop();
    }
  });

  it('a scaler with no leader figures answers UNAVAILABLE (KEDA keeps the replicas it has)', async () => {
    const { DesiredReplicasFeed } = await import('../../../src/runtime/scaling/index.js');
    const server = await ExternalScalerServer.start({ host: '127.0.0.1', port: 0, feed: new DesiredReplicasFeed(), workloads: [], log: silentLogger });
    const c = kedaClient(server.address);
    try {
      const code = await c.getMetrics(ref({ pipeline: 'images', stage: 'cls' }), 'm').then(() => undefined, (e: grpc.ServiceError) => e.code);
      expect(code).to.equal(grpc.status.UNAVAILABLE);
    } finally {
      c.close();
      await server.stop(1000);
    }
  });
});
