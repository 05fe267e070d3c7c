// The stored stage figures: the leader's are written fenced by its epoch and reach a follower's
// feed; a stale epoch's are refused by the coordinator; startScaling wires the parts and stops them.
import { expect } from 'chai';
import { MemoryCoordinationHub, MemoryCoordinator } from '../../../src/coordination/index.js';
import { parseConfig } from '../../../src/config/index.js';
import { DEFAULT_RECONCILE_POLICY } from '../../../src/core/reconcile/index.js';
import type { Logger } from '../../../src/ports/logger.js';
import { DesiredReplicasFeed, STAGE_REPLICAS_KEY, StageReplicasStore, startScaling } from '../../../src/runtime/scaling/index.js';
import type { DesiredReplicasSnapshot, StageReplicas } from '../../../src/runtime/scaling/index.js';
import { parseStageReplicas } from '../../../src/runtime/scaling/stage-replicas-store.js';
import { systemClock } from '../../../src/platform/system-clock.js';
import { FakeTelemetry } from '../../helpers/fake-telemetry.js';
import { kedaClient, ref } from './keda-client.js';

const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 700, retryPeriodMs: 200 };
const figures = (cls: number): StageReplicas[] => [{ pipeline: 'images', stage: 'cls', model: 'classify', hardware: 'gpu', desired: cls }];

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('stored stage figures (StageReplicasStore) and startScaling', function () {
  let hub: MemoryCoordinationHub;
  let coordinators: MemoryCoordinator[];
  let logs: string[];
  const log: Logger = { info: (m) => { logs.push(`info ${m}`); }, warn: (m) => { logs.push(`warn ${m}`); }, error: (m) => { logs.push(`error ${m}`); } };

  beforeEach(async function () {
    hub = new MemoryCoordinationHub(systemClock);
    logs = [];
    coordinators = [];
    for (const id of ['a', 'b']) {
      const c = await MemoryCoordinator.create({ identity: id, hub, timing: TIMING });
      await c.start();
      coordinators.push(c);
    }
  });
  afterEach(async function () {
    await Promise.all(coordinators.map((c) => c.stop(1000)));
  });

  it('writes the leader\'s figures fenced by its epoch; a follower\'s feed gets them as stored figures', async () => {
    const [a, b] = coordinators as [MemoryCoordinator, MemoryCoordinator];
    const leadership = await a.campaign();
    const feedA = new DesiredReplicasFeed();
    const feedB = new DesiredReplicasFeed();
    const storeA = new StageReplicasStore({ coordinator: a, feed: feedA, log });
    const storeB = new StageReplicasStore({ coordinator: b, feed: feedB, log });
    await storeA.start();
    await storeB.start();
    try {
      feedA.publishLeader(leadership.epoch, figures(3));
      feedA.publishLeader(leadership.epoch, figures(7));
      const seen = await until('the follower\'s stored figures', () => (feedB.current?.stages[0]?.desired === 7 ? feedB.current : undefined));
      expect(seen).to.deep.equal({ epoch: leadership.epoch, source: 'stored', stages: figures(7) } satisfies DesiredReplicasSnapshot);
      const record = await b.readDesired(STAGE_REPLICAS_KEY);
      expect(record?.epoch).to.equal(leadership.epoch);
      expect(parseStageReplicas(record?.spec)).to.deep.equal(figures(7));
      // A deposed leader's figures are refused by the coordinator, and the follower keeps the last good ones.
      await leadership.resign();
      const next = await b.campaign();
      expect(next.epoch).to.be.above(leadership.epoch);
      feedA.publishLeader(leadership.epoch, figures(1));
      await until('the refusal', () => logs.find((l) => l.startsWith('warn stage replicas not stored') && l.includes('stale')));
      expect(parseStageReplicas((await b.readDesired(STAGE_REPLICAS_KEY))?.spec)).to.deep.equal(figures(7));
      expect(feedB.current?.stages[0]?.desired).to.equal(7);
    } finally {
      await storeA.stop();
      await storeB.stop();
    }
  });

  it('ignores a stored record that is not a list of stage figures', () => {
    expect(parseStageReplicas({ stages: [{ pipeline: 'p', stage: 's', model: 'm', hardware: 'h', desired: -1 }] })).to.equal(undefined);
    expect(parseStageReplicas({ stages: 'x' })).to.equal(undefined);
    expect(parseStageReplicas({ stages: [] })).to.deep.equal([]);
  });

  it('startScaling serves the KEDA scaler from the stored figures and stops every part', async () => {
    const [a, b] = coordinators as [MemoryCoordinator, MemoryCoordinator];
    const config = parseConfig(JSON.stringify({
      hardware: [{ name: 'gpu', costPerHour: 1, capacity: 2 }],
      profiles: [{ model: 'classify', hardware: 'gpu', points: [{ batchSize: 1, latencyMs: 10 }] }],
      pipelines: [{ name: 'images', slo: { latencyMs: 100 }, stages: [{ name: 'cls', model: 'classify', hardware: ['gpu'] }] }],
      placement: { workloads: [{ pipeline: 'images', stage: 'cls', name: 'triton-cls', replicasPerPod: 2 }], externalScaler: { enabled: true, port: 0 } },
    }), 'scaling.json');
    const telemetry = new FakeTelemetry();
    const feed = new DesiredReplicasFeed();
    const scaling = await startScaling({ config, coordinator: b, feed, policy: DEFAULT_RECONCILE_POLICY, clock: systemClock, telemetry, log });
    expect(scaling.workloadScaler, 'backend command: no Deployment scaler').to.equal(undefined);
    const server = scaling.externalScaler;
    expect(server).to.not.equal(undefined);
    const client = kedaClient(server?.address ?? '');
    try {
      const leadership = await a.campaign();
      await a.writeDesired(STAGE_REPLICAS_KEY, { stages: figures(5) as never }, leadership.epoch);
      await until('the stored figures', () => (feed.current?.stages[0]?.desired === 5 ? true : undefined));
      const spec = await client.getMetricSpec(ref({ pipeline: 'images', stage: 'cls' }));
      expect(spec.metricSpecs[0]?.targetSizeFloat).to.equal(2);
      expect((await client.getMetrics(ref({ pipeline: 'images', stage: 'cls' }), 'm')).metricValues[0]?.metricValueFloat).to.equal(5);
      expect(telemetry.workloads.at(-1)).to.deep.equal({ pipeline: 'images', stage: 'cls', workload: 'triton-cls', desiredReplicas: 5 });
    } finally {
      client.close();
      await scaling.stop();
      await scaling.stop();
    }
    expect(server?.openStreams).to.equal(0);
  });
});
